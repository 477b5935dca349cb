#pragma once
/// \file
/// for_each over iteration spaces (iteration_space.hpp) in the shape of an executor's launch policy
/// (launch_policy.hpp), for every executor:
///
///     for_each(exec, n, f);                        // f(i), i in [0, n): the executor's default shape
///     for_each(exec, extents, f);                  // f(i0, ..., i_{R-1}), the last index varying fastest
///     for_each(exec, Range{n} or MDRange{e}, f);   // the same, the space named
///     for_each(exec, policy, space, f);            // the same in the shape of `policy`
///
/// Each executor's header defines the one 1-D launch for_each(exec, policy, Range, f) and the plain
/// for_each(exec, n, f); this header routes everything else to it. N-D spaces become 1-D launches by the
/// policy's MDShape: rows (RowKernel) or one iteration per multi-index (MultiIndexKernel).

#include <cstddef>
#include <utility>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/backend/iteration_space.hpp"
#include "pnpdist/backend/launch_cost.hpp"
#include "pnpdist/backend/launch_policy.hpp"
#include "pnpdist/backend/openmp.hpp"
#include "pnpdist/backend/serial.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {
namespace detail {

/// Calls f(i0, ..., i_{R-2}, j) for j in [0, inner) after splitting `outer` into the leading R-1 indices.
/// The flattened launch over the leading dimensions keeps every iteration independent, so any executor
/// can run it, while the innermost loop stays contiguous and vectorizable.
template <std::size_t Rank, class F>
struct RowKernel {
  Extents<Rank> extents;
  F f;

  PNPDIST_HOST_DEVICE void operator()(index_t outer) const { call(outer, std::make_index_sequence<Rank - 1>{}); }

private:
  template <std::size_t... D>
  PNPDIST_HOST_DEVICE void call(index_t outer, std::index_sequence<D...>) const {
    index_t lead[Rank > 1 ? Rank - 1 : 1] = {};
    for (std::size_t d = Rank - 1; d-- > 0;) {
      lead[d] = outer % extents[d];
      outer /= extents[d];
    }
    const index_t inner = extents[Rank - 1];
    for (index_t j = 0; j < inner; ++j) f(lead[D]..., j);
  }
};

/// Calls f(i0, ..., i_{R-1}) for the multi-index of row-major position `linear`.
template <std::size_t Rank, class F>
struct MultiIndexKernel {
  Extents<Rank> extents;
  F f;

  PNPDIST_HOST_DEVICE void operator()(index_t linear) const { call(linear, std::make_index_sequence<Rank>{}); }

  /// The cost f declares, when it declares one (launch_cost.hpp): the same iterations.
  [[nodiscard]] LaunchCost launch_cost(index_t iterations) const
    requires DeclaresLaunchCost<F>
  {
    return f.launch_cost(iterations);
  }

private:
  template <std::size_t... D>
  PNPDIST_HOST_DEVICE void call(index_t linear, std::index_sequence<D...>) const {
    index_t index[Rank] = {};
    for (std::size_t d = Rank; d-- > 0;) {
      index[d] = linear % extents[d];
      linear /= extents[d];
    }
    f(index[D]...);
  }
};

}  // namespace detail

/// The executor for a launch whose iterations each cost about `elements_per_iteration` element-wise
/// updates. Executors with a serial threshold (OpenMP) overload it; for the others it is the executor.
template <class Exec>
inline const Exec& with_iteration_cost(const Exec& exec, index_t /*elements_per_iteration*/) {
  return exec;
}

/// Calls f(i0, ..., i_{R-1}) for every multi-index of `space` in the shape of `policy` (which must be
/// the executor's policy type, launch_policy_t<Exec>).
template <Executor Exec, class Policy, std::size_t Rank, class F>
inline void for_each(const Exec& exec, const Policy& policy, const MDRange<Rank>& space, const F& f) {
  static_assert(LaunchPolicyOf<Policy, Exec>,
                "pnpdist::for_each: the policy is not this executor's launch policy type (launch_policy_t<Exec>)");
  if (space.size() == 0) return;
  const Extents<Rank>& extents = space.extents();
  if constexpr (Policy::md_shape == MDShape::elements) {
    for_each(exec, policy, Range{space.size()}, detail::MultiIndexKernel<Rank, F>{extents, f});
  } else if constexpr (Rank == 1) {
    for_each(exec, policy, Range{extents[0]}, f);
  } else {
    index_t outer = 1;
    for (std::size_t d = 0; d + 1 < Rank; ++d) outer *= extents[d];
    // An iteration is a whole row of extents[Rank - 1] elements.
    for_each(exec, policy.with_iteration_cost(extents[Rank - 1]), Range{outer}, detail::RowKernel<Rank, F>{extents, f});
  }
}

/// Calls f(i) for i in `range` in the executor's default shape.
template <Executor Exec, class F>
inline void for_each(const Exec& exec, Range range, const F& f) {
  for_each(exec, default_launch_policy(exec), range, f);
}

/// Calls f(i0, ..., i_{R-1}) for every multi-index of `space` in the executor's default shape.
template <Executor Exec, std::size_t Rank, class F>
inline void for_each(const Exec& exec, const MDRange<Rank>& space, const F& f) {
  for_each(exec, default_launch_policy(exec), space, f);
}

/// Calls f(i0, ..., i_{R-1}) for every index of `extents`. For Rank 1 this is the 1-D launch on the
/// host executors, one thread per index on Cuda.
template <Executor Exec, std::size_t Rank, class F>
inline void for_each(const Exec& exec, const Extents<Rank>& extents, const F& f) {
  static_assert(Rank >= 1, "for_each over a rank-0 index space");
  for_each(exec, MDRange<Rank>{extents}, f);
}

}  // namespace pnpdist
