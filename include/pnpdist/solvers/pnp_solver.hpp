#pragma once
/// \file
/// PnPSolver<Prior, Algorithm>: the Plug-and-Play iteration loop for any Physics f(x) = 1/2 sum_i ||A_i x - y_i||^2
/// (StackedPhysics, CircularBlurStack, DistributedPhysics) and any Denoiser D_sigma (DRUNet, TVDenoiser,
/// TiledDenoiser, DistributedDenoiser, ...), with the algorithm chosen at compile time:
///
///     ProximalGradient        PnP-PGD, optionally relaxed or with a damped denoiser (solvers/proximal_gradient.hpp)
///     HalfQuadraticSplitting  PnP-HQS with the DPIR sigma schedule (solvers/half_quadratic_splitting.hpp)
///     ADMM                    PnP-ADMM / Douglas-Rachford (solvers/admm.hpp)
///
/// Each iteration is a data step (gradient or proximal step of f) and a denoiser step, timed separately; every
/// algorithm shares this loop, its observers, records, stopping rules, checkpoints and distributed path.
/// Initialisation: init::zeros, init::adjoint (A^T y = -grad f(0)) or init::given(x0) (a pseudo-inverse the
/// caller computed: FBP, FDK, CGLS). Stops after max_iterations, or when the stopping tolerances of PnPOptions
/// hold (relative change of the iterate and of the data residual: no ground truth needed). The physics' domain
/// of rank R is seen by the denoiser (rank Q >= R) with Q - R leading unit axes.
///
/// An algorithm A provides validate(), hash() and a nested `A::Stepper<P, Prior>` constructed from (A, physics,
/// prior, clip) with start(x0) (fresh start, collective), restore(step) (resume), step(), squared_norm(),
/// extra_state() (an array of the domain-shaped tensors a checkpoint must keep besides x),
/// data_step(k, x, record) and denoiser_step(k, x_next, record), which writes x_{k}, data_result() (the
/// output of the last data step) and data_phase (its name in messages: "gradient", "data proximal").
///
/// Non-finite values: f(x_0) is checked once at the start (the initial record's value, or one evaluation
/// when it is not recorded), and each x_{k} through the norm of x_{k} - x_{k-1} the loop computes anyway;
/// NaN or Inf throws numerical_error naming the iteration, the phase (the data step or the denoiser) and the
/// rank, on every rank (the values checked are the same on every rank).
///
/// Memory: two domain-sized tensors (x, x+) in the executor's memory space plus the stepper's; no host copy
/// of the iterate except for checkpoints. Determinism: for deterministic physics and denoiser the iterates
/// depend only on the inputs and options. Distributed runs (solvers/solver_ranks.hpp): every rank calls solve()
/// with the same arguments; physics and denoiser calls are collective and every control decision (step, stop,
/// resume) is taken from values identical on every rank.
///
/// Records: one IterationRecord per iteration on each rank: wall time, time in the data step and in the
/// denoiser step (executor synchronised at the boundaries), f(x_k), relative changes of x and f, the denoiser's
/// sigma, CG iterations, peak host RSS and the allocation tracker's high-water mark in each phase.
///
/// Checkpoints (solvers/checkpoint.hpp, checkpoint_resume.hpp): with checkpoint_path set and checkpoint_every =
/// K > 0, the state after iterations K, 2K, ... (x and the algorithm's extra tensors) is written atomically,
/// and solve() resumes from an existing file: the run then ends with the same iterate as an uninterrupted run
/// (bit for bit on one process). One file per rank: `path` on a single process, `path.rank<r>` when the solve
/// is distributed. A checkpoint written with other options or another algorithm is refused with an error.

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pnpdist/backend/allocation_tracker.hpp"
#include "pnpdist/backend/resident_memory.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/heartbeat.hpp"
#include "pnpdist/operators/physics.hpp"
#include "pnpdist/priors/denoiser.hpp"
#include "pnpdist/solvers/admm.hpp"
#include "pnpdist/solvers/checkpoint.hpp"
#include "pnpdist/solvers/checkpoint_resume.hpp"
#include "pnpdist/solvers/half_quadratic_splitting.hpp"
#include "pnpdist/solvers/iteration_record.hpp"
#include "pnpdist/solvers/observers.hpp"
#include "pnpdist/solvers/pnp_options.hpp"
#include "pnpdist/solvers/proximal_gradient.hpp"
#include "pnpdist/solvers/solver_ranks.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/reductions.hpp"

namespace pnpdist {

/// Initialisations of the PnP iterate.
namespace init {
struct Zeros {};    ///< x0 = 0
struct Adjoint {};  ///< x0 = A^T y = -grad f(0)
template <class V>
struct Given {  ///< x0 = a given view (copied; the domain shape, in the executor's memory space)
  V x0;
};
inline constexpr Zeros zeros{};
inline constexpr Adjoint adjoint{};
/// init::given(view or tensor): x0 copied from it (it is not modified).
template <class T, std::size_t Rank, class Space>
[[nodiscard]] Given<View<const std::remove_const_t<T>, Rank, Space>> given(const View<T, Rank, Space>& x0) {
  return {View<const std::remove_const_t<T>, Rank, Space>(x0)};
}
template <class Tensor>
requires requires(const Tensor& t) { t.const_view(); }
[[nodiscard]] auto given(const Tensor& x0) { return given(x0.const_view()); }
}  // namespace init

/// Why a PnP run stopped.
enum class PnPStop {
  max_iterations,  ///< max_iterations were performed
  stagnation       ///< the stopping tolerances of PnPOptions held
};

/// The outcome of PnPSolver::solve on this rank.
template <class T, std::size_t Rank, class Space>
struct PnPResult {
  Tensor<T, Rank, Space> x;              ///< the last iterate
  std::vector<IterationRecord> records;  ///< one per iteration performed (including those before a resume)
  IterationRecord initial;               ///< iteration 0: the initialisation (data fidelity, psnr/ssim by observers)
  index_t iterations = 0;                ///< iterations performed in total
  PnPStop stop = PnPStop::max_iterations;
  double step = std::numeric_limits<double>::quiet_NaN();          ///< gamma of PnP-PGD (NaN for the others)
  double squared_norm = std::numeric_limits<double>::quiet_NaN();  ///< ||A||^2 estimate (NaN when not estimated)
  double setup_seconds = 0;                                        ///< initialisation plus step estimation
  index_t resumed_from = 0;  ///< iteration of the checkpoint resumed from (0: fresh start)
};

/// The wall-clock phases of one iteration and the memory high-water marks in each (see IterationRecord).
class PhaseTimer {
public:
  using Clock = std::chrono::steady_clock;

  /// Starts a phase: resets the host RSS peak and the tracker's peak of memory space Space.
  template <class Space>
  void begin() {
    reset_peak_resident_bytes();
    allocation_tracker<Space>().reset_peak();
    start_ = Clock::now();
  }
  /// Ends the phase started last: returns its seconds and stores its peaks.
  template <class Space>
  double end(std::size_t& peak_rss, std::size_t& peak_tracked) {
    const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    peak_rss = peak_resident_bytes();
    peak_tracked = allocation_tracker<Space>().statistics().peak_bytes;
    return seconds;
  }

private:
  Clock::time_point start_{};
};

namespace detail {

template <class Exec>
inline void synchronize_executor(const Exec& exec) {
  if constexpr (requires { synchronize(exec); }) synchronize(exec);
}

/// Hash of what determines the iterates: element type, shape, the algorithm's parameters, clip and the
/// caller's checkpoint_fingerprint (an empty fingerprint leaves the hash as it was without one).
template <class T, std::size_t Rank>
inline std::uint64_t pnp_options_hash(const PnPOptions& o, const AlgorithmHash& algorithm, const Extents<Rank>& shape) {
  std::vector<double> v{static_cast<double>(sizeof(T)), static_cast<double>(Rank)};
  for (std::size_t d = 0; d < Rank; ++d) v.push_back(static_cast<double>(shape[d]));
  v.insert(v.end(), algorithm.values.begin(), algorithm.values.end());
  v.push_back(o.clip ? 1.0 : 0.0);
  v.push_back(o.clip ? o.clip->first : 0.0);
  v.push_back(o.clip ? o.clip->second : 0.0);
  const std::uint64_t hash = fnv1a(v.data(), v.size() * sizeof(double));
  return fnv1a(o.checkpoint_fingerprint.data(), o.checkpoint_fingerprint.size(), hash);  // empty: hash
}

/// |now - before| / |before| (inf when before = 0 and now differs; NaN when either is NaN).
inline double relative_difference(double now, double before) {
  if (std::isnan(now) || std::isnan(before)) return std::numeric_limits<double>::quiet_NaN();
  const double change = std::abs(now - before);
  return before != 0 ? change / std::abs(before) : (change > 0 ? std::numeric_limits<double>::infinity() : 0.0);
}

}  // namespace detail

/// Plug-and-Play with the denoiser `Prior` and the algorithm `Algorithm` (see the file comment).
/// A prior that is not a Denoiser stops the compilation with one static_assert naming the requirement it misses.
template <class Prior, class Algorithm = ProximalGradient>
class PnPSolver {
  static_assert(detail::check_denoiser<Prior>());

public:
  using prior_type = Prior;
  using algorithm_type = Algorithm;

  /// Keeps a reference to `prior` (it must outlive the solver). Throws invalid_argument for invalid options.
  PnPSolver(Prior& prior, PnPOptions options, Algorithm algorithm = {})
      : prior_(&prior), options_(std::move(options)), algorithm_(std::move(algorithm)) {
    options_.validate();
    algorithm_.validate();
  }

  [[nodiscard]] const PnPOptions& options() const { return options_; }
  [[nodiscard]] const Algorithm& algorithm() const { return algorithm_; }
  [[nodiscard]] Prior& prior() const { return *prior_; }

  /// The checkpoint file of `rank` among `ranks` for checkpoint_path (see the file comment).
  [[nodiscard]] std::string checkpoint_file(int rank, int ranks) const {
    return ranks > 1 ? options_.checkpoint_path + ".rank" + std::to_string(rank) : options_.checkpoint_path;
  }

  /// Runs PnP on `physics` from `init` (init::zeros, init::adjoint, init::given(x0)), calling `observers`
  /// after every iteration (solvers/observers.hpp). Collective for distributed physics or denoisers.
  template <Physics P, class Init, class... Observers>
  PnPResult<typename P::value_type, P::domain_rank, typename P::executor_type::memory_space> solve(
      const P& physics, Init init, Observers&&... observers) {
    using T = typename P::value_type;
    using Space = typename P::executor_type::memory_space;
    constexpr std::size_t R = P::domain_rank;
    constexpr bool observers_valid =
        (PnPObserver<std::remove_reference_t<Observers>, typename P::executor_type, T, R, Space> && ...);
    static_assert(observers_valid,
                  "PnPSolver::solve: every observer needs measure(exec, IterationRecord&, View<const T, R, Space>), "
                  "operator()(const IterationRecord&, View<const T, R, Space>) or begin(index_t, index_t) "
                  "(solvers/observers.hpp); one of them has none of these with matching parameter types");
    // After a failed static_assert (here or the class's on Prior) nothing else is instantiated: one message.
    if constexpr (observers_valid && Denoiser<Prior>)
      return solve_checked(physics, std::move(init), std::forward<Observers>(observers)...);
    else
      return {};
  }

private:
  /// solve() once the prior and the observers are known to be valid.
  template <class P, class Init, class... Observers>
  PnPResult<typename P::value_type, P::domain_rank, typename P::executor_type::memory_space> solve_checked(
      const P& physics, Init init, Observers&&... observers) {
    using T = typename P::value_type;
    using Space = typename P::executor_type::memory_space;
    using Stepper = typename Algorithm::template Stepper<P, Prior>;
    constexpr std::size_t R = P::domain_rank;
    constexpr std::size_t extra = Stepper::extra_tensors;
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto seconds_since = [](Clock::time_point t) {
      return std::chrono::duration<double>(Clock::now() - t).count();
    };

    const auto exec = physics.executor();
    const Extents<R> shape = physics.domain_shape();
    const SolverRanks<P, Prior> ranks(physics, *prior_);
    PnPResult<T, R, Space> result{Tensor<T, R, Space>(shape),
                                  {},
                                  {},
                                  0,
                                  PnPStop::max_iterations,
                                  std::numeric_limits<double>::quiet_NaN(),
                                  std::numeric_limits<double>::quiet_NaN(),
                                  0,
                                  0};
    Tensor<T, R, Space> next(shape);
    initialise(physics, init, result.x.view(), next.view());
    Stepper stepper(algorithm_, physics, *prior_, options_.clip);

    // Resume, or start afresh.
    const std::uint64_t hash = detail::pnp_options_hash<T>(options_, algorithm_.hash(), shape);
    const std::string file =
        options_.checkpoint_path.empty() ? std::string() : checkpoint_file(ranks.rank(), ranks.size());
    const std::size_t tensor_bytes = static_cast<std::size_t>(result.x.size()) * sizeof(T);
    const std::optional<Checkpoint> resumed =
        resume_checkpoint(ranks, file,
                          {static_cast<std::uint32_t>(sizeof(T)), std::vector<index_t>(shape.begin(), shape.end()),
                           hash, (1 + extra) * tensor_bytes, options_.max_iterations,
                           requires { requires Stepper::has_step; }});
    double elapsed_before = 0;
    index_t first = 1;
    if (resumed) {
      Tensor<T, R, HostSpace> host(shape);
      const auto restore_tensor = [&](std::size_t slot, const View<T, R, Space>& target) {
        std::memcpy(host.data(), resumed->data.data() + slot * tensor_bytes, tensor_bytes);
        deep_copy(target, host.const_view());
      };
      restore_tensor(0, result.x.view());
      std::size_t slot = 1;
      for (const auto& view : stepper.extra_state()) restore_tensor(slot++, view);
      stepper.restore(resumed->step);
      std::vector<IterationRecord> records = resumed->records;
      if (!records.empty() && records.front().iteration == 0) {
        result.initial = records.front();
        records.erase(records.begin());
      }
      result.records = std::move(records);
      result.iterations = resumed->iteration;
      result.resumed_from = resumed->iteration;
      elapsed_before = resumed->elapsed_seconds;
      first = resumed->iteration + 1;
      check_start_is_finite(physics, result, true, ranks);
    } else {
      result.initial.iteration = 0;
      if (options_.record_data_fidelity) result.initial.data_fidelity = physics.data_fidelity(result.x.const_view());
      check_start_is_finite(physics, result, false, ranks);  // before the step estimate, which reads the data
      stepper.start(result.x.const_view());
      notify_measure(exec, result.initial, result.x.const_view(), observers...);
    }
    result.step = stepper.step();
    result.squared_norm = stepper.squared_norm();
    detail::synchronize_executor(exec);
    result.setup_seconds = seconds_since(start);

    (notify_begin(observers, first), ...);

    double previous_fidelity =
        result.records.empty() ? result.initial.data_fidelity : result.records.back().data_fidelity;
    PhaseTimer timer;
    for (index_t k = first; k <= options_.max_iterations; ++k) {
      heartbeat();  // for the progress timeout (distributed/progress_watchdog.hpp)
      IterationRecord rec;
      rec.iteration = k;
      detail::synchronize_executor(exec);
      const auto t0 = Clock::now();

      timer.begin<Space>();
      stepper.data_step(k, result.x.const_view(), rec);
      detail::synchronize_executor(exec);
      rec.gradient_seconds = timer.end<Space>(rec.peak_rss_gradient_bytes, rec.peak_tracked_gradient_bytes);

      timer.begin<Space>();
      stepper.denoiser_step(k, next.view(), rec);
      detail::synchronize_executor(exec);
      rec.denoiser_seconds = timer.end<Space>(rec.peak_rss_denoiser_bytes, rec.peak_tracked_denoiser_bytes);

      const double change = std::sqrt(squared_distance(exec, next.const_view(), result.x.const_view()));
      // x is finite (checked at the start and at every iteration): a non-finite change means a non-finite x+.
      if (!std::isfinite(change)) [[unlikely]]
        throw_non_finite_iterate(exec, stepper, k, ranks);
      const double size = static_cast<double>(norm(exec, result.x.const_view()));
      rec.relative_change = size > 0 ? change / size : (change > 0 ? std::numeric_limits<double>::infinity() : 0.0);
      std::swap(result.x, next);
      result.iterations = k;
      rec.iteration_seconds = seconds_since(t0);
      if (options_.record_data_fidelity) {
        rec.data_fidelity = physics.data_fidelity(result.x.const_view());
        rec.relative_residual_change = detail::relative_difference(rec.data_fidelity, previous_fidelity);
        previous_fidelity = rec.data_fidelity;
      }
      rec.wall_seconds = elapsed_before + seconds_since(start);
      notify_measure(exec, rec, result.x.const_view(), observers...);
      result.records.push_back(rec);
      (notify_call(observers, result.records.back(), result.x.const_view()), ...);

      if (options_.checkpoint_every > 0 && k % options_.checkpoint_every == 0)
        write_state(result, stepper, hash, ranks, file, elapsed_before + seconds_since(start));
      if (options_.converged(rec.relative_change, rec.relative_residual_change)) {
        result.stop = PnPStop::stagnation;
        break;
      }
    }
    return result;
  }

  template <class P, class Init, class X>
  static void initialise(const P& physics, const Init& init, const X& x, const X& scratch) {
    using T = typename P::value_type;
    using Space = typename P::executor_type::memory_space;
    constexpr std::size_t R = P::domain_rank;
    const auto exec = physics.executor();
    using InitType = std::remove_cvref_t<Init>;
    if constexpr (std::is_same_v<InitType, init::Zeros>) {
      fill(exec, x, T(0));
    } else if constexpr (std::is_same_v<InitType, init::Adjoint>) {
      fill(exec, scratch, T(0));
      physics.gradient(View<const T, R, Space>(scratch), x);
      scale(exec, T(-1), x);
    } else {
      const View<const T, R, Space> x0(init.x0);
      require<dimension_mismatch>(x0.extents() == physics.domain_shape(), [&] {
        return "PnPSolver::solve: the initial x0 has shape " + to_string(x0.extents()) + ", the physics' domain is " +
               to_string(physics.domain_shape());
      });
      copy(exec, x0, x);
    }
  }

  template <class Exec, class X, class... Observers>
  static void notify_measure(const Exec& exec, IterationRecord& rec, const X& x, Observers&... observers) {
    (
        [&](auto& o) {
          if constexpr (requires { o.measure(exec, rec, x); }) o.measure(exec, rec, x);
        }(observers),
        ...);
  }
  template <class O>
  void notify_begin(O& o, index_t first) const {
    if constexpr (requires { o.begin(first, index_t{0}); }) o.begin(first, options_.max_iterations);
  }
  template <class O, class X>
  static void notify_call(O& o, const IterationRecord& rec, const X& x) {
    if constexpr (std::is_invocable_v<O&, const IterationRecord&, const X&>) o(rec, x);
  }

  template <class Result, class Stepper, class Ranks>
  void write_state(const Result& result, Stepper& stepper, std::uint64_t hash, const Ranks& ranks,
                   const std::string& file, double elapsed) const {
    using T = typename decltype(result.x)::value_type;
    Checkpoint c;
    c.options_hash = hash;
    c.rank = ranks.rank();
    c.ranks = ranks.size();
    c.iteration = result.iterations;
    c.step = result.step;
    c.elapsed_seconds = elapsed;
    c.value_size = sizeof(T);
    for (std::size_t k = 0; k < decltype(result.x)::rank; ++k) c.extents.push_back(result.x.extent(k));
    c.records.reserve(result.records.size() + 1);
    c.records.push_back(result.initial);  // iteration 0
    c.records.insert(c.records.end(), result.records.begin(), result.records.end());
    const auto append = [&](const auto& view) {
      const auto host = clone<HostSpace>(view);
      const std::size_t at = c.data.size();
      c.data.resize(at + host.bytes());
      std::memcpy(c.data.data() + at, host.data(), host.bytes());
    };
    append(result.x.const_view());
    for (const auto& view : stepper.extra_state()) append(view);
    write_checkpoint(file, c);
  }

  /// Throws numerical_error when f(x_0) is not finite: the measured data, or the initial iterate, holds NaN or
  /// Inf. f(x_0) is the initial record's when it was recorded, else evaluated once here. Collective.
  template <class P, class Result, class Ranks>
  void check_start_is_finite(const P& physics, const Result& result, bool resumed, const Ranks& ranks) const {
    const double f0 = (!resumed && options_.record_data_fidelity) ? result.initial.data_fidelity
                                                                  : physics.data_fidelity(result.x.const_view());
    if (std::isfinite(f0)) return;
    const bool x_finite = std::isfinite(static_cast<double>(norm(physics.executor(), result.x.const_view())));
    throw numerical_error("PnPSolver (rank " + std::to_string(ranks.rank()) + " of " + std::to_string(ranks.size()) +
                          "): the data fidelity at the " + (resumed ? "resumed" : "initial") + " iterate is " +
                          std::to_string(f0) + ": " +
                          (x_finite ? "the measured data holds NaN or Inf"
                                    : "the " + std::string(resumed ? "resumed" : "initial") +
                                          " iterate holds NaN or Inf"));
  }

  /// Throws numerical_error naming iteration `k`, the phase whose output is not finite (the stepper's data
  /// step when its result is not finite, else the denoiser) and the rank.
  template <class Exec, class Stepper, class Ranks>
  [[noreturn]] static void throw_non_finite_iterate(const Exec& exec, const Stepper& stepper, index_t k,
                                                    const Ranks& ranks) {
    const bool data_finite = std::isfinite(static_cast<double>(norm(exec, stepper.data_result())));
    throw numerical_error("PnPSolver (rank " + std::to_string(ranks.rank()) + " of " + std::to_string(ranks.size()) +
                          "): iteration " + std::to_string(k) + ": the " +
                          (data_finite ? std::string("denoiser") : std::string(Stepper::data_phase)) +
                          " step produced NaN or Inf");
  }

  Prior* prior_;
  PnPOptions options_;
  Algorithm algorithm_;
};

}  // namespace pnpdist
