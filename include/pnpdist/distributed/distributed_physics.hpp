#pragma once
/// \file
/// DistributedPhysics: a data-fidelity term f(x) = 1/2 sum_i ||A_i x - y_i||^2 whose operators are dealt
/// to the ranks of a communicator. Each rank builds and stores only the operators it owns (and their
/// measurements), through a factory called once with the list of its operator indices:
///
///     auto physics = pnpdist::distribute_physics(8, comm, pnpdist::Dealing::round_robin(),
///         [&](std::span<const pnpdist::index_t> mine) { return make_stacked_physics(mine); });
///     physics.gradient(x, g);            // the same g on every rank
///
/// The factory returns the rank's local Physics (sum over its operators; it is called with an empty list
/// on a rank that owns none and must then give f = 0, grad f = 0). DistributedPhysics satisfies Physics:
///   - gradient(x, g): the local gradient (summed over local operators in increasing index order, as
///     the local physics does it), then one allreduce_sum of g in place: the full gradient on every rank.
///   - data_fidelity(x): the local value (double) plus one allreduce of a double.
/// Every rank must call gradient / data_fidelity together (they are collective) with the same x.
///
/// Rank-count independence: each operator's term is computed identically whatever rank owns it; only the
/// grouping of the float sum over operators changes with the number of ranks (local sums, then the
/// allreduce's own order). The gradient therefore agrees across rank counts to within the round-off of a
/// float sum of n_ops terms: |g_P - g_1| <= (n_ops - 1) eps_float sum_i |A_i^T (A_i x - y_i)| per element
/// (in practice a few ulps). Accumulating the local operators in a fixed (increasing) order makes the result
/// on a given number of ranks reproducible from run to run. data_fidelity is summed in double: relative
/// differences ~1e-16.

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "pnpdist/distributed/communicator.hpp"
#include "pnpdist/distributed/dealing.hpp"
#include "pnpdist/operators/physics.hpp"

namespace pnpdist {

template <Physics Local, class Comm>
requires Communicator<Comm, typename Local::executor_type::memory_space>
class DistributedPhysics {
public:
  using value_type = typename Local::value_type;
  using executor_type = typename Local::executor_type;
  using memory_space = typename executor_type::memory_space;
  using local_physics_type = Local;
  static constexpr std::size_t domain_rank = Local::domain_rank;

  /// `local` holds the operators `assignment.items_of(comm.rank())`.
  DistributedPhysics(Comm comm, Assignment assignment, Local local)
      : comm_(std::move(comm)),
        assignment_(std::move(assignment)),
        local_indices_(assignment_.items_of(comm_.rank())),
        local_(std::move(local)) {}

  [[nodiscard]] Extents<domain_rank> domain_shape() const { return local_.domain_shape(); }
  [[nodiscard]] executor_type executor() const { return local_.executor(); }

  /// f(x) over all operators of all ranks (collective).
  [[nodiscard]] double data_fidelity(const View<const value_type, domain_rank, memory_space>& x) const {
    return comm_.allreduce_sum(static_cast<double>(local_.data_fidelity(x)));
  }

  /// g = grad f(x) over all operators of all ranks, on every rank (collective). g must be contiguous.
  void gradient(const View<const value_type, domain_rank, memory_space>& x,
                const View<value_type, domain_rank, memory_space>& g) const {
    local_.gradient(x, g);
    comm_.allreduce_sum(flat_view(g));
  }

  [[nodiscard]] const Comm& communicator() const { return comm_; }
  /// Which rank owns which operator.
  [[nodiscard]] const Assignment& assignment() const { return assignment_; }
  /// The operator indices this rank owns, increasing.
  [[nodiscard]] const std::vector<index_t>& local_indices() const { return local_indices_; }
  [[nodiscard]] Local& local() { return local_; }
  [[nodiscard]] const Local& local() const { return local_; }

private:
  Comm comm_;
  Assignment assignment_;
  std::vector<index_t> local_indices_;
  Local local_;
};

/// Deals `operator_count` operators to the ranks of `comm` by `dealing` and builds this rank's part:
/// make_local(std::span<const index_t> indices) is called once, with this rank's operator indices in
/// increasing order (possibly none), and returns its local Physics.
template <class Comm, class Factory>
[[nodiscard]] auto distribute_physics(index_t operator_count, Comm comm, const Dealing& dealing, Factory&& make_local) {
  Assignment assignment = dealing.deal(operator_count, comm.size());
  const std::vector<index_t> mine = assignment.items_of(comm.rank());
  using Local = std::remove_cvref_t<std::invoke_result_t<Factory&, std::span<const index_t>>>;
  Local local = make_local(std::span<const index_t>(mine));
  return DistributedPhysics<Local, Comm>(std::move(comm), std::move(assignment), std::move(local));
}

}  // namespace pnpdist
