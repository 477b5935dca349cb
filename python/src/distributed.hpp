#pragma once
// The distributed CT operators of pnpdist.mpi, DistributedProjector2D and DistributedProjector3D (one template
// over the dimension D): the views of a Geometry2D / Geometry3D split into K contiguous blocks (ct::split_views,
// sizes differing by at most one, the larger first) dealt round robin to the ranks of a communicator (block b to
// rank b mod size), each rank holding the Joseph projectors of its blocks only. As a LinearOperator it is
// row-distributed (a row: one view, (detector_cols) in 2D, (detector_rows, detector_cols) in 3D):
//   - forward (A x): this rank's rows, its blocks' projections concatenated in increasing block order, shape
//     (local views, *detector); not collective;
//   - adjoint (A^T y) with y this rank's rows: the sum over every rank's blocks (local adjoints summed in block
//     order, then one allreduce): the whole A^T y on every rank; collective;
//   - physics(y): the library's DistributedPhysics over the local blocks with their rows of y, whose gradient
//     and data fidelity (collective) are those of f(x) = 1/2 ||A x - y||^2 over the whole projections.
// float32 only (the solver's type). The blocks and measurements are checked on construction: K >= ranks (every
// rank needs a block) and K <= views, refused with InvalidArgument naming the numbers.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "communicator.hpp"
#include "operator.hpp"
#include "pnpdist/distributed/dealing.hpp"
#include "pnpdist/distributed/distributed_physics.hpp"
#include "pnpdist/operators/operator_ref.hpp"
#include "pnpdist/operators/stacked_physics.hpp"
#include "pnpdist/physics/ct/geometry.hpp"
#include "pnpdist/physics/ct/projector.hpp"

namespace pnpdist::python {

/// A refusal of this rank's arguments: raised as TypeError or ValueError by raise_on_every_rank.
struct RankError {
  bool type_error = false;
  std::string message;
};

/// Collective argument check (one allreduce): when any rank has an error, every rank raises, this rank's own
/// error where it has one, otherwise ValueError "<context>: N other rank(s) refused their arguments", so that no
/// rank is left waiting in the next collective.
void raise_on_every_rank(const Communicator& comm, const std::optional<RankError>& mine, const std::string& context);

/// Collective (one broadcast from `root`, one allreduce): the number of ranks whose `value` differs from root's,
/// root's value in `root_value`.
int count_differing(const Communicator& comm, std::int64_t value, int root, std::int64_t& root_value);

/// The geometry and projector of dimension D (2 or 3), and the shapes of their rows as messages name them.
template <std::size_t D>
struct CtOf;
template <>
struct CtOf<2> {
  using Geometry = ct::Geometry2D;
  using Projector = ct::JosephProjector2D<float, HostExec>;
  static constexpr const char* whole_rows = "the whole sinogram (views, detector_cols)";
  static constexpr const char* local_rows = "this rank's rows (local views, detector_cols)";
};
template <>
struct CtOf<3> {
  using Geometry = ct::Geometry3D;
  using Projector = ct::JosephProjector3D<float, HostExec>;
  static constexpr const char* whole_rows = "the whole projections (views, detector_rows, detector_cols)";
  static constexpr const char* local_rows = "this rank's rows (local views, detector_rows, detector_cols)";
};

template <std::size_t D>
class DistributedProjector final : public LinearOperator {
public:
  using Geometry = typename CtOf<D>::Geometry;
  using Projector = typename CtOf<D>::Projector;
  /// Refers to this object's projectors: valid while it lives (the bindings hold its lock meanwhile).
  using Physics = DistributedPhysics<StackedPhysics<OperatorRef<Projector>>, CommunicatorRef>;

  DistributedProjector(CommunicatorRef comm, const Geometry& geometry, index_t blocks, const HostExec& exec);

  [[nodiscard]] HostExec executor() const override { return exec_; }
  void apply_raw(const void* x, void* y) const override;
  void adjoint_raw(const void* y, void* x) const override;

  [[nodiscard]] const CommunicatorRef& communicator() const { return comm_; }
  [[nodiscard]] const Geometry& geometry() const { return geometry_; }
  [[nodiscard]] index_t blocks() const { return assignment_.count(); }
  /// Every block's views [begin, end) of the whole geometry, in block order.
  [[nodiscard]] const std::vector<std::pair<index_t, index_t>>& block_views() const { return block_views_; }
  /// The blocks of this rank, increasing.
  [[nodiscard]] const std::vector<index_t>& local_blocks() const { return local_blocks_; }

  /// The library's distributed physics of this rank's blocks with `rows` (this rank's rows of the measured
  /// projections, range-shaped, copied).
  [[nodiscard]] Physics physics(const float* rows) const;

private:
  CommunicatorRef comm_;
  Geometry geometry_;
  HostExec exec_;
  Assignment assignment_;
  std::vector<std::pair<index_t, index_t>> block_views_;
  std::vector<index_t> local_blocks_;
  std::vector<Projector> local_;  // the projectors of local_blocks_, in order
};

using DistributedProjector2D = DistributedProjector<2>;
using DistributedProjector3D = DistributedProjector<3>;
// Defined in distributed.cpp for D = 2 and 3.
extern template class DistributedProjector<2>;
extern template class DistributedProjector<3>;

}  // namespace pnpdist::python
