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
/// observe::progress prints progress lines (iteration, PSNR, relative change, time per phase, s/it, ETA) to
/// stderr: every iteration on a terminal, every few seconds in a log.

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>

#include "pnpdist/metrics/psnr.hpp"
#include "pnpdist/metrics/ssim.hpp"
#include "pnpdist/solvers/iteration_record.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

/// What PnPSolver::solve accepts as an observer of iterates View<const T, R, Space> on executor Exec: a
/// measuring observer, a callable f(record, x), or an observer with begin(first, max) (see the file comment).
/// solve() static_asserts it, so an observer with a wrong signature is a compile error, not silently skipped.
template <class O, class Exec, class T, std::size_t R, class Space>
concept PnPObserver =
    requires(O& o, const Exec& exec, IterationRecord& record, const View<const T, R, Space>& x) {
      o.measure(exec, record, x);
    } || std::is_invocable_v<O&, const IterationRecord&, const View<const T, R, Space>&> ||
    requires(O& o, index_t first, index_t max) { o.begin(first, max); };

}  // namespace pnpdist

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

/// Progress lines: "iteration 12/100  PSNR 27.31 dB  relative change 3.1e-03  gradient 0.120 s  denoiser
/// 0.801 s  0.95 s/it  ETA 1m 22s". Nothing when not `enabled` (give enabled = (rank == 0)). On a terminal
/// (or with `every_iteration`) one line per iteration; otherwise, as in a log file or under the runner, the
/// first iteration, then the first iteration ending at least `interval_seconds` of solve time after the last
/// line, and the last iteration: a long run shows progress at that interval without flooding the log.
/// labelled("name") prefixes every line with "name: " (several runs in one log).
class Progress {
public:
  explicit Progress(bool enabled = true, bool every_iteration = false, double interval_seconds = 5.0,
                    std::FILE* out = stderr)
      : enabled_(enabled),
        every_iteration_(every_iteration || ::isatty(::fileno(out)) == 1),
        interval_(interval_seconds),
        out_(out) {}

  [[nodiscard]] bool active() const { return enabled_; }

  [[nodiscard]] Progress labelled(std::string label) && {
    label_ = std::move(label) + ": ";
    return std::move(*this);
  }

  void begin(index_t first_iteration, index_t max_iterations) {
    first_ = first_iteration;
    max_ = max_iterations;
  }

  template <class View>
  void operator()(const IterationRecord& r, const View& /*x*/) {
    if (!enabled_) return;
    seconds_ += r.iteration_seconds;
    const bool due = every_iteration_ || r.iteration == first_ || r.iteration >= max_ ||
                     seconds_ - printed_at_ >= interval_;
    if (!due) return;
    printed_at_ = seconds_;
    const index_t done = r.iteration - first_ + 1;
    const double per_iteration = done > 0 ? seconds_ / static_cast<double>(done) : 0;
    const double eta = per_iteration * static_cast<double>(max_ - r.iteration);
    std::string line = label_ + "iteration " + std::to_string(r.iteration) + "/" + std::to_string(max_);
    char buffer[200];
    if (!std::isnan(r.psnr)) {
      std::snprintf(buffer, sizeof(buffer), "  PSNR %.2f dB", r.psnr);
      line += buffer;
    }
    if (!std::isnan(r.ssim)) {
      std::snprintf(buffer, sizeof(buffer), "  SSIM %.4f", r.ssim);
      line += buffer;
    }
    if (!std::isnan(r.relative_change)) {
      std::snprintf(buffer, sizeof(buffer), "  relative change %.2e", r.relative_change);
      line += buffer;
    }
    std::snprintf(buffer, sizeof(buffer), "  gradient %.3f s  denoiser %.3f s  %.3g s/it  ETA %dm %02ds",
                  r.gradient_seconds, r.denoiser_seconds, per_iteration, static_cast<int>(eta) / 60,
                  static_cast<int>(eta) % 60);
    line += buffer;
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
  }

private:
  bool enabled_;
  bool every_iteration_;
  double interval_;
  std::FILE* out_;
  std::string label_;
  index_t first_ = 1;
  index_t max_ = 0;
  double seconds_ = 0;     // solve time of the iterations seen
  double printed_at_ = 0;  // seconds_ when the last line was printed
};

/// observe::progress(enabled, every_iteration, interval_seconds, out): see Progress.
[[nodiscard]] inline Progress progress(bool enabled = true, bool every_iteration = false, double interval_seconds = 5.0,
                                       std::FILE* out = stderr) {
  return Progress(enabled, every_iteration, interval_seconds, out);
}

}  // namespace pnpdist::observe
