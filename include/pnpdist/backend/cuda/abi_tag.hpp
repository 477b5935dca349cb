#pragma once
/// \file
/// PNPDIST_ABI_TAG: the name of the inline namespace that holds the Cuda executor and CudaSpace, different
/// for each way a translation unit can be compiled:
///
///     cuda_nvcc      compiled by nvcc (kernels launch)
///     cuda_emulated  the CPU emulation of CUDA (PNPDIST_CUDA_EMULATION, tests only)
///     cuda_runtime   the host compiler with the pnpdist::cuda component (PNPDIST_HAS_CUDA: allocation
///                    and synchronization work, launches throw not_compiled)
///     cuda_none      the host compiler without it (everything on Cuda throws not_compiled)
///
/// Why: a function template instantiated with Cuda or CudaSpace (for_each, transform_reduce, the tensor
/// algebra, every operator and denoiser on Cuda) has a different body in each mode (a launch in one, a
/// throw in another), but the same mangled name, so a program linking an nvcc-compiled object with a
/// host-compiled one would violate the one-definition rule and the linker would keep either body. With the
/// tag in the types' mangled names (pnpdist::cuda_nvcc::Cuda is not pnpdist::cuda_runtime::Cuda), every
/// such instantiation is a distinct symbol in each mode. Source code still names pnpdist::Cuda (the
/// namespace is inline). The price: Cuda-typed objects cannot be passed between translation units compiled
/// in different modes (their types differ; such a call does not link), and each mode has its own
/// allocation_tracker<CudaSpace>(). Functions without a Cuda-typed parameter or template argument (kernel
/// functors on raw pointers, PNPDIST_HOST_DEVICE helpers) are the same source in every mode: nvcc's host
/// pass and the host compiler compile them alike, up to loop hints (physics/ct/joseph/loop_hints.hpp).

#if defined(__CUDACC__)
#define PNPDIST_ABI_TAG cuda_nvcc
#elif defined(PNPDIST_CUDA_EMULATION)
#define PNPDIST_ABI_TAG cuda_emulated
#elif defined(PNPDIST_HAS_CUDA)
#define PNPDIST_ABI_TAG cuda_runtime
#else
#define PNPDIST_ABI_TAG cuda_none
#endif
