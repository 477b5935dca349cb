#pragma once
/// \file
/// The proximal step of the data fidelity f(x) = 1/2 sum_i ||A_i x - y_i||^2 of a Physics, with weight w > 0:
///
///     prox(z; w) = argmin_x f(x) + w/2 ||x - z||^2,   i.e. the solution of (A^T A + w I) x = A^T y + w z.
///
/// DataProximal<P> computes it in one of two ways:
///   - in closed form, when the physics provides `proximal(z, w, x)` (blur::CircularBlurStack: one FFT pair,
///     since A^T A is circulant);
///   - otherwise by conjugate gradients on the normal equations, warm-started from the x passed in (HQS and
///     ADMM pass the previous iterate), using only the physics' gradient: A^T A p = grad f(p) - grad f(0).
///     Each CG iteration costs one gradient (one forward and one back projection for CT).
///
/// Distributed physics: the gradient is summed over the ranks and every other quantity is computed from
/// values identical on every rank, so every rank takes the same number of CG iterations and ends with the
/// same x: the step is collective-safe.
/// Memory: four domain-sized tensors in the executor's space (grad f(0), residual, direction, product),
/// allocated at construction; none for a closed-form physics. Deterministic for deterministic physics.

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/operators/physics.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/reductions.hpp"

namespace pnpdist {

/// Settings of the conjugate-gradient data step (ignored by a closed-form physics).
struct DataProximalOptions {
  index_t max_iterations = 10;  ///< CG iterations at most per step (>= 1)
  double tolerance = 1e-4;      ///< stop when ||b - M x|| <= tolerance ||b|| (>= 0; 0: always max_iterations)

  /// Throws invalid_argument naming the first invalid setting.
  void validate() const {
    require(max_iterations >= 1,
            [&] { return "DataProximalOptions: max_iterations must be >= 1, got " + std::to_string(max_iterations); });
    require(std::isfinite(tolerance) && tolerance >= 0,
            [&] { return "DataProximalOptions: tolerance must be >= 0, got " + std::to_string(tolerance); });
  }
};

/// What one proximal step did.
struct DataProximalReport {
  index_t iterations = 0;        ///< CG iterations (0 for the closed form)
  double relative_residual = 0;  ///< ||b - M x|| / ||b|| at the end (0 for the closed form)
};

/// A physics with a closed-form proximal step x = prox(z; w) (see the file comment).
template <class P>
concept ClosedFormProximal = Physics<P> &&
    requires(const P& p, View<const typename P::value_type, P::domain_rank, typename P::executor_type::memory_space> z,
             View<typename P::value_type, P::domain_rank, typename P::executor_type::memory_space> x) {
  p.proximal(z, 1.0, x);
};

/// The data step prox(z; w) of `physics` (see the file comment). Keeps a reference to the physics.
template <Physics P>
class DataProximal {
public:
  using T = typename P::value_type;
  using Space = typename P::executor_type::memory_space;
  static constexpr std::size_t R = P::domain_rank;

  explicit DataProximal(const P& physics, DataProximalOptions options = {}) : physics_(&physics), options_(options) {
    options_.validate();
    if constexpr (!ClosedFormProximal<P>) {
      const auto exec = physics.executor();
      const Extents<R> shape = physics.domain_shape();
      gradient_at_zero_ = Tensor<T, R, Space>(shape);
      residual_ = zeros<T>(exec, shape);
      direction_ = Tensor<T, R, Space>(shape);
      product_ = Tensor<T, R, Space>(shape);
      physics.gradient(residual_.const_view(), gradient_at_zero_.view());  // grad f(0) = -A^T y
    }
  }

  [[nodiscard]] static constexpr bool closed_form() { return ClosedFormProximal<P>; }
  [[nodiscard]] const DataProximalOptions& options() const { return options_; }

  /// x = argmin f(x) + weight/2 ||x - z||^2. On entry x is the CG starting point (any finite values for the
  /// closed form). z and x must not overlap. Throws invalid_argument for weight <= 0 or a non-finite weight.
  DataProximalReport apply(const View<const T, R, Space>& z, double weight, const View<T, R, Space>& x) {
    require(std::isfinite(weight) && weight > 0,
            [&] { return "DataProximal: the weight must be positive and finite, got " + std::to_string(weight); });
    if constexpr (ClosedFormProximal<P>) {
      physics_->proximal(z, weight, x);
      return {};
    } else {
      return conjugate_gradients(z, weight, x);
    }
  }

private:
  DataProximalReport conjugate_gradients(const View<const T, R, Space>& z, double weight, const View<T, R, Space>& x) {
    const auto exec = physics_->executor();
    const T w = static_cast<T>(weight);
    // b = A^T y + w z = -grad f(0) + w z (in product_, for its norm only).
    copy(exec, z, product_.view());
    axpby(exec, T(-1), gradient_at_zero_.const_view(), w, product_.view());
    const double b_norm = static_cast<double>(norm(exec, product_.const_view()));
    // r = b - (A^T A + w I) x = w (z - x) - grad f(x).
    physics_->gradient(View<const T, R, Space>(x), residual_.view());
    scale(exec, T(-1), residual_.view());
    axpy(exec, w, z, residual_.view());
    axpy(exec, static_cast<T>(-weight), View<const T, R, Space>(x), residual_.view());
    copy(exec, residual_.const_view(), direction_.view());
    double rr = static_cast<double>(squared_norm(exec, residual_.const_view()));
    DataProximalReport report;
    const double target = options_.tolerance * b_norm;
    while (report.iterations < options_.max_iterations && std::sqrt(rr) > target && rr > 0) {
      // product = (A^T A + w I) p = grad f(p) - grad f(0) + w p.
      physics_->gradient(direction_.const_view(), product_.view());
      axpy(exec, T(-1), gradient_at_zero_.const_view(), product_.view());
      axpy(exec, w, direction_.const_view(), product_.view());
      const double curvature = static_cast<double>(dot(exec, direction_.const_view(), product_.const_view()));
      require(std::isfinite(curvature) && curvature > 0, [&] {
        return "DataProximal: conjugate gradients met a non-positive or non-finite curvature (" +
               std::to_string(curvature) + ") at iteration " + std::to_string(report.iterations + 1) +
               ": the physics or its input holds NaN/Inf";
      });
      const double step = rr / curvature;
      axpy(exec, static_cast<T>(step), direction_.const_view(), x);
      axpy(exec, static_cast<T>(-step), product_.const_view(), residual_.view());
      const double rr_next = static_cast<double>(squared_norm(exec, residual_.const_view()));
      axpby(exec, T(1), residual_.const_view(), static_cast<T>(rr_next / rr), direction_.view());
      rr = rr_next;
      ++report.iterations;
    }
    report.relative_residual = b_norm > 0 ? std::sqrt(rr) / b_norm : std::sqrt(rr);
    return report;
  }

  const P* physics_;
  DataProximalOptions options_;
  Tensor<T, R, Space> gradient_at_zero_;
  Tensor<T, R, Space> residual_;
  Tensor<T, R, Space> direction_;
  Tensor<T, R, Space> product_;
};

}  // namespace pnpdist
