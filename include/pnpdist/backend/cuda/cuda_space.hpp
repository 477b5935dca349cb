#pragma once
/// \file
/// CudaSpace: global memory of the current CUDA device (cudaMalloc/cudaFree), tracked by
/// allocation_tracker<CudaSpace>(), and the SpaceCopy specializations host<->device and device<->device
/// (cudaMemcpy, counted by copy_tracker()).
///
/// Copies are fully synchronous, whatever stream the executors use: a copy starts after all work already
/// queued on the device (in any stream) has completed, and has completed when the call returns. Copies
/// are explicit and rare (a reconstruction stays in one memory space), so they buy safety with two device
/// synchronizations rather than ask every caller to order streams.
///
/// The CUDA runtime is used only when the pnpdist::cuda component is linked (PNPDIST_HAS_CUDA). The calls
/// are plain host calls: code compiled by the host compiler that links cudart may use this header. Without
/// PNPDIST_HAS_CUDA the header still compiles; allocating or copying throws pnpdist::not_compiled.
/// Deallocating never throws (a null pointer, the only pointer such a build can hold, is a no-op).

#include <cstddef>

#include "pnpdist/backend/allocation_tracker.hpp"
#include "pnpdist/backend/cuda/abi_tag.hpp"
#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/errors.hpp"

#if defined(PNPDIST_HAS_CUDA)
#include <cuda_runtime.h>

#include "pnpdist/core/cuda_check.hpp"
#endif

namespace pnpdist {
/// CudaSpace is in an inline namespace named by the compilation mode (backend/cuda/abi_tag.hpp).
inline namespace PNPDIST_ABI_TAG {

struct CudaSpace {
  static constexpr const char* name = "cuda";
  static constexpr bool host_accessible = false;
  /// cudaMalloc returns pointers aligned to at least 256 bytes.
  static constexpr std::size_t alignment = 256;

  /// Uninitialized device storage (nullptr for 0 bytes). Throws cuda_error when cudaMalloc fails (no
  /// device, out of memory), not_compiled in a build without the CUDA component.
  static void* allocate(std::size_t bytes) {
    if (bytes == 0) return nullptr;
#if defined(PNPDIST_HAS_CUDA)
    void* p = nullptr;
    PNPDIST_CUDA_CHECK(cudaMalloc(&p, bytes));
    allocation_tracker<CudaSpace>().on_allocate(bytes);
    return p;
#else
    throw not_compiled("pnpdist::CudaSpace::allocate: this build has no CUDA (link the pnpdist::cuda component)");
#endif
  }

  /// Frees storage from allocate(). Never throws: a failing cudaFree (e.g. a context already torn down at
  /// process exit) is ignored and its error state cleared.
  static void deallocate(void* p, std::size_t bytes) noexcept {
    if (p == nullptr) return;
#if defined(PNPDIST_HAS_CUDA)
    if (cudaFree(p) != cudaSuccess) (void)cudaGetLastError();
    allocation_tracker<CudaSpace>().on_deallocate(bytes);
#else
    (void)bytes;
#endif
  }
};

}  // namespace PNPDIST_ABI_TAG

namespace detail {

/// One cudaMemcpy of `bytes` bytes between two device synchronizations, counted as `kind`.
inline void cuda_copy_bytes(void* dst, const void* src, std::size_t bytes, CopyKind kind) {
  if (bytes == 0) return;
#if defined(PNPDIST_HAS_CUDA)
  cudaMemcpyKind direction = cudaMemcpyDefault;
  switch (kind) {
    case CopyKind::host_to_device:
      direction = cudaMemcpyHostToDevice;
      break;
    case CopyKind::device_to_host:
      direction = cudaMemcpyDeviceToHost;
      break;
    case CopyKind::device_to_device:
      direction = cudaMemcpyDeviceToDevice;
      break;
    case CopyKind::host_to_host:
      direction = cudaMemcpyHostToHost;
      break;
  }
  PNPDIST_CUDA_CHECK(cudaDeviceSynchronize());
  PNPDIST_CUDA_CHECK(cudaMemcpy(dst, src, bytes, direction));
  PNPDIST_CUDA_CHECK(cudaDeviceSynchronize());
  copy_tracker().on_copy(kind, bytes);
#else
  (void)dst;
  (void)src;
  (void)kind;
  throw not_compiled(
      "pnpdist: copy involving CudaSpace, but this build has no CUDA "
      "(link the pnpdist::cuda component)");
#endif
}

}  // namespace detail

template <>
struct SpaceCopy<CudaSpace, HostSpace> {
  static void copy(void* dst, const void* src, std::size_t bytes) {
    detail::cuda_copy_bytes(dst, src, bytes, CopyKind::host_to_device);
  }
};

template <>
struct SpaceCopy<HostSpace, CudaSpace> {
  static void copy(void* dst, const void* src, std::size_t bytes) {
    detail::cuda_copy_bytes(dst, src, bytes, CopyKind::device_to_host);
  }
};

template <>
struct SpaceCopy<CudaSpace, CudaSpace> {
  static void copy(void* dst, const void* src, std::size_t bytes) {
    detail::cuda_copy_bytes(dst, src, bytes, CopyKind::device_to_device);
  }
};

}  // namespace pnpdist
