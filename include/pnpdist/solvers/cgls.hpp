#pragma once
/// \file
/// CGLS (conjugate gradients on the normal equations A^T A x = A^T y) for any LinearOperator A, from x0 = 0.
/// In exact arithmetic ||y - A x_k|| decreases monotonically. The result holds x, ||y - A x_k|| and
/// ||A^T (y - A x_k)|| for k = 0 .. iterations (the recursively updated residual). Stops early when the
/// normal-equation residual vanishes. Memory: two domain- and two range-sized tensors besides the result.

#include <cmath>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/heartbeat.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/solvers/sirt.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/reductions.hpp"

namespace pnpdist {

struct CglsOptions {
  index_t iterations = 50;
  /// Early stop (e.g. the discrepancy principle): stop at the first k with ||y - A x_k|| <= stop_residual
  /// (the recursively updated residual; 0: never).
  double stop_residual = 0;
};

template <LinearOperator Op>
[[nodiscard]] inline IterativeResult<operator_value_t<Op>, Op::domain_rank, operator_space_t<Op>> cgls(
    const Op& A, const_range_view_t<Op> y, const CglsOptions& options = {}) {
  using T = operator_value_t<Op>;
  require(options.iterations >= 0, "cgls: iterations must be >= 0");
  require<dimension_mismatch>(y.extents() == A.range_shape(), [&] {
    return "cgls: y has shape " + to_string(y.extents()) + ", the operator's range is " + to_string(A.range_shape());
  });
  const auto& exec = A.executor();
  IterativeResult<T, Op::domain_rank, operator_space_t<Op>> result{zeros<T>(exec, A.domain_shape()), {}, {}, 0};
  auto r = make_range_tensor(A);
  auto q = make_range_tensor(A);
  auto s = make_domain_tensor(A);
  auto p = make_domain_tensor(A);
  copy(exec, y, r.view());  // r = y - A 0
  A.apply_adjoint(r.const_view(), s.view());
  copy(exec, s.const_view(), p.view());
  double gamma = static_cast<double>(squared_norm(exec, s.const_view()));
  result.residual_norms.push_back(static_cast<double>(norm(exec, r.const_view())));
  result.weighted_residual_norms.push_back(std::sqrt(gamma));
  const auto reached = [&] {
    result.reached_stop_residual = options.stop_residual > 0 && result.residual_norms.back() <= options.stop_residual;
    return result.reached_stop_residual;
  };
  for (index_t k = 0; k < options.iterations && gamma > 0 && !reached(); ++k) {
    heartbeat();
    A.apply(p.const_view(), q.view());
    const double qq = static_cast<double>(squared_norm(exec, q.const_view()));
    if (!(qq > 0)) break;
    const double alpha = gamma / qq;
    axpy(exec, static_cast<T>(alpha), p.const_view(), result.x.view());
    axpy(exec, static_cast<T>(-alpha), q.const_view(), r.view());
    A.apply_adjoint(r.const_view(), s.view());
    const double gamma_next = static_cast<double>(squared_norm(exec, s.const_view()));
    axpby(exec, T(1), s.const_view(), static_cast<T>(gamma_next / gamma), p.view());  // p = s + beta p
    gamma = gamma_next;
    result.residual_norms.push_back(static_cast<double>(norm(exec, r.const_view())));
    result.weighted_residual_norms.push_back(std::sqrt(gamma));
    result.iterations = k + 1;
  }
  (void)reached();  // also when the last allowed iteration reached the threshold (as SIRT reports it)
  return result;
}

}  // namespace pnpdist
