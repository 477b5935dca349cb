#pragma once
/// \file
/// OperatorRef<Op>: a non-owning reference to a linear operator that is itself a linear operator, and the
/// storage rule of every composite (Adjoint, Composition, Sum, Scaled):
///
///   - an operand passed as an rvalue is moved into the composite, which owns it;
///   - an operand passed as an lvalue is referenced (OperatorRef): no copy, no allocation; the lvalue
///     must outlive the composite (as with std::ranges::ref_view).
///
/// So `compose(A, B)` with named operators costs nothing and shares their storage, while
/// `compose(DenseMatrix{...}, adjoint(B))` owns its temporaries.

#include <type_traits>
#include <utility>

#include "pnpdist/operators/linear_operator.hpp"

namespace pnpdist {

/// Non-owning reference to the operator `op`: forwards every call to it. Trivially copyable.
template <LinearOperator Op>
class OperatorRef {
public:
  using value_type = typename Op::value_type;
  using executor_type = typename Op::executor_type;
  using referenced_type = Op;
  static constexpr std::size_t domain_rank = Op::domain_rank;
  static constexpr std::size_t range_rank = Op::range_rank;

  explicit OperatorRef(const Op& op) noexcept : op_(&op) {}
  OperatorRef(Op&&) = delete;  ///< a reference to a temporary would dangle

  [[nodiscard]] Extents<domain_rank> domain_shape() const { return op_->domain_shape(); }
  [[nodiscard]] Extents<range_rank> range_shape() const { return op_->range_shape(); }
  [[nodiscard]] decltype(auto) executor() const { return op_->executor(); }

  /// y = A x with the referenced operator.
  void apply(const const_domain_view_t<Op>& x, const range_view_t<Op>& y) const { op_->apply(x, y); }
  /// x = A^T y with the referenced operator.
  void apply_adjoint(const const_range_view_t<Op>& y, const domain_view_t<Op>& x) const { op_->apply_adjoint(y, x); }

  /// The referenced operator.
  [[nodiscard]] const Op& get() const noexcept { return *op_; }

private:
  const Op* op_;
};

/// An OperatorRef to `op`.
template <LinearOperator Op>
[[nodiscard]] inline OperatorRef<Op> operator_ref(const Op& op) noexcept {
  return OperatorRef<Op>(op);
}

template <class T>
inline constexpr bool is_operator_ref_v = false;
template <class Op>
inline constexpr bool is_operator_ref_v<OperatorRef<Op>> = true;

/// The type a composite stores for an operand passed as `Arg` (a forwarding-reference type): the
/// operator itself for an rvalue (moved in), OperatorRef for an lvalue, and a copy for an lvalue that is
/// already an OperatorRef (never a reference to a reference).
template <class Arg>
using stored_operator_t =
    std::conditional_t<std::is_lvalue_reference_v<Arg> && !is_operator_ref_v<std::remove_cvref_t<Arg>>,
                       OperatorRef<std::remove_cvref_t<Arg>>, std::remove_cvref_t<Arg>>;

/// The operand `arg` as a composite stores it (see stored_operator_t).
template <class Arg>
requires LinearOperator<std::remove_cvref_t<Arg>>
[[nodiscard]] inline stored_operator_t<Arg&&> store_operator(Arg&& arg) {
  if constexpr (std::is_lvalue_reference_v<Arg&&> && !is_operator_ref_v<std::remove_cvref_t<Arg>>)
    return OperatorRef<std::remove_cvref_t<Arg>>(arg);
  else
    return stored_operator_t<Arg&&>(std::forward<Arg>(arg));
}

}  // namespace pnpdist
