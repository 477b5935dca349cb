#pragma once
/// \file
/// Deterministic reductions. transform_reduce(exec, n, op, f) combines f(0), ..., f(n-1) with op in an
/// order fixed by n alone, so the result has the same bits whatever the executor and its number of
/// threads:
///   - indices are cut into chunks of reduction_chunk_size = lanes * values_per_lane consecutive indices;
///   - within a chunk, lane l folds indices l, l + lanes, l + 2 lanes, ... in order, then the lanes are
///     combined by a binary tree (lane l += lane l + s, for s = lanes/2, ..., 1);
///   - the chunk results form a new sequence that is reduced the same way, until one value is left.
/// The chunk reduction is one host/device function: the CUDA backend runs it with one thread per lane,
/// so device results equal host results when f and op round identically on both.

#include <cmath>
#include <limits>
#include <vector>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

inline constexpr index_t reduction_lanes = 256;
inline constexpr index_t reduction_values_per_lane = 16;
inline constexpr index_t reduction_chunk_size = reduction_lanes * reduction_values_per_lane;

/// Reduction operations: a value_type, an identity and an associative combine.
template <class T>
struct SumOp {
  using value_type = T;
  PNPDIST_HOST_DEVICE static constexpr T identity() { return T(0); }
  PNPDIST_HOST_DEVICE constexpr T operator()(T a, T b) const { return a + b; }
};

/// Maximum; a NaN operand propagates (the result is NaN when any value is NaN).
template <class T>
struct MaxOp {
  using value_type = T;
  PNPDIST_HOST_DEVICE static constexpr T identity() { return -std::numeric_limits<T>::infinity(); }
  PNPDIST_HOST_DEVICE constexpr T operator()(T a, T b) const { return (a > b || a != a) ? a : b; }
};

/// Minimum; a NaN operand propagates.
template <class T>
struct MinOp {
  using value_type = T;
  PNPDIST_HOST_DEVICE static constexpr T identity() { return std::numeric_limits<T>::infinity(); }
  PNPDIST_HOST_DEVICE constexpr T operator()(T a, T b) const { return (a < b || a != a) ? a : b; }
};

/// Combines the `lanes` partial values in place by the fixed binary tree; returns lanes[0].
template <class Op>
PNPDIST_HOST_DEVICE typename Op::value_type reduce_lanes_tree(typename Op::value_type* lanes, const Op& op) {
  for (index_t stride = reduction_lanes / 2; stride > 0; stride /= 2)
    for (index_t l = 0; l < stride; ++l) lanes[l] = op(lanes[l], lanes[l + stride]);
  return lanes[0];
}

/// The value lane `lane` of chunk `chunk` accumulates: f(i) for its indices i < n, folded in order.
template <class Op, class F>
PNPDIST_HOST_DEVICE typename Op::value_type reduce_lane(index_t chunk, index_t lane, index_t n, const Op& op,
                                                        const F& f) {
  typename Op::value_type acc = Op::identity();
  const index_t first = chunk * reduction_chunk_size + lane;
  for (index_t k = 0; k < reduction_values_per_lane; ++k) {
    const index_t i = first + k * reduction_lanes;
    if (i < n) acc = op(acc, f(i));
  }
  return acc;
}

/// Reduction of one chunk, computed serially (the host path). Folds the values in the same per-lane order
/// as reduce_lane, but sweeps the chunk contiguously (all lanes for k = 0, then k = 1, ...) so that the
/// loop vectorizes; full chunks skip the bounds test. `f` is taken by value: a local copy lets the compiler
/// keep its pointers in registers instead of reloading them after every store to the lanes.
template <class Op, class F>
PNPDIST_HOST_DEVICE typename Op::value_type reduce_chunk(index_t chunk, index_t n, const Op& op, const F f) {
  typename Op::value_type lanes[reduction_lanes];
  for (index_t l = 0; l < reduction_lanes; ++l) lanes[l] = Op::identity();
  const index_t first = chunk * reduction_chunk_size;
  if (first + reduction_chunk_size <= n) {
    for (index_t k = 0; k < reduction_values_per_lane; ++k)
      for (index_t l = 0; l < reduction_lanes; ++l) lanes[l] = op(lanes[l], f(first + k * reduction_lanes + l));
  } else {
    for (index_t k = 0; k < reduction_values_per_lane; ++k)
      for (index_t l = 0; l < reduction_lanes; ++l) {
        const index_t i = first + k * reduction_lanes + l;
        if (i < n) lanes[l] = op(lanes[l], f(i));
      }
  }
  return reduce_lanes_tree(lanes, op);
}

/// Number of chunks covering n indices.
PNPDIST_HOST_DEVICE constexpr index_t reduction_chunk_count(index_t n) {
  return (n + reduction_chunk_size - 1) / reduction_chunk_size;
}

namespace detail {

template <class T>
struct ReadPartial {
  const T* values;
  PNPDIST_HOST_DEVICE T operator()(index_t i) const { return values[i]; }
};

template <class Op, class F>
struct ReduceChunksKernel {
  using value_type = typename Op::value_type;
  value_type* partials;
  index_t n;
  Op op;
  F f;
  PNPDIST_HOST_DEVICE void operator()(index_t chunk) const { partials[chunk] = reduce_chunk(chunk, n, op, f); }
};

}  // namespace detail

/// op-reduction of f(0..n-1) on a host executor (the identity for n == 0). Deterministic: see the file
/// comment. The chunks of each level are processed in parallel by the executor.
template <class Exec, class Op, class F>
requires is_host_executor_v<Exec>
inline typename Op::value_type transform_reduce(const Exec& exec, index_t n, const Op& op, const F& f) {
  using T = typename Op::value_type;
  if (n <= 0) return Op::identity();
  // An iteration reduces a whole chunk; measured on 2 cores, a chunk costs about 1024 element-wise updates
  // (double conversion and accumulation), so chunk launches go parallel from 16 chunks on.
  const auto& chunk_exec = with_iteration_cost(exec, reduction_chunk_size / 4);
  std::vector<T> partials(static_cast<std::size_t>(reduction_chunk_count(n)));
  for_each(chunk_exec, reduction_chunk_count(n), detail::ReduceChunksKernel<Op, F>{partials.data(), n, op, f});
  while (partials.size() > 1) {
    const auto m = static_cast<index_t>(partials.size());
    std::vector<T> next(static_cast<std::size_t>(reduction_chunk_count(m)));
    for_each(chunk_exec, reduction_chunk_count(m),
             detail::ReduceChunksKernel<Op, detail::ReadPartial<T>>{next.data(), m, op, {partials.data()}});
    partials.swap(next);
  }
  return partials[0];
}

}  // namespace pnpdist
