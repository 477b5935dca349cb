#pragma once
/// \file
/// Index type, extents and the accumulator type used by reductions.

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "pnpdist/core/macros.hpp"

namespace pnpdist {

/// Signed 64-bit index: sizes of large volumes exceed 2^31 elements.
using index_t = std::int64_t;

/// Extent of each dimension of a Rank-dimensional index space, slowest-varying first
/// (N x C x H x W for images, N x C x D x H x W for volumes). An aggregate usable in device code:
/// `Extents<4>{1, 3, 480, 640}`.
template <std::size_t Rank>
struct Extents {
  index_t values[Rank > 0 ? Rank : 1];

  static constexpr std::size_t rank() { return Rank; }
  PNPDIST_HOST_DEVICE constexpr index_t& operator[](std::size_t d) { return values[d]; }
  PNPDIST_HOST_DEVICE constexpr const index_t& operator[](std::size_t d) const { return values[d]; }
  constexpr index_t* begin() { return values; }
  constexpr index_t* end() { return values + Rank; }
  constexpr const index_t* begin() const { return values; }
  constexpr const index_t* end() const { return values + Rank; }

  friend constexpr bool operator==(const Extents& a, const Extents& b) {
    for (std::size_t d = 0; d < Rank; ++d)
      if (a.values[d] != b.values[d]) return false;
    return true;
  }
};

/// Number of points of an index space (1 for Rank 0).
template <std::size_t Rank>
PNPDIST_HOST_DEVICE constexpr index_t product(const Extents<Rank>& extents) {
  index_t n = 1;
  for (std::size_t d = 0; d < Rank; ++d) n *= extents[d];
  return n;
}

/// "(2, 3, 4)": for error messages.
template <std::size_t Rank>
inline std::string to_string(const Extents<Rank>& extents) {
  std::string s = "(";
  for (std::size_t d = 0; d < Rank; ++d) s += (d ? ", " : "") + std::to_string(extents[d]);
  return s + ")";
}

/// Type in which reductions accumulate values of type T: double for float and double.
template <class T>
using accumulator_t = std::conditional_t<std::is_floating_point_v<T>, double, T>;

}  // namespace pnpdist
