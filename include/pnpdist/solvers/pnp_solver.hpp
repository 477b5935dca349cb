#pragma once
/// \file
/// PnPSolver: Plug-and-Play proximal gradient descent for any Physics f(x) = 1/2 sum_i ||A_i x - y_i||^2
/// (StackedPhysics, DistributedPhysics) and any Denoiser D_sigma (DRUNet, TVDenoiser, TiledDenoiser,
/// DistributedDenoiser, ...):
///
///     z  = x - gamma grad f(x)
///     x+ = clip(D_sigma(z))                                      (no relaxation)
///     x+ = clip((1 - alpha) z + alpha D_sigma(z)),  alpha = gamma lambda / (1 + gamma lambda)   (lambda > 0)
///
/// gamma is options.step or step_factor / ||A||^2 (solvers/step_size.hpp, power method on A^T A).
/// Initialisation: init::zeros, init::adjoint (A^T y = -grad f(0)) or init::given(x0) (a pseudo-inverse the
/// caller computed: FBP, FDK, CGLS). Stops after max_iterations or when ||x+ - x|| / ||x|| drops below
/// stagnation_tolerance. The physics' domain of rank R is seen by the denoiser (rank Q >= R) with Q - R
/// leading unit axes: (H, W) -> (1, 1, H, W), (C, H, W) -> (1, C, H, W), (D, H, W) -> (1, 1, D, H, W).
///
/// Memory: three domain-sized tensors in the executor's memory space (x, z, D(z)) besides the physics' and
/// the denoiser's own buffers; no host copy of the iterate except for checkpoints (every K iterations).
/// Determinism: for deterministic physics and denoiser the iterates depend only on the inputs and options.
/// Distributed runs: every rank calls solve() with the same arguments; physics and denoiser calls are
/// collective, all control decisions (step, stagnation stop, resume) are taken from values identical on
/// every rank, so ranks never diverge in their collective calls.
///
/// Records: one IterationRecord per iteration on each rank (solvers/iteration_record.hpp): wall time, time in
/// the gradient phase (f(x), grad f(x) and the step) and the denoiser phase (D, relaxation, clip), with the
/// executor synchronised at phase boundaries; peak host RSS (VmHWM, reset before each phase) and the
/// allocation tracker's high-water mark of the executor's memory space in each phase.
///
/// Checkpoints (solvers/checkpoint.hpp): with checkpoint_path set and checkpoint_every = K > 0, the state
/// after iterations K, 2K, ... is written atomically. solve() resumes from an existing checkpoint file:
/// the run then ends with the same iterate as an uninterrupted run (bit for bit on one process: the state
/// is stored exactly and the step is restored, not re-estimated). One file per rank: `path` on a single
/// process, `path.rank<r>` when the physics or the denoiser has a communicator of several ranks (every
/// rank stores its own records; ranks whose files are one period apart, killed between their renames, all
/// resume from the oldest, kept as `.prev`). A checkpoint whose options hash, element type, shape or rank layout does
/// not match this solve throws invalid_argument naming the file and the mismatch; a corrupt one io_error.

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
#include "pnpdist/metrics/psnr.hpp"
#include "pnpdist/operators/physics.hpp"
#include "pnpdist/priors/denoiser.hpp"
#include "pnpdist/solvers/checkpoint.hpp"
#include "pnpdist/solvers/iteration_record.hpp"
#include "pnpdist/solvers/observers.hpp"
#include "pnpdist/solvers/pnp_options.hpp"
#include "pnpdist/solvers/step_size.hpp"
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
enum class PnPStop { max_iterations, stagnation };

/// The outcome of PnPSolver::solve on this rank.
template <class T, std::size_t Rank, class Space>
struct PnPResult {
  Tensor<T, Rank, Space> x;              ///< the last iterate
  std::vector<IterationRecord> records;  ///< one per iteration performed (including those before a resume)
  IterationRecord initial;               ///< iteration 0: the initialisation (data fidelity, psnr/ssim by observers)
  index_t iterations = 0;                ///< iterations performed in total
  PnPStop stop = PnPStop::max_iterations;
  double step = 0;                                                 ///< gamma used
  double squared_norm = std::numeric_limits<double>::quiet_NaN();  ///< ||A||^2 estimate (NaN with a fixed step)
  double setup_seconds = 0;                                        ///< initialisation plus step estimation
  index_t resumed_from = 0;  ///< iteration of the checkpoint resumed from (0: fresh start)
};

namespace detail {

template <class Exec>
inline void synchronize_executor(const Exec& exec) {
  if constexpr (requires { synchronize(exec); }) synchronize(exec);
}

/// (rank, size) of the communicator of the physics or, failing that, of the denoiser; (0, 1) without one.
template <class P, class D>
inline std::pair<int, int> solver_rank(const P& physics, const D& prior) {
  if constexpr (requires { physics.communicator().rank(); }) {
    return {static_cast<int>(physics.communicator().rank()), static_cast<int>(physics.communicator().size())};
  } else if constexpr (requires { prior.communicator().rank(); }) {
    return {static_cast<int>(prior.communicator().rank()), static_cast<int>(prior.communicator().size())};
  } else {
    return {0, 1};
  }
}

/// Sum over the ranks of a host double (identity without a communicator). Collective.
template <class P, class D>
inline double solver_allreduce(const P& physics, const D& prior, double value) {
  if constexpr (requires { physics.communicator().allreduce_sum(value); }) {
    return physics.communicator().allreduce_sum(value);
  } else if constexpr (requires { prior.communicator().allreduce_sum(value); }) {
    return prior.communicator().allreduce_sum(value);
  } else {
    return value;
  }
}

/// The minimum over the ranks of a non-negative integer below 2^48, by one allreduce per bit. Collective.
template <class P, class D>
inline index_t solver_min(const P& physics, const D& prior, index_t value) {
  index_t prefix = 0;  // the bits of the minimum found so far (identical on every rank)
  for (int bit = 47; bit >= 0; --bit) {
    const bool matches = (value >> bit) == (prefix >> bit);  // agrees with the prefix and has this bit 0
    if (solver_allreduce(physics, prior, matches ? 1.0 : 0.0) == 0) prefix |= index_t{1} << bit;
  }
  return prefix;
}

/// Hash of what determines the iterates: element type, shape, step (or the automatic-step parameters),
/// sigma, relaxation and clip.
template <class T, std::size_t Rank>
inline std::uint64_t pnp_options_hash(const PnPOptions& o, const Extents<Rank>& shape) {
  std::vector<double> v{static_cast<double>(sizeof(T)), static_cast<double>(Rank)};
  for (std::size_t d = 0; d < Rank; ++d) v.push_back(static_cast<double>(shape[d]));
  v.push_back(o.step ? 1.0 : 0.0);
  v.push_back(o.step ? *o.step : 0.0);
  v.push_back(o.step ? 0.0 : o.step_factor);
  v.push_back(o.step ? 0.0 : static_cast<double>(o.power_iterations));
  v.push_back(o.step ? 0.0 : static_cast<double>(o.power_seed));
  v.push_back(o.sigma);
  v.push_back(o.relaxation ? *o.relaxation : 0.0);
  v.push_back(o.clip ? 1.0 : 0.0);
  v.push_back(o.clip ? o.clip->first : 0.0);
  v.push_back(o.clip ? o.clip->second : 0.0);
  return fnv1a(v.data(), v.size() * sizeof(double));
}

template <class T>
struct PnPStepKernel {  // z = x - gamma g, in place of g
  T gamma;
  PNPDIST_HOST_DEVICE void operator()(const T& x, T& g) const { g = x - gamma * g; }
};

}  // namespace detail

/// PnP proximal gradient with the denoiser `Prior` (see the file comment).
template <Denoiser Prior>
class PnPSolver {
public:
  using prior_type = Prior;

  /// Keeps a reference to `prior` (it must outlive the solver). Throws invalid_argument for invalid options.
  PnPSolver(Prior& prior, PnPOptions options) : prior_(&prior), options_(std::move(options)) { options_.validate(); }

  [[nodiscard]] const PnPOptions& options() const { return options_; }
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
    constexpr std::size_t Q = Prior::rank;
    static_assert(std::is_same_v<T, typename Prior::value_type>, "PnPSolver: physics and denoiser value types differ");
    static_assert(std::is_same_v<Space, typename Prior::executor_type::memory_space>,
                  "PnPSolver: physics and denoiser live in different memory spaces");
    static_assert(Q >= R, "PnPSolver: the denoiser's rank is lower than the physics' domain rank");
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto seconds_since = [](Clock::time_point t) {
      return std::chrono::duration<double>(Clock::now() - t).count();
    };

    const auto exec = physics.executor();
    const Extents<R> shape = physics.domain_shape();
    Extents<Q> prior_shape{};
    for (std::size_t d = 0; d < Q; ++d) prior_shape[d] = d < Q - R ? 1 : shape[d - (Q - R)];

    PnPResult<T, R, Space> result{Tensor<T, R, Space>(shape),
                                  {},
                                  {},
                                  0,
                                  PnPStop::max_iterations,
                                  0,
                                  std::numeric_limits<double>::quiet_NaN(),
                                  0,
                                  0};
    Tensor<T, R, Space> z(shape);
    Tensor<T, R, Space> d(shape);

    // Initialisation.
    using InitType = std::remove_cvref_t<Init>;
    if constexpr (std::is_same_v<InitType, init::Zeros>) {
      fill(exec, result.x.view(), T(0));
    } else if constexpr (std::is_same_v<InitType, init::Adjoint>) {
      fill(exec, z.view(), T(0));
      physics.gradient(z.const_view(), result.x.view());
      scale(exec, T(-1), result.x.view());
    } else {
      const View<const T, R, Space> x0(init.x0);
      require<dimension_mismatch>(x0.extents() == shape, [&] {
        return "PnPSolver::solve: the initial x0 has shape " + to_string(x0.extents()) + ", the physics' domain is " +
               to_string(shape);
      });
      copy(exec, x0, result.x.view());
    }

    // Step size.
    if (options_.step) {
      result.step = *options_.step;
    }

    // Resume.
    const auto [rank, ranks] = detail::solver_rank(physics, *prior_);
    const std::uint64_t hash = detail::pnp_options_hash<T>(options_, shape);
    const std::string file = options_.checkpoint_path.empty() ? std::string() : checkpoint_file(rank, ranks);
    double elapsed_before = 0;
    index_t first = 1;
    {
      const bool exists = !file.empty() && checkpoint_exists(file);
      const double present = detail::solver_allreduce(physics, *prior_, exists ? 1.0 : 0.0);
      require(present == 0 || present == ranks, [&] {
        return "PnPSolver: checkpoint " + file + (exists ? " exists" : " is missing") + " but only " +
               std::to_string(static_cast<int>(present)) + " of " + std::to_string(ranks) + " ranks have theirs";
      });
      if (present > 0) {
        // Read and check on every rank, then agree: an error on one rank is thrown on all of them (a rank
        // that threw alone would leave the others waiting in a collective call).
        Checkpoint c;
        std::string problem;
        bool io_problem = false;
        try {
          c = read_checkpoint(file);
        } catch (const io_error& e) {
          problem = e.message();
          io_problem = true;
        }
        // Ranks killed between their renames hold checkpoints of different iterations: all go back to the
        // oldest one, which the others kept as their previous checkpoint.
        const double read_failures = detail::solver_allreduce(physics, *prior_, problem.empty() ? 0.0 : 1.0);
        if (read_failures == 0) {
          const double sum = detail::solver_allreduce(physics, *prior_, static_cast<double>(c.iteration));
          if (sum != static_cast<double>(c.iteration) * ranks) {
            const index_t common = detail::solver_min(physics, *prior_, c.iteration);
            if (c.iteration != common) {
              const std::string previous = previous_checkpoint_path(file);
              try {
                c = read_checkpoint(previous);
                if (c.iteration != common)
                  problem = "PnPSolver: the ranks' checkpoints are at different iterations and " + previous +
                            " holds iteration " + std::to_string(c.iteration) + ", not the common " +
                            std::to_string(common);
              } catch (const io_error& e) {
                problem =
                    "PnPSolver: the ranks' checkpoints are at different iterations and the previous one "
                    "cannot be read: " +
                    e.message();
              }
            }
          }
        }
        const auto mismatch = [&](const std::string& what) {
          if (problem.empty()) problem = "PnPSolver: checkpoint " + file + " does not match this solve: " + what;
        };
        if (problem.empty()) {
          if (c.value_size != sizeof(T))
            mismatch("element size " + std::to_string(c.value_size) + " bytes, expected " + std::to_string(sizeof(T)));
          if (c.ranks != ranks || c.rank != rank)
            mismatch("written by rank " + std::to_string(c.rank) + " of " + std::to_string(c.ranks) +
                     ", this is rank " + std::to_string(rank) + " of " + std::to_string(ranks));
          bool same_shape = c.extents.size() == R;
          for (std::size_t k = 0; same_shape && k < R; ++k) same_shape = c.extents[k] == shape[k];
          if (!same_shape) mismatch("its iterate has another shape than the domain " + to_string(shape));
          if (c.options_hash != hash)
            mismatch("it was written with other options (step, sigma, relaxation, clip or power method settings)");
          if (c.data.size() != static_cast<std::size_t>(result.x.size()) * sizeof(T))
            mismatch("its iterate holds " + std::to_string(c.data.size()) + " bytes");
        }
        const double failures = detail::solver_allreduce(physics, *prior_, problem.empty() ? 0.0 : 1.0);
        if (io_problem) throw io_error(problem);
        if (!problem.empty()) throw invalid_argument(problem);
        require(failures == 0, [&] {
          return "PnPSolver: the checkpoint of another rank cannot be resumed from (this rank's is " + file + ")";
        });
        Tensor<T, R, HostSpace> host(shape);
        std::memcpy(host.data(), c.data.data(), c.data.size());
        deep_copy(result.x.view(), host.const_view());
        result.step = c.step;
        if (!c.records.empty() && c.records.front().iteration == 0) {
          result.initial = c.records.front();
          c.records.erase(c.records.begin());
        }
        result.records = std::move(c.records);
        result.iterations = c.iteration;
        result.resumed_from = c.iteration;
        elapsed_before = c.elapsed_seconds;
        first = c.iteration + 1;
      }
    }
    if (!options_.step && result.resumed_from == 0) {
      result.squared_norm = physics_squared_norm(physics, options_.power_iterations, options_.power_seed);
      result.step = options_.step_factor / result.squared_norm;
    }
    const double gamma = result.step;
    const double alpha = options_.relaxation_alpha(gamma);

    // Iteration 0: the initialisation (restored from the checkpoint on a resume).
    result.initial.iteration = 0;
    if (options_.record_data_fidelity && result.resumed_from == 0)
      result.initial.data_fidelity = physics.data_fidelity(result.x.const_view());
    if (result.resumed_from == 0) notify_measure(exec, result.initial, result.x.const_view(), observers...);
    detail::synchronize_executor(exec);
    result.setup_seconds = seconds_since(start);

    (notify_begin(observers, first), ...);

    auto& tracker = allocation_tracker<Space>();
    for (index_t k = first; k <= options_.max_iterations; ++k) {
      IterationRecord rec;
      rec.iteration = k;
      detail::synchronize_executor(exec);
      const auto t0 = Clock::now();

      // Gradient phase: f(x), g = grad f(x), z = x - gamma g.
      reset_peak_resident_bytes();
      tracker.reset_peak();
      if (options_.record_data_fidelity) rec.data_fidelity = physics.data_fidelity(result.x.const_view());
      physics.gradient(result.x.const_view(), z.view());
      elementwise(exec, detail::PnPStepKernel<T>{static_cast<T>(gamma)}, result.x.const_view(), z.view());
      detail::synchronize_executor(exec);
      const auto t1 = Clock::now();
      rec.peak_rss_gradient_bytes = peak_resident_bytes();
      rec.peak_tracked_gradient_bytes = tracker.statistics().peak_bytes;

      // Denoiser phase: d = D(z), relaxation, clip.
      reset_peak_resident_bytes();
      tracker.reset_peak();
      prior_->denoise(reshape<Q>(z.const_view(), prior_shape), static_cast<T>(options_.sigma),
                      reshape<Q>(d.view(), prior_shape));
      if (alpha > 0) axpby(exec, static_cast<T>(1 - alpha), z.const_view(), static_cast<T>(alpha), d.view());
      if (options_.clip)
        clamp(exec, d.view(), static_cast<T>(options_.clip->first), static_cast<T>(options_.clip->second));
      detail::synchronize_executor(exec);
      const auto t2 = Clock::now();
      rec.peak_rss_denoiser_bytes = peak_resident_bytes();
      rec.peak_tracked_denoiser_bytes = tracker.statistics().peak_bytes;

      const double change = std::sqrt(squared_distance(exec, d.const_view(), result.x.const_view()));
      const double size = static_cast<double>(norm(exec, result.x.const_view()));
      rec.relative_change = size > 0 ? change / size : (change > 0 ? std::numeric_limits<double>::infinity() : 0.0);
      std::swap(result.x, d);
      result.iterations = k;

      rec.gradient_seconds = std::chrono::duration<double>(t1 - t0).count();
      rec.denoiser_seconds = std::chrono::duration<double>(t2 - t1).count();
      rec.iteration_seconds = seconds_since(t0);
      rec.wall_seconds = elapsed_before + seconds_since(start);
      notify_measure(exec, rec, result.x.const_view(), observers...);
      result.records.push_back(rec);
      (notify_call(observers, result.records.back(), result.x.const_view()), ...);

      if (options_.checkpoint_every > 0 && k % options_.checkpoint_every == 0)
        write_state(result, hash, rank, ranks, file, elapsed_before + seconds_since(start));
      if (options_.stagnation_tolerance > 0 && rec.relative_change < options_.stagnation_tolerance) {
        result.stop = PnPStop::stagnation;
        break;
      }
    }
    return result;
  }

private:
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

  template <class Result>
  void write_state(const Result& result, std::uint64_t hash, int rank, int ranks, const std::string& file,
                   double elapsed) const {
    using T = typename decltype(result.x)::value_type;
    Checkpoint c;
    c.options_hash = hash;
    c.rank = rank;
    c.ranks = ranks;
    c.iteration = result.iterations;
    c.step = result.step;
    c.elapsed_seconds = elapsed;
    c.value_size = sizeof(T);
    for (std::size_t k = 0; k < decltype(result.x)::rank; ++k) c.extents.push_back(result.x.extent(k));
    c.records.reserve(result.records.size() + 1);
    c.records.push_back(result.initial);  // iteration 0
    c.records.insert(c.records.end(), result.records.begin(), result.records.end());
    const auto host = clone<HostSpace>(result.x.const_view());
    c.data.resize(host.bytes());
    std::memcpy(c.data.data(), host.data(), host.bytes());
    write_checkpoint(file, c);
  }

  Prior* prior_;
  PnPOptions options_;
};

}  // namespace pnpdist
