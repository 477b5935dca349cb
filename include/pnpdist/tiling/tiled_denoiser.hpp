#pragma once
/// \file
/// TiledDenoiser<D>: any Denoiser applied tile by tile (PatchTiler), so that its working memory is bounded
/// by the tile batch instead of the image.
///
///     auto prior = pnpdist::tiled(std::move(drunet), pnpdist::PatchTiler<2>{{448, 448}, {32, 32}}, 4);
///     prior.denoise(x, sigma, y);
///
/// Guarantees:
///   - Every output sample is written exactly once, by the tile whose core holds it (cores partition the
///     image), from that tile's window: reflect-padded image data, patch + 2 overlap rounded up to
///     denoiser_size_multiple(d), so the wrapped denoiser never pads internally.
///   - For a denoiser whose output at a sample depends only on inputs within a distance r <= overlap
///     (per axis) and pads by reflection, the result equals the untiled one exactly.
///   - Tiles are processed in batches of at most max_batch_size (0: all tiles of the call at once), one
///     (batch x C x window) input and one output tensor, kept between calls and reallocated when the shape
///     changes: memory is 2 x batch x C x window samples plus what the wrapped denoiser needs for them.
///   - Each batch is three launches of work: one gather of all its windows (gather_tiles, one iteration
///     per window sample), one call of the wrapped denoiser, one scatter of all its cores (scatter_cores).
///   - Per-tile results do not depend on how tiles are grouped into batches or ranks as long as the
///     wrapped denoiser treats batch items independently.
/// TiledDenoiser satisfies Denoiser itself (rank D::rank, size multiple 1: any image size is accepted).

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/backend/launch_cost.hpp"
#include "pnpdist/priors/denoiser.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tiling/patch_tiler.hpp"

namespace pnpdist {
namespace detail {

/// Offset in `image` (N x C x spatial) of sample (batch, c, position...).
template <class V, std::size_t Dim>
PNPDIST_HOST_DEVICE index_t image_offset(const V& image, index_t batch, index_t c, const index_t (&position)[Dim]) {
  index_t offset = batch * image.stride(0) + c * image.stride(1);
  for (std::size_t d = 0; d < Dim; ++d) offset += position[d] * image.stride(d + 2);
  return offset;
}

/// windows(j, c, i...) = image(tile.batch, c, reflect(tile.origin + i)...) for tile = grid tile first + j:
/// the windows of a batch of consecutive tiles, one iteration per window sample.
template <class T, std::size_t Dim, class Space>
struct GatherTilesKernel {
  View<const T, Dim + 2, Space> image;
  View<T, Dim + 2, Space> windows;  ///< batch x C x window
  TileGrid<Dim> grid;
  index_t first;

  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(index_t j, index_t c, I... i) const {
    static_assert(sizeof...(I) == Dim);
    const Tile<Dim> tile = grid.tile_unchecked(first + j);
    const index_t local[Dim] = {static_cast<index_t>(i)...};
    index_t source[Dim] = {};
    for (std::size_t d = 0; d < Dim; ++d) source[d] = reflect_index(tile.origin[d] + local[d], image.extent(d + 2));
    windows(j, c, i...) = image.data()[image_offset(image, tile.batch, c, source)];
  }

  /// n window samples, each one image sample read and one written (the overlap halos, which neighbouring
  /// tiles both read, count once per tile: up to prod_d window_d / patch_d times the distinct bytes).
  [[nodiscard]] LaunchCost launch_cost(index_t n) const {
    return LaunchCost{bytes_of<T>(n), bytes_of<T>(n), static_cast<std::uint64_t>(n)};
  }
};

/// image(tile.batch, c, core_begin + i...) = windows(j, c, core_offset + i...) for tile = grid tile first + j
/// and i inside the tile's core: the cores of a batch of consecutive tiles put back, one iteration per
/// sample of the batch x C x patch box (iterations past a smaller core, the last tile along an axis, do
/// nothing). Cores are disjoint, so no two iterations write the same sample.
template <class T, std::size_t Dim, class Space>
struct ScatterCoresKernel {
  View<const T, Dim + 2, Space> windows;  ///< batch x C x window
  View<T, Dim + 2, Space> image;
  TileGrid<Dim> grid;
  index_t first;

  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(index_t j, index_t c, I... i) const {
    static_assert(sizeof...(I) == Dim);
    const Tile<Dim> tile = grid.tile_unchecked(first + j);
    const index_t local[Dim] = {static_cast<index_t>(i)...};
    index_t target[Dim] = {};
    index_t window_offset = j * windows.stride(0) + c * windows.stride(1);
    for (std::size_t d = 0; d < Dim; ++d) {
      if (local[d] >= tile.core_extents[d]) return;
      target[d] = tile.core_begin[d] + local[d];
      window_offset += (tile.core_begin[d] - tile.origin[d] + local[d]) * windows.stride(d + 2);
    }
    image.data()[image_offset(image, tile.batch, c, target)] = windows.data()[window_offset];
  }

  /// The core samples of the batch's tiles (C x prod_d core extents each), each read and written once.
  [[nodiscard]] LaunchCost launch_cost(index_t /*iterations*/) const {
    std::uint64_t samples = 0;
    for (index_t j = 0; j < windows.extent(0); ++j)
      samples += static_cast<std::uint64_t>(windows.extent(1) * product(grid.tile_unchecked(first + j).core_extents));
    return LaunchCost{samples * sizeof(T), samples * sizeof(T), samples};
  }
};

}  // namespace detail

/// Spatial extents (the trailing Dim axes) of an N x C x spatial... shape.
template <std::size_t Dim, std::size_t Rank>
[[nodiscard]] constexpr Extents<Dim> spatial_extents(const Extents<Rank>& shape) {
  static_assert(Rank == Dim + 2);
  Extents<Dim> s{};
  for (std::size_t d = 0; d < Dim; ++d) s[d] = shape[d + 2];
  return s;
}

namespace detail {

/// The checks shared by gather_tiles and scatter_cores: `range` inside `grid`, `windows` of range.size
/// items of the grid's window extents, `image` of the grid's shape with the windows' channels.
template <class TI, class TW, std::size_t Dim, class Space>
void check_tile_batch(const char* what, const View<TI, Dim + 2, Space>& image, const TileGrid<Dim>& grid,
                      TileRange range, const View<TW, Dim + 2, Space>& windows) {
  require(range.begin >= 0 && range.size >= 0 && range.begin + range.size <= grid.size(), [&] {
    return std::string(what) + ": tiles [" + std::to_string(range.begin) + ", " +
           std::to_string(range.begin + range.size) + ") outside the grid of " + std::to_string(grid.size());
  });
  require<dimension_mismatch>(image.extent(0) == grid.batch() && spatial_extents<Dim>(image.extents()) == grid.image_extents(),
                              [&] { return std::string(what) + ": the tile grid is of another image shape"; });
  Extents<Dim + 2> expected{};
  expected[0] = range.size;
  expected[1] = image.extent(1);
  for (std::size_t d = 0; d < Dim; ++d) expected[d + 2] = grid.tile_extents()[d];
  require<dimension_mismatch>(windows.extents() == expected, [&] {
    return std::string(what) + ": windows of extents " + to_string(windows.extents()) + " for " + to_string(expected) +
           " (tiles x channels x window)";
  });
}

}  // namespace detail

/// Copies the windows of tiles `range` of `grid` out of `image` (N x C x spatial) into `windows`
/// (range.size x C x window extents), reflecting at the borders: ONE launch for the whole batch, one
/// iteration per window sample. Throws invalid_argument for a range outside the grid, dimension_mismatch
/// for an image of another shape or windows of other extents.
template <class Exec, class T, std::size_t Dim>
inline void gather_tiles(const Exec& exec, const View<const T, Dim + 2, typename Exec::memory_space>& image,
                         const TileGrid<Dim>& grid, TileRange range,
                         const View<T, Dim + 2, typename Exec::memory_space>& windows) {
  detail::check_tile_batch("gather_tiles", image, grid, range, windows);
  for_each(exec, windows.extents(),
           detail::GatherTilesKernel<T, Dim, typename Exec::memory_space>{image, windows, grid, range.begin});
}

/// Writes the cores of the denoised windows (range.size x C x window extents) of tiles `range` of `grid`
/// into their places in `image`; samples outside these cores are untouched. ONE launch for the whole batch,
/// one iteration per sample of the range.size x C x patch box. Throws as gather_tiles.
template <class Exec, class T, std::size_t Dim>
inline void scatter_cores(const Exec& exec, const View<const T, Dim + 2, typename Exec::memory_space>& windows,
                          const TileGrid<Dim>& grid, TileRange range,
                          const View<T, Dim + 2, typename Exec::memory_space>& image) {
  detail::check_tile_batch("scatter_cores", image, grid, range, windows);
  Extents<Dim + 2> box = windows.extents();
  for (std::size_t d = 0; d < Dim; ++d) box[d + 2] = grid.patch()[d];
  for_each(exec, box, detail::ScatterCoresKernel<T, Dim, typename Exec::memory_space>{windows, image, grid, range.begin});
}

template <Denoiser D>
class TiledDenoiser {
public:
  using value_type = typename D::value_type;
  using executor_type = typename D::executor_type;
  using memory_space = typename executor_type::memory_space;
  static constexpr std::size_t rank = D::rank;
  static constexpr std::size_t dim = D::rank - 2;
  static_assert(D::rank == 4 || D::rank == 5, "TiledDenoiser wraps image (rank 4) or volume (rank 5) denoisers");

  using input_view = View<const value_type, rank, memory_space>;
  using output_view = View<value_type, rank, memory_space>;

  /// Wraps `denoiser` (taken by value: move it in). Throws invalid_argument for a negative max_batch_size.
  TiledDenoiser(D denoiser, PatchTiler<dim> tiler, index_t max_batch_size = 0)
      : denoiser_(std::move(denoiser)), tiler_(tiler), max_batch_size_(max_batch_size) {
    require(max_batch_size >= 0, [&] {
      return "TiledDenoiser: max_batch_size must be >= 0 (0 = all tiles at once), got " +
             std::to_string(max_batch_size);
    });
  }

  [[nodiscard]] executor_type executor() const { return denoiser_.executor(); }
  /// Any size is accepted: the tiler rounds the windows, not the image.
  [[nodiscard]] index_t size_multiple() const { return 1; }
  [[nodiscard]] const PatchTiler<dim>& tiler() const { return tiler_; }
  [[nodiscard]] index_t max_batch_size() const { return max_batch_size_; }
  [[nodiscard]] D& denoiser() { return denoiser_; }
  [[nodiscard]] const D& denoiser() const { return denoiser_; }

  /// The tiles of an image of this shape (N x C x spatial).
  [[nodiscard]] TileGrid<dim> grid(const Extents<rank>& shape) const {
    return tiler_.grid(spatial_extents<dim>(shape), shape[0], denoiser_size_multiple(denoiser_));
  }

  /// y = D_sigma(x), tile by tile.
  void denoise(const input_view& x, value_type sigma, const output_view& y) {
    denoise_tiles(x, sigma, y, TileRange{0, grid(x.extents()).size()});
  }

  /// Denoises the tiles `range` of grid(x.extents()) and writes their cores into y; samples of y outside
  /// these cores are left untouched. Throws dimension_mismatch when x and y differ in shape,
  /// invalid_argument for a range outside the grid.
  void denoise_tiles(const input_view& x, value_type sigma, const output_view& y, TileRange range) {
    denoise_tiles(x, sigma, y, grid(x.extents()), range);
  }

  /// The same with `tiles` = grid(x.extents()) computed by the caller (DistributedDenoiser computes it once
  /// for its range and the tiles). Throws dimension_mismatch when the grid is of another image shape.
  void denoise_tiles(const input_view& x, value_type sigma, const output_view& y, const TileGrid<dim>& tiles,
                     TileRange range) {
    require_same_extents(x, y, "TiledDenoiser::denoise");
    require<dimension_mismatch>(tiles.batch() == x.extent(0) && tiles.image_extents() == spatial_extents<dim>(x.extents()),
                                "TiledDenoiser::denoise_tiles: the tile grid is of another image shape");
    require(range.begin >= 0 && range.size >= 0 && range.begin + range.size <= tiles.size(), [&] {
      return "TiledDenoiser::denoise_tiles: tiles [" + std::to_string(range.begin) + ", " +
             std::to_string(range.begin + range.size) + ") outside the grid of " + std::to_string(tiles.size());
    });
    if (range.size == 0) return;
    const executor_type exec = executor();
    const index_t batch_capacity = max_batch_size_ == 0 ? range.size : std::min(max_batch_size_, range.size);
    Extents<rank> batch_shape{};
    batch_shape[0] = batch_capacity;
    batch_shape[1] = x.extent(1);
    for (std::size_t d = 0; d < dim; ++d) batch_shape[d + 2] = tiles.tile_extents()[d];
    ensure_buffers(batch_shape);

    for (const TileRange& batch : TileGrid<dim>::batches(range, max_batch_size_)) {
      Extents<rank> shape = batch_shape;
      shape[0] = batch.size;
      const View<value_type, rank, memory_space> in(input_->data(), shape);
      const View<value_type, rank, memory_space> out(output_->data(), shape);
      gather_tiles<executor_type, value_type, dim>(exec, x, tiles, batch, in);
      denoiser_.denoise(input_view(in), sigma, out);
      scatter_cores<executor_type, value_type, dim>(exec, input_view(out), tiles, batch, y);
    }
  }

  /// Frees the tile buffers (they are reallocated by the next call).
  void release_buffers() {
    input_.reset();
    output_.reset();
  }

private:
  void ensure_buffers(const Extents<rank>& shape) {
    if (input_ && input_->extents() == shape) return;
    release_buffers();
    input_.emplace(shape);
    output_.emplace(shape);
  }

  D denoiser_;
  PatchTiler<dim> tiler_;
  index_t max_batch_size_;
  std::optional<Tensor<value_type, rank, memory_space>> input_;
  std::optional<Tensor<value_type, rank, memory_space>> output_;
};

/// `denoiser` wrapped by a TiledDenoiser (moved in).
template <Denoiser D>
[[nodiscard]] TiledDenoiser<D> tiled(D denoiser, PatchTiler<D::rank - 2> tiler, index_t max_batch_size = 0) {
  return TiledDenoiser<D>(std::move(denoiser), tiler, max_batch_size);
}

}  // namespace pnpdist
