#pragma once
/// \file
/// The CUDA executor: kernels run on the current CUDA device, in the stream `stream` (nullptr: the legacy
/// default stream). Launches are asynchronous with respect to the host; synchronize(exec) waits for them.
/// Operations that return a value to the host (transform_reduce) synchronize the stream themselves.
///
/// Launching kernels needs a translation unit compiled by nvcc (see backend/cuda/for_each.hpp); naming the
/// executor, querying it and synchronizing it only need the pnpdist::cuda component (PNPDIST_HAS_CUDA).

#include "pnpdist/backend/cuda/abi_tag.hpp"
#include "pnpdist/backend/cuda/cuda_space.hpp"
#include "pnpdist/core/errors.hpp"

#if defined(PNPDIST_HAS_CUDA)
#include <cuda_runtime.h>

#include "pnpdist/core/cuda_check.hpp"
#endif

namespace pnpdist {

/// concurrency() of a Cuda executor when no device can be queried (no CUDA component, no driver, no
/// device): the resident-thread capacity of the smallest GPU the library is compiled for, an A100 (sm_80):
/// 108 multiprocessors x 2048 threads.
inline constexpr int cuda_fallback_concurrency = 108 * 2048;

/// Cuda is in an inline namespace named by the compilation mode (backend/cuda/abi_tag.hpp).
inline namespace PNPDIST_ABI_TAG {

struct Cuda {
  using memory_space = CudaSpace;
  static constexpr const char* name = "cuda";

  /// The stream kernels are launched in: an opaque cudaStream_t, nullptr for the default stream. The
  /// executor does not own it.
  void* stream = nullptr;

  /// Threads the current device keeps resident at once: multiprocessors x max threads per multiprocessor.
  /// Never throws: when no device can be queried, returns cuda_fallback_concurrency (and clears the CUDA
  /// error the failed query left behind).
  [[nodiscard]] int concurrency() const noexcept {
#if defined(PNPDIST_HAS_CUDA)
    int device = 0;
    int multiprocessors = 0;
    int threads_per_multiprocessor = 0;
    if (cudaGetDevice(&device) == cudaSuccess &&
        cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device) == cudaSuccess &&
        cudaDeviceGetAttribute(&threads_per_multiprocessor, cudaDevAttrMaxThreadsPerMultiProcessor, device) ==
            cudaSuccess &&
        multiprocessors > 0 && threads_per_multiprocessor > 0)
      return multiprocessors * threads_per_multiprocessor;
    (void)cudaGetLastError();
#endif
    return cuda_fallback_concurrency;
  }
};

}  // namespace PNPDIST_ABI_TAG

/// Blocks until every operation queued in exec.stream has completed. Throws cuda_error when one failed
/// (asynchronous kernel errors surface here), not_compiled in a build without the CUDA component.
inline void synchronize(const Cuda& exec) {
#if defined(PNPDIST_HAS_CUDA)
  PNPDIST_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(exec.stream)));
#else
  (void)exec;
  throw not_compiled("pnpdist::synchronize(Cuda): this build has no CUDA (link the pnpdist::cuda component)");
#endif
}

}  // namespace pnpdist
