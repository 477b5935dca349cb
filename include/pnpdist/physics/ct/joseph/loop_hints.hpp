#pragma once
/// \file
/// Loop hints of the Joseph kernels, spelled for each compiler (nvcc's device and host passes, clang, GCC)
/// and empty elsewhere: full unrolling, no unrolling, and a prefetch of a cache line. They change how a loop
/// is compiled, never what it computes.

/// Full unrolling of a short loop of constant trip count (its iterations become independent scalar code).
#if defined(__CUDA_ARCH__)
#define PNPDIST_JOSEPH_UNROLL _Pragma("unroll")
#elif defined(__CUDACC__)
#define PNPDIST_JOSEPH_UNROLL
#elif defined(__clang__)
#define PNPDIST_JOSEPH_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define PNPDIST_JOSEPH_UNROLL _Pragma("GCC unroll 16")
#else
#define PNPDIST_JOSEPH_UNROLL
#endif
/// A hint to fetch the cache line of an address that will be read soon (host compilers only).
#if defined(__GNUC__) && !defined(__CUDACC__)
#define PNPDIST_JOSEPH_PREFETCH(address) __builtin_prefetch(address)
#else
#define PNPDIST_JOSEPH_PREFETCH(address)
#endif
/// A short loop kept as a loop (so that the loop vectorizer, which runs after complete unrolling, sees it).
#if defined(__CUDA_ARCH__)
#define PNPDIST_JOSEPH_NO_UNROLL _Pragma("unroll 1")
#elif defined(__CUDACC__)
#define PNPDIST_JOSEPH_NO_UNROLL
#elif defined(__clang__)
#define PNPDIST_JOSEPH_NO_UNROLL _Pragma("clang loop unroll(disable)")
#elif defined(__GNUC__)
#define PNPDIST_JOSEPH_NO_UNROLL _Pragma("GCC unroll 1")
#else
#define PNPDIST_JOSEPH_NO_UNROLL
#endif
