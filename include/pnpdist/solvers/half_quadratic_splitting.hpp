#pragma once
/// \file
/// HalfQuadraticSplitting: PnP-HQS with the DPIR schedule (Zhang et al., "Plug-and-Play Image Restoration with
/// Deep Denoiser Prior", 2021):
///
///     v   = argmin_x f(x) + w_k/2 ||x - x_{k-1}||^2        (data step: solvers/data_proximal.hpp)
///     x_k = clip(D_{sigma_k}(v))                            (denoiser step)
///
///     sigma_k = sigma_start^(1-t) sigma_end^t,  t = (k-1)/(K-1), for k <= K = schedule_iterations; sigma_end after
///     w_k     = data_weight (noise_level / sigma_k)^2
///
/// sigma decreases log-spaced from sigma_start (DPIR: 49/255) to sigma_end over K iterations, and the data
/// step's weight grows as sigma falls. With data_weight = 0.23, sigma_end = noise_level = the noise of y and
/// K = 8 this is DPIR (the paper's rho_k = 0.23 sigma_n^2 / sigma_k^2) and DeepInv's `DPIR` (its data step's
/// stepsize (1 / 0.23) (sigma_k / noise_level)^2 is 1 / w_k; same PSNR to 0.001 dB, docs/benchmarks.md). For
/// operators whose scale is not that of an image-to-image map (CT line
/// integrals over a unit square), data_weight is the parameter to tune, on validation data. The data step is
/// exact in closed form for circulant blurs and warm-started conjugate gradients otherwise (both collective-safe
/// when the physics is distributed). Memory: one domain-sized tensor (v) besides the loop's x and x+, plus the
/// data step's (four for CG).

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
class HalfQuadraticSplittingStepper;

/// PnP half-quadratic splitting with the DPIR schedule (see the file comment).
struct HalfQuadraticSplitting {
  static constexpr const char* name = "hqs";
  static constexpr double id = 2;

  double sigma_start = 49.0 / 255.0;  ///< denoiser sigma of the first iteration (> 0)
  double sigma_end = 0.01;            ///< denoiser sigma from iteration K on (> 0, <= sigma_start)
  index_t schedule_iterations = 8;    ///< K >= 1: iterations over which sigma decreases
  double noise_level = 0.01;          ///< standard deviation of the measurement noise (> 0)
  double data_weight = 1.0;           ///< lambda > 0: w_k = lambda (noise_level / sigma_k)^2
  DataProximalOptions data_step;      ///< conjugate-gradient settings (when the physics has no closed form)

  /// Throws invalid_argument for the first invalid parameter, naming it and its value.
  void validate() const {
    require(std::isfinite(sigma_start) && sigma_start > 0,
            [&] { return "HalfQuadraticSplitting: sigma_start must be positive, got " + std::to_string(sigma_start); });
    require(std::isfinite(sigma_end) && sigma_end > 0 && sigma_end <= sigma_start, [&] {
      return "HalfQuadraticSplitting: sigma_end must be in (0, sigma_start = " + std::to_string(sigma_start) +
             "], got " + std::to_string(sigma_end);
    });
    require(schedule_iterations >= 1, [&] {
      return "HalfQuadraticSplitting: schedule_iterations must be >= 1, got " + std::to_string(schedule_iterations);
    });
    require(std::isfinite(noise_level) && noise_level > 0,
            [&] { return "HalfQuadraticSplitting: noise_level must be positive, got " + std::to_string(noise_level); });
    require(std::isfinite(data_weight) && data_weight > 0,
            [&] { return "HalfQuadraticSplitting: data_weight must be positive, got " + std::to_string(data_weight); });
    data_step.validate();
  }

  /// sigma_k of iteration k >= 1.
  [[nodiscard]] double sigma(index_t k) const {
    if (k >= schedule_iterations) return sigma_end;  // here k < K, so K >= 2
    const double t = static_cast<double>(k - 1) / static_cast<double>(schedule_iterations - 1);
    return std::exp((1 - t) * std::log(sigma_start) + t * std::log(sigma_end));
  }
  /// w_k of iteration k >= 1.
  [[nodiscard]] double weight(index_t k) const {
    const double ratio = noise_level / sigma(k);
    return data_weight * ratio * ratio;
  }

  [[nodiscard]] AlgorithmHash hash() const {
    AlgorithmHash h;
    h.add(id).add(sigma_start).add(sigma_end).add(static_cast<double>(schedule_iterations)).add(noise_level);
    h.add(data_weight).add(static_cast<double>(data_step.max_iterations)).add(data_step.tolerance);
    return h;
  }

  /// The state of one solve (see solvers/pnp_solver.hpp for the stepper interface).
  template <Physics P, Denoiser Prior>
  using Stepper = HalfQuadraticSplittingStepper<P, Prior>;
};

/// The state of one solve (see solvers/pnp_solver.hpp for the stepper interface).
template <Physics P, Denoiser Prior>
class HalfQuadraticSplittingStepper {
public:
  using T = typename P::value_type;
  using Space = typename P::executor_type::memory_space;
  static constexpr std::size_t R = P::domain_rank;
  static constexpr std::size_t extra_tensors = 0;
  static constexpr const char* data_phase = "data proximal";  // names data_step() in error messages

  HalfQuadraticSplittingStepper(const HalfQuadraticSplitting& parameters, const P& physics, Prior& prior,
                                std::optional<std::pair<double, double>> clip)
      : p_(parameters),
        physics_(&physics),
        prior_(&prior),
        clip_(std::move(clip)),
        prox_(physics, parameters.data_step),
        v_(physics.domain_shape()) {}

  void start(const View<const T, R, Space>&) {}
  void restore(double) {}
  [[nodiscard]] double step() const { return std::numeric_limits<double>::quiet_NaN(); }
  [[nodiscard]] double squared_norm() const { return std::numeric_limits<double>::quiet_NaN(); }
  /// The output of the last data_step() (the denoiser's input); read to locate a non-finite iterate.
  [[nodiscard]] View<const T, R, Space> data_result() const { return v_.const_view(); }
  [[nodiscard]] std::array<View<T, R, Space>, 0> extra_state() { return {}; }

  /// v = prox(x; w_k), warm-started from x.
  void data_step(index_t k, const View<const T, R, Space>& x, IterationRecord& rec) {
    copy(physics_->executor(), x, v_.view());
    rec.data_step_iterations = prox_.apply(x, p_.weight(k), v_.view()).iterations;
  }
  /// x+ = clip(D_{sigma_k}(v)).
  void denoiser_step(index_t k, const View<T, R, Space>& next, IterationRecord& rec) {
    rec.denoiser_sigma = p_.sigma(k);
    denoise_domain(*prior_, v_.const_view(), rec.denoiser_sigma, next);
    clip_to(physics_->executor(), next, clip_);
  }

private:
  HalfQuadraticSplitting p_;
  const P* physics_;
  Prior* prior_;
  std::optional<std::pair<double, double>> clip_;
  DataProximal<P> prox_;
  Tensor<T, R, Space> v_;
};

}  // namespace pnpdist
