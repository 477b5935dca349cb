#pragma once
/// \file
/// power_method(op, options): estimates ||A||_2^2, the largest eigenvalue of A^T A (the square of the
/// largest singular value of A), as needed by step sizes such as 0.99 / ||A||^2.
///
/// Iteration (x_0: standard normal from stream 0 of options.seed, normalized):
///     estimate_k = ||A x_k||^2             (Rayleigh quotient of A^T A at the unit vector x_k)
///     x_{k+1}    = A^T A x_k / ||A^T A x_k||
/// until |estimate_k - estimate_{k-1}| <= relative_tolerance * estimate_k (converged) or max_iterations
/// applications of A^T A. The estimate never exceeds ||A||^2 (up to round-off) and increases towards
/// it, at the rate (sigma_2 / sigma_1)^2 per iteration.
///
/// Deterministic: for a deterministic operator the result depends only on the operator and the options,
/// not on the executor's thread count. Allocates two domain-shaped and one range-shaped tensor in the
/// operator's memory space, once.

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/random.hpp"
#include "pnpdist/tensor/reductions.hpp"

namespace pnpdist {

/// Parameters of power_method.
struct PowerMethodOptions {
  int max_iterations = 100;          ///< at most this many applications of A^T A (>= 1)
  double relative_tolerance = 1e-6;  ///< stop when the estimate changes by at most this fraction (>= 0)
  std::uint64_t seed = 0;            ///< seed of the random start vector
};

/// The outcome of power_method.
struct PowerMethodResult {
  double squared_norm = 0;  ///< estimate of ||A||_2^2 = largest eigenvalue of A^T A
  int iterations = 0;       ///< applications of A^T A performed
  bool converged = false;   ///< true when the relative-change criterion was met within max_iterations
};

/// Estimates ||A||_2^2 of `op` (see the file comment). Throws invalid_argument for invalid options, an
/// empty domain, an operator that maps the random start vector to A^T A x = 0 (the zero operator: its
/// norm is 0 and no step size can be derived from it), or a non-finite value produced by the operator.
template <LinearOperator Op>
[[nodiscard]] inline PowerMethodResult power_method(const Op& op, const PowerMethodOptions& options = {}) {
  using T = typename Op::value_type;
  require(options.max_iterations >= 1,
          "power_method: max_iterations must be at least 1, got " + std::to_string(options.max_iterations));
  require(options.relative_tolerance >= 0,
          "power_method: relative_tolerance must be non-negative, got " + std::to_string(options.relative_tolerance));
  const auto& exec = op.executor();

  domain_tensor_t<Op> x = make_domain_tensor(op);
  domain_tensor_t<Op> w = make_domain_tensor(op);
  range_tensor_t<Op> ax = make_range_tensor(op);
  require(x.size() > 0, "power_method: the operator's domain " + to_string(op.domain_shape()) + " is empty");

  fill_normal(exec, x.view(), options.seed, 0, T(0), T(1));
  scale(exec, static_cast<T>(1.0 / static_cast<double>(norm(exec, x.const_view()))), x.view());

  PowerMethodResult result;
  double previous = 0;
  for (int k = 1; k <= options.max_iterations; ++k) {
    op.apply(x.const_view(), ax.view());
    const double estimate = static_cast<double>(squared_norm(exec, ax.const_view()));
    op.apply_adjoint(ax.const_view(), w.view());
    const double w_norm = static_cast<double>(norm(exec, w.const_view()));
    require(std::isfinite(estimate) && std::isfinite(w_norm),
            "power_method: the operator produced a non-finite value at iteration " + std::to_string(k));
    require(w_norm > 0, k == 1 ? std::string("power_method: A^T A x = 0 for the random start vector: the operator "
                                             "is zero (its norm is 0)")
                               : "power_method: A^T A x = 0 at iteration " + std::to_string(k) +
                                     ": the iterate left the operator's row space (underflow?)");
    result.squared_norm = estimate;
    result.iterations = k;
    if (k > 1 && std::abs(estimate - previous) <= options.relative_tolerance * estimate) {
      result.converged = true;
      break;
    }
    previous = estimate;
    scale(exec, static_cast<T>(1.0 / w_norm), w.view());
    std::swap(x, w);
  }
  return result;
}

}  // namespace pnpdist
