#pragma once
/// \file
/// SIRT (simultaneous iterative reconstruction technique) for any LinearOperator A:
///
///     x_{k+1} = x_k + lambda C A^T R (y - A x_k),   R = diag(1 / A 1),  C = diag(1 / A^T 1)
///
/// (1 / 0 taken as 0), the row and column sums computed with the operator itself applied to ones. With
/// 0 < lambda < 2 and x unconstrained, the weighted residual ||y - A x_k||_R decreases monotonically.
/// The result holds x and the residual history (k = 0 .. iterations, before each update and at the end).
/// Memory: two domain- and three range-sized tensors besides the result.
/// Note the range tensor `weighted` holds R (y - A x_k), which is back projected.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/heartbeat.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/elementwise.hpp"
#include "pnpdist/tensor/reductions.hpp"

namespace pnpdist {

struct SirtOptions {
  index_t iterations = 100;
  double relaxation = 1.0;   ///< lambda, in (0, 2)
  bool nonnegative = false;  ///< clamp x at 0 after every update (the monotonicity guarantee is then lost)
  /// Early stop (e.g. the discrepancy principle, tau * noise sigma * sqrt(measurements)): stop at the first
  /// k with ||y - A x_k|| <= stop_residual (0: never; `iterations` stays the maximum).
  double stop_residual = 0;
};

/// x and the residual history of an iterative solver.
template <class T, std::size_t Rank, class Space>
struct IterativeResult {
  Tensor<T, Rank, Space> x;
  std::vector<double> residual_norms;           ///< ||y - A x_k||_2, k = 0 .. iterations
  std::vector<double> weighted_residual_norms;  ///< SIRT: ||y - A x_k||_R; CGLS: ||A^T (y - A x_k)||_2
  index_t iterations = 0;
  bool reached_stop_residual = false;  ///< stopped because ||y - A x_k|| <= stop_residual (SIRT, CGLS)
};

namespace detail {

/// w = w > eps ? 1 / w : 0 (the SIRT weights from the row or column sums).
template <class T>
struct InverseOrZero {
  T eps;
  PNPDIST_HOST_DEVICE void operator()(T& w) const { w = w > eps ? T(1) / w : T(0); }
};
/// a = a * b.
template <class T>
struct MultiplyBy {
  PNPDIST_HOST_DEVICE void operator()(T& a, const T& b) const { a = a * b; }
};
}  // namespace detail

/// SIRT from x0 = 0 (see the file comment). y has the operator's range shape.
template <LinearOperator Op>
[[nodiscard]] inline IterativeResult<operator_value_t<Op>, Op::domain_rank, operator_space_t<Op>> sirt(
    const Op& A, const_range_view_t<Op> y, const SirtOptions& options = {}) {
  using T = operator_value_t<Op>;
  require(options.iterations >= 0, "sirt: iterations must be >= 0");
  require(options.relaxation > 0 && options.relaxation < 2,
          [&] { return "sirt: relaxation must be in (0, 2), got " + std::to_string(options.relaxation); });
  require<dimension_mismatch>(y.extents() == A.range_shape(), [&] {
    return "sirt: y has shape " + to_string(y.extents()) + ", the operator's range is " + to_string(A.range_shape());
  });
  const auto& exec = A.executor();
  auto ones_x = make_domain_tensor(A);
  auto ones_y = make_range_tensor(A);
  auto row = make_range_tensor(A);   // R
  auto col = make_domain_tensor(A);  // C
  fill(exec, ones_x.view(), T(1));
  fill(exec, ones_y.view(), T(1));
  A.apply(ones_x.const_view(), row.view());
  A.apply_adjoint(ones_y.const_view(), col.view());
  const T eps = T(1e-6);
  elementwise(exec, detail::InverseOrZero<T>{eps}, row.view());
  elementwise(exec, detail::InverseOrZero<T>{eps}, col.view());

  IterativeResult<T, Op::domain_rank, operator_space_t<Op>> result{zeros<T>(exec, A.domain_shape()), {}, {}, 0};
  auto& r = ones_y;  // reused: the residual
  auto& wr = row;    // R stays in `row`; the weighted residual goes to `weighted`
  auto weighted = make_range_tensor(A);
  auto& g = ones_x;  // reused: the back projection
  auto record = [&] {
    result.residual_norms.push_back(static_cast<double>(norm(exec, r.const_view())));
    copy(exec, r.const_view(), weighted.view());
    elementwise(exec, detail::MultiplyBy<T>{}, weighted.view(), wr.const_view());
    result.weighted_residual_norms.push_back(
        std::sqrt(static_cast<double>(dot(exec, weighted.const_view(), r.const_view()))));
  };
  for (index_t k = 0;; ++k) {
    heartbeat();
    A.apply(result.x.const_view(), r.view());
    axpby(exec, T(1), y, T(-1), r.view());  // r = y - A x
    record();
    if (options.stop_residual > 0 && result.residual_norms.back() <= options.stop_residual) {
      result.reached_stop_residual = true;
      break;
    }
    if (k == options.iterations) break;
    A.apply_adjoint(weighted.const_view(), g.view());
    elementwise(exec, detail::MultiplyBy<T>{}, g.view(), col.const_view());
    axpy(exec, static_cast<T>(options.relaxation), g.const_view(), result.x.view());
    if (options.nonnegative) clamp(exec, result.x.view(), T(0), std::numeric_limits<T>::max());
    result.iterations = k + 1;
  }
  return result;
}

}  // namespace pnpdist
