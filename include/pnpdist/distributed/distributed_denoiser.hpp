#pragma once
/// \file
/// DistributedDenoiser: a TiledDenoiser whose tiles are dealt to the ranks of a communicator; the denoised
/// image is reassembled on every rank.
///
///     auto prior = pnpdist::distribute_denoiser(std::move(drunet), pnpdist::PatchTiler<2>{448, 32}, comm, 0);
///     prior.denoise(x, sigma, y);   // collective: the whole D_sigma(x) in y on every rank
///
/// Each rank takes the r-th of contiguous_blocks(tiles, ranks) of the tile list (sizes differ by at most
/// one), zeroes y, denoises its tiles in batches of at most max_batch_size (0: all of its tiles at once) and
/// writes their cores into y. The image is then reassembled by ONE allreduce_sum of y in place. Cores are
/// disjoint, so every sample is a sum of one value and zeros: the reassembly is exact (no float round-off),
/// and y is bit-identical on every rank and for every number of ranks, up to the sign of zero, as long as
/// the wrapped denoiser processes batch items independently. An allgatherv would move half the data (each
/// rank sends only its cores) but needs the cores packed into a contiguous buffer and unpacked, i.e. two
/// more copies of the image and a second buffer; the allreduce needs neither, which matters when the image
/// is large and lives on the device.
/// Satisfies Denoiser (size multiple 1). x and y must be contiguous and identical on every rank.

#include <cstddef>
#include <utility>
#include <vector>

#include "pnpdist/distributed/communicator.hpp"
#include "pnpdist/operators/split_blocks.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tiling/tiled_denoiser.hpp"

namespace pnpdist {

template <Denoiser D, class Comm>
requires Communicator<Comm, typename D::executor_type::memory_space>
class DistributedDenoiser {
public:
  using value_type = typename D::value_type;
  using executor_type = typename D::executor_type;
  using memory_space = typename executor_type::memory_space;
  static constexpr std::size_t rank = D::rank;
  static constexpr std::size_t dim = D::rank - 2;

  DistributedDenoiser(TiledDenoiser<D> tiled, Comm comm) : tiled_(std::move(tiled)), comm_(std::move(comm)) {}

  [[nodiscard]] executor_type executor() const { return tiled_.executor(); }
  [[nodiscard]] index_t size_multiple() const { return 1; }

  /// The tiles this rank denoises for an image of this shape.
  [[nodiscard]] TileRange local_tiles(const Extents<rank>& shape) const { return local_range(tiled_.grid(shape)); }

  /// y = D_sigma(x) on every rank (collective).
  void denoise(const View<const value_type, rank, memory_space>& x, value_type sigma,
               const View<value_type, rank, memory_space>& y) {
    require_same_extents(x, y, "DistributedDenoiser::denoise");
    const auto flat = flat_view(y);
    fill(executor(), flat, value_type(0));
    const TileGrid<dim> tiles = tiled_.grid(x.extents());
    tiled_.denoise_tiles(x, sigma, y, tiles, local_range(tiles));
    comm_.allreduce_sum(flat);
  }

  [[nodiscard]] TiledDenoiser<D>& tiled() { return tiled_; }
  [[nodiscard]] const TiledDenoiser<D>& tiled() const { return tiled_; }
  [[nodiscard]] const Comm& communicator() const { return comm_; }

private:
  /// This rank's contiguous share of the tiles of `tiles`.
  [[nodiscard]] TileRange local_range(const TileGrid<dim>& tiles) const {
    const std::vector<Block> blocks = contiguous_blocks(tiles.size(), comm_.size());
    const Block& mine = blocks[static_cast<std::size_t>(comm_.rank())];
    return TileRange{mine.begin, mine.size};
  }

  TiledDenoiser<D> tiled_;
  Comm comm_;
};

/// `denoiser` (moved in) tiled by `tiler` and distributed over `comm`.
template <Denoiser D, class Comm>
[[nodiscard]] DistributedDenoiser<D, Comm> distribute_denoiser(D denoiser, PatchTiler<D::rank - 2> tiler, Comm comm,
                                                               index_t max_batch_size = 0) {
  return DistributedDenoiser<D, Comm>(TiledDenoiser<D>(std::move(denoiser), tiler, max_batch_size), std::move(comm));
}

}  // namespace pnpdist
