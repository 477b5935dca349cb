#pragma once
/// \file
/// DenseMatrix<T, Exec>: an M x N matrix as a linear operator from vectors of length N (rank-1 tensors)
/// to vectors of length M. The reference operator of the test suite: obvious, exactly matched, O(M N)
/// per application.
///
/// Guarantees:
///   - Storage: row-major M x N Tensor in the executor's memory space, owned by the operator (move-only).
///   - apply: y_i = sum_j A_ij x_j; apply_adjoint: x_j = sum_i A_ij y_i. Each output element is one
///     iteration of a host/device functor launched on the executor, its products formed and summed in
///     accumulator_t<T> (double for float) in index order, then rounded once: results are identical for
///     every executor and thread count, and apply/apply_adjoint are transposes of each other up to that
///     final rounding.
///   - No allocation when applied.

#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist {
namespace detail {

/// y(i) = sum_j a(i, j) x(j), accumulated in accumulator_t<T>.
template <class T, class Space>
struct DenseMatVecKernel {
  View<const T, 2, Space> a;
  View<const T, 1, Space> x;
  View<T, 1, Space> y;
  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    using Acc = accumulator_t<T>;
    Acc acc = Acc(0);
    const index_t n = a.extent(1);
    for (index_t j = 0; j < n; ++j) acc += static_cast<Acc>(a(i, j)) * static_cast<Acc>(x(j));
    y(i) = static_cast<T>(acc);
  }
};

/// x(j) = sum_i a(i, j) y(i), accumulated in accumulator_t<T>.
template <class T, class Space>
struct DenseMatTransposeVecKernel {
  View<const T, 2, Space> a;
  View<const T, 1, Space> y;
  View<T, 1, Space> x;
  PNPDIST_HOST_DEVICE void operator()(index_t j) const {
    using Acc = accumulator_t<T>;
    Acc acc = Acc(0);
    const index_t m = a.extent(0);
    for (index_t i = 0; i < m; ++i) acc += static_cast<Acc>(a(i, j)) * static_cast<Acc>(y(i));
    x(j) = static_cast<T>(acc);
  }
};

}  // namespace detail

/// An M x N matrix A acting on vectors: apply maps length N to length M, apply_adjoint applies A^T.
template <class T, Executor Exec>
class DenseMatrix {
public:
  using value_type = T;
  using executor_type = Exec;
  using memory_space = typename Exec::memory_space;
  static constexpr std::size_t domain_rank = 1;
  static constexpr std::size_t range_rank = 1;

  /// The rows x cols zero matrix. Throws invalid_argument for a negative size.
  DenseMatrix(Exec exec, index_t rows, index_t cols) : exec_(std::move(exec)), entries_(checked_shape(rows, cols)) {
    fill(exec_, entries_.view(), T(0));
  }

  /// Takes ownership of `entries` (row-major rows x cols, already in the executor's memory space).
  DenseMatrix(Exec exec, Tensor<T, 2, memory_space> entries) : exec_(std::move(exec)), entries_(std::move(entries)) {}

  /// Copies `row_major` (host memory, rows * cols values, A_ij at i * cols + j) into the executor's
  /// memory space. Throws dimension_mismatch when the number of values is not rows * cols.
  DenseMatrix(Exec exec, index_t rows, index_t cols, std::span<const T> row_major)
      : exec_(std::move(exec)), entries_(checked_shape(rows, cols)) {
    require<dimension_mismatch>(static_cast<index_t>(row_major.size()) == rows * cols,
                                "DenseMatrix: " + std::to_string(row_major.size()) + " values given for a " +
                                    std::to_string(rows) + " x " + std::to_string(cols) + " matrix");
    deep_copy(entries_.view(), View<const T, 2, HostSpace>(row_major.data(), Extents<2>{rows, cols}));
  }

  [[nodiscard]] Extents<1> domain_shape() const { return Extents<1>{entries_.extent(1)}; }
  [[nodiscard]] Extents<1> range_shape() const { return Extents<1>{entries_.extent(0)}; }
  [[nodiscard]] const Exec& executor() const noexcept { return exec_; }

  /// Number of rows M (the range length).
  [[nodiscard]] index_t rows() const { return entries_.extent(0); }
  /// Number of columns N (the domain length).
  [[nodiscard]] index_t cols() const { return entries_.extent(1); }
  /// The entries, row-major, in the executor's memory space.
  [[nodiscard]] View<T, 2, memory_space> entries() { return entries_.view(); }
  [[nodiscard]] View<const T, 2, memory_space> entries() const { return entries_.const_view(); }

  /// y = A x.
  void apply(const View<const T, 1, memory_space>& x, const View<T, 1, memory_space>& y) const {
    check_apply_shapes(*this, x, y, "DenseMatrix");
    for_each(exec_, rows(), detail::DenseMatVecKernel<T, memory_space>{entries_.const_view(), x, y});
  }
  /// x = A^T y.
  void apply_adjoint(const View<const T, 1, memory_space>& y, const View<T, 1, memory_space>& x) const {
    check_apply_adjoint_shapes(*this, y, x, "DenseMatrix");
    for_each(exec_, cols(), detail::DenseMatTransposeVecKernel<T, memory_space>{entries_.const_view(), y, x});
  }

private:
  static Extents<2> checked_shape(index_t rows, index_t cols) {
    require(rows >= 0 && cols >= 0,
            "DenseMatrix: negative size " + std::to_string(rows) + " x " + std::to_string(cols));
    return Extents<2>{rows, cols};
  }

  Exec exec_;
  Tensor<T, 2, memory_space> entries_;
};

}  // namespace pnpdist
