#pragma once
/// \file
/// Iteration spaces: what a kernel declares it iterates over, independent of the executor that runs it.
/// `Range{n}` is the 1-D space [0, n), the kernel called as f(i); `MDRange<Rank>{extents}` is the N-D
/// space of every multi-index of `extents`, the kernel called as f(i0, ..., i_{R-1}), the last index
/// varying fastest. How the iterations are spread over threads, blocks or chunks is the executor's launch
/// policy's business (launch_policy.hpp), never the space's. A space with no iteration (n <= 0, an extent
/// 0) launches nothing.

#include <cstddef>

#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// The 1-D iteration space [0, n): n <= 0 is empty. Explicit, so an index count never converts to it.
class Range {
public:
  constexpr Range() = default;
  explicit constexpr Range(index_t n) : size_(n) {}

  /// The number of iterations (<= 0: none).
  [[nodiscard]] constexpr index_t size() const { return size_; }

private:
  index_t size_ = 0;
};

/// The N-D iteration space of every multi-index of `extents` (row-major order: last index fastest).
template <std::size_t Rank>
class MDRange {
  static_assert(Rank >= 1, "MDRange: a rank-0 iteration space");

public:
  explicit constexpr MDRange(const Extents<Rank>& extents) : extents_(extents) {}

  [[nodiscard]] constexpr const Extents<Rank>& extents() const { return extents_; }
  /// The number of multi-indices (0 when an extent is 0).
  [[nodiscard]] constexpr index_t size() const { return product(extents_); }
  static constexpr std::size_t rank() { return Rank; }

private:
  Extents<Rank> extents_;
};

template <std::size_t Rank>
MDRange(const Extents<Rank>&) -> MDRange<Rank>;

}  // namespace pnpdist
