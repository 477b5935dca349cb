// Projection stacks: numbered files are listed in order and a gap is reported by name; selections, windows
// and binning read what an obvious loop over the written values computes, from one file per projection and
// from a multi-page file, with 1 and 3 reading threads and in blocks; a projection of another shape is an
// io_error naming its file.
#include <catch2/catch.hpp>

#include <pnpdist/io/projection_stack.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

using namespace pnpdist;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / "pnpdist_test_projection_stack" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::uint16_t value(index_t k, index_t r, index_t c) { return static_cast<std::uint16_t>(1000 * k + 31 * r + c); }

std::string numbered(const fs::path& dir, index_t k) {
  char name[32];
  std::snprintf(name, sizeof name, "scan_%06lld.tif", static_cast<long long>(k));
  return (dir / name).string();
}

// `count` projections of rows x cols, as files and as one multi-page file.
void write_stack(const fs::path& dir, index_t count, index_t rows, index_t cols) {
  Tensor<std::uint16_t, 3> all(Extents<3>{count, rows, cols});
  for (index_t k = 0; k < count; ++k) {
    Tensor<std::uint16_t, 3> one(Extents<3>{1, rows, cols});
    for (index_t r = 0; r < rows; ++r)
      for (index_t c = 0; c < cols; ++c) one(0, r, c) = all(k, r, c) = value(k, r, c);
    write_tiff(numbered(dir, k), one.const_view());
  }
  write_tiff((dir / "stack.tif").string(), all.const_view());
}

// The expected binned window value, by an obvious loop.
float expected(index_t k, const DetectorWindow& w, index_t r, index_t c) {
  double sum = 0;
  for (index_t i = 0; i < w.binning; ++i)
    for (index_t j = 0; j < w.binning; ++j) sum += value(k, w.row + w.binning * r + i, w.col + w.binning * c + j);
  return static_cast<float>(sum / static_cast<double>(w.binning * w.binning));
}

}  // namespace

TEST_CASE("Numbered files are listed in order, a gap names the missing file", "[io][stack]") {
  const fs::path dir = fresh_dir("list");
  write_stack(dir, 12, 4, 5);
  const auto files = list_numbered_files(dir.string(), "scan_", ".tif");
  REQUIRE(files.size() == 12);
  CHECK(fs::path(files[10]).filename() == "scan_000010.tif");
  fs::remove(numbered(dir, 7));
  try {
    (void)list_numbered_files(dir.string(), "scan_", ".tif");
    FAIL("a gap was accepted");
  } catch (const io_error& e) {
    CHECK(std::string(e.what()).find("scan_000007.tif is missing") != std::string::npos);
  }
  CHECK_THROWS_AS(list_numbered_files(dir.string(), "flat_", ".tif"), io_error);
  CHECK_THROWS_AS(list_numbered_files((dir / "nope").string(), "scan_", ".tif"), io_error);
}

TEST_CASE("Selections, windows and binning read the right values", "[io][stack]") {
  const fs::path dir = fresh_dir("read");
  const index_t count = 10, rows = 13, cols = 17;
  write_stack(dir, count, rows, cols);
  const ProjectionStack files = ProjectionStack::files(list_numbered_files(dir.string(), "scan_", ".tif"));
  const ProjectionStack pages = ProjectionStack::multipage((dir / "stack.tif").string());
  CHECK(pages.size() == count);
  CHECK(files.rows() == rows);
  CHECK(files.cols() == cols);
  const ProjectionSelection selection{1, 3, -1};  // 1, 4, 7
  for (const DetectorWindow& w : {DetectorWindow{}, DetectorWindow{2, 3, 9, 11, 1}, DetectorWindow{1, 0, 0, 0, 2},
                                  DetectorWindow{0, 2, 12, 15, 3}}) {
    for (const ProjectionStack* stack : {&files, &pages})
      for (const int threads : {1, 3}) {
        const Tensor<float, 3> got = stack->read(selection, w, threads);
        const DetectorWindow r = stack->resolve(w);
        REQUIRE(got.extents() == Extents<3>{3, r.rows / r.binning, r.cols / r.binning});
        for (index_t k = 0; k < 3; ++k)
          for (index_t y = 0; y < got.extent(1); ++y)
            for (index_t x = 0; x < got.extent(2); ++x) REQUIRE(got(k, y, x) == expected(1 + 3 * k, r, y, x));
      }
  }
  // Blocks: every selected projection once, in order.
  std::vector<index_t> seen;
  files.for_each_block(ProjectionSelection{0, 1, 7}, DetectorWindow{}, 3,
                       [&](index_t first, View<const float, 3> block) {
                         for (index_t k = 0; k < block.extent(0); ++k) {
                           seen.push_back(first + k);
                           REQUIRE(block(k, 2, 3) == static_cast<float>(value(first + k, 2, 3)));
                         }
                       });
  CHECK(seen == std::vector<index_t>{0, 1, 2, 3, 4, 5, 6});
  CHECK_THROWS_AS(files.indices(ProjectionSelection{0, 1, 11}), invalid_argument);
  CHECK_THROWS_AS(files.resolve(DetectorWindow{10, 0, 5, 0, 1}), invalid_argument);
}

TEST_CASE("A projection of another shape is an io_error naming its file", "[io][stack]") {
  const fs::path dir = fresh_dir("shape");
  write_stack(dir, 4, 6, 6);
  Tensor<std::uint16_t, 3> odd(Extents<3>{1, 6, 5});
  for (index_t i = 0; i < odd.size(); ++i) odd.data()[i] = 1;
  write_tiff(numbered(dir, 2), odd.const_view());
  const ProjectionStack stack = ProjectionStack::files(list_numbered_files(dir.string(), "scan_", ".tif"));
  try {
    (void)stack.read(ProjectionSelection{}, DetectorWindow{}, 2);
    FAIL("a projection of another shape was accepted");
  } catch (const io_error& e) {
    CHECK(std::string(e.what()).find("scan_000002.tif' is 6 x 5") != std::string::npos);
  }
}
