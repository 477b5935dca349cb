#pragma once
/// \file
/// adjoint_check(op, seed): the dot-product test of a linear operator. Draws x (domain) and y (range)
/// with independent standard normal entries (tensor/random.hpp, streams 0 and 1 of `seed`), applies the
/// operator and its adjoint, and compares
///
///     forward_inner = <A x, y>      and      adjoint_inner = <x, A^T y>,
///
/// both accumulated in double (tensor/reductions.hpp), by the relative error
///
///     |forward - adjoint| / max(||A x|| ||y||, ||x|| ||A^T y||, tiny),
///
/// relative to the Cauchy-Schwarz bounds of the two inner products rather than to the inner products
/// themselves, which are near zero for some seeds (and the test then measures nothing but round-off).
///
/// The outputs A x and A^T y are filled with NaN before the operator writes them, so an operator that
/// leaves part of its output unwritten yields a NaN error and fails the check.
///
/// Deterministic: for a deterministic operator the result depends only on the operator and the seed,
/// not on the executor's thread count. For a correct operator the error is of the order of the rounding
/// of the outputs, for every seed: about 1e-8 in float and 1e-17 in double for the CT projectors of the
/// tests. An adjoint wrong by a relative amount e (in scale or in its entries) gives about e / sqrt(N) for
/// N-element vectors, an unrelated one about 1 / sqrt(N); pass a tolerance near the operator's round-off
/// (the default, 1e-5, suits float operators) to keep the test sensitive.
///
/// Allocates four tensors (two domain-shaped, two range-shaped) in the operator's memory space.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/random.hpp"
#include "pnpdist/tensor/reductions.hpp"

namespace pnpdist {

/// The outcome of adjoint_check.
struct AdjointCheckResult {
  double forward_inner = 0;  ///< <A x, y>
  double adjoint_inner = 0;  ///< <x, A^T y>
  /// |forward - adjoint| / max(||A x|| ||y||, ||x|| ||A^T y||, tiny); NaN if an output was not finite.
  double relative_error = 0;
  double scale = 0;  ///< max(||A x|| ||y||, ||x|| ||A^T y||)

  /// True when relative_error <= tolerance (false when it is NaN).
  [[nodiscard]] bool passed(double tolerance = 1e-5) const { return relative_error <= tolerance; }
};

/// The dot-product test of `op` (see the file comment). Requires a float or double operator.
template <LinearOperator Op>
[[nodiscard]] inline AdjointCheckResult adjoint_check(const Op& op, std::uint64_t seed = 0) {
  using T = typename Op::value_type;
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "adjoint_check: the operator's value type must be float or double");
  const auto& exec = op.executor();

  domain_tensor_t<Op> x = make_domain_tensor(op);
  range_tensor_t<Op> y = make_range_tensor(op);
  range_tensor_t<Op> ax = make_range_tensor(op);
  domain_tensor_t<Op> aty = make_domain_tensor(op);
  fill_normal(exec, x.view(), seed, 0, T(0), T(1));
  fill_normal(exec, y.view(), seed, 1, T(0), T(1));
  fill(exec, ax.view(), std::numeric_limits<T>::quiet_NaN());
  fill(exec, aty.view(), std::numeric_limits<T>::quiet_NaN());

  op.apply(x.const_view(), ax.view());
  op.apply_adjoint(y.const_view(), aty.view());

  AdjointCheckResult result;
  result.forward_inner = static_cast<double>(dot(exec, ax.const_view(), y.const_view()));
  result.adjoint_inner = static_cast<double>(dot(exec, x.const_view(), aty.const_view()));
  const double forward_bound =
      static_cast<double>(norm(exec, ax.const_view())) * static_cast<double>(norm(exec, y.const_view()));
  const double adjoint_bound =
      static_cast<double>(norm(exec, x.const_view())) * static_cast<double>(norm(exec, aty.const_view()));
  result.scale = std::max(forward_bound, adjoint_bound);
  result.relative_error = std::abs(result.forward_inner - result.adjoint_inner) /
                          std::max(result.scale, std::numeric_limits<double>::min());
  if (!std::isfinite(result.forward_inner) || !std::isfinite(result.adjoint_inner) || !std::isfinite(result.scale))
    result.relative_error = std::numeric_limits<double>::quiet_NaN();
  return result;
}

}  // namespace pnpdist
