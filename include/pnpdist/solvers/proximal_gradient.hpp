#pragma once
/// \file
/// ProximalGradient: PnP proximal gradient descent (PnP-PGD, PnP-ISTA), the benchmarks' algorithm:
///
///     z  = x - gamma grad f(x)                                   (data step)
///     x+ = clip((1 - a) z + a D_sigma(z))                        (denoiser step)
///
/// with a = 1 (plain PnP-PGD), a = gamma lambda / (1 + gamma lambda) for a relaxation lambda > 0 (the
/// benchmark's `denoiser_lambda_relaxation`), or a = `damping` in (0, 1] given directly (the damped denoiser
/// x -> a D(x) + (1 - a) x). gamma is `step`, or step_factor / ||A||^2 estimated by the power method
/// (solvers/step_size.hpp), collective-safe. Memory: one domain-sized tensor (z) besides the loop's x and x+.

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/operators/physics.hpp"
#include "pnpdist/solvers/iteration_record.hpp"
#include "pnpdist/solvers/pnp_step_support.hpp"
#include "pnpdist/solvers/step_size.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist {

namespace detail {
template <class T>
struct GradientStepKernel {  // z = x - gamma g, in place of g
  T gamma;
  PNPDIST_HOST_DEVICE void operator()(const T& x, T& g) const { g = x - gamma * g; }
};
}  // namespace detail

template <Physics P, Denoiser Prior>
class ProximalGradientStepper;

/// PnP proximal gradient (see the file comment).
struct ProximalGradient {
  static constexpr const char* name = "pgd";
  static constexpr double id = 1;

  std::optional<double> step;        ///< gamma > 0; empty: step_factor / ||A||^2 by the power method
  double step_factor = 0.99;         ///< > 0
  index_t power_iterations = 30;     ///< applications of A^T A for the automatic step (>= 1)
  std::uint64_t power_seed = 0;      ///< seed of the power method's random start vector
  double sigma = 0.01;               ///< noise level handed to the denoiser (>= 0)
  std::optional<double> relaxation;  ///< lambda >= 0: a = gamma lambda / (1 + gamma lambda); empty or 0: a = 1
  std::optional<double> damping;     ///< a in (0, 1] given directly (not together with relaxation)

  /// Throws invalid_argument for the first invalid parameter, naming it and its value.
  void validate() const {
    if (step)
      require(std::isfinite(*step) && *step > 0,
              [&] { return "ProximalGradient: step must be positive and finite, got " + std::to_string(*step); });
    require(std::isfinite(step_factor) && step_factor > 0,
            [&] { return "ProximalGradient: step_factor must be positive, got " + std::to_string(step_factor); });
    require(power_iterations >= 1,
            [&] { return "ProximalGradient: power_iterations must be >= 1, got " + std::to_string(power_iterations); });
    require(std::isfinite(sigma) && sigma >= 0,
            [&] { return "ProximalGradient: sigma must be non-negative and finite, got " + std::to_string(sigma); });
    if (relaxation)
      require(std::isfinite(*relaxation) && *relaxation >= 0, [&] {
        return "ProximalGradient: relaxation (lambda) must be non-negative and finite, got " +
               std::to_string(*relaxation);
      });
    if (damping)
      require(std::isfinite(*damping) && *damping > 0 && *damping <= 1,
              [&] { return "ProximalGradient: damping must be in (0, 1], got " + std::to_string(*damping); });
    require(!(damping && relaxation && *relaxation > 0),
            "ProximalGradient: give either relaxation (lambda) or damping, not both");
  }

  /// The weight a of D(z) in x+ = (1 - a) z + a D(z) for step gamma.
  [[nodiscard]] double denoiser_weight(double gamma) const {
    if (damping) return *damping;
    if (!relaxation || *relaxation == 0) return 1;
    return gamma * *relaxation / (1 + gamma * *relaxation);
  }

  [[nodiscard]] AlgorithmHash hash() const {
    AlgorithmHash h;
    h.add(id).add(step).add(step ? 0.0 : step_factor).add(step ? 0.0 : static_cast<double>(power_iterations));
    h.add(step ? 0.0 : static_cast<double>(power_seed)).add(sigma).add(relaxation).add(damping);
    return h;
  }

  /// The state of one solve (see solvers/pnp_solver.hpp for the stepper interface).
  template <Physics P, Denoiser Prior>
  using Stepper = ProximalGradientStepper<P, Prior>;
};

/// The state of one solve (see solvers/pnp_solver.hpp for the stepper interface).
template <Physics P, Denoiser Prior>
class ProximalGradientStepper {
public:
  using T = typename P::value_type;
  using Space = typename P::executor_type::memory_space;
  static constexpr std::size_t R = P::domain_rank;
  static constexpr std::size_t extra_tensors = 0;
  static constexpr const char* data_phase = "gradient";  // names data_step() in error messages
  static constexpr bool has_step = true;  // restore() takes the checkpoint's step: it must be finite, > 0

  ProximalGradientStepper(const ProximalGradient& parameters, const P& physics, Prior& prior,
                          std::optional<std::pair<double, double>> clip)
      : p_(parameters), physics_(&physics), prior_(&prior), clip_(std::move(clip)), z_(physics.domain_shape()) {}

  /// Fresh start: the step (fixed, or by the power method; collective).
  void start(const View<const T, R, Space>&) {
    if (p_.step) {
      step_ = *p_.step;
    } else {
      squared_norm_ = physics_squared_norm(*physics_, p_.power_iterations, p_.power_seed);
      step_ = p_.step_factor / squared_norm_;
    }
  }
  /// Resume: the step stored in the checkpoint (not re-estimated, so a resumed run repeats the same bits).
  void restore(double step) { step_ = step; }
  [[nodiscard]] double step() const { return step_; }
  [[nodiscard]] double squared_norm() const { return squared_norm_; }
  /// The output of the last data_step() (the denoiser's input); read to locate a non-finite iterate.
  [[nodiscard]] View<const T, R, Space> data_result() const { return z_.const_view(); }
  [[nodiscard]] std::array<View<T, R, Space>, 0> extra_state() { return {}; }

  /// z = x - gamma grad f(x).
  void data_step(index_t, const View<const T, R, Space>& x, IterationRecord&) {
    physics_->gradient(x, z_.view());
    elementwise(physics_->executor(), detail::GradientStepKernel<T>{static_cast<T>(step_)}, x, z_.view());
  }
  /// x+ = clip((1 - a) z + a D(z)).
  void denoiser_step(index_t, const View<T, R, Space>& next, IterationRecord& rec) {
    const auto exec = physics_->executor();
    rec.denoiser_sigma = p_.sigma;
    denoise_domain(*prior_, z_.const_view(), p_.sigma, next);
    const double a = p_.denoiser_weight(step_);
    if (a < 1) axpby(exec, static_cast<T>(1 - a), z_.const_view(), static_cast<T>(a), next);
    clip_to(exec, next, clip_);
  }

private:
  ProximalGradient p_;
  const P* physics_;
  Prior* prior_;
  std::optional<std::pair<double, double>> clip_;
  Tensor<T, R, Space> z_;
  double step_ = 0;
  double squared_norm_ = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace pnpdist
