#pragma once
/// \file
/// The DistributedPhysics (distributed/distributed_physics.hpp) of a StackedPhysics of view blocks as the
/// physics of a ProjectorLayer (learned/projector_layer.hpp): SinogramProjection of
/// DistributedPhysics<StackedPhysics<Op>, Comm>. The blocks (operators 0 .. N-1 of the global stack, dealt to
/// the ranks) are stacked along the views in global operator order, as SinogramProjection of the whole
/// StackedPhysics on one process does; every rank holds the whole image and the whole sinogram (the network
/// runs replicated on every rank) and projects only its own blocks:
///
///     apply(x, y)          y = 0, this rank's blocks into their rows, one allreduce_sum of y: every element
///                          is nonzero on one rank only, so y is the one-process projection bit for bit
///                          (up to the sign of a zero)
///     apply_adjoint(y, x)  x = sum over this rank's blocks of A_i^T y_i (increasing index), one allreduce_sum
///                          of x: the one-process sum to round-off (the float sum's grouping changes with
///                          the rank count; see distributed_physics.hpp)
///
/// Both are collective (every rank calls them in the same order with the same x or y), and so is the
/// constructor: one allreduce of every block's sinogram shape, so that each rank knows the rows of its blocks.
/// Every rank must own at least one block (a StackedPhysics is never empty). Throws dimension_mismatch when
/// the blocks' detector columns differ (naming the operator) and invalid_argument when the local stack does
/// not hold one operator per index this rank owns.

#include <cstddef>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/distributed/communicator.hpp"
#include "pnpdist/distributed/distributed_physics.hpp"
#include "pnpdist/learned/sinogram_operator.hpp"
#include "pnpdist/operators/stacked_physics.hpp"
#include "pnpdist/tensor/algebra.hpp"

namespace pnpdist::learned {

template <class Op, class Comm>
class SinogramProjection<DistributedPhysics<StackedPhysics<Op>, Comm>> {
  static_assert(Op::domain_rank == 2 && Op::range_rank == 2,
                "a ProjectorLayer's stack holds operators from images (rank 2) to sinograms (rank 2)");
  static_assert(Communicator<Comm, HostSpace>, "the layer's distributed physics exchanges host buffers");

public:
  using Physics = DistributedPhysics<StackedPhysics<Op>, Comm>;
  using value_type = typename Op::value_type;
  using executor_type = typename Op::executor_type;
  using memory_space = operator_space_t<Op>;
  static constexpr std::size_t domain_rank = 2;
  static constexpr std::size_t range_rank = 2;

  /// Collective: gathers the sinogram shape of every block.
  explicit SinogramProjection(const Physics& physics) : physics_(&physics) {
    const StackedPhysics<Op>& local = physics.local();
    const std::vector<index_t>& mine = physics.local_indices();
    require(local.size() == mine.size(), [&] {
      return "SinogramProjection of a DistributedPhysics: rank " + std::to_string(physics.communicator().rank()) +
             " owns " + std::to_string(mine.size()) + " operators but its stack holds " +
             std::to_string(local.size());
    });
    const index_t count = physics.assignment().count();
    std::vector<double> sizes(static_cast<std::size_t>(2 * count), 0.0);  // views, cols of every block
    for (std::size_t k = 0; k < mine.size(); ++k) {
      const Extents<2> shape = local.op(k).range_shape();
      sizes[static_cast<std::size_t>(2 * mine[k])] = static_cast<double>(shape[0]);
      sizes[static_cast<std::size_t>(2 * mine[k] + 1)] = static_cast<double>(shape[1]);
    }
    physics.communicator().allreduce_sum(View<double, 1, HostSpace>(sizes.data(), Extents<1>{2 * count}));
    std::vector<Extents<2>> shapes;
    for (index_t i = 0; i < count; ++i)
      shapes.push_back(Extents<2>{static_cast<index_t>(sizes[static_cast<std::size_t>(2 * i)]),
                                  static_cast<index_t>(sizes[static_cast<std::size_t>(2 * i + 1)])});
    const index_t cols = detail::shared_sinogram_columns(shapes, "SinogramProjection of a DistributedPhysics");
    std::vector<index_t> global_rows;
    index_t views = 0;
    for (const Extents<2>& shape : shapes) {
      global_rows.push_back(views);
      views += shape[0];
    }
    for (const index_t i : mine) rows_.push_back(global_rows[static_cast<std::size_t>(i)]);
    range_ = Extents<2>{views, cols};
  }

  [[nodiscard]] Extents<2> domain_shape() const { return physics_->domain_shape(); }
  [[nodiscard]] Extents<2> range_shape() const { return range_; }
  [[nodiscard]] executor_type executor() const { return physics_->executor(); }

  /// y = A x, the whole sinogram on every rank (collective; y contiguous).
  void apply(const View<const value_type, 2, memory_space>& x, const View<value_type, 2, memory_space>& y) const {
    check_apply_shapes(*this, x, y, "SinogramProjection<DistributedPhysics>");
    const View<value_type, 1, memory_space> flat = flat_view(y);
    fill(executor(), flat, value_type(0));
    physics_->local().forward(x, detail::sinogram_blocks(physics_->local(), rows_, y));
    physics_->communicator().allreduce_sum(flat);
  }

  /// x = A^T y on every rank (collective; x contiguous).
  void apply_adjoint(const View<const value_type, 2, memory_space>& y,
                     const View<value_type, 2, memory_space>& x) const {
    check_apply_adjoint_shapes(*this, y, x, "SinogramProjection<DistributedPhysics>");
    physics_->local().adjoint(detail::sinogram_blocks(physics_->local(), rows_, y), x);
    physics_->communicator().allreduce_sum(flat_view(x));
  }

private:
  const Physics* physics_;
  std::vector<index_t> rows_;  ///< the first view of each local block in the whole sinogram
  Extents<2> range_{};
};

}  // namespace pnpdist::learned
