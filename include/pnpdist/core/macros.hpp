#pragma once
/// \file
/// Portability macros. Every numerical kernel is a function object whose call operator is marked
/// PNPDIST_HOST_DEVICE: it compiles for the device under a CUDA compiler and as plain inline host code
/// everywhere else.

#if defined(__CUDACC__)
#define PNPDIST_CUDA_COMPILER 1
#define PNPDIST_HOST_DEVICE __host__ __device__ inline
#define PNPDIST_DEVICE __device__ inline
#define PNPDIST_HOST __host__ inline
#define PNPDIST_GLOBAL __global__
#else
#define PNPDIST_HOST_DEVICE inline
#define PNPDIST_DEVICE inline
#define PNPDIST_HOST inline
#define PNPDIST_GLOBAL
#endif

/// Defined while compiling device code (the device pass of nvcc).
#if defined(__CUDA_ARCH__)
#define PNPDIST_DEVICE_CODE 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#define PNPDIST_RESTRICT __restrict__
#else
#define PNPDIST_RESTRICT
#endif

#define PNPDIST_STRINGIFY_IMPL(x) #x
#define PNPDIST_STRINGIFY(x) PNPDIST_STRINGIFY_IMPL(x)

/// Kernel contract: checked in debug builds (host and device), compiled out when NDEBUG is defined.
/// Host-side argument validation uses the exceptions of errors.hpp instead; contracts guard internal
/// invariants inside kernels where throwing is impossible.
#if defined(NDEBUG)
#define PNPDIST_EXPECTS(cond) ((void)0)
#else
#include <cassert>
#define PNPDIST_EXPECTS(cond) assert(cond)
#endif
