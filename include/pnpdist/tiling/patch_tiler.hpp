#pragma once
/// \file
/// PatchTiler<Dim>: the index algebra that cuts a Dim-dimensional image (Dim = 2: H x W, Dim = 3:
/// D x H x W) into overlapping tiles for a denoiser, and puts the denoised tiles back together. It owns no
/// memory: a tile is a handful of integers computed on demand.
///
/// Along each axis of extent n, with patch p and overlap o (both per axis):
///   - the image is seen reflect-padded by o (reflection about the border sample, numpy's "reflect";
///     reflect_index() folds any distance, so pads larger than the image are defined too);
///   - tile k (k = 0 .. K-1, K = ceil(n / p)) has its core at [k p, min((k + 1) p, n)): the cores are
///     disjoint and cover [0, n) exactly;
///   - its window (what the denoiser sees) has the extent T = p + 2 o rounded up to the denoiser's size
///     multiple, and starts at origin = s - o, where s = k p for every tile but the last and s = n - p for
///     the last, which is shifted to end at the border instead of running past it. The rounding surplus
///     T - (p + 2 o) is added after the core, so every core has at least o samples of context before it and
///     after it inside the window.
/// A patch larger than the image along an axis is clamped to the image extent (one tile along that axis);
/// this is the documented fallback, never an error. A non-positive patch, a negative overlap or an
/// overlap larger than the patch is an invalid_argument.
///
/// Tiles are numbered row-major over (batch item, tile along axis 0, ..., tile along axis Dim-1): tile t of
/// a grid is tile(t), and contiguous ranges of tile numbers are what ranks and batches receive.

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// The sample of [0, n) that index i of the infinitely reflect-padded axis reads: reflection about 0 and
/// n - 1 without repeating the border sample (-1 -> 1, n -> n - 2), repeated with period 2 (n - 1).
/// n == 1 maps everything to 0.
PNPDIST_HOST_DEVICE constexpr index_t reflect_index(index_t i, index_t n) {
  if (n <= 1) return 0;
  const index_t period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

/// The smallest multiple of `multiple` that is >= value (value >= 0, multiple >= 1).
constexpr index_t round_up_to_multiple(index_t value, index_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

/// One tile of a TileGrid, in image coordinates (all per spatial axis).
template <std::size_t Dim>
struct Tile {
  index_t batch;              ///< index of the image in the batch (the N axis)
  Extents<Dim> origin;        ///< image coordinate of the window's first sample; < 0 or past the end: reflected
  Extents<Dim> extents;       ///< window extent (the same for every tile of a grid)
  Extents<Dim> core_begin;    ///< image coordinate of the core's first sample
  Extents<Dim> core_extents;  ///< extent of the core (<= patch)
  /// Position of the core inside the window: core_begin - origin.
  [[nodiscard]] PNPDIST_HOST_DEVICE Extents<Dim> core_offset() const {
    Extents<Dim> offset{};
    for (std::size_t d = 0; d < Dim; ++d) offset[d] = core_begin[d] - origin[d];
    return offset;
  }
};

/// A contiguous range [begin, begin + size) of tile numbers.
struct TileRange {
  index_t begin = 0;
  index_t size = 0;
  friend constexpr bool operator==(const TileRange&, const TileRange&) = default;
};

/// The tiles of one image shape: what PatchTiler::grid() returns. A value type of a few integers.
template <std::size_t Dim>
class TileGrid {
public:
  TileGrid(index_t batch, const Extents<Dim>& image, const Extents<Dim>& patch, const Extents<Dim>& overlap,
           const Extents<Dim>& tile_extents)
      : batch_(batch), image_(image), patch_(patch), overlap_(overlap), tile_extents_(tile_extents) {
    for (std::size_t d = 0; d < Dim; ++d) tiles_per_axis_[d] = (image_[d] + patch_[d] - 1) / patch_[d];
  }

  /// Total number of tiles: batch x product(tiles_per_axis()).
  [[nodiscard]] index_t size() const { return batch_ * product(tiles_per_axis_); }
  /// Number of images in the batch.
  [[nodiscard]] index_t batch() const { return batch_; }
  /// Spatial extents of the image.
  [[nodiscard]] const Extents<Dim>& image_extents() const { return image_; }
  /// Core size along each axis: the tiler's patch clamped to the image.
  [[nodiscard]] const Extents<Dim>& patch() const { return patch_; }
  [[nodiscard]] const Extents<Dim>& overlap() const { return overlap_; }
  /// Window extent of every tile (patch + 2 overlap, rounded up to the size multiple).
  [[nodiscard]] const Extents<Dim>& tile_extents() const { return tile_extents_; }
  /// ceil(image / patch) along each axis.
  [[nodiscard]] const Extents<Dim>& tiles_per_axis() const { return tiles_per_axis_; }

  /// Tile number t (0 <= t < size()); throws invalid_argument outside.
  [[nodiscard]] Tile<Dim> tile(index_t t) const {
    require(t >= 0 && t < size(), [&] {
      return "TileGrid::tile: tile " + std::to_string(t) + " out of range [0, " + std::to_string(size()) + ")";
    });
    return tile_unchecked(t);
  }

  /// Tile number t without the range check (0 <= t < size() is the caller's precondition): what tile()
  /// returns, callable in device code. A TileGrid is trivially copyable, so kernels take it by value.
  [[nodiscard]] PNPDIST_HOST_DEVICE Tile<Dim> tile_unchecked(index_t t) const {
    Tile<Dim> result{};
    result.extents = tile_extents_;
    for (std::size_t d = Dim; d-- > 0;) {
      const index_t k = t % tiles_per_axis_[d];
      t /= tiles_per_axis_[d];
      const index_t n = image_[d];
      const index_t p = patch_[d];
      result.core_begin[d] = k * p;
      result.core_extents[d] = ((k + 1) * p < n ? (k + 1) * p : n) - k * p;
      const index_t start = (k + 1 == tiles_per_axis_[d]) ? n - p : k * p;  // the last tile ends at the border
      result.origin[d] = start - overlap_[d];
    }
    result.batch = t;
    return result;
  }

  /// The range [first, first + count) cut into consecutive batches of at most max_batch_size tiles
  /// (0: one batch holding the whole range). Throws invalid_argument for a negative max_batch_size.
  [[nodiscard]] static std::vector<TileRange> batches(TileRange range, index_t max_batch_size) {
    require(max_batch_size >= 0, [&] {
      return "TileGrid::batches: max_batch_size must be >= 0 (0 = all at once), got " + std::to_string(max_batch_size);
    });
    std::vector<TileRange> result;
    const index_t step = max_batch_size == 0 ? std::max<index_t>(range.size, 1) : max_batch_size;
    for (index_t b = 0; b < range.size; b += step) result.push_back({range.begin + b, std::min(step, range.size - b)});
    return result;
  }

private:
  index_t batch_;
  Extents<Dim> image_;
  Extents<Dim> patch_;
  Extents<Dim> overlap_;
  Extents<Dim> tile_extents_;
  Extents<Dim> tiles_per_axis_{};
};

static_assert(std::is_trivially_copyable_v<TileGrid<2>> && std::is_trivially_copyable_v<TileGrid<3>>,
              "kernels take a TileGrid by value");

/// Patch and overlap per spatial axis (see the file comment). Cheap to copy; owns no memory.
template <std::size_t Dim>
class PatchTiler {
  static_assert(Dim == 2 || Dim == 3, "PatchTiler works on 2D images and 3D volumes");

public:
  static constexpr std::size_t dim = Dim;

  /// Throws invalid_argument unless 0 < patch and 0 <= overlap <= patch on every axis.
  PatchTiler(const Extents<Dim>& patch, const Extents<Dim>& overlap) : patch_(patch), overlap_(overlap) {
    for (std::size_t d = 0; d < Dim; ++d) {
      require(patch[d] > 0 && overlap[d] >= 0, [&] {
        return "PatchTiler: patch " + to_string(patch) + " must be positive and overlap " + to_string(overlap) +
               " non-negative on every axis";
      });
      require(overlap[d] <= patch[d], [&] {
        return "PatchTiler: overlap " + to_string(overlap) + " exceeds patch " + to_string(patch) + " on axis " +
               std::to_string(d);
      });
    }
  }
  /// The same patch and overlap on every axis.
  PatchTiler(index_t patch, index_t overlap) : PatchTiler(uniform(patch), uniform(overlap)) {}

  [[nodiscard]] const Extents<Dim>& patch() const { return patch_; }
  [[nodiscard]] const Extents<Dim>& overlap() const { return overlap_; }

  /// The tiles of `batch` images of spatial extents `image`, windows rounded up to a multiple of
  /// `size_multiple` (denoiser_size_multiple()). Throws invalid_argument for an empty image, a negative
  /// batch or a size multiple below 1.
  [[nodiscard]] TileGrid<Dim> grid(const Extents<Dim>& image, index_t batch = 1, index_t size_multiple = 1) const {
    require(batch >= 0, [&] { return "PatchTiler::grid: negative batch " + std::to_string(batch); });
    require(size_multiple >= 1,
            [&] { return "PatchTiler::grid: size multiple must be >= 1, got " + std::to_string(size_multiple); });
    Extents<Dim> patch{};
    Extents<Dim> tile{};
    for (std::size_t d = 0; d < Dim; ++d) {
      require(image[d] > 0, [&] { return "PatchTiler::grid: empty image of extents " + to_string(image); });
      patch[d] = std::min(patch_[d], image[d]);  // fallback: a patch larger than the image becomes the image
      tile[d] = round_up_to_multiple(patch[d] + 2 * overlap_[d], size_multiple);
    }
    return TileGrid<Dim>(batch, image, patch, overlap_, tile);
  }

private:
  static Extents<Dim> uniform(index_t v) {
    Extents<Dim> e{};
    for (std::size_t d = 0; d < Dim; ++d) e[d] = v;
    return e;
  }
  Extents<Dim> patch_;
  Extents<Dim> overlap_;
};

}  // namespace pnpdist
