#pragma once
/// \file
/// The one place where the library launches CUDA kernels. Every `<<<...>>>` of the library is inside
/// cuda_launch(); kernels read their dynamic shared memory through cuda_dynamic_shared<T>(). Keeping both
/// here is what lets a CPU emulation of the CUDA execution model replace them and run the same kernel
/// source with the host compiler.
///
/// Everything here needs a CUDA compiler: it is defined only when __CUDACC__ is (nvcc, either pass), and
/// this header then defines PNPDIST_CUDA_KERNELS_AVAILABLE. Headers with kernels test that macro, never
/// __CUDACC__ directly, so that the CPU emulation of CUDA switches them on too. In a translation unit
/// compiled by the host compiler this header declares nothing, except in the emulated test build
/// (PNPDIST_CUDA_EMULATION, see docs/cuda_emulation.md): there the emulator's <cuda_runtime.h> comes first
/// on the include path, and cuda_launch / cuda_dynamic_shared keep their signatures but run the kernel on
/// the CPU, each block's threads as concurrent host threads.

#include <cstddef>

#include "pnpdist/core/macros.hpp"

#if defined(__CUDACC__)
#include <cuda_runtime.h>

#include "pnpdist/core/cuda_check.hpp"

/// Defined when kernels can be launched from this translation unit (see the file comment).
#define PNPDIST_CUDA_KERNELS_AVAILABLE 1

namespace pnpdist {

/// Largest alignment cuda_dynamic_shared<T>() provides.
inline constexpr std::size_t cuda_dynamic_shared_alignment = 16;

/// Launches `kernel` (a __global__ function) on a `grid` of blocks of `block` threads with `shared_bytes`
/// bytes of dynamic shared memory, in `stream` (an opaque cudaStream_t; nullptr is the default stream).
/// Asynchronous. Throws cuda_error when the launch is rejected (invalid configuration, no device, no
/// kernel image for this GPU); errors raised while the kernel runs surface at the next synchronization.
template <class... Params, class... Args>
inline void cuda_launch(dim3 grid, dim3 block, std::size_t shared_bytes, void* stream, void (*kernel)(Params...),
                        Args&&... args) {
  kernel<<<grid, block, shared_bytes, static_cast<cudaStream_t>(stream)>>>(static_cast<Args&&>(args)...);
  PNPDIST_CUDA_CHECK(cudaGetLastError());
}

/// The dynamic shared memory of the calling block (the shared_bytes of cuda_launch) seen as an array of T.
template <class T>
__device__ inline T* cuda_dynamic_shared() {
  static_assert(alignof(T) <= cuda_dynamic_shared_alignment, "cuda_dynamic_shared: over-aligned type");
  extern __shared__ __align__(16) unsigned char pnpdist_dynamic_shared_memory[];
  return reinterpret_cast<T*>(pnpdist_dynamic_shared_memory);
}

}  // namespace pnpdist

#elif defined(PNPDIST_CUDA_EMULATION)
#include <cuda_runtime.h>  // the emulator's (tests/cuda_emulation/include), never the toolkit's

#include "pnpdist/core/cuda_check.hpp"

#define PNPDIST_CUDA_KERNELS_AVAILABLE 1

namespace pnpdist {

inline constexpr std::size_t cuda_dynamic_shared_alignment = 16;

/// The emulated launch: runs the whole grid before returning (blocks one after another, the threads of a
/// block concurrently). Same contract as under nvcc: configuration errors throw cuda_error here, faults
/// inside the kernel surface at the next synchronization.
template <class... Params, class... Args>
inline void cuda_launch(dim3 grid, dim3 block, std::size_t shared_bytes, void* stream, void (*kernel)(Params...),
                        Args&&... args) {
  pnpdist_cuda_emulator::launch(grid, block, shared_bytes, static_cast<cudaStream_t>(stream), kernel,
                                static_cast<Args&&>(args)...);
  PNPDIST_CUDA_CHECK(cudaGetLastError());
}

/// The dynamic shared memory of the running launch (exactly its shared_bytes bytes).
template <class T>
__device__ inline T* cuda_dynamic_shared() {
  static_assert(alignof(T) <= cuda_dynamic_shared_alignment, "cuda_dynamic_shared: over-aligned type");
  return static_cast<T*>(pnpdist_cuda_emulator::dynamic_shared_memory());
}

}  // namespace pnpdist

#endif  // __CUDACC__ / PNPDIST_CUDA_EMULATION
