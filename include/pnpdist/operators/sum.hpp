#pragma once
/// \file
/// Sum<A, B>: the operator A + B of two operators with the same domain and range, and add(a, b).
///
/// Guarantees:
///   - Matched: the adjoint is A^T + B^T, computed with the operands' own adjoints.
///   - Memory: apply uses one range-shaped buffer and apply_adjoint one domain-shaped buffer, each
///     allocated in the executor's memory space on the first call that needs it and reused afterwards;
///     later applications allocate nothing.
///   - Not thread-safe per instance (the buffers are shared by all calls): use one instance per thread.

#include <string>
#include <type_traits>
#include <utility>

#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/operators/operator_ref.hpp"
#include "pnpdist/tensor/algebra.hpp"

namespace pnpdist {

/// x -> A x + B x. Computed as y = A x, then y += B x, on A's executor.
template <LinearOperator A, LinearOperator B>
class Sum {
  static_assert(std::is_same_v<typename A::value_type, typename B::value_type>,
                "add: the operators have different value types");
  static_assert(std::is_same_v<operator_space_t<A>, operator_space_t<B>>,
                "add: the operators live in different memory spaces");
  static_assert(A::domain_rank == B::domain_rank && A::range_rank == B::range_rank,
                "add: the operators have domains or ranges of different ranks");

public:
  using value_type = typename A::value_type;
  using executor_type = typename A::executor_type;
  static constexpr std::size_t domain_rank = A::domain_rank;
  static constexpr std::size_t range_rank = A::range_rank;

  /// Throws dimension_mismatch, naming the shapes, unless a and b have equal domain and range shapes.
  Sum(A a, B b) : a_(std::move(a)), b_(std::move(b)) {
    const auto da = a_.domain_shape();
    const auto db = b_.domain_shape();
    const auto ra = a_.range_shape();
    const auto rb = b_.range_shape();
    require<dimension_mismatch>(da == db && ra == rb, "add: the operators map different shapes: " + to_string(da) +
                                                          " -> " + to_string(ra) + " and " + to_string(db) + " -> " +
                                                          to_string(rb));
  }

  [[nodiscard]] Extents<domain_rank> domain_shape() const { return a_.domain_shape(); }
  [[nodiscard]] Extents<range_rank> range_shape() const { return a_.range_shape(); }
  [[nodiscard]] decltype(auto) executor() const { return a_.executor(); }

  /// y = A x + B x.
  void apply(const const_domain_view_t<A>& x, const range_view_t<A>& y) const {
    check_apply_shapes(*this, x, y, "Sum");
    if (range_buffer_.data() == nullptr) range_buffer_ = range_tensor_t<A>(a_.range_shape());
    a_.apply(x, y);
    b_.apply(x, range_buffer_.view());
    axpy(a_.executor(), value_type(1), range_buffer_.const_view(), y);
  }
  /// x = A^T y + B^T y.
  void apply_adjoint(const const_range_view_t<A>& y, const domain_view_t<A>& x) const {
    check_apply_adjoint_shapes(*this, y, x, "Sum");
    if (domain_buffer_.data() == nullptr) domain_buffer_ = domain_tensor_t<A>(a_.domain_shape());
    a_.apply_adjoint(y, x);
    b_.apply_adjoint(y, domain_buffer_.view());
    axpy(a_.executor(), value_type(1), domain_buffer_.const_view(), x);
  }

  [[nodiscard]] const A& first() const noexcept { return a_; }
  [[nodiscard]] const B& second() const noexcept { return b_; }

private:
  A a_;
  B b_;
  mutable range_tensor_t<A> range_buffer_;
  mutable domain_tensor_t<A> domain_buffer_;
};

/// a + b. Rvalue operands are moved into the result, lvalue operands referenced (they must outlive it).
/// Throws dimension_mismatch unless both map the same domain shape to the same range shape.
template <class FirstArg, class SecondArg>
requires LinearOperator<std::remove_cvref_t<FirstArg>> && LinearOperator<std::remove_cvref_t<SecondArg>>
[[nodiscard]] inline auto add(FirstArg&& a, SecondArg&& b) {
  return Sum<stored_operator_t<FirstArg&&>, stored_operator_t<SecondArg&&>>(store_operator(std::forward<FirstArg>(a)),
                                                                            store_operator(std::forward<SecondArg>(b)));
}

}  // namespace pnpdist
