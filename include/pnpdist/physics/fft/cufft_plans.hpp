#pragma once
/// \file
/// Device FFTs through cuFFT: batched 2-D real-to-complex and complex-to-real transforms of `batch`
/// contiguous H x W arrays in device memory, with the same conventions as fftw_plans.hpp (unnormalized,
/// the inverse overwrites its input). Plans are made once per (device, batch, H, W, direction) and reused;
/// the cache is guarded by a mutex, and a plan is bound to the caller's stream before each execution.
///
/// Needs cuFFT: PNPDIST_HAS_CUFFT, defined by a build that links CUDA::cufft with the pnpdist::cuda
/// component. Without it every call throws not_compiled.

#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/fft/complex.hpp"
#include "pnpdist/physics/fft/fftw_plans.hpp"

#if defined(PNPDIST_HAS_CUFFT) && defined(PNPDIST_HAS_CUDA)
#include <cuda_runtime.h>
#include <cufft.h>

#include "pnpdist/core/cuda_check.hpp"
#endif

namespace pnpdist::fft {

#if defined(PNPDIST_HAS_CUFFT) && defined(PNPDIST_HAS_CUDA)
namespace detail {

/// Throws cuda_error naming the cuFFT call and its status.
inline void check_cufft(cufftResult status, const char* call) {
  if (status != CUFFT_SUCCESS)
    throw cuda_error(std::string(call) + " failed with cufftResult " + std::to_string(status));
}

/// The process-wide cache of cuFFT plans, destroyed at program exit.
class CufftPlanCache {
public:
  static CufftPlanCache& instance() {
    static CufftPlanCache cache;
    return cache;
  }

  /// Binds the plan for (current device, direction, batch, H, W) to `stream` and calls run(plan) under the
  /// lock, so that two threads sharing a plan cannot swap its stream between binding and execution.
  template <class Run>
  void execute(RealFftDirection direction, index_t batch, index_t height, index_t width, void* stream, Run&& run) {
    int device = 0;
    PNPDIST_CUDA_CHECK(cudaGetDevice(&device));
    const Key key{device, direction == RealFftDirection::forward ? 0 : 1, batch, height, width};
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = plans_.find(key);
    if (it == plans_.end()) {
      cufftHandle plan = 0;
      int n[2] = {static_cast<int>(height), static_cast<int>(width)};
      const int spectrum_width = static_cast<int>(width / 2 + 1);
      const int real_distance = static_cast<int>(height * width);
      const int complex_distance = static_cast<int>(height) * spectrum_width;
      if (direction == RealFftDirection::forward)
        check_cufft(cufftPlanMany(&plan, 2, n, nullptr, 1, real_distance, nullptr, 1, complex_distance, CUFFT_R2C,
                                  static_cast<int>(batch)),
                    "cufftPlanMany(R2C)");
      else
        check_cufft(cufftPlanMany(&plan, 2, n, nullptr, 1, complex_distance, nullptr, 1, real_distance, CUFFT_C2R,
                                  static_cast<int>(batch)),
                    "cufftPlanMany(C2R)");
      it = plans_.emplace(key, plan).first;
    }
    check_cufft(cufftSetStream(it->second, static_cast<cudaStream_t>(stream)), "cufftSetStream");
    run(it->second);
  }

  CufftPlanCache(const CufftPlanCache&) = delete;
  CufftPlanCache& operator=(const CufftPlanCache&) = delete;
  ~CufftPlanCache() {
    for (auto& entry : plans_) cufftDestroy(entry.second);
  }

private:
  CufftPlanCache() = default;
  using Key = std::tuple<int, int, index_t, index_t, index_t>;
  std::mutex mutex_;
  std::map<Key, cufftHandle> plans_;
};

}  // namespace detail
#endif

/// The device counterpart of fftw_forward, queued in `stream` (asynchronous).
inline void cufft_forward(const float* real, Complex<float>* spectrum, index_t batch, index_t height, index_t width,
                          void* stream) {
#if defined(PNPDIST_HAS_CUFFT) && defined(PNPDIST_HAS_CUDA)
  detail::CufftPlanCache::instance().execute(
      RealFftDirection::forward, batch, height, width, stream, [&](cufftHandle plan) {
        detail::check_cufft(cufftExecR2C(plan, const_cast<cufftReal*>(real), reinterpret_cast<cufftComplex*>(spectrum)),
                            "cufftExecR2C");
      });
#else
  (void)real, (void)spectrum, (void)batch, (void)height, (void)width, (void)stream;
  throw not_compiled("FFT on the device: this build has no cuFFT (PNPDIST_HAS_CUFFT, CUDA::cufft)");
#endif
}

/// The device counterpart of fftw_inverse, queued in `stream` (asynchronous). Overwrites `spectrum`.
inline void cufft_inverse(Complex<float>* spectrum, float* real, index_t batch, index_t height, index_t width,
                          void* stream) {
#if defined(PNPDIST_HAS_CUFFT) && defined(PNPDIST_HAS_CUDA)
  detail::CufftPlanCache::instance().execute(
      RealFftDirection::inverse, batch, height, width, stream, [&](cufftHandle plan) {
        detail::check_cufft(cufftExecC2R(plan, reinterpret_cast<cufftComplex*>(spectrum), real), "cufftExecC2R");
      });
#else
  (void)real, (void)spectrum, (void)batch, (void)height, (void)width, (void)stream;
  throw not_compiled("FFT on the device: this build has no cuFFT (PNPDIST_HAS_CUFFT, CUDA::cufft)");
#endif
}

}  // namespace pnpdist::fft
