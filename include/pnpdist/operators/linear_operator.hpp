#pragma once
/// \file
/// The LinearOperator concept: a linear map A from a domain of shape domain_shape() (a tensor of rank
/// domain_rank) to a range of shape range_shape() (rank range_rank), with its exact transpose A^T.
///
///     op.apply(x, y)          y = A x,    overwriting y
///     op.apply_adjoint(y, x)  x = A^T y,  overwriting x
///
/// Contract of every operator of the library:
///   - apply and apply_adjoint are matched: <A x, y> = <x, A^T y> up to floating-point round-off
///     (checked by adjoint_check(), 1e-5 relative in float accumulated in double).
///   - The output is overwritten, whatever it held before (NaN included); the input is only read. Input
///     and output must not overlap.
///   - Views live in the memory space of the operator's executor; kernels run on that executor.
///   - Wrong shapes throw pnpdist::dimension_mismatch naming the operator and the shapes
///     (check_apply_shapes / check_apply_adjoint_shapes).
///   - apply / apply_adjoint are const member functions, but an operator that owns a work buffer (a
///     composition, a sum) reuses it on every call: one operator instance must not be applied
///     concurrently from several threads. Copies or separate instances may.

#include <concepts>
#include <cstddef>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

/// True when Op declares the member types and ranks a linear operator needs (the first half of
/// LinearOperator, checked before the ranks are used to form view types).
template <class Op>
concept LinearOperatorTraits = requires {
  typename Op::value_type;
  typename Op::executor_type;
  { Op::domain_rank } -> std::convertible_to<std::size_t>;
  { Op::range_rank } -> std::convertible_to<std::size_t>;
}
&&Executor<typename Op::executor_type> && (Op::domain_rank >= 1) && (Op::range_rank >= 1);

/// A linear operator (see the file comment for the contract). Operators are plain value types; the
/// concept is checked on the unqualified type.
template <class Op>
concept LinearOperator = LinearOperatorTraits<Op> &&
    requires(const Op& op,
             View<const typename Op::value_type, Op::domain_rank, typename Op::executor_type::memory_space> x_in,
             View<typename Op::value_type, Op::range_rank, typename Op::executor_type::memory_space> y_out,
             View<const typename Op::value_type, Op::range_rank, typename Op::executor_type::memory_space> y_in,
             View<typename Op::value_type, Op::domain_rank, typename Op::executor_type::memory_space> x_out) {
  { op.domain_shape() } -> std::convertible_to<Extents<Op::domain_rank>>;
  { op.range_shape() } -> std::convertible_to<Extents<Op::range_rank>>;
  { op.executor() } -> std::convertible_to<typename Op::executor_type>;
  op.apply(x_in, y_out);
  op.apply_adjoint(y_in, x_out);
};

/// Element type of an operator.
template <LinearOperatorTraits Op>
using operator_value_t = typename Op::value_type;
/// Executor type of an operator.
template <LinearOperatorTraits Op>
using operator_executor_t = typename Op::executor_type;
/// Memory space in which an operator's inputs and outputs live.
template <LinearOperatorTraits Op>
using operator_space_t = typename Op::executor_type::memory_space;

/// Mutable view of a domain element (the output of apply_adjoint).
template <LinearOperatorTraits Op>
using domain_view_t = View<typename Op::value_type, Op::domain_rank, operator_space_t<Op>>;
/// Read-only view of a domain element (the input of apply).
template <LinearOperatorTraits Op>
using const_domain_view_t = View<const typename Op::value_type, Op::domain_rank, operator_space_t<Op>>;
/// Mutable view of a range element (the output of apply).
template <LinearOperatorTraits Op>
using range_view_t = View<typename Op::value_type, Op::range_rank, operator_space_t<Op>>;
/// Read-only view of a range element (the input of apply_adjoint).
template <LinearOperatorTraits Op>
using const_range_view_t = View<const typename Op::value_type, Op::range_rank, operator_space_t<Op>>;
/// Owning tensor of a domain element, in the operator's memory space.
template <LinearOperatorTraits Op>
using domain_tensor_t = Tensor<typename Op::value_type, Op::domain_rank, operator_space_t<Op>>;
/// Owning tensor of a range element, in the operator's memory space.
template <LinearOperatorTraits Op>
using range_tensor_t = Tensor<typename Op::value_type, Op::range_rank, operator_space_t<Op>>;

/// An uninitialized tensor of the operator's domain shape, in its memory space.
template <LinearOperator Op>
[[nodiscard]] inline domain_tensor_t<Op> make_domain_tensor(const Op& op) {
  return domain_tensor_t<Op>(op.domain_shape());
}
/// An uninitialized tensor of the operator's range shape, in its memory space.
template <LinearOperator Op>
[[nodiscard]] inline range_tensor_t<Op> make_range_tensor(const Op& op) {
  return range_tensor_t<Op>(op.range_shape());
}

namespace detail {

template <std::size_t DomainRank, std::size_t RangeRank, std::size_t InRank, std::size_t OutRank>
inline void check_shapes(std::string_view name, std::string_view direction, const char* in_name, const char* out_name,
                         const Extents<InRank>& expected_in, const Extents<OutRank>& expected_out,
                         const Extents<InRank>& in, const Extents<OutRank>& out, const Extents<DomainRank>& domain,
                         const Extents<RangeRank>& range, std::source_location where) {
  if (in == expected_in && out == expected_out) return;
  throw dimension_mismatch(std::string(name) + "::" + std::string(direction) + ": expected " + in_name + " of shape " +
                               to_string(expected_in) + " and " + out_name + " of shape " + to_string(expected_out) +
                               ", got " + in_name + " " + to_string(in) + " and " + out_name + " " + to_string(out) +
                               " (operator domain " + to_string(domain) + " -> range " + to_string(range) + ")",
                           where);
}

}  // namespace detail

/// Throws dimension_mismatch unless x has the operator's domain shape and y its range shape. The message
/// names the operator (`name`), the expected and the actual shapes, e.g.
/// "DenseMatrix::apply: expected x of shape (3) and y of shape (4), got x (5) and y (4) (operator domain
/// (3) -> range (4))". Every operator calls it at the top of apply.
template <LinearOperatorTraits Op, class X, class Y>
inline void check_apply_shapes(const Op& op, const X& x, const Y& y, std::string_view name,
                               std::source_location where = std::source_location::current()) {
  const Extents<Op::domain_rank> domain = op.domain_shape();
  const Extents<Op::range_rank> range = op.range_shape();
  detail::check_shapes(name, "apply", "x", "y", domain, range, x.extents(), y.extents(), domain, range, where);
}

/// Throws dimension_mismatch unless y has the operator's range shape and x its domain shape; the
/// counterpart of check_apply_shapes for apply_adjoint(y, x).
template <LinearOperatorTraits Op, class Y, class X>
inline void check_apply_adjoint_shapes(const Op& op, const Y& y, const X& x, std::string_view name,
                                       std::source_location where = std::source_location::current()) {
  const Extents<Op::domain_rank> domain = op.domain_shape();
  const Extents<Op::range_rank> range = op.range_shape();
  detail::check_shapes(name, "apply_adjoint", "y", "x", range, domain, y.extents(), x.extents(), domain, range, where);
}

}  // namespace pnpdist
