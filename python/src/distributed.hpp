#pragma once
// The distributed 2D CT operator of pnpdist.mpi: the views of a Geometry2D split into K contiguous blocks
// (ct::split_views, sizes differing by at most one, the larger first) dealt round robin to the ranks of a
// communicator (block b to rank b mod size), each rank holding the Joseph projectors of its blocks only. As a
// LinearOperator it is row-distributed:
//   - forward (A x): this rank's rows, its blocks' sinograms concatenated in increasing block order, shape
//     (local views, detector_cols); not collective;
//   - adjoint (A^T y) with y this rank's rows: the sum over every rank's blocks (local adjoints summed in block
//     order, then one allreduce): the whole A^T y on every rank; collective;
//   - physics(y): the library's DistributedPhysics over the local blocks with their rows of y, whose gradient
//     and data fidelity (collective) are those of f(x) = 1/2 ||A x - y||^2 over the whole sinogram.
// float32 only (the solver's type). The blocks and measurements are checked on construction: K >= ranks (every
// rank needs a block) and K <= views, refused with InvalidArgument naming the numbers.

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

class DistributedProjector2D final : public LinearOperator {
public:
  using Projector = ct::JosephProjector2D<float, HostExec>;
  /// Refers to this object's projectors: valid while it lives (the bindings hold its lock meanwhile).
  using Physics = DistributedPhysics<StackedPhysics<OperatorRef<Projector>>, CommunicatorRef>;

  DistributedProjector2D(CommunicatorRef comm, const ct::Geometry2D& geometry, index_t blocks, const HostExec& exec);

  [[nodiscard]] HostExec executor() const override { return exec_; }
  void apply_raw(const void* x, void* y) const override;
  void adjoint_raw(const void* y, void* x) const override;

  [[nodiscard]] const CommunicatorRef& communicator() const { return comm_; }
  [[nodiscard]] const ct::Geometry2D& geometry() const { return geometry_; }
  [[nodiscard]] index_t blocks() const { return assignment_.count(); }
  /// Every block's views [begin, end) of the whole geometry, in block order.
  [[nodiscard]] const std::vector<std::pair<index_t, index_t>>& block_views() const { return block_views_; }
  /// The blocks of this rank, increasing.
  [[nodiscard]] const std::vector<index_t>& local_blocks() const { return local_blocks_; }

  /// The library's distributed physics of this rank's blocks with `rows` (this rank's rows of the measured
  /// sinogram, range-shaped, copied).
  [[nodiscard]] Physics physics(const float* rows) const;

private:
  CommunicatorRef comm_;
  ct::Geometry2D geometry_;
  HostExec exec_;
  Assignment assignment_;
  std::vector<std::pair<index_t, index_t>> block_views_;
  std::vector<index_t> local_blocks_;
  std::vector<Projector> local_;  // the projectors of local_blocks_, in order
};

}  // namespace pnpdist::python
