#pragma once
/// \file
/// Composition<A, B>: the product A B (apply B, then A), and compose(a, b[, c...]).
///
/// Guarantees:
///   - Matched: the adjoint is B^T A^T, computed with the operands' own adjoints.
///   - Memory: one intermediate buffer of shape B.range_shape() (= A.domain_shape()), allocated in the
///     executor's memory space when the composition is constructed and reused by every apply and
///     apply_adjoint; applying allocates nothing.
///   - Not thread-safe per instance: concurrent applications of one Composition race on its buffer.
///     Use one instance per thread (they may reference the same operands).

#include <string>
#include <type_traits>
#include <utility>

#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/operators/operator_ref.hpp"

namespace pnpdist {

/// A B: x -> A (B x). A is the outer operator, B the inner one.
template <LinearOperator A, LinearOperator B>
class Composition {
  static_assert(std::is_same_v<typename A::value_type, typename B::value_type>,
                "compose: the operators have different value types");
  static_assert(std::is_same_v<operator_space_t<A>, operator_space_t<B>>,
                "compose: the operators live in different memory spaces");
  static_assert(A::domain_rank == B::range_rank,
                "compose: the rank of the outer operator's domain differs from the rank of the inner operator's range");

public:
  using value_type = typename A::value_type;
  using executor_type = typename A::executor_type;
  using outer_type = A;
  using inner_type = B;
  static constexpr std::size_t domain_rank = B::domain_rank;
  static constexpr std::size_t range_rank = A::range_rank;

  /// Throws dimension_mismatch, naming both shapes, when a.domain_shape() != b.range_shape().
  Composition(A a, B b) : a_(std::move(a)), b_(std::move(b)), buffer_(checked_intermediate_shape(a_, b_)) {}

  [[nodiscard]] Extents<domain_rank> domain_shape() const { return b_.domain_shape(); }
  [[nodiscard]] Extents<range_rank> range_shape() const { return a_.range_shape(); }
  [[nodiscard]] decltype(auto) executor() const { return a_.executor(); }

  /// y = A (B x).
  void apply(const const_domain_view_t<B>& x, const range_view_t<A>& y) const {
    check_apply_shapes(*this, x, y, "Composition");
    b_.apply(x, buffer_.view());
    a_.apply(buffer_.const_view(), y);
  }
  /// x = B^T (A^T y).
  void apply_adjoint(const const_range_view_t<A>& y, const domain_view_t<B>& x) const {
    check_apply_adjoint_shapes(*this, y, x, "Composition");
    a_.apply_adjoint(y, buffer_.view());
    b_.apply_adjoint(buffer_.const_view(), x);
  }

  /// The operator applied last (A).
  [[nodiscard]] const A& outer() const noexcept { return a_; }
  /// The operator applied first (B).
  [[nodiscard]] const B& inner() const noexcept { return b_; }

private:
  static Extents<A::domain_rank> checked_intermediate_shape(const A& a, const B& b) {
    const Extents<A::domain_rank> domain = a.domain_shape();
    const Extents<B::range_rank> range = b.range_shape();
    require<dimension_mismatch>(domain == range, "compose: the domain of the outer operator, shape " +
                                                     to_string(domain) +
                                                     ", differs from the range of the inner operator, shape " +
                                                     to_string(range) + " (compose(a, b) applies b first, then a)");
    return domain;
  }

  A a_;
  B b_;
  mutable domain_tensor_t<A> buffer_;
};

/// a b (apply b, then a). Rvalue operands are moved into the result, lvalue operands referenced (they
/// must outlive it). Throws dimension_mismatch when a's domain shape differs from b's range shape.
template <class OuterArg, class InnerArg>
requires LinearOperator<std::remove_cvref_t<OuterArg>> && LinearOperator<std::remove_cvref_t<InnerArg>>
[[nodiscard]] inline auto compose(OuterArg&& a, InnerArg&& b) {
  return Composition<stored_operator_t<OuterArg&&>, stored_operator_t<InnerArg&&>>(
      store_operator(std::forward<OuterArg>(a)), store_operator(std::forward<InnerArg>(b)));
}

/// a b c ... = a (b (c ...)): the last operand is applied first.
template <class First, class Second, class Third, class... Rest>
requires LinearOperator<std::remove_cvref_t<First>>
[[nodiscard]] inline auto compose(First&& a, Second&& b, Third&& c, Rest&&... rest) {
  return compose(std::forward<First>(a),
                 compose(std::forward<Second>(b), std::forward<Third>(c), std::forward<Rest>(rest)...));
}

}  // namespace pnpdist
