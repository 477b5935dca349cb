#pragma once
/// \file
/// Scaled<Op>: the operator alpha A, and scale(alpha, op).
///
/// Guarantees: matched (the adjoint is alpha A^T); no allocation: the operand writes the output, which
/// is then scaled in place on the operator's executor. scale(alpha, scale(beta, op)) collapses to one
/// Scaled with factor alpha * beta.

#include <type_traits>
#include <utility>

#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/operators/operator_ref.hpp"
#include "pnpdist/tensor/algebra.hpp"

namespace pnpdist {

/// x -> alpha A x.
template <LinearOperator Op>
class Scaled {
public:
  using value_type = typename Op::value_type;
  using executor_type = typename Op::executor_type;
  using base_type = Op;
  static constexpr std::size_t domain_rank = Op::domain_rank;
  static constexpr std::size_t range_rank = Op::range_rank;

  Scaled(value_type alpha, Op op) : alpha_(alpha), op_(std::move(op)) {}

  [[nodiscard]] Extents<domain_rank> domain_shape() const { return op_.domain_shape(); }
  [[nodiscard]] Extents<range_rank> range_shape() const { return op_.range_shape(); }
  [[nodiscard]] decltype(auto) executor() const { return op_.executor(); }

  /// y = alpha A x.
  void apply(const const_domain_view_t<Op>& x, const range_view_t<Op>& y) const {
    check_apply_shapes(*this, x, y, "Scaled");
    op_.apply(x, y);
    pnpdist::scale(op_.executor(), alpha_, y);
  }
  /// x = alpha A^T y.
  void apply_adjoint(const const_range_view_t<Op>& y, const domain_view_t<Op>& x) const {
    check_apply_adjoint_shapes(*this, y, x, "Scaled");
    op_.apply_adjoint(y, x);
    pnpdist::scale(op_.executor(), alpha_, x);
  }

  /// The factor alpha.
  [[nodiscard]] value_type factor() const noexcept { return alpha_; }
  /// The scaled operator A.
  [[nodiscard]] const Op& base() const& noexcept { return op_; }
  [[nodiscard]] Op&& base() && noexcept { return std::move(op_); }

private:
  value_type alpha_;
  Op op_;
};

template <class T>
inline constexpr bool is_scaled_v = false;
template <class Op>
inline constexpr bool is_scaled_v<Scaled<Op>> = true;

/// alpha A. Rvalue operands are moved into the result, lvalue operands referenced (they must outlive
/// it). Scaling a Scaled multiplies the factors instead of nesting.
template <class Arg>
requires LinearOperator<std::remove_cvref_t<Arg>>
[[nodiscard]] inline auto scale(typename std::remove_cvref_t<Arg>::value_type alpha, Arg&& op) {
  using Op = std::remove_cvref_t<Arg>;
  if constexpr (is_scaled_v<Op>) {
    using Base = typename Op::base_type;
    if constexpr (std::is_lvalue_reference_v<Arg&&>) {
      auto base = store_operator(op.base());
      return Scaled<decltype(base)>(alpha * op.factor(), std::move(base));
    } else {
      const auto factor = op.factor();
      return Scaled<Base>(alpha * factor, std::move(op).base());
    }
  } else {
    return Scaled<stored_operator_t<Arg&&>>(alpha, store_operator(std::forward<Arg>(op)));
  }
}

}  // namespace pnpdist
