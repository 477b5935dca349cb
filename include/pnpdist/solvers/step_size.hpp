#pragma once
/// \file
/// The step size of gradient-type solvers on a Physics f(x) = 1/2 sum_i ||A_i x - y_i||^2:
///
///     physics_squared_norm(physics, iterations, seed)   ||A||^2 = largest eigenvalue of A^T A = sum_i A_i^T A_i
///     automatic_step(physics, factor, iterations, seed) factor / ||A||^2
///
/// A Physics exposes only its gradient, and A^T A x = grad f(x) - grad f(0), so the power method runs on
/// that difference: x_0 standard normal (stream 0 of `seed`), normalised; estimate_k = <x_k, A^T A x_k>
/// (Rayleigh quotient, a lower bound of ||A||^2 that increases towards it); x_{k+1} = A^T A x_k / ||.||.
/// Exactly `iterations` applications (no data-dependent early exit), so for a distributed physics every
/// rank performs the same collective calls: the function is collective-safe. Deterministic: the result
/// depends only on the physics, the measurements' independence (grad f(0) cancels) and the seed, not on the
/// executor's thread count. Memory: three domain-shaped tensors in the executor's space, freed on return.

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/operators/physics.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/random.hpp"
#include "pnpdist/tensor/reductions.hpp"

namespace pnpdist {

/// Estimate of ||A||_2^2 for the operators of `physics` (see the file comment). Throws invalid_argument for
/// iterations < 1, an empty domain, or A^T A x = 0 (a zero operator has no step size).
template <Physics P>
[[nodiscard]] double physics_squared_norm(const P& physics, index_t iterations = 30, std::uint64_t seed = 0) {
  using T = typename P::value_type;
  using Space = typename P::executor_type::memory_space;
  require(iterations >= 1,
          [&] { return "physics_squared_norm: iterations must be >= 1, got " + std::to_string(iterations); });
  const auto exec = physics.executor();
  const auto shape = physics.domain_shape();
  Tensor<T, P::domain_rank, Space> x = zeros<T>(exec, shape);
  Tensor<T, P::domain_rank, Space> g0(shape);
  Tensor<T, P::domain_rank, Space> w(shape);
  require(x.size() > 0, [&] { return "physics_squared_norm: the domain " + to_string(shape) + " is empty"; });
  physics.gradient(x.const_view(), g0.view());  // grad f(0) = -A^T y
  fill_normal(exec, x.view(), seed, 0, T(0), T(1));
  scale(exec, static_cast<T>(1.0 / static_cast<double>(norm(exec, x.const_view()))), x.view());
  double estimate = 0;
  for (index_t k = 1; k <= iterations; ++k) {
    physics.gradient(x.const_view(), w.view());
    axpy(exec, T(-1), g0.const_view(), w.view());  // w = A^T A x
    estimate = static_cast<double>(dot(exec, x.const_view(), w.const_view()));
    const double w_norm = static_cast<double>(norm(exec, w.const_view()));
    require(std::isfinite(estimate) && std::isfinite(w_norm), [&] {
      return "physics_squared_norm: the physics produced a non-finite value at iteration " + std::to_string(k);
    });
    require(w_norm > 0, "physics_squared_norm: A^T A x = 0: the operator is zero (its norm is 0)");
    if (k < iterations) {
      scale(exec, static_cast<T>(1.0 / w_norm), w.view());
      std::swap(x, w);
    }
  }
  require(estimate > 0, "physics_squared_norm: the estimate of ||A||^2 is not positive");
  return estimate;
}

/// factor / ||A||^2 with ||A||^2 from physics_squared_norm (collective for a distributed physics).
template <Physics P>
[[nodiscard]] double automatic_step(const P& physics, double factor = 0.99, index_t iterations = 30,
                                    std::uint64_t seed = 0) {
  require(std::isfinite(factor) && factor > 0,
          [&] { return "automatic_step: factor must be positive, got " + std::to_string(factor); });
  return factor / physics_squared_norm(physics, iterations, seed);
}

}  // namespace pnpdist
