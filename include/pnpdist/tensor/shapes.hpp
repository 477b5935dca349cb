#pragma once
/// \file
/// Shapes of imaging data: batches of images N x C x H x W and of volumes N x C x D x H x W.

#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// N x C x H x W.
using ImageShape = Extents<4>;
/// N x C x D x H x W.
using VolumeShape = Extents<5>;

inline constexpr ImageShape image_shape(index_t batch, index_t channels, index_t height, index_t width) {
  return ImageShape{batch, channels, height, width};
}
inline constexpr VolumeShape volume_shape(index_t batch, index_t channels, index_t depth, index_t height,
                                          index_t width) {
  return VolumeShape{batch, channels, depth, height, width};
}

/// Named accessors; valid for both image and volume shapes (the spatial axes are the trailing ones).
template <std::size_t Rank>
requires(Rank == 4 || Rank == 5) constexpr index_t batch_size(const Extents<Rank>& s) { return s[0]; }
template <std::size_t Rank>
requires(Rank == 4 || Rank == 5) constexpr index_t channels(const Extents<Rank>& s) { return s[1]; }
template <std::size_t Rank>
requires(Rank == 5) constexpr index_t depth(const Extents<Rank>& s) { return s[2]; }
template <std::size_t Rank>
requires(Rank == 4 || Rank == 5) constexpr index_t height(const Extents<Rank>& s) { return s[Rank - 2]; }
template <std::size_t Rank>
requires(Rank == 4 || Rank == 5) constexpr index_t width(const Extents<Rank>& s) { return s[Rank - 1]; }

}  // namespace pnpdist
