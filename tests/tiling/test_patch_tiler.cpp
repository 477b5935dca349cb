// PatchTiler: property tests over many shapes, patches, overlaps and size multiples. The checks are
// stated from the definition (cores partition the image; every window holds its core with at least
// `overlap` samples of context on each side; windows are patch + 2 overlap rounded up to the multiple;
// the first window starts at -overlap and the last ends past the border by exactly its halo), not from
// the implementation.
#include <pnpdist/tiling/patch_tiler.hpp>

#include <catch2/catch.hpp>
#include <random>
#include <vector>

using namespace pnpdist;

namespace {

/// Reflection by repeated folding (independent of reflect_index's modular arithmetic).
index_t reflect_by_folding(index_t i, index_t n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
  }
  return i;
}

template <std::size_t Dim>
void check_grid(const Extents<Dim>& image, const Extents<Dim>& patch, const Extents<Dim>& overlap, index_t batch,
                index_t multiple) {
  INFO("image " << to_string(image) << " patch " << to_string(patch) << " overlap " << to_string(overlap) << " batch "
                << batch << " multiple " << multiple);
  const TileGrid<Dim> grid = PatchTiler<Dim>(patch, overlap).grid(image, batch, multiple);
  index_t per_image = 1;
  for (std::size_t d = 0; d < Dim; ++d) {
    const index_t p = std::min(patch[d], image[d]);
    per_image *= (image[d] + p - 1) / p;
    CHECK(grid.tile_extents()[d] % multiple == 0);
    CHECK(grid.tile_extents()[d] >= p + 2 * overlap[d]);
    CHECK(grid.tile_extents()[d] < p + 2 * overlap[d] + multiple);
  }
  REQUIRE(grid.size() == batch * per_image);

  // Coverage count of every sample of every image: the cores must partition the batch of images.
  std::vector<int> covered(static_cast<std::size_t>(batch * product(image)), 0);
  for (index_t t = 0; t < grid.size(); ++t) {
    const Tile<Dim> tile = grid.tile(t);
    REQUIRE(tile.batch >= 0);
    REQUIRE(tile.batch < batch);
    Extents<Dim> core = tile.core_extents;
    for (std::size_t d = 0; d < Dim; ++d) {
      REQUIRE(tile.extents[d] == grid.tile_extents()[d]);
      REQUIRE(core[d] >= 1);
      REQUIRE(core[d] <= std::min(patch[d], image[d]));
      REQUIRE(tile.core_begin[d] >= 0);
      REQUIRE(tile.core_begin[d] + core[d] <= image[d]);
      // Context: at least `overlap` samples of the window before and after the core.
      REQUIRE(tile.core_begin[d] - tile.origin[d] >= overlap[d]);
      REQUIRE(tile.origin[d] + tile.extents[d] - (tile.core_begin[d] + core[d]) >= overlap[d]);
      REQUIRE(tile.core_offset()[d] == tile.core_begin[d] - tile.origin[d]);
      // The window never starts before -overlap, and the core it would hold without shifting never runs
      // past the border: the last tile ends at the border.
      REQUIRE(tile.origin[d] >= -overlap[d]);
      REQUIRE(tile.origin[d] + overlap[d] + std::min(patch[d], image[d]) <= image[d]);
    }
    // Walk the core.
    const index_t points = product(core);
    for (index_t e = 0; e < points; ++e) {
      index_t rest = e;
      index_t offset = 0;
      index_t stride = 1;
      for (std::size_t d = Dim; d-- > 0;) {
        const index_t i = tile.core_begin[d] + rest % core[d];
        rest /= core[d];
        offset += i * stride;
        stride *= image[d];
      }
      ++covered[static_cast<std::size_t>(tile.batch * product(image) + offset)];
    }
  }
  std::size_t not_once = 0;  // samples covered by no core or by several
  for (const int c : covered) not_once += (c != 1);
  REQUIRE(not_once == 0);
  // First tile starts at -overlap on every axis; the last tile's unshifted core end is the border.
  const Tile<Dim> first = grid.tile(0);
  const Tile<Dim> last = grid.tile(grid.size() - 1);
  for (std::size_t d = 0; d < Dim; ++d) {
    CHECK(first.origin[d] == -overlap[d]);
    CHECK(last.origin[d] + overlap[d] + std::min(patch[d], image[d]) == image[d]);
    CHECK(last.core_begin[d] + last.core_extents[d] == image[d]);
  }
}

}  // namespace

TEST_CASE("reflect_index folds like repeated reflection about the border samples", "[tiling][unit]") {
  for (index_t n = 1; n <= 9; ++n)
    for (index_t i = -40; i <= 40; ++i) {
      INFO("i " << i << " n " << n);
      REQUIRE(reflect_index(i, n) == reflect_by_folding(i, n));
    }
  CHECK(reflect_index(-1, 5) == 1);
  CHECK(reflect_index(5, 5) == 3);
  CHECK(reflect_index(-4, 5) == 4);
  CHECK(reflect_index(-5, 5) == 3);
}

TEST_CASE("PatchTiler<2> cores partition the image for many shapes, patches and overlaps", "[tiling][unit]") {
  std::mt19937 rng(2024);
  auto uniform = [&](index_t lo, index_t hi) { return std::uniform_int_distribution<index_t>(lo, hi)(rng); };
  for (int trial = 0; trial < 300; ++trial) {
    const Extents<2> image{uniform(1, 70), uniform(1, 70)};
    const Extents<2> patch{uniform(1, 40), uniform(1, 40)};
    const Extents<2> overlap{uniform(0, patch[0]), uniform(0, patch[1])};
    check_grid<2>(image, patch, overlap, uniform(1, 3), trial % 3 == 0 ? 8 : uniform(1, 4));
  }
  // Exact fits, patch == image, patch > image, zero overlap, overlap == patch.
  check_grid<2>({64, 64}, {32, 32}, {8, 8}, 1, 8);
  check_grid<2>({64, 48}, {64, 48}, {0, 0}, 1, 1);
  check_grid<2>({20, 30}, {448, 448}, {32, 32}, 2, 8);
  check_grid<2>({33, 17}, {5, 4}, {5, 4}, 1, 1);
  check_grid<2>({1, 1}, {1, 1}, {1, 0}, 1, 1);
}

TEST_CASE("PatchTiler<3> cores partition the volume for many shapes, patches and overlaps", "[tiling][unit]") {
  std::mt19937 rng(7);
  auto uniform = [&](index_t lo, index_t hi) { return std::uniform_int_distribution<index_t>(lo, hi)(rng); };
  for (int trial = 0; trial < 150; ++trial) {
    const Extents<3> image{uniform(1, 20), uniform(1, 30), uniform(1, 30)};
    const Extents<3> patch{uniform(1, 12), uniform(1, 20), uniform(1, 20)};
    const Extents<3> overlap{uniform(0, patch[0]), uniform(0, patch[1]), uniform(0, patch[2])};
    check_grid<3>(image, patch, overlap, uniform(1, 2), trial % 2 == 0 ? 8 : 1);
  }
  // The tomography_3d setting on a small volume: patch (8, 256, 256), overlap (2, 16, 16).
  check_grid<3>({20, 300, 270}, {8, 256, 256}, {2, 16, 16}, 1, 8);  // 3 x 2 x 2 tiles
}

TEST_CASE("PatchTiler: the windows of a known example", "[tiling][unit]") {
  // 10 samples, patch 4, overlap 1: cores [0,4) [4,8) [8,10); the last window shifted to start at 10-4-1.
  const TileGrid<2> grid = PatchTiler<2>({1, 4}, {0, 1}).grid({1, 10}, 1, 1);
  REQUIRE(grid.size() == 3);
  CHECK(grid.tile_extents()[1] == 6);
  const index_t origins[3] = {-1, 3, 5};
  const index_t begins[3] = {0, 4, 8};
  const index_t sizes[3] = {4, 4, 2};
  for (index_t t = 0; t < 3; ++t) {
    const Tile<2> tile = grid.tile(t);
    CHECK(tile.origin[1] == origins[t]);
    CHECK(tile.core_begin[1] == begins[t]);
    CHECK(tile.core_extents[1] == sizes[t]);
  }
  // Rounded up to 8: the surplus goes after the core.
  const TileGrid<2> rounded = PatchTiler<2>({1, 4}, {0, 1}).grid({1, 10}, 1, 8);
  CHECK(rounded.tile_extents()[1] == 8);
  CHECK(rounded.tile(0).origin[1] == -1);
}

TEST_CASE("PatchTiler rejects bad patches and overlaps and clamps patches larger than the image", "[tiling][unit]") {
  CHECK_THROWS_AS(PatchTiler<2>({0, 8}, {0, 0}), invalid_argument);
  CHECK_THROWS_AS(PatchTiler<2>({8, 8}, {-1, 0}), invalid_argument);
  CHECK_THROWS_AS(PatchTiler<2>({8, 8}, {9, 0}), invalid_argument);
  CHECK_THROWS_AS(PatchTiler<3>({8, 8, 8}, {2, 2, 16}), invalid_argument);
  CHECK_THROWS_WITH(PatchTiler<2>({8, 8}, {2, 9}), Catch::Contains("overlap (2, 9) exceeds patch (8, 8)"));
  const PatchTiler<2> tiler(448, 32);
  CHECK_THROWS_AS(tiler.grid({0, 10}), invalid_argument);
  CHECK_THROWS_AS(tiler.grid({10, 10}, 1, 0), invalid_argument);
  const TileGrid<2> grid = tiler.grid({100, 60}, 1, 8);
  REQUIRE(grid.size() == 1);
  CHECK(grid.patch() == Extents<2>{100, 60});
  CHECK(grid.tile(0).core_extents == Extents<2>{100, 60});
  CHECK(grid.tile_extents() == Extents<2>{168, 128});
  CHECK_THROWS_AS(grid.tile(1), invalid_argument);
}

TEST_CASE("TileGrid::batches cuts a range into batches of at most max_batch_size", "[tiling][unit]") {
  for (index_t count = 0; count <= 13; ++count)
    for (index_t max_batch = 0; max_batch <= 5; ++max_batch) {
      const auto batches = TileGrid<2>::batches({3, count}, max_batch);
      index_t next = 3;
      for (const TileRange& b : batches) {
        CHECK(b.begin == next);
        CHECK(b.size >= 1);
        if (max_batch > 0) CHECK(b.size <= max_batch);
        next += b.size;
      }
      CHECK(next == 3 + count);
      if (max_batch == 0) CHECK(batches.size() == (count > 0 ? 1u : 0u));
    }
  CHECK_THROWS_AS(TileGrid<2>::batches({0, 4}, -1), invalid_argument);
}
