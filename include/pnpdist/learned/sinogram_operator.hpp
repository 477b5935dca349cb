#pragma once
/// \file
/// What a ProjectorLayer (learned/projector_layer.hpp) needs of its physics: a linear map from images (H, W) to
/// whole sinograms (views, cols) in host memory, with its adjoint. SinogramProjection<Op> presents a physics
/// Op as that map, a LinearOperator with domain rank 2 and range rank 2, and SinogramOperator<Op> requires it
/// (any other Op stops the compilation with a message naming what is accepted). Provided here:
///
///   - a LinearOperator with 2D domain and 2D range (a ct::JosephProjector2D, parallel or fan beam): itself;
///   - a StackedPhysics of such operators whose ranges have the same columns (view blocks of one projector,
///     ct::split_views): the blocks' sinograms stacked along the views in operator order, so that blocks of
///     contiguous views give the projector's sinogram. apply is the stack's forward (each block projects its
///     rows), apply_adjoint the stack's adjoint sum_i A_i^T y_i (operator order).
///
/// learned/distributed_sinogram.hpp adds the DistributedPhysics of such a stack. A SinogramProjection
/// references its physics, which must outlive it; like the operators it wraps, one instance is not applied
/// from several threads at once.

#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/operators/stacked_physics.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::learned {

/// Op as a LinearOperator from images (H, W) to whole sinograms (views, cols), built from a `const Op&` that
/// must outlive it. This primary template takes a host LinearOperator with 2D domain and 2D range and
/// forwards its calls; the specializations below (StackedPhysics) and in learned/distributed_sinogram.hpp
/// (DistributedPhysics) take the stacks. Any other Op stops the compilation with a message naming them.
template <class Op>
class SinogramProjection {
  static_assert(LinearOperator<Op>,
                "a ProjectorLayer's physics is a LinearOperator from images to sinograms, a StackedPhysics of them "
                "or (learned/distributed_sinogram.hpp) the DistributedPhysics of such a stack");
  static_assert(Op::domain_rank == 2 && Op::range_rank == 2,
                "a ProjectorLayer's operator maps images (rank 2) to sinograms (rank 2)");

public:
  using value_type = typename Op::value_type;
  using executor_type = typename Op::executor_type;
  using memory_space = operator_space_t<Op>;
  static constexpr std::size_t domain_rank = 2;
  static constexpr std::size_t range_rank = 2;

  explicit SinogramProjection(const Op& op) : op_(&op) {}
  [[nodiscard]] Extents<2> domain_shape() const { return op_->domain_shape(); }
  [[nodiscard]] Extents<2> range_shape() const { return op_->range_shape(); }
  [[nodiscard]] executor_type executor() const { return op_->executor(); }
  void apply(const View<const value_type, 2, memory_space>& x, const View<value_type, 2, memory_space>& y) const {
    op_->apply(x, y);
  }
  void apply_adjoint(const View<const value_type, 2, memory_space>& y,
                     const View<value_type, 2, memory_space>& x) const {
    op_->apply_adjoint(y, x);
  }

private:
  const Op* op_;
};

namespace detail {

/// The detector columns shared by the sinogram shapes (views, cols) of the blocks of a stack, in operator
/// order. Throws dimension_mismatch naming the first block whose columns differ from block 0's (`what` names
/// the caller), invalid_argument for no block.
inline index_t shared_sinogram_columns(const std::vector<Extents<2>>& shapes, const char* what) {
  require(!shapes.empty(), [&] { return std::string(what) + ": the stack has no operator"; });
  for (std::size_t i = 1; i < shapes.size(); ++i)
    require<dimension_mismatch>(shapes[i][1] == shapes[0][1], [&] {
      return std::string(what) + ": operator " + std::to_string(i) + " has sinograms of shape " +
             to_string(shapes[i]) + ", operator 0 of " + to_string(shapes[0]) +
             "; stacked along the views they need the same number of detector columns";
    });
  return shapes[0][1];
}

/// The views of `sinogram` (views, cols) that operator i of `physics` fills: rows rows[i] .. rows[i] + its
/// range's views, for each operator of the stack in order.
template <class Op, class T>
[[nodiscard]] std::vector<View<T, 2, operator_space_t<Op>>> sinogram_blocks(const StackedPhysics<Op>& physics,
                                                                           const std::vector<index_t>& rows,
                                                                           const View<T, 2, operator_space_t<Op>>& sinogram) {
  std::vector<View<T, 2, operator_space_t<Op>>> blocks;
  blocks.reserve(physics.size());
  for (std::size_t i = 0; i < physics.size(); ++i)
    blocks.push_back(subview(sinogram, Extents<2>{rows[i], 0}, physics.op(i).range_shape()));
  return blocks;
}

}  // namespace detail

/// A StackedPhysics of 2D operators with the same detector columns: the blocks' sinograms stacked along the
/// views (see the file comment). Throws dimension_mismatch when the columns differ, naming the operator.
template <class Op>
class SinogramProjection<StackedPhysics<Op>> {
  static_assert(Op::domain_rank == 2 && Op::range_rank == 2,
                "a ProjectorLayer's stack holds operators from images (rank 2) to sinograms (rank 2)");

public:
  using value_type = typename Op::value_type;
  using executor_type = typename Op::executor_type;
  using memory_space = operator_space_t<Op>;
  static constexpr std::size_t domain_rank = 2;
  static constexpr std::size_t range_rank = 2;

  explicit SinogramProjection(const StackedPhysics<Op>& physics) : physics_(&physics) {
    std::vector<Extents<2>> shapes;
    for (const Op& op : physics.operators()) shapes.push_back(op.range_shape());
    const index_t cols = detail::shared_sinogram_columns(shapes, "SinogramProjection of a StackedPhysics");
    index_t views = 0;
    for (const Extents<2>& shape : shapes) {
      rows_.push_back(views);
      views += shape[0];
    }
    range_ = Extents<2>{views, cols};
  }

  [[nodiscard]] Extents<2> domain_shape() const { return physics_->domain_shape(); }
  [[nodiscard]] Extents<2> range_shape() const { return range_; }
  [[nodiscard]] executor_type executor() const { return physics_->executor(); }

  /// y = (A_1 x; ...; A_N x), each block into its rows of y.
  void apply(const View<const value_type, 2, memory_space>& x, const View<value_type, 2, memory_space>& y) const {
    check_apply_shapes(*this, x, y, "SinogramProjection<StackedPhysics>");
    physics_->forward(x, detail::sinogram_blocks(*physics_, rows_, y));
  }

  /// x = sum_i A_i^T y_i, y_i the rows of block i.
  void apply_adjoint(const View<const value_type, 2, memory_space>& y,
                     const View<value_type, 2, memory_space>& x) const {
    check_apply_adjoint_shapes(*this, y, x, "SinogramProjection<StackedPhysics>");
    physics_->adjoint(detail::sinogram_blocks(*physics_, rows_, y), x);
  }

private:
  const StackedPhysics<Op>* physics_;
  std::vector<index_t> rows_;
  Extents<2> range_{};
};

/// Op can be the physics of a ProjectorLayer: SinogramProjection<Op> is a host LinearOperator from images to
/// sinograms (both rank 2) built from a const Op&.
template <class Op>
concept SinogramOperator =
    std::constructible_from<SinogramProjection<Op>, const Op&> && LinearOperator<SinogramProjection<Op>> &&
    (SinogramProjection<Op>::domain_rank == 2) && (SinogramProjection<Op>::range_rank == 2) &&
    std::is_same_v<operator_space_t<SinogramProjection<Op>>, HostSpace>;

}  // namespace pnpdist::learned
