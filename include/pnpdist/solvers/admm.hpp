#pragma once
/// \file
/// ADMM: PnP-ADMM (equivalently Douglas-Rachford splitting on the data term and the denoiser), with a fixed
/// denoiser sigma and penalty rho:
///
///     v_k = argmin_x f(x) + rho/2 ||x - (x_{k-1} - u_{k-1})||^2     (data step, warm-started from v_{k-1})
///     x_k = clip(D_sigma(v_k + u_{k-1}))                            (denoiser step)
///     u_k = u_{k-1} + v_k - x_k                                     (scaled dual update)
///
/// u_0 = 0 and v_0 = x_0. The iterate the loop reports (and clips) is x_k, the denoiser's output. The data step
/// is exact in closed form for circulant blurs and warm-started conjugate gradients otherwise
/// (solvers/data_proximal.hpp). Checkpoints store u and v beside x, so a resumed run repeats the same bits.
/// Memory: three domain-sized tensors (u, v and one work tensor) besides the loop's x and x+, plus the data
/// step's (four for CG).

#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/operators/physics.hpp"
#include "pnpdist/solvers/data_proximal.hpp"
#include "pnpdist/solvers/iteration_record.hpp"
#include "pnpdist/solvers/pnp_step_support.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist {

template <Physics P, Denoiser Prior>
class ADMMStepper;

/// PnP-ADMM (see the file comment).
struct ADMM {
  static constexpr const char* name = "admm";
  static constexpr double id = 3;

  double sigma = 0.01;            ///< noise level handed to the denoiser (>= 0)
  double penalty = 1.0;           ///< rho > 0: the weight of the data step's quadratic term
  DataProximalOptions data_step;  ///< conjugate-gradient settings (when the physics has no closed form)

  /// Throws invalid_argument for the first invalid parameter, naming it and its value.
  void validate() const {
    require(std::isfinite(sigma) && sigma >= 0,
            [&] { return "ADMM: sigma must be non-negative and finite, got " + std::to_string(sigma); });
    require(std::isfinite(penalty) && penalty > 0,
            [&] { return "ADMM: penalty (rho) must be positive and finite, got " + std::to_string(penalty); });
    data_step.validate();
  }

  [[nodiscard]] AlgorithmHash hash() const {
    AlgorithmHash h;
    h.add(id).add(sigma).add(penalty).add(static_cast<double>(data_step.max_iterations)).add(data_step.tolerance);
    return h;
  }

  /// The state of one solve (see solvers/pnp_solver.hpp for the stepper interface).
  template <Physics P, Denoiser Prior>
  using Stepper = ADMMStepper<P, Prior>;
};

/// The state of one solve (see solvers/pnp_solver.hpp for the stepper interface).
template <Physics P, Denoiser Prior>
class ADMMStepper {
public:
  using T = typename P::value_type;
  using Space = typename P::executor_type::memory_space;
  static constexpr std::size_t R = P::domain_rank;
  static constexpr std::size_t extra_tensors = 2;  // u, v
  static constexpr const char* data_phase = "data proximal";  // names data_step() in error messages

  ADMMStepper(const ADMM& parameters, const P& physics, Prior& prior, std::optional<std::pair<double, double>> clip)
      : p_(parameters),
        physics_(&physics),
        prior_(&prior),
        clip_(std::move(clip)),
        prox_(physics, parameters.data_step),
        u_(physics.domain_shape()),
        v_(physics.domain_shape()),
        work_(physics.domain_shape()) {}

  /// Fresh start: u = 0, v = x0.
  void start(const View<const T, R, Space>& x0) {
    fill(physics_->executor(), u_.view(), T(0));
    copy(physics_->executor(), x0, v_.view());
  }
  void restore(double) {}  // u and v come back through extra_state()
  [[nodiscard]] double step() const { return std::numeric_limits<double>::quiet_NaN(); }
  [[nodiscard]] double squared_norm() const { return std::numeric_limits<double>::quiet_NaN(); }
  /// The output of the last data_step() (the denoiser's input); read to locate a non-finite iterate.
  [[nodiscard]] View<const T, R, Space> data_result() const { return v_.const_view(); }
  [[nodiscard]] std::array<View<T, R, Space>, 2> extra_state() { return {u_.view(), v_.view()}; }

  /// v = prox(x - u; rho), warm-started from the previous v.
  void data_step(index_t, const View<const T, R, Space>& x, IterationRecord& rec) {
    const auto exec = physics_->executor();
    copy(exec, x, work_.view());
    axpy(exec, T(-1), u_.const_view(), work_.view());
    rec.data_step_iterations = prox_.apply(work_.const_view(), p_.penalty, v_.view()).iterations;
  }
  /// x+ = clip(D(v + u)); u += v - x+.
  void denoiser_step(index_t, const View<T, R, Space>& next, IterationRecord& rec) {
    const auto exec = physics_->executor();
    rec.denoiser_sigma = p_.sigma;
    copy(exec, v_.const_view(), work_.view());
    axpy(exec, T(1), u_.const_view(), work_.view());
    denoise_domain(*prior_, work_.const_view(), p_.sigma, next);
    clip_to(exec, next, clip_);
    axpy(exec, T(1), v_.const_view(), u_.view());
    axpy(exec, T(-1), View<const T, R, Space>(next), u_.view());
  }

private:
  ADMM p_;
  const P* physics_;
  Prior* prior_;
  std::optional<std::pair<double, double>> clip_;
  DataProximal<P> prox_;
  Tensor<T, R, Space> u_;
  Tensor<T, R, Space> v_;
  Tensor<T, R, Space> work_;
};

}  // namespace pnpdist
