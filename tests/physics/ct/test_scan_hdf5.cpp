// Raw scans in HDF5/NeXus files: a simulated TIFF scan directory rewritten as one NeXus file (frames split by
// image_key, flats before and after the projections, an invalid frame) or as Data Exchange datasets reads to
// the same line integrals and geometry as the TIFF directory, through selections, crops, binning, zinger and
// ring removal; from DIR/scan.h5 or from the file itself; inconsistent files give io_errors naming the file and
// the dataset path.
#include <catch2/catch.hpp>

#include "io/bad_input_support.hpp"
#include "physics/ct/scan_support.hpp"
#include "support/host_executors.hpp"

#include <pnpdist/io/hdf5.hpp>
#include <pnpdist/io/hdf5_writer.hpp>
#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/scan_directory.hpp>
#include <pnpdist/physics/ct/simulated_scan.hpp>

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <numbers>
#include <span>
#include <string>
#include <vector>

using namespace pnpdist;
namespace fs = std::filesystem;

namespace {

const test::FastHostExecutor exec = test::fast_host_executor();

fs::path fresh_dir(const std::string& name) { return test::fresh_scan_dir("pnpdist_test_scan_hdf5", name); }

// The frames of a TIFF series as 16-bit counts.
Tensor<std::uint16_t, 3> counts_of(const fs::path& dir, const std::string& prefix) {
  const ProjectionStack stack = ProjectionStack::files(list_numbered_files(dir.string(), prefix, ".tif"));
  const Tensor<float, 3> frames = stack.read(ProjectionSelection{}, DetectorWindow{});
  Tensor<std::uint16_t, 3> out(frames.extents());
  for (index_t i = 0; i < frames.size(); ++i) out.data()[i] = static_cast<std::uint16_t>(frames.data()[i]);
  return out;
}

// A simulated scan (10 views of 6 x 12, drifting source: flats before and after) as a TIFF directory.
struct Scans {
  ct::VolumeGeometry3D volume{8, 8, 8, 0.125, 0.125, 0.125};
  ct::Geometry3D geometry;
  fs::path tiff;
  Tensor<std::uint16_t, 3> darks, flats, projections;
  explicit Scans(const std::string& name) {
    geometry = ct::cone_beam(ct::uniform_angles(10, 0.0, 2 * std::numbers::pi), ct::Detector3D{6, 12, 0.25, 0.25, 0, 0},
                             2.0, 2.0, volume);
    const Tensor<float, 3> truth =
        phantom::rasterize<float>(exec, phantom::walnut(0), volume, phantom::fitted_scale(volume));
    ct::SimulatedScanOptions o;
    o.drift = -0.1;
    o.zingers = 2;
    tiff = fresh_dir(name + "_tiff");
    ct::write_simulated_scan(exec, tiff.string(), geometry, truth.const_view(), o);
    darks = counts_of(tiff, "di");
    flats = counts_of(tiff, "io");  // 2 at position 0, 2 at position 10
    projections = counts_of(tiff, "scan_");
    REQUIRE(flats.extent(0) == 4);
  }

  // NXtomo: darks, an invalid frame, 2 flats, the projections, 2 flats in /entry/instrument/detector/data
  // (soft link /entry/data/data), with /entry/data/image_key.
  [[nodiscard]] fs::path nexus(const std::string& name, const std::string& file = "scan.h5") const {
    const fs::path dir = fresh_dir(name);
    Tensor<std::uint16_t, 3> all(Extents<3>{2 + 1 + 4 + 10, 6, 12});
    std::vector<std::int32_t> keys;
    index_t f = 0;
    const auto append = [&](const Tensor<std::uint16_t, 3>& from, index_t first, index_t n, std::int32_t key) {
      for (index_t k = first; k < first + n; ++k, ++f) {
        for (index_t i = 0; i < 72; ++i) all.data()[f * 72 + i] = from.data()[k * 72 + i];
        keys.push_back(key);
      }
    };
    append(darks, 0, 2, 2);
    append(projections, 0, 1, 3);  // invalid: skipped
    append(flats, 0, 2, 1);
    append(projections, 0, 10, 0);
    append(flats, 2, 2, 1);
    const std::string path = (dir / file).string();
    write_hdf5(path, "/entry/instrument/detector/data", all.const_view(), {.chunk_views = 1, .deflate = 1});
    write_hdf5(path, "/entry/data/image_key", std::span<const std::int32_t>(keys), {.append = true});
    const hid_t h = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(H5Lcreate_soft("/entry/instrument/detector/data", h, "/entry/data/data", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Fclose(h);
    fs::copy_file(tiff / "scan_geom.geom", dir / "scan_geom.geom");
    return dir;
  }

  // Data Exchange: /exchange/data, /exchange/data_dark, /exchange/data_white, flat_positions.txt.
  [[nodiscard]] fs::path exchange(const std::string& name) const {
    const fs::path dir = fresh_dir(name);
    const std::string path = (dir / "scan.h5").string();
    write_hdf5(path, "/exchange/data", projections.const_view());
    write_hdf5(path, "/exchange/data_dark", darks.const_view(), {.append = true});
    write_hdf5(path, "/exchange/data_white", flats.const_view(), {.append = true});
    fs::copy_file(tiff / "scan_geom.geom", dir / "scan_geom.geom");
    fs::copy_file(tiff / "flat_positions.txt", dir / "flat_positions.txt");
    return dir;
  }
};

ct::ScanLayout exchange_layout() { return ct::ScanLayout::data_exchange(); }

using test::require_same;

}  // namespace

TEST_CASE("A NeXus or Data Exchange file reads like the TIFF directory of the same scan", "[ct][scan][hdf5]") {
  const Scans scans("same");
  const fs::path nexus = scans.nexus("nexus");
  const fs::path exchange = scans.exchange("exchange");
  const fs::path alone = scans.nexus("alone", "tomo.nxs");
  fs::rename(alone / "scan_geom.geom", alone / "vectors.geom");
  for (const ct::ScanReadOptions& o : test::scan_read_variants()) {
    const ct::Scan expected = ct::read_scan(exec, scans.tiff.string(), scans.volume, o);
    CHECK(expected.projections.extent(0) ==
          static_cast<index_t>(
              ProjectionStack::hdf5((exchange / "scan.h5").string(), "/exchange/data").indices(o.selection).size()));
    require_same(expected, ct::read_scan(exec, nexus.string(), scans.volume, o));
    require_same(expected, ct::read_scan(exec, (nexus / "scan.h5").string(), scans.volume, o));
    require_same(expected, ct::read_scan(exec, exchange.string(), scans.volume, o, exchange_layout()));
    ct::ScanReadOptions file = o;
    file.vectors_file = (alone / "vectors.geom").string();
    require_same(expected, ct::read_scan(exec, (alone / "tomo.nxs").string(), scans.volume, file));
  }
  // The drift matters: with every flat averaged (no image_key positions) the result differs.
  ct::ScanLayout averaged = exchange_layout();
  fs::remove(exchange / "flat_positions.txt");
  const ct::Scan expected = ct::read_scan(exec, scans.tiff.string(), scans.volume);
  const ct::Scan flat = ct::read_scan(exec, exchange.string(), scans.volume, {}, averaged);
  index_t differing = 0;
  for (index_t i = 0; i < flat.projections.size(); ++i)
    differing += flat.projections.data()[i] != expected.projections.data()[i];
  CHECK(differing > flat.projections.size() / 2);
}

TEST_CASE("Inconsistent HDF5 scans give io_errors naming the file and the dataset", "[ct][scan][hdf5]") {
  const Scans scans("errors");
  const auto read = [&](const fs::path& dir, const ct::ScanLayout& layout = {}) {
    return ct::read_scan(exec, dir.string(), scans.volume, {}, layout);
  };
  SECTION("a vectors file with another number of views") {
    const fs::path dir = scans.nexus("vectors");
    ct::write_vector_file((dir / "scan_geom.geom").string(), ct::select_views(scans.geometry, 0, 9));
    test::require_error<io_error>([&] { (void)read(dir); }, {"scan_geom.geom' holds 9 vectors",
                                                             "scan.h5' dataset '/entry/data/data' 10 projections"});
  }
  SECTION("dark frames of another shape") {
    const fs::path dir = scans.exchange("dark");
    const std::string path = (dir / "scan.h5").string();
    const hid_t h = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(H5Ldelete(h, "/exchange/data_dark", H5P_DEFAULT) >= 0);
    H5Fclose(h);
    Tensor<std::uint16_t, 3> odd(Extents<3>{2, 6, 11});
    fill(Serial{}, odd.view(), std::uint16_t{100});
    write_hdf5(path, "/exchange/data_dark", odd.const_view(), {.append = true});
    test::require_error<io_error>(
        [&] { (void)read(dir, exchange_layout()); },
        {"dark frames '" + path + "' dataset '/exchange/data_dark' are 6 x 11, the projections 6 x 12"});
  }
  SECTION("a missing dataset path") {
    ct::ScanLayout layout = exchange_layout();
    layout.hdf5_flat = "/exchange/flats";
    test::require_error<io_error>([&] { (void)read(scans.exchange("path"), layout); },
                                  {"has no dataset '/exchange/flats'"});
  }
  SECTION("image keys that do not fit the frames") {
    const fs::path dir = scans.nexus("keys");
    const std::string path = (dir / "scan.h5").string();
    const auto rewrite = [&](std::vector<std::int32_t> keys) {
      const hid_t h = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
      REQUIRE(H5Ldelete(h, "/entry/data/image_key", H5P_DEFAULT) >= 0);
      H5Fclose(h);
      write_hdf5(path, "/entry/data/image_key", std::span<const std::int32_t>(keys), {.append = true});
    };
    std::vector<std::int32_t> keys = {2, 2, 3, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    rewrite(std::vector<std::int32_t>(keys.begin(), keys.end() - 1));
    test::require_error<io_error>([&] { (void)read(dir); },
                                  {"dataset '/entry/data/image_key' holds 16 keys for the 17 frames"});
    keys[0] = keys[1] = 0;
    rewrite(keys);
    test::require_error<io_error>([&] { (void)read(dir); }, {"image_key' holds no dark (2) frame"});
    keys[0] = 7;
    rewrite(keys);
    test::require_error<io_error>([&] { (void)read(dir); }, {"holds 7 at frame 0"});
  }
  SECTION("a directory with both TIFF projections and scan.h5") {
    const fs::path dir = scans.nexus("both");
    fs::copy_file(scans.tiff / "scan_000000.tif", dir / "scan_000000.tif");
    test::require_error<io_error>([&] { (void)read(dir); }, {"holds both scan.h5 and scan_<number>.tif"});
  }
  SECTION("more declared views than the line integrals may take, refused before the geometry and the fields") {
    // A fuzz finding: 2^20 declared views of 64 x 64 (never written: the file stays small).
    const fs::path dir = fresh_dir("many_views");
    const std::string path = (dir / "scan.h5").string();
    Tensor<std::uint16_t, 3> frames(Extents<3>{1, 64, 64});
    fill(Serial{}, frames.view(), std::uint16_t{100});
    write_hdf5(path, "/entry/data/dark", frames.const_view());
    write_hdf5(path, "/entry/data/flat", frames.const_view(), {.append = true});
    const hid_t h = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hsize_t dims[3] = {hsize_t{1} << 20, 64, 64};
    const hid_t space = H5Screate_simple(3, dims, nullptr);
    const hid_t set = H5Dcreate2(h, "/entry/data/data", H5T_NATIVE_UINT16, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(set >= 0);
    H5Dclose(set);
    H5Sclose(space);
    H5Fclose(h);
    REQUIRE(fs::file_size(path) < 100000);
    test::require_error<io_error>([&] { (void)read(dir); },
                                  {"ct::read_scan: the line integrals of '" + path + "' dataset '/entry/data/data'",
                                   "shape (1048576, 64, 64) needs 17179869184 bytes, more than the allocation limit"});
  }
  SECTION("a missing file") {
    const fs::path dir = fresh_dir("missing");
    test::require_error<io_error>([&] { (void)read(dir / "scan.nxs"); }, {"scan.nxs': no such file"});
  }
  SECTION("a truncated file") {
    const fs::path dir = scans.nexus("truncated");
    fs::resize_file(dir / "scan.h5", fs::file_size(dir / "scan.h5") - 100);
    test::require_error<io_error>([&] { (void)read(dir); }, {"scan.h5' as HDF5: truncated file"});
  }
}
