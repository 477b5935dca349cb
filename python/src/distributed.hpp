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
// pnpdist.mpi.DistributedOperator (below) is the same row distribution of any bound operator: each rank passes its
// own share of the rows as one float32 LinearOperator, of the same domain on every rank.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
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
/// error where it has one (rethrown as it is), otherwise ValueError "<context>: N other rank(s) refused their
/// arguments", so that no rank is left waiting in the next collective.
void rethrow_on_every_rank(const Communicator& comm, const std::exception_ptr& mine, const std::string& context);

/// The same with this rank's error as a RankError (TypeError or ValueError).
void raise_on_every_rank(const Communicator& comm, const std::optional<RankError>& mine, const std::string& context);

/// check() on this rank, its exception raised on every rank as rethrow_on_every_rank does (collective);
/// returns check's result.
template <class F>
auto check_on_every_rank(const Communicator& comm, const std::string& context, F&& check) {
  using Result = decltype(check());
  std::optional<Result> result;
  std::exception_ptr error;
  try {
    result.emplace(check());
  } catch (...) {
    error = std::current_exception();
  }
  rethrow_on_every_rank(comm, error, context);
  return std::move(*result);
}

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
  /// This operator's lock, held by the callers of physics().
  [[nodiscard]] std::unique_lock<std::mutex> lock() const { return std::unique_lock<std::mutex>(mutex()); }

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

/// pnpdist.mpi.DistributedOperator: row-distributed like DistributedProjector, with this rank's rows any bound
/// float32 operator `local` of domain rank 2 or 3 (the same domain on every rank; the binding checks these
/// collectively, and refuses a local that is itself distributed, whose adjoint is already collective):
///   - forward: local's forward (this rank's rows, range = local's range); not collective;
///   - adjoint: local's adjoint, then one allreduce sum: the whole A^T y on every rank; collective;
///   - physics<R>(rows): the library's DistributedPhysics of the one local operator (rank r owns operator r of
///     the communicator's size), gradient and data fidelity of 1/2 ||A x - y||^2 over every rank's rows.
/// Local is used under its own lock: forward / adjoint take it per call, the callers of physics() hold lock().
class DistributedOperator final : public LinearOperator {
public:
  static constexpr const char* local_rows = "this rank's rows: local's range";
  template <std::size_t R>
  using Physics = DistributedPhysics<StackedPhysics<ShapedOperator<float, R>>, CommunicatorRef>;

  /// `owner` is the Python object of `local`, kept alive by this operator.
  DistributedOperator(CommunicatorRef comm, nb::object owner, const LinearOperator& local);

  [[nodiscard]] HostExec executor() const override { return local_->executor(); }
  void apply_raw(const void* x, void* y) const override;
  void adjoint_raw(const void* y, void* x) const override;

  [[nodiscard]] const CommunicatorRef& communicator() const { return comm_; }
  [[nodiscard]] const nb::object& owner() const { return owner_; }
  /// This operator's lock and local's (std::scoped_lock: deadlock-free): held by the callers of physics().
  [[nodiscard]] std::scoped_lock<std::mutex, std::mutex> lock() const {
    return std::scoped_lock<std::mutex, std::mutex>(mutex(), local_->mutex());
  }

  /// The library's distributed physics of local with `rows` (this rank's rows, range-sized, copied); R: the
  /// domain rank, as domain_shape() has it.
  template <std::size_t R>
  [[nodiscard]] Physics<R> physics(const float* rows) const {
    using Op = ShapedOperator<float, R>;
    const Op op{local_, local_->executor()};
    std::vector<Tensor<float, 1>> measured;
    measured.emplace_back(op.range_shape());
    std::copy(rows, rows + measured[0].size(), measured[0].data());
    return Physics<R>(comm_, assignment_, StackedPhysics<Op>(std::vector<Op>{op}, std::move(measured)));
  }

private:
  CommunicatorRef comm_;
  nb::object owner_;
  const LinearOperator* local_;
  Assignment assignment_;  // operator r on rank r
};

/// The distributed physics of a row-distributed operator of domain rank R with this rank's rows; the caller
/// holds op.lock().
template <std::size_t R, std::size_t D>
  requires(R == D)
[[nodiscard]] typename DistributedProjector<D>::Physics physics_of(const DistributedProjector<D>& op,
                                                                   const float* rows) {
  return op.physics(rows);
}
template <std::size_t R>
[[nodiscard]] DistributedOperator::Physics<R> physics_of(const DistributedOperator& op, const float* rows) {
  return op.template physics<R>(rows);
}

/// The description of this rank's rows in the messages.
template <std::size_t D>
const char* rows_description(const DistributedProjector<D>&) {
  return CtOf<D>::local_rows;
}
inline const char* rows_description(const DistributedOperator&) { return DistributedOperator::local_rows; }

/// When `op` is row-distributed (DistributedProjector2D, DistributedProjector3D, DistributedOperator: the one list
/// of these classes), calls f(op as that class) and returns true; returns false otherwise.
template <class F>
bool visit_row_distributed(const LinearOperator& op, F&& f) {
  if (const auto* p = dynamic_cast<const DistributedProjector2D*>(&op)) return f(*p), true;
  if (const auto* p = dynamic_cast<const DistributedProjector3D*>(&op)) return f(*p), true;
  if (const auto* p = dynamic_cast<const DistributedOperator*>(&op)) return f(*p), true;
  return false;
}

/// f(std::integral_constant<std::size_t, R>{}) for the operator's domain rank R (2 or 3).
template <std::size_t D, class F>
decltype(auto) visit_domain_rank(const DistributedProjector<D>&, F&& f) {
  return f(std::integral_constant<std::size_t, D>{});
}
template <class F>
decltype(auto) visit_domain_rank(const DistributedOperator& op, F&& f) {
  if (op.domain_shape().size() == 2) return f(std::integral_constant<std::size_t, 2>{});
  return f(std::integral_constant<std::size_t, 3>{});
}

}  // namespace pnpdist::python
