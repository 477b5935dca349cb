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
///   - Per-tile results do not depend on how tiles are grouped into batches or ranks as long as the
///     wrapped denoiser treats batch items independently.
/// TiledDenoiser satisfies Denoiser itself (rank D::rank, size multiple 1: any image size is accepted).

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/priors/denoiser.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tiling/patch_tiler.hpp"

namespace pnpdist {
namespace detail {

/// window(c, i...) = image(batch, c, reflect(origin + i)...): one tile's window gathered from the image.
template <class T, std::size_t Dim, class Space>
struct GatherTileKernel {
  View<const T, Dim + 2, Space> image;
  View<T, Dim + 1, Space> window;
  index_t batch;
  Extents<Dim> origin;

  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(index_t c, I... i) const {
    static_assert(sizeof...(I) == Dim);
    const index_t local[Dim] = {static_cast<index_t>(i)...};
    index_t src_offset = batch * image.stride(0) + c * image.stride(1);
    for (std::size_t d = 0; d < Dim; ++d)
      src_offset += reflect_index(origin[d] + local[d], image.extent(d + 2)) * image.stride(d + 2);
    window(c, i...) = image.data()[src_offset];
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

/// Copies tile `tile`'s window out of `image` (N x C x spatial) into `window` (C x window extents),
/// reflecting at the borders.
template <class Exec, class T, std::size_t Dim>
inline void gather_tile(const Exec& exec, const View<const T, Dim + 2, typename Exec::memory_space>& image,
                        const Tile<Dim>& tile, const View<T, Dim + 1, typename Exec::memory_space>& window) {
  for (std::size_t d = 0; d < Dim; ++d)
    require<dimension_mismatch>(window.extent(d + 1) == tile.extents[d], [&] {
      return "gather_tile: window of extents " + to_string(window.extents()) + " for a tile of extents " +
             to_string(tile.extents);
    });
  require<dimension_mismatch>(window.extent(0) == image.extent(1), "gather_tile: channel counts differ");
  for_each(exec, window.extents(),
           detail::GatherTileKernel<T, Dim, typename Exec::memory_space>{image, window, tile.batch, tile.origin});
}

/// Writes the core of a denoised tile window (C x window extents) into its place in `image`.
template <class Exec, class T, std::size_t Dim>
inline void scatter_core(const Exec& exec, const View<const T, Dim + 1, typename Exec::memory_space>& window,
                         const Tile<Dim>& tile, const View<T, Dim + 2, typename Exec::memory_space>& image) {
  const Extents<Dim> offset = tile.core_offset();
  Extents<Dim + 1> src_begin{};
  Extents<Dim + 1> src_extents{};
  Extents<Dim + 2> dst_begin{};
  Extents<Dim + 2> dst_extents{};
  src_extents[0] = window.extent(0);
  dst_begin[0] = tile.batch;
  dst_extents[0] = 1;
  dst_extents[1] = window.extent(0);
  for (std::size_t d = 0; d < Dim; ++d) {
    src_begin[d + 1] = offset[d];
    src_extents[d + 1] = tile.core_extents[d];
    dst_begin[d + 2] = tile.core_begin[d];
    dst_extents[d + 2] = tile.core_extents[d];
  }
  const auto src = subview(window, src_begin, src_extents);
  const auto dst = subview(image, dst_begin, dst_extents);
  // Drop the unit batch axis of the destination box so that both sides have rank Dim + 1.
  Extents<Dim + 1> dst_box_extents{};
  Extents<Dim + 1> dst_box_strides{};
  for (std::size_t d = 0; d < Dim + 1; ++d) {
    dst_box_extents[d] = dst.extent(d + 1);
    dst_box_strides[d] = dst.stride(d + 1);
  }
  copy(exec, src, View<T, Dim + 1, typename Exec::memory_space>(dst.data(), dst_box_extents, dst_box_strides));
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
      for (index_t j = 0; j < batch.size; ++j)
        gather_tile<executor_type, value_type, dim>(exec, x, tiles.tile(batch.begin + j), item(in, j));
      denoiser_.denoise(input_view(in), sigma, out);
      for (index_t j = 0; j < batch.size; ++j)
        scatter_core<executor_type, value_type, dim>(exec, View<const value_type, dim + 1, memory_space>(item(out, j)),
                                                     tiles.tile(batch.begin + j), y);
    }
  }

  /// Frees the tile buffers (they are reallocated by the next call).
  void release_buffers() {
    input_.reset();
    output_.reset();
  }

private:
  /// Batch item j of a contiguous batch tensor, as a C x window view.
  static View<value_type, dim + 1, memory_space> item(const View<value_type, rank, memory_space>& batch, index_t j) {
    Extents<dim + 1> e{};
    for (std::size_t d = 0; d < dim + 1; ++d) e[d] = batch.extent(d + 1);
    return View<value_type, dim + 1, memory_space>(batch.data() + j * batch.stride(0), e);
  }

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
