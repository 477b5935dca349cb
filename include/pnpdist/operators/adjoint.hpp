#pragma once
/// \file
/// Adjoint<Op>: the transpose A^T of a linear operator, as an operator. apply is Op::apply_adjoint and
/// apply_adjoint is Op::apply, so A^T is matched exactly when A is. No allocation, no work of its own.
///
/// adjoint(op) builds it; adjoint(adjoint(op)) gives back the operand (the operator type itself for an
/// rvalue, an OperatorRef to it for an lvalue), never a nested wrapper.

#include <type_traits>
#include <utility>

#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/operators/operator_ref.hpp"

namespace pnpdist {

/// A^T for the operator A = base().
template <LinearOperator Op>
class Adjoint {
public:
  using value_type = typename Op::value_type;
  using executor_type = typename Op::executor_type;
  using base_type = Op;
  static constexpr std::size_t domain_rank = Op::range_rank;
  static constexpr std::size_t range_rank = Op::domain_rank;

  explicit Adjoint(Op op) : op_(std::move(op)) {}

  [[nodiscard]] Extents<domain_rank> domain_shape() const { return op_.range_shape(); }
  [[nodiscard]] Extents<range_rank> range_shape() const { return op_.domain_shape(); }
  [[nodiscard]] decltype(auto) executor() const { return op_.executor(); }

  /// y = A^T x.
  void apply(const View<const value_type, domain_rank, typename executor_type::memory_space>& x,
             const View<value_type, range_rank, typename executor_type::memory_space>& y) const {
    check_apply_shapes(*this, x, y, "Adjoint");
    op_.apply_adjoint(x, y);
  }
  /// x = A y (the adjoint of A^T).
  void apply_adjoint(const View<const value_type, range_rank, typename executor_type::memory_space>& y,
                     const View<value_type, domain_rank, typename executor_type::memory_space>& x) const {
    check_apply_adjoint_shapes(*this, y, x, "Adjoint");
    op_.apply(y, x);
  }

  /// The operator A whose transpose this is.
  [[nodiscard]] const Op& base() const& noexcept { return op_; }
  [[nodiscard]] Op&& base() && noexcept { return std::move(op_); }

private:
  Op op_;
};

template <class T>
inline constexpr bool is_adjoint_v = false;
template <class Op>
inline constexpr bool is_adjoint_v<Adjoint<Op>> = true;

/// A^T. For an Adjoint operand, returns its base (rvalue: moved out; lvalue: stored as an lvalue operand,
/// i.e. an OperatorRef to it unless it is one already). Otherwise returns Adjoint<stored operand>: an
/// rvalue operand is moved in, an lvalue referenced (it must outlive the result).
template <class Arg>
requires LinearOperator<std::remove_cvref_t<Arg>>
[[nodiscard]] inline auto adjoint(Arg&& op) {
  using Op = std::remove_cvref_t<Arg>;
  if constexpr (is_adjoint_v<Op>) {
    if constexpr (std::is_lvalue_reference_v<Arg&&>)
      return store_operator(op.base());
    else
      return typename Op::base_type(std::move(op).base());
  } else {
    return Adjoint<stored_operator_t<Arg&&>>(store_operator(std::forward<Arg>(op)));
  }
}

}  // namespace pnpdist
