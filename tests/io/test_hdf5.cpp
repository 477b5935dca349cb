// HDF5 datasets as projection stacks: every element type reads back as the float a C cast gives, contiguous
// and chunked + deflated; the same projections written as TIFF and as HDF5 read to identical tensors through
// the same selections, windows, binning and blocks; a list of dataset views reads those views; errors name the
// file and the dataset path (missing file, missing path, wrong rank, unsupported type, sizes over ReadLimits
// before any allocation, a truncated or foreign file), and HDF5 prints nothing to stderr while doing so;
// read_hdf5_numbers reads scalar and 1-D numbers with their units attribute (fixed or variable length).
#include <catch2/catch.hpp>

#include "io/bad_input_support.hpp"

#include <pnpdist/io/hdf5.hpp>
#include <pnpdist/io/hdf5_writer.hpp>
#include <pnpdist/io/projection_stack.hpp>

#include <hdf5.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

using namespace pnpdist;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / "pnpdist_test_hdf5" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A deterministic pseudo-random value of (view, row, col) in [0, range).
std::uint64_t mix(index_t k, index_t r, index_t c, std::uint64_t range) {
  std::uint64_t x = static_cast<std::uint64_t>(k) * 0x9E3779B97F4A7C15ull ^
                    static_cast<std::uint64_t>(r) * 0xBF58476D1CE4E5B9ull ^
                    static_cast<std::uint64_t>(c) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  return x % range;
}

template <class T>
Tensor<T, 3> pattern(index_t views, index_t rows, index_t cols) {
  Tensor<T, 3> t(Extents<3>{views, rows, cols});
  for (index_t k = 0; k < views; ++k)
    for (index_t r = 0; r < rows; ++r)
      for (index_t c = 0; c < cols; ++c) {
        if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>)
          t(k, r, c) = static_cast<T>(static_cast<double>(mix(k, r, c, 1000000)) * 1e-3 - 300.0 + 1.0 / 3.0);
        else
          t(k, r, c) = static_cast<T>(mix(k, r, c, std::uint64_t{std::numeric_limits<T>::max()} + 1));
      }
  return t;
}

template <class T>
void check_type(const fs::path& dir, Hdf5Sample sample) {
  const Tensor<T, 3> data = pattern<T>(5, 7, 9);
  const std::string path = (dir / (std::string(to_string(sample)) + ".h5")).string();
  write_hdf5(path, "/entry/data/data", data.const_view());
  write_hdf5(path, "/entry/instrument/detector/data", data.const_view(),
             {.append = true, .chunk_views = 2, .deflate = 4});
  for (const char* name : {"/entry/data/data", "/entry/instrument/detector/data"}) {
    Hdf5Dataset d(path, name);
    CHECK(d.sample() == sample);
    REQUIRE((d.views() == 5 && d.rows() == 7 && d.cols() == 9));
    Tensor<float, 3> got(Extents<3>{2, 3, 4});
    d.read(1, 3, 2, 5, got.view());  // views 1 and 4, rows 2..4, cols 5..8
    for (index_t k = 0; k < 2; ++k)
      for (index_t r = 0; r < 3; ++r)
        for (index_t c = 0; c < 4; ++c) REQUIRE(got(k, r, c) == static_cast<float>(data(1 + 3 * k, 2 + r, 5 + c)));
  }
}

}  // namespace

TEST_CASE("Every element type reads back as floats, contiguous and chunked", "[io][hdf5]") {
  const fs::path dir = fresh_dir("types");
  check_type<std::uint8_t>(dir, Hdf5Sample::uint8);
  check_type<std::uint16_t>(dir, Hdf5Sample::uint16);
  check_type<std::uint32_t>(dir, Hdf5Sample::uint32);
  check_type<float>(dir, Hdf5Sample::float32);
  check_type<double>(dir, Hdf5Sample::float64);
  // uint32 above 2^24 and doubles between floats round like a C cast.
  const Tensor<std::uint32_t, 3> big = pattern<std::uint32_t>(2, 3, 3);
  index_t rounded = 0;
  for (index_t i = 0; i < big.size(); ++i)
    rounded += static_cast<std::uint32_t>(static_cast<float>(big.data()[i])) != big.data()[i];
  CHECK(rounded > 0);
}

TEST_CASE("HDF5 and TIFF stacks read identically through selections, windows, binning and blocks", "[io][hdf5]") {
  const fs::path dir = fresh_dir("tiff");
  const index_t views = 11, rows = 13, cols = 17;
  const Tensor<std::uint16_t, 3> data = pattern<std::uint16_t>(views, rows, cols);
  write_tiff((dir / "stack.tif").string(), data.const_view());
  write_hdf5((dir / "scan.h5").string(), "/entry/data/data", data.const_view());
  write_hdf5((dir / "scan.h5").string(), "/chunked", data.const_view(),
             {.append = true, .chunk_views = 3, .deflate = 6});
  const ProjectionStack tiff = ProjectionStack::multipage((dir / "stack.tif").string());
  const ProjectionStack contiguous = ProjectionStack::hdf5((dir / "scan.h5").string(), "/entry/data/data");
  const ProjectionStack chunked = ProjectionStack::hdf5((dir / "scan.h5").string(), "/chunked");
  CHECK((contiguous.size() == views && contiguous.rows() == rows && contiguous.cols() == cols));
  CHECK(contiguous.describe() == "'" + (dir / "scan.h5").string() + "' dataset '/entry/data/data'");
  for (const ProjectionSelection& s :
       {ProjectionSelection{}, ProjectionSelection{1, 3, -1}, ProjectionSelection{2, 4, 2}})
    for (const DetectorWindow& w : {DetectorWindow{}, DetectorWindow{2, 3, 9, 11, 1}, DetectorWindow{1, 0, 0, 0, 2},
                                    DetectorWindow{0, 2, 12, 15, 3}}) {
      const Tensor<float, 3> expected = tiff.read(s, w);
      for (const ProjectionStack* h5 : {&contiguous, &chunked}) {
        const Tensor<float, 3> got = h5->read(s, w);
        REQUIRE(got.extents() == expected.extents());
        for (index_t i = 0; i < got.size(); ++i) REQUIRE(got.data()[i] == expected.data()[i]);
        // In blocks of 2: every selected projection once, in order, equal to the whole read.
        index_t next = 0;
        h5->for_each_block(s, w, 2, [&](index_t first, View<const float, 3> block) {
          REQUIRE(first == next);
          for (index_t k = 0; k < block.extent(0); ++k)
            for (index_t r = 0; r < block.extent(1); ++r)
              for (index_t c = 0; c < block.extent(2); ++c) REQUIRE(block(k, r, c) == expected(first + k, r, c));
          next += block.extent(0);
        });
        CHECK(next == expected.extent(0));
      }
    }
}

TEST_CASE("A list of dataset views is a stack of those views", "[io][hdf5]") {
  const fs::path dir = fresh_dir("views");
  const Tensor<float, 3> data = pattern<float>(9, 6, 8);
  const std::string path = (dir / "frames.h5").string();
  write_hdf5(path, "/entry/data/data", data.const_view());
  const std::vector<index_t> views = {2, 4, 6, 7, 1};
  const ProjectionStack stack = ProjectionStack::hdf5(path, "/entry/data/data", views);
  REQUIRE(stack.size() == 5);
  for (const DetectorWindow& w : {DetectorWindow{}, DetectorWindow{1, 2, 4, 4, 2}}) {
    const Tensor<float, 3> got = stack.read(ProjectionSelection{0, 1, 3}, w);  // views 2, 4, 6 (one hyperslab)
    const Tensor<float, 3> all = stack.read(ProjectionSelection{}, w);         // 2, 4, 6, 7, 1 (view by view)
    const DetectorWindow r = stack.resolve(w);
    for (index_t k = 0; k < 5; ++k)
      for (index_t y = 0; y < all.extent(1); ++y)
        for (index_t x = 0; x < all.extent(2); ++x) {
          double sum = 0;
          for (index_t i = 0; i < r.binning; ++i)
            for (index_t j = 0; j < r.binning; ++j)
              sum += data(views[static_cast<std::size_t>(k)], r.row + r.binning * y + i, r.col + r.binning * x + j);
          const auto want = static_cast<float>(sum / static_cast<double>(r.binning * r.binning));
          REQUIRE(all(k, y, x) == Approx(want).epsilon(1e-6));
          if (k < 3) REQUIRE(got(k, y, x) == all(k, y, x));
        }
  }
  CHECK_THROWS_AS(ProjectionStack::hdf5(path, "/entry/data/data", std::vector<index_t>{}), invalid_argument);
  CHECK_THROWS_AS(ProjectionStack::hdf5(path, "/entry/data/data", std::vector<index_t>{0, 9}), invalid_argument);
}

TEST_CASE("HDF5 errors name the file and the dataset path, and HDF5 prints nothing", "[io][hdf5]") {
  const fs::path dir = fresh_dir("errors");
  const std::string path = (dir / "scan.h5").string();
  const Tensor<std::uint16_t, 3> data = pattern<std::uint16_t>(100, 8, 8);
  write_hdf5(path, "/entry/data/data", data.const_view(), {.chunk_views = 50});
  const std::vector<std::int32_t> keys = {0, 1, 2};
  write_hdf5(path, "/entry/data/image_key", std::span<const std::int32_t>(keys), {.append = true});
  const Tensor<std::int32_t, 3> signed_data = pattern<std::int32_t>(2, 3, 3);
  write_hdf5(path, "/signed", signed_data.const_view(), {.append = true});

  SECTION("missing file") {
    test::require_error<io_error>([&] { Hdf5Dataset((dir / "nope.h5").string(), "/entry/data/data"); },
                                  {"nope.h5", "no such file"});
  }
  SECTION("missing dataset path") {
    for (const char* name : {"/entry/data/missing", "/entry/nothing/data", "entry/data/data"}) {
      test::require_error<io_error>([&] { Hdf5Dataset(path, name); },
                                    {path, std::string("has no dataset '") + name + "'"});
    }
    CHECK(!hdf5_has(path, "/entry/nothing/data"));
    CHECK(hdf5_has(path, "/entry/data/image_key"));
    test::require_error<io_error>([&] { Hdf5Dataset(path, "/entry/data"); }, {"'/entry/data' is not a dataset"});
  }
  SECTION("wrong rank") {
    test::require_error<io_error>([&] { Hdf5Dataset(path, "/entry/data/image_key"); },
                                  {path, "'/entry/data/image_key' has rank 1, expected 3"});
    test::require_error<io_error>([&] { (void)read_hdf5_integers(path, "/entry/data/data"); }, {"has rank 3"});
    CHECK(read_hdf5_integers(path, "/entry/data/image_key") == std::vector<std::int64_t>{0, 1, 2});
  }
  SECTION("unsupported type") {
    test::require_error<io_error>([&] { Hdf5Dataset(path, "/signed"); }, {"'/signed'", "(signed) are not supported"});
  }
  SECTION("sizes over the allocation limit, before allocating") {
    ReadLimits small;
    small.max_allocation_bytes = 255;  // a frame of 8 x 8 floats needs 256 bytes
    test::require_error<io_error>(
        [&] { Hdf5Dataset(path, "/entry/data/data", small); },
        {"'/entry/data/data': one frame: shape (8, 8) needs 256 bytes, more than the allocation limit"});
    small.max_allocation_bytes = 6399;  // a chunk of 50 x 8 x 8 uint16 needs 6400
    test::require_error<io_error>([&] { Hdf5Dataset(path, "/entry/data/data", small); },
                                  {"one chunk: shape (50, 8, 8) needs 6400 bytes"});
    small.max_allocation_bytes = 20000;  // 100 views of 8 x 8 floats need 25600
    const ProjectionStack stack = ProjectionStack::hdf5(path, "/entry/data/data", std::nullopt, small);
    test::require_error<io_error>([&] { (void)stack.read(ProjectionSelection{}, DetectorWindow{}); },
                                  {"shape (100, 8, 8) needs 25600 bytes"});
    CHECK(stack.read(ProjectionSelection{0, 1, 50}, DetectorWindow{}).extent(0) == 50);
    // A declared frame of 2^20 x 2^20 (never written: the file stays small) is refused before allocation.
    {
      const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
      const hsize_t dims[3] = {3, hsize_t{1} << 20, hsize_t{1} << 20};
      const hid_t space = H5Screate_simple(3, dims, nullptr);
      const hid_t set = H5Dcreate2(file, "/huge", H5T_NATIVE_UINT8, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      REQUIRE(set >= 0);
      H5Dclose(set);
      H5Sclose(space);
      H5Fclose(file);
    }
    CHECK(fs::file_size(path) < 1000000);
    test::require_error<io_error>(
        [&] { Hdf5Dataset(path, "/huge"); },
        {"'/huge': one frame: shape (1048576, 1048576) needs 4398046511104 bytes, more than the allocation limit"});
    // 2^40 declared views of 1 x 1 (a fuzz finding: the stack's list of views was allocated unchecked).
    {
      const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
      const hsize_t dims[3] = {hsize_t{1} << 40, 1, 1};
      const hid_t space = H5Screate_simple(3, dims, nullptr);
      const hid_t set = H5Dcreate2(file, "/many", H5T_NATIVE_UINT8, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      REQUIRE(set >= 0);
      H5Dclose(set);
      H5Sclose(space);
      H5Fclose(file);
    }
    CHECK(Hdf5Dataset(path, "/many").views() == std::int64_t{1} << 40);  // one frame fits: the dataset opens
    test::require_error<io_error>([&] { (void)ProjectionStack::hdf5(path, "/many"); },
                                  {"ProjectionStack::hdf5: '" + path + "' dataset '/many': the list of its views",
                                   "shape (1099511627776) needs 8796093022208 bytes, more than the allocation limit"});
  }
  SECTION("data never written, or only partly, is refused before it is read as fill values") {
    // A fuzz finding: libhdf5 1.10.8 overflowed a heap buffer filling the unwritten chunks of a corrupt file.
    {
      Hdf5Writer out(path, {.append = true});
      out.create_stack<std::uint16_t>("/part", 3, 4, 5, {.chunk_views = 1});
      Tensor<std::uint16_t, 2> frame(Extents<2>{4, 5});
      for (index_t i = 0; i < frame.size(); ++i) frame.data()[i] = 7;
      out.write_frame("/part", 1, frame.const_view());
      out.create_stack<std::uint16_t>("/none", 2, 4, 5);
      out.flush();
    }
    // A chunk index claiming a short unfiltered chunk (written raw: 8 of its 40 bytes): libhdf5 would read past it.
    {
      Hdf5Writer out(path, {.append = true});
      out.create_stack<std::uint16_t>("/short", 3, 4, 5, {.chunk_views = 1});
      Tensor<std::uint16_t, 2> frame(Extents<2>{4, 5});
      for (index_t i = 0; i < frame.size(); ++i) frame.data()[i] = 7;
      out.write_frame("/short", 0, frame.const_view());
      out.write_frame("/short", 2, frame.const_view());
      out.flush();
      const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
      const hid_t set = H5Dopen2(file, "/short", H5P_DEFAULT);
      const hsize_t offset[3] = {1, 0, 0};
      REQUIRE(H5Dwrite_chunk(set, H5P_DEFAULT, 0, offset, 8, frame.data()) >= 0);
      H5Dclose(set);
      H5Fclose(file);
    }
    Tensor<float, 3> got(Extents<3>{1, 4, 5});
    Hdf5Dataset part(path, "/part");
    test::require_error<io_error>([&] { part.read(1, 1, 0, 0, got.view()); },
                                  {"'" + path + "' dataset '/part': part of the data was never written"});
    Hdf5Dataset none(path, "/none");
    test::require_error<io_error>([&] { none.read(0, 1, 0, 0, got.view()); },
                                  {"dataset '/none': the data was never written"});
    Hdf5Dataset short_chunk(path, "/short");
    test::require_error<io_error>([&] { short_chunk.read(0, 1, 0, 0, got.view()); },
                                  {"dataset '/short': its 3 unfiltered chunks of 40 bytes are stored in 88 bytes",
                                   "corrupt chunk index"});
    Hdf5Dataset whole(path, "/entry/data/data");  // written: reads
    whole.read(99, 1, 0, 0, got.view());
    CHECK(got(0, 3, 4) == static_cast<float>(data(99, 3, 4)));
  }
  SECTION("truncated or foreign file") {
    const std::string cut = (dir / "cut.h5").string();
    fs::copy_file(path, cut);
    fs::resize_file(cut, fs::file_size(cut) / 2);
    test::require_error<io_error>([&] { Hdf5Dataset(cut, "/entry/data/data"); },
                                  {"cannot open '" + cut + "' as HDF5", "truncated"});
    std::ofstream((dir / "text.h5").string()) << "not an HDF5 file\n";
    test::require_error<io_error>([&] { Hdf5Dataset((dir / "text.h5").string(), "/entry/data/data"); },
                                  {"text.h5' as HDF5"});
  }
  SECTION("HDF5 prints no error stack and its printing is restored afterwards") {
    H5E_auto2_t before = nullptr;
    void* before_data = nullptr;
    H5Eget_auto2(H5E_DEFAULT, &before, &before_data);
    REQUIRE(before != nullptr);  // HDF5 prints by default: the silence below is ours
    const std::string printed = test::stderr_of([&] {
      try {
        Hdf5Dataset(path, "/entry/data/missing");
      } catch (const io_error&) {
      }
      Hdf5Dataset(path, "/entry/data");
    });
    CHECK(printed.empty());
    H5E_auto2_t after = nullptr;
    void* after_data = nullptr;
    H5Eget_auto2(H5E_DEFAULT, &after, &after_data);
    CHECK(after == before);
    // Without the guard the same failure does print (the capture works).
    CHECK(!test::stderr_of([&] { H5Fopen((dir / "absent.h5").string().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT); }).empty());
  }
}

TEST_CASE("read_hdf5_numbers reads scalar and 1-D numbers with their units", "[io][hdf5]") {
  const std::string path = (fresh_dir("numbers") / "numbers.h5").string();
  {
    Hdf5Writer out(path);
    const std::vector<double> angles = {0.0, 0.5, 1.0 / 3.0};
    const std::vector<std::int32_t> keys = {0, 1, 2};
    out.write("/angles", std::span<const double>(angles));
    out.set_attribute("/angles", "units", "degree");
    out.write_scalar("/distance", 12.5);
    out.write("/keys", std::span<const std::int32_t>(keys));
    out.write_text("/text", "NXtomo");
    out.write_scalar("/vlen", 3.0);
    out.write("/matrix", pattern<float>(1, 2, 2).const_view());
    out.flush();
  }
  {  // h5py writes attributes as variable-length strings
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t d = H5Dopen2(file, "/vlen", H5P_DEFAULT);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(d, "units", type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* units = "mm ";
    H5Awrite(a, type, &units);
    H5Aclose(a), H5Sclose(space), H5Tclose(type), H5Dclose(d), H5Fclose(file);
  }
  const Hdf5Numbers angles = read_hdf5_numbers(path, "/angles");
  CHECK(angles.values == std::vector<double>{0.0, 0.5, 1.0 / 3.0});
  CHECK(angles.units == "degree");
  const Hdf5Numbers distance = read_hdf5_numbers(path, "/distance");
  CHECK(distance.values == std::vector<double>{12.5});
  CHECK(distance.units.empty());
  CHECK(read_hdf5_numbers(path, "/keys").values == std::vector<double>{0, 1, 2});
  CHECK(read_hdf5_numbers(path, "/vlen").units == "mm");
  test::require_error<io_error>([&] { (void)read_hdf5_numbers(path, "/text"); },
                                {"'" + path + "' dataset '/text' does not hold numbers"});
  test::require_error<io_error>([&] { (void)read_hdf5_numbers(path, "/matrix"); },
                                {"dataset '/matrix' has rank 3, expected 0 or 1"});
  test::require_error<io_error>([&] { (void)read_hdf5_numbers(path, "/absent"); }, {"has no dataset '/absent'"});
}

TEST_CASE("Integer and number datasets with oversized elements or chunks are refused before H5Dread",
          "[io][hdf5]") {
  // Fuzz findings: a corrupt type of gigabytes per element, or a huge chunk, made libhdf5 allocate that much while
  // reading a few values of a 15 KB file.
  const std::string path = (fresh_dir("oversized") / "oversized.h5").string();
  {
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t n = 4;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t wide = H5Tcopy(H5T_STD_I64LE);
    REQUIRE(H5Tset_size(wide, 16) >= 0);  // a 16-byte integer
    const hid_t set = H5Dcreate2(file, "/wide", wide, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const std::vector<unsigned char> raw(64, 0);
    REQUIRE(H5Dwrite(set, wide, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) >= 0);
    H5Dclose(set);
    H5Tclose(wide);
    const hid_t creation = H5Pcreate(H5P_DATASET_CREATE);
    const hsize_t chunk = 1000;  // 8000 bytes per chunk of int64
    H5Pset_chunk(creation, 1, &chunk);
    const hsize_t unlimited = H5S_UNLIMITED;  // a chunk larger than the extents needs unlimited maximum extents
    const hid_t growing = H5Screate_simple(1, &n, &unlimited);
    const hid_t chunked = H5Dcreate2(file, "/chunked", H5T_NATIVE_INT64, growing, H5P_DEFAULT, creation, H5P_DEFAULT);
    const std::vector<std::int64_t> values = {0, 1, 2, 3};
    REQUIRE(H5Dwrite(chunked, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
    H5Dclose(chunked);
    H5Sclose(growing);
    H5Pclose(creation);
    H5Sclose(space);
    H5Fclose(file);
  }
  test::require_error<io_error>([&] { (void)read_hdf5_integers(path, "/wide"); },
                                {"dataset '/wide': elements of 16 bytes are not supported (at most 8)"});
  test::require_error<io_error>([&] { (void)read_hdf5_numbers(path, "/wide"); },
                                {"dataset '/wide': elements of 16 bytes are not supported (at most 8)"});
  ReadLimits small;
  small.max_allocation_bytes = 7999;
  test::require_error<io_error>([&] { (void)read_hdf5_integers(path, "/chunked", small); },
                                {"dataset '/chunked': one chunk: shape (1000) needs 8000 bytes"});
  test::require_error<io_error>([&] { (void)read_hdf5_numbers(path, "/chunked", small); },
                                {"dataset '/chunked': one chunk: shape (1000) needs 8000 bytes"});
  small.max_allocation_bytes = 8000;
  CHECK(read_hdf5_integers(path, "/chunked", small) == std::vector<std::int64_t>{0, 1, 2, 3});
}
