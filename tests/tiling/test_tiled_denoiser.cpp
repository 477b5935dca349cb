// TiledDenoiser against the untiled denoiser: bit-identical for a network whose receptive field (radius
// `passes`) fits in the overlap, on every host executor, in 2D and 3D, for several batch limits; different
// when it does not fit (so the comparison can fail).
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/reductions.hpp>
#include <pnpdist/tiling/tiling.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

#include "support/host_executors.hpp"
#include "tiling/box_filter_denoiser.hpp"

using namespace pnpdist;
using pnpdist::test::BoxFilterDenoiser;

namespace {

template <std::size_t Rank>
Tensor<float, Rank> random_image(const Extents<Rank>& shape, std::uint64_t seed) {
  Tensor<float, Rank> x(shape);
  fill_normal(Serial{}, x.view(), seed, 0, 0.5f, 0.3f);
  return x;
}

template <std::size_t Rank>
bool identical(const Tensor<float, Rank>& a, const Tensor<float, Rank>& b) {
  for (index_t e = 0; e < a.size(); ++e)
    if (a.data()[e] != b.data()[e]) return false;
  return true;
}

}  // namespace

static_assert(Denoiser<BoxFilterDenoiser<4>>);
static_assert(Denoiser<TiledDenoiser<BoxFilterDenoiser<4>>>);
static_assert(Denoiser<TiledDenoiser<BoxFilterDenoiser<5>>>);

TEMPLATE_LIST_TEST_CASE("TiledDenoiser<2D> equals the untiled denoiser when the receptive field fits in the overlap",
                        "[tiling][unit]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_cvref_t<decltype(exec)>;
  struct Case {
    Extents<4> shape;
    PatchTiler<2> tiler;
    index_t passes, multiple, max_batch;
  };
  const Case cases[] = {
      {{1, 1, 37, 29}, PatchTiler<2>({8, 8}, {2, 2}), 2, 1, 0},
      {{2, 3, 37, 29}, PatchTiler<2>({8, 8}, {3, 3}), 2, 8, 3},
      {{1, 2, 50, 23}, PatchTiler<2>({16, 7}, {4, 3}), 3, 8, 1},
      {{1, 1, 12, 40}, PatchTiler<2>({64, 9}, {2, 2}), 2, 4, 2},  // patch larger than the image on axis 0
      {{1, 1, 5, 6}, PatchTiler<2>({2, 2}, {2, 2}), 2, 1, 0},     // halo wider than the image: folded reflection
  };
  for (const Case& c : cases) {
    INFO("shape " << to_string(c.shape) << " patch " << to_string(c.tiler.patch()) << " overlap "
                  << to_string(c.tiler.overlap()) << " max batch " << c.max_batch);
    const auto x = random_image(c.shape, 11);
    Tensor<float, 4> expected(c.shape);
    BoxFilterDenoiser<4, Exec>(c.passes, 1, exec).denoise(x.view(), 0.1f, expected.view());

    auto tiled_denoiser = tiled(BoxFilterDenoiser<4, Exec>(c.passes, c.multiple, exec), c.tiler, c.max_batch);
    Tensor<float, 4> y(c.shape);
    fill(exec, y.view(), std::nanf(""));
    tiled_denoiser.denoise(x.view(), 0.1f, y.view());
    CHECK(identical(y, expected));
    const index_t tiles = tiled_denoiser.grid(c.shape).size();
    CHECK(tiled_denoiser.denoiser().largest_batch() == (c.max_batch == 0 ? tiles : std::min(c.max_batch, tiles)));
    CHECK(tiled_denoiser.denoiser().calls() == (c.max_batch == 0 ? 1 : (tiles + c.max_batch - 1) / c.max_batch));
  }
}

TEMPLATE_LIST_TEST_CASE("TiledDenoiser<3D> equals the untiled denoiser when the receptive field fits in the overlap",
                        "[tiling][unit]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_cvref_t<decltype(exec)>;
  const Extents<5> shape{1, 2, 13, 21, 18};
  const auto x = random_image(shape, 5);
  Tensor<float, 5> expected(shape);
  BoxFilterDenoiser<5, Exec>(2, 1, exec).denoise(x.view(), 0.1f, expected.view());
  for (const index_t max_batch : {index_t{0}, index_t{2}, index_t{5}}) {
    INFO("max batch " << max_batch);
    auto tiled_denoiser = tiled(BoxFilterDenoiser<5, Exec>(2, 8, exec), PatchTiler<3>({4, 8, 8}, {2, 2, 3}), max_batch);
    Tensor<float, 5> y(shape);
    fill(exec, y.view(), std::nanf(""));
    tiled_denoiser.denoise(x.view(), 0.1f, y.view());
    CHECK(identical(y, expected));
  }
}

TEST_CASE("TiledDenoiser differs from the untiled denoiser when the receptive field exceeds the overlap",
          "[tiling][unit]") {
  const Extents<4> shape{1, 1, 30, 30};
  const auto x = random_image(shape, 3);
  Tensor<float, 4> expected(shape);
  BoxFilterDenoiser<4>(3).denoise(x.view(), 0.1f, expected.view());
  auto tiled_denoiser = tiled(BoxFilterDenoiser<4>(3), PatchTiler<2>(8, 1));
  Tensor<float, 4> y(shape);
  tiled_denoiser.denoise(x.view(), 0.1f, y.view());
  CHECK_FALSE(identical(y, expected));
}

TEST_CASE("TiledDenoiser::denoise_tiles writes exactly the cores of its tiles", "[tiling][unit]") {
  const Extents<4> shape{2, 1, 19, 26};
  const auto x = random_image(shape, 9);
  auto tiled_denoiser = tiled(BoxFilterDenoiser<4>(1), PatchTiler<2>(6, 2), 2);
  const TileGrid<2> grid = tiled_denoiser.grid(shape);
  const TileRange range{3, 5};
  Tensor<float, 4> y(shape);
  fill(Serial{}, y.view(), -7.0f);
  tiled_denoiser.denoise_tiles(x.view(), 0.1f, y.view(), range);
  Tensor<float, 4> full(shape);
  tiled_denoiser.denoise(x.view(), 0.1f, full.view());
  index_t written = 0;
  for (index_t n = 0; n < shape[0]; ++n)
    for (index_t i = 0; i < shape[2]; ++i)
      for (index_t j = 0; j < shape[3]; ++j) {
        bool inside = false;
        for (index_t t = range.begin; t < range.begin + range.size; ++t) {
          const Tile<2> tile = grid.tile(t);
          inside =
              inside || (tile.batch == n && i >= tile.core_begin[0] && i < tile.core_begin[0] + tile.core_extents[0] &&
                         j >= tile.core_begin[1] && j < tile.core_begin[1] + tile.core_extents[1]);
        }
        if (inside) {
          ++written;
          REQUIRE(y(n, 0, i, j) == full(n, 0, i, j));
        } else {
          REQUIRE(y(n, 0, i, j) == -7.0f);
        }
      }
  CHECK(written > 0);
  CHECK_THROWS_AS(tiled_denoiser.denoise_tiles(x.view(), 0.1f, y.view(), {grid.size() - 1, 2}), invalid_argument);
  // With the grid given by the caller: the same cores; a grid of another shape is refused.
  Tensor<float, 4> given(shape);
  fill(Serial{}, given.view(), -7.0f);
  tiled_denoiser.denoise_tiles(x.view(), 0.1f, given.view(), grid, range);
  CHECK(identical(given, y));
  const TileGrid<2> other = tiled_denoiser.grid(Extents<4>{2, 1, 19, 25});
  CHECK_THROWS_AS(tiled_denoiser.denoise_tiles(x.view(), 0.1f, given.view(), other, range), dimension_mismatch);
  Tensor<float, 4> wrong(Extents<4>{2, 1, 19, 25});
  CHECK_THROWS_AS(tiled_denoiser.denoise(x.view(), 0.1f, wrong.view()), dimension_mismatch);
  CHECK_THROWS_AS(tiled(BoxFilterDenoiser<4>(1), PatchTiler<2>(6, 2), -1), invalid_argument);
}

TEST_CASE("TiledDenoiser bounds the tile buffers by max_batch_size", "[tiling][unit]") {
  const Extents<4> shape{1, 3, 64, 64};
  const auto x = random_image(shape, 1);
  Tensor<float, 4> y(shape);
  auto& tracker = allocation_tracker<HostSpace>();
  auto peak_of = [&](index_t max_batch) {
    auto d = tiled(BoxFilterDenoiser<4>(1), PatchTiler<2>(16, 4), max_batch);
    tracker.reset_peak();
    const std::size_t before = tracker.statistics().current_bytes;
    d.denoise(x.view(), 0.1f, y.view());
    return tracker.statistics().peak_bytes - before;
  };
  // 16 tiles of 3 x 24 x 24 floats; input and output batch tensors.
  const std::size_t tile_bytes = 3 * 24 * 24 * sizeof(float);
  CHECK(peak_of(1) == 2 * tile_bytes);
  CHECK(peak_of(4) == 2 * 4 * tile_bytes);
  CHECK(peak_of(0) == 2 * 16 * tile_bytes);
}

namespace {

/// Reflection about the border samples by repeated folding (independent of reflect_index).
index_t fold(index_t i, index_t n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("gather_tiles and scatter_cores of a batch of tiles equal a per-tile host loop",
                        "[tiling][unit]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_cvref_t<decltype(exec)>;
  const Extents<4> shape{2, 3, 19, 26};  // halo 3 wider than the last cores: folded reflection at both ends
  const auto x = random_image(shape, 4);
  const TileGrid<2> grid = PatchTiler<2>({6, 7}, {3, 3}).grid({19, 26}, 2, 4);
  REQUIRE(grid.tile_extents() == Extents<2>{12, 16});
  for (const TileRange range : {TileRange{0, grid.size()}, TileRange{5, 7}, TileRange{grid.size() - 1, 1}}) {
    INFO("tiles [" << range.begin << ", " << range.begin + range.size << ")");
    Tensor<float, 4> windows(Extents<4>{range.size, 3, 12, 16});
    gather_tiles<Exec, float, 2>(exec, x.view(), grid, range, windows.view());
    for (index_t j = 0; j < range.size; ++j) {
      const Tile<2> tile = grid.tile(range.begin + j);
      for (index_t c = 0; c < 3; ++c)
        for (index_t a = 0; a < 12; ++a)
          for (index_t b = 0; b < 16; ++b)
            REQUIRE(windows(j, c, a, b) ==
                    x(tile.batch, c, fold(tile.origin[0] + a, 19), fold(tile.origin[1] + b, 26)));
    }
    // The scatter puts each window's core back: from the gathered windows it rebuilds x on the cores of
    // the range and leaves every other sample alone.
    Tensor<float, 4> y(shape);
    fill(exec, y.view(), -7.0f);
    scatter_cores<Exec, float, 2>(exec, windows.view(), grid, range, y.view());
    index_t written = 0;
    for (index_t n = 0; n < 2; ++n)
      for (index_t c = 0; c < 3; ++c)
        for (index_t a = 0; a < 19; ++a)
          for (index_t b = 0; b < 26; ++b) {
            // The tile whose core holds (n, a, b): 4 x 4 tiles per image, cores of 6 x 7 (shorter last).
            const index_t t = (n * 4 + std::min<index_t>(a / 6, 3)) * 4 + std::min<index_t>(b / 7, 3);
            const bool inside = t >= range.begin && t < range.begin + range.size;
            written += inside ? 1 : 0;
            REQUIRE(y(n, c, a, b) == (inside ? x(n, c, a, b) : -7.0f));
          }
    CHECK(written > 0);
  }
  Tensor<float, 4> wrong(Extents<4>{2, 3, 12, 16});
  CHECK_THROWS_AS((gather_tiles<Exec, float, 2>(exec, x.view(), grid, TileRange{0, 3}, wrong.view())),
                  dimension_mismatch);
  CHECK_THROWS_AS((gather_tiles<Exec, float, 2>(exec, x.view(), grid, TileRange{grid.size() - 1, 2}, wrong.view())),
                  invalid_argument);
  Tensor<float, 4> other(Extents<4>{2, 3, 19, 25});
  CHECK_THROWS_AS((scatter_cores<Exec, float, 2>(exec, wrong.view(), grid, TileRange{0, 2}, other.view())),
                  dimension_mismatch);
}
