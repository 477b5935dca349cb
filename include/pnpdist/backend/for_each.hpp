#pragma once
/// \file
/// for_each over N-dimensional index spaces, for every executor. The 1-D launch for_each(exec, n, f) is
/// defined by each executor's header; this header adds for_each(exec, extents, f), which calls
/// f(i0, i1, ..., i_{R-1}) once for every multi-index, the last index varying fastest.

#include <cstddef>
#include <utility>

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

}  // namespace detail

/// The executor for a launch whose iterations each cost about `elements_per_iteration` element-wise
/// updates. Executors with a serial threshold (OpenMP) overload it; for the others it is the executor.
template <class Exec>
inline const Exec& with_iteration_cost(const Exec& exec, index_t /*elements_per_iteration*/) {
  return exec;
}

/// Calls f(i0, ..., i_{R-1}) for every index of `extents`. For Rank 1 this is the 1-D launch.
template <class Exec, std::size_t Rank, class F>
inline void for_each(const Exec& exec, const Extents<Rank>& extents, const F& f) {
  static_assert(Rank >= 1, "for_each over a rank-0 index space");
  if (product(extents) == 0) return;
  if constexpr (Rank == 1) {
    for_each(exec, extents[0], f);
  } else {
    index_t outer = 1;
    for (std::size_t d = 0; d + 1 < Rank; ++d) outer *= extents[d];
    // An iteration is a whole row of extents[Rank - 1] elements.
    for_each(with_iteration_cost(exec, extents[Rank - 1]), outer, detail::RowKernel<Rank, F>{extents, f});
  }
}

}  // namespace pnpdist
