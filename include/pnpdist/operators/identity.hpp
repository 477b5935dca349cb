#pragma once
/// \file
/// Identity<T, Rank, Exec>: the identity map on tensors of a fixed shape. Self-adjoint; apply and
/// apply_adjoint are one copy on the executor; no allocation.

#include <cstddef>
#include <string>
#include <utility>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/tensor/algebra.hpp"

namespace pnpdist {

/// x -> x on tensors of shape `shape`.
template <class T, std::size_t Rank, Executor Exec>
class Identity {
public:
  using value_type = T;
  using executor_type = Exec;
  static constexpr std::size_t domain_rank = Rank;
  static constexpr std::size_t range_rank = Rank;

  /// Throws invalid_argument for a negative extent.
  Identity(Exec exec, const Extents<Rank>& shape) : exec_(std::move(exec)), shape_(shape) {
    for (std::size_t d = 0; d < Rank; ++d)
      require(shape[d] >= 0, "Identity: shape " + to_string(shape) + " contains a negative extent");
  }

  [[nodiscard]] Extents<Rank> domain_shape() const { return shape_; }
  [[nodiscard]] Extents<Rank> range_shape() const { return shape_; }
  [[nodiscard]] const Exec& executor() const noexcept { return exec_; }

  /// y = x.
  void apply(const View<const T, Rank, typename Exec::memory_space>& x,
             const View<T, Rank, typename Exec::memory_space>& y) const {
    check_apply_shapes(*this, x, y, "Identity");
    copy(exec_, x, y);
  }
  /// x = y.
  void apply_adjoint(const View<const T, Rank, typename Exec::memory_space>& y,
                     const View<T, Rank, typename Exec::memory_space>& x) const {
    check_apply_adjoint_shapes(*this, y, x, "Identity");
    copy(exec_, y, x);
  }

private:
  Exec exec_;
  Extents<Rank> shape_;
};

/// The identity on tensors of shape `shape` with element type T: `identity<float>(exec, Extents<2>{4, 5})`.
template <class T, class Exec, std::size_t Rank>
requires Executor<Exec>
[[nodiscard]] inline Identity<T, Rank, Exec> identity(const Exec& exec, const Extents<Rank>& shape) {
  return Identity<T, Rank, Exec>(exec, shape);
}

}  // namespace pnpdist
