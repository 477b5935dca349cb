#pragma once
/// \file
/// Host FFTs through FFTW (single precision, threaded): batched 2-D real-to-complex and complex-to-real
/// transforms of `batch` contiguous H x W arrays, with plans created once per (batch, H, W, direction,
/// thread count, data alignment) and reused for the life of the program.
///
/// Guarantees:
///   - Planning is serialized by one mutex (the FFTW planner is not thread-safe); executing a plan is not,
///     so several threads may transform different arrays with the same plan at once.
///   - Plans are made on scratch arrays (the planner may overwrite its arrays), never on the caller's
///     data, and executed with FFTW's new-array interface on the caller's arrays. The cache key includes
///     the alignment of both arrays, so any contiguous arrays can be transformed.
///   - The forward transform leaves its input unchanged; the inverse transform overwrites its input
///     (FFTW's complex-to-real transforms always may).
///   - Transforms are unnormalized: inverse(forward(x)) = H * W * x.
/// Requires the pnpdist::fftw component (PNPDIST_HAS_FFTW); without it every call throws not_compiled.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/fft/complex.hpp"

#if defined(PNPDIST_HAS_FFTW)
#include <fftw3.h>
#endif

namespace pnpdist::fft {

/// How much time FFTW spends choosing an algorithm when a plan is first made: `estimate` plans at once
/// from heuristics, `measure` times candidate algorithms (about a second per large shape, faster
/// transforms afterwards).
enum class FftwPlanning { estimate, measure };

namespace detail {
inline std::atomic<FftwPlanning>& fftw_planning_setting() {
  static std::atomic<FftwPlanning> setting{FftwPlanning::measure};
  return setting;
}
}  // namespace detail

/// The planning rigor of plans made from now on (plans already cached are kept). Default: measure.
inline void set_fftw_planning(FftwPlanning planning) { detail::fftw_planning_setting().store(planning); }
/// The current planning rigor.
[[nodiscard]] inline FftwPlanning fftw_planning() { return detail::fftw_planning_setting().load(); }

/// Direction of a real transform.
enum class RealFftDirection { forward, inverse };

#if defined(PNPDIST_HAS_FFTW)
namespace detail {

/// The process-wide cache of FFTW plans. Plans are destroyed at program exit.
class FftwPlanCache {
public:
  static FftwPlanCache& instance() {
    static FftwPlanCache cache;
    return cache;
  }

  /// The plan for `batch` H x W transforms in `direction` with `threads` threads, for arrays whose
  /// fftwf_alignment_of is `real_alignment` and `complex_alignment`. Made on first use (under the lock).
  fftwf_plan plan(RealFftDirection direction, index_t batch, index_t height, index_t width, int threads,
                  int real_alignment, int complex_alignment) {
    const Key key{direction == RealFftDirection::forward ? 0 : 1,
                  batch,
                  height,
                  width,
                  threads,
                  real_alignment,
                  complex_alignment,
                  static_cast<int>(fftw_planning())};
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = plans_.find(key); it != plans_.end()) return it->second;
    if (!threads_initialized_) {
      require<error>(fftwf_init_threads() != 0, "FFTW: fftwf_init_threads failed");
      threads_initialized_ = true;
    }
    fftwf_plan_with_nthreads(threads);
    const index_t spectrum_width = width / 2 + 1;
    const std::size_t real_count = static_cast<std::size_t>(batch * height * width);
    const std::size_t complex_count = static_cast<std::size_t>(batch * height * spectrum_width);
    // Scratch arrays offset to the caller's alignment class, so that the plan is valid for its arrays.
    float* real_block = fftwf_alloc_real(real_count + 16);
    fftwf_complex* complex_block = fftwf_alloc_complex(complex_count + 8);
    require<error>(real_block != nullptr && complex_block != nullptr, [&] {
      return "FFTW: cannot allocate planning arrays for " + std::to_string(batch) + " x " + std::to_string(height) +
             " x " + std::to_string(width);
    });
    float* real = reinterpret_cast<float*>(reinterpret_cast<char*>(real_block) + real_alignment);
    fftwf_complex* spectrum =
        reinterpret_cast<fftwf_complex*>(reinterpret_cast<char*>(complex_block) + complex_alignment);
    const int n[2] = {static_cast<int>(height), static_cast<int>(width)};
    const unsigned flags = (fftw_planning() == FftwPlanning::measure ? FFTW_MEASURE : FFTW_ESTIMATE);
    fftwf_plan p = nullptr;
    if (direction == RealFftDirection::forward)
      p = fftwf_plan_many_dft_r2c(2, n, static_cast<int>(batch), real, nullptr, 1, static_cast<int>(height * width),
                                  spectrum, nullptr, 1, static_cast<int>(height * spectrum_width), flags);
    else
      p = fftwf_plan_many_dft_c2r(2, n, static_cast<int>(batch), spectrum, nullptr, 1,
                                  static_cast<int>(height * spectrum_width), real, nullptr, 1,
                                  static_cast<int>(height * width), flags);
    fftwf_free(real_block);
    fftwf_free(complex_block);
    require<error>(p != nullptr, [&] {
      return "FFTW: no plan for " + std::to_string(batch) + " x " + std::to_string(height) + " x " +
             std::to_string(width) + " transforms";
    });
    plans_.emplace(key, p);
    return p;
  }

  FftwPlanCache(const FftwPlanCache&) = delete;
  FftwPlanCache& operator=(const FftwPlanCache&) = delete;
  ~FftwPlanCache() {
    for (auto& entry : plans_) fftwf_destroy_plan(entry.second);
  }

private:
  FftwPlanCache() = default;
  using Key = std::tuple<int, index_t, index_t, index_t, int, int, int, int>;
  std::mutex mutex_;
  std::map<Key, fftwf_plan> plans_;
  bool threads_initialized_ = false;
};

}  // namespace detail
#endif

/// forward: spectrum[b, u, v] = sum_{i, j} real[b, i, j] exp(-2 pi i (u i / H + v j / W)) for
/// v < W/2 + 1 (the other half is the conjugate mirror). `real` holds batch x H x W floats, `spectrum`
/// batch x H x (W/2 + 1) complex values, both contiguous host arrays that do not overlap.
inline void fftw_forward(const float* real, Complex<float>* spectrum, index_t batch, index_t height, index_t width,
                         int threads) {
#if defined(PNPDIST_HAS_FFTW)
  float* in = const_cast<float*>(real);  // r2c plans preserve their input (FFTW's default for r2c)
  auto* out = reinterpret_cast<fftwf_complex*>(spectrum);
  fftwf_plan p = detail::FftwPlanCache::instance().plan(RealFftDirection::forward, batch, height, width, threads,
                                                        fftwf_alignment_of(in), fftwf_alignment_of(&out[0][0]));
  fftwf_execute_dft_r2c(p, in, out);
#else
  (void)real, (void)spectrum, (void)batch, (void)height, (void)width, (void)threads;
  throw not_compiled("FFT on the host: this build has no FFTW (link the pnpdist::fftw component)");
#endif
}

/// inverse: the unnormalized complex-to-real transform of a Hermitian spectrum (batch x H x (W/2 + 1))
/// into batch x H x W reals; H * W times the inverse DFT. Overwrites `spectrum`.
inline void fftw_inverse(Complex<float>* spectrum, float* real, index_t batch, index_t height, index_t width,
                         int threads) {
#if defined(PNPDIST_HAS_FFTW)
  auto* in = reinterpret_cast<fftwf_complex*>(spectrum);
  fftwf_plan p = detail::FftwPlanCache::instance().plan(RealFftDirection::inverse, batch, height, width, threads,
                                                        fftwf_alignment_of(real), fftwf_alignment_of(&in[0][0]));
  fftwf_execute_dft_c2r(p, in, real);
#else
  (void)real, (void)spectrum, (void)batch, (void)height, (void)width, (void)threads;
  throw not_compiled("FFT on the host: this build has no FFTW (link the pnpdist::fftw component)");
#endif
}

}  // namespace pnpdist::fft
