#pragma once
/// \file
/// Observers of the PnP solver (solvers/pnp_solver.hpp). An observer is called once per iteration on every
/// rank, after the iterate x+ is formed; it must not call collective operations unless every rank runs it.
///
///   - a measuring observer has `measure(exec, IterationRecord&, View<const T, R, Space> x)` and may fill
///     fields of the record (observe::ground_truth fills psnr and ssim); measuring observers run first;
///   - any callable `f(const IterationRecord&, View<const T, R, Space> x)` runs next (logging, plotting);
///   - an observer with `begin(index_t first_iteration, index_t max_iterations)` is told where the run starts
///     (after a resume: the iteration after the checkpoint) before the first iteration.
///
/// observe::progress prints one line per iteration (iteration, PSNR, time per phase, ETA) to stderr, and only
/// when stderr is a terminal unless forced: long runs show progress interactively and stay quiet in logs.

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "pnpdist/metrics/psnr.hpp"
#include "pnpdist/metrics/ssim.hpp"
#include "pnpdist/solvers/iteration_record.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::observe {

/// Fills psnr (and ssim, when `with_ssim` and the image plane is at least 11 x 11) of each iterate against
/// `truth` for the data range `data_range`, computed in the executor's memory space.
template <class T, std::size_t Rank, class Space>
struct GroundTruth {
  View<const T, Rank, Space> truth;
  double data_range = 1.0;
  bool with_ssim = true;

  template <class Exec>
  void measure(const Exec& exec, IterationRecord& record, const View<const T, Rank, Space>& x) const {
    record.psnr = psnr(exec, x, truth, data_range);
    if constexpr (Rank >= 2) {
      if (with_ssim && truth.extent(Rank - 2) >= 11 && truth.extent(Rank - 1) >= 11)
        record.ssim = ssim(exec, x, truth, data_range);
    }
  }
};

/// observe::ground_truth(truth_view_or_tensor, data_range): see GroundTruth.
template <class T, std::size_t Rank, class Space>
[[nodiscard]] GroundTruth<std::remove_const_t<T>, Rank, Space> ground_truth(const View<T, Rank, Space>& truth,
                                                                            double data_range = 1.0,
                                                                            bool with_ssim = true) {
  return {View<const std::remove_const_t<T>, Rank, Space>(truth), data_range, with_ssim};
}
template <class Tensor>
requires requires(const Tensor& t) { t.const_view(); }
[[nodiscard]] auto ground_truth(const Tensor& truth, double data_range = 1.0, bool with_ssim = true) {
  return ground_truth(truth.const_view(), data_range, with_ssim);
}

/// Progress lines on stderr: "iteration 12/100  PSNR 27.31 dB  gradient 0.120 s  denoiser 0.801 s  ETA 1m 22s".
/// Prints only when `enabled` and (stderr is a terminal or `force`). Give enabled = (rank == 0).
class Progress {
public:
  explicit Progress(bool enabled = true, bool force = false)
      : enabled_(enabled && (force || ::isatty(STDERR_FILENO) == 1)) {}

  [[nodiscard]] bool active() const { return enabled_; }

  void begin(index_t first_iteration, index_t max_iterations) {
    first_ = first_iteration;
    max_ = max_iterations;
  }

  template <class View>
  void operator()(const IterationRecord& r, const View& /*x*/) {
    if (!enabled_) return;
    seconds_ += r.iteration_seconds;
    const index_t done = r.iteration - first_ + 1;
    const double eta = done > 0 ? seconds_ / static_cast<double>(done) * static_cast<double>(max_ - r.iteration) : 0;
    std::string line = "iteration " + std::to_string(r.iteration) + "/" + std::to_string(max_);
    char buffer[160];
    if (!std::isnan(r.psnr)) {
      std::snprintf(buffer, sizeof(buffer), "  PSNR %.2f dB", r.psnr);
      line += buffer;
    }
    if (!std::isnan(r.ssim)) {
      std::snprintf(buffer, sizeof(buffer), "  SSIM %.4f", r.ssim);
      line += buffer;
    }
    std::snprintf(buffer, sizeof(buffer), "  gradient %.3f s  denoiser %.3f s  ETA %dm %02ds", r.gradient_seconds,
                  r.denoiser_seconds, static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
    line += buffer;
    std::fprintf(stderr, "%s\n", line.c_str());
  }

private:
  bool enabled_;
  index_t first_ = 1;
  index_t max_ = 0;
  double seconds_ = 0;
};

/// observe::progress(enabled, force): see Progress.
[[nodiscard]] inline Progress progress(bool enabled = true, bool force = false) { return Progress(enabled, force); }

}  // namespace pnpdist::observe
