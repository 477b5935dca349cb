// Simulated scans written as one NeXus (NXtomo) or Data Exchange file: the counts are those of the TIFF
// directory of the same simulation, frame for frame, and read_scan gives bit-identical line integrals and
// geometry from the three, through subsets, crops, binning, zinger and ring removal.
#include <catch2/catch.hpp>

#include "physics/ct/scan_support.hpp"
#include "support/host_executors.hpp"

#include <pnpdist/io/hdf5.hpp>
#include <pnpdist/io/projection_stack.hpp>
#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/nexus_geometry.hpp>
#include <pnpdist/physics/ct/scan_directory.hpp>
#include <pnpdist/physics/ct/simulated_scan.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

using namespace pnpdist;
namespace fs = std::filesystem;

namespace {

const test::FastHostExecutor exec = test::fast_host_executor();

fs::path fresh_dir(const std::string& name) {
  return test::fresh_scan_dir("pnpdist_test_simulated_scan_hdf5", name);
}

// The frames of `stack` (all of them) as floats.
Tensor<float, 3> frames_of(const ProjectionStack& stack) { return stack.read(ProjectionSelection{}, DetectorWindow{}); }

using test::require_same;

// 10 cone-beam views of 6 x 12 over a full turn of an 8^3 walnut, drifting source (flats before and after),
// zingers and a shifted centre of rotation.
struct Simulation {
  ct::VolumeGeometry3D volume{8, 8, 8, 0.125, 0.125, 0.125};
  ct::CircularScan orbit{ct::Beam::divergent, ct::uniform_angles(10, 0.0, 360.0), ct::Detector3D{6, 12, 0.25, 0.25, 0, 0},
                         2.0, 2.0};
  Tensor<float, 3> truth = phantom::rasterize<float>(exec, phantom::walnut(0), volume, phantom::fitted_scale(volume));
  ct::SimulatedScanOptions options;
  Simulation() {
    options.drift = -0.1;
    options.zingers = 2;
    options.centre_of_rotation_shift = 1.5;
  }
  [[nodiscard]] std::string write(const fs::path& path, ct::ScanFormat format, const ct::ScanLayout& layout = {}) const {
    ct::SimulatedScanOptions o = options;
    o.format = format;
    ct::write_simulated_scan(exec, path.string(), orbit, volume, truth.const_view(), o, layout);
    return path.string();
  }
};

}  // namespace

TEST_CASE("A simulated scan written as NeXus or Data Exchange holds the counts of its TIFF directory",
          "[ct][scan][hdf5]") {
  const Simulation sim;
  const fs::path dir = fresh_dir("counts");
  const std::string tiff = sim.write(dir / "tiff", ct::ScanFormat::tiff);
  const std::string nexus = sim.write(dir / "nexus" / "scan.nxs", ct::ScanFormat::nexus);
  const ct::ScanLayout exchange_layout = ct::ScanLayout::data_exchange();
  const std::string exchange = sim.write(dir / "exchange" / "scan.h5", ct::ScanFormat::data_exchange, exchange_layout);

  // NXtomo: darks, flats at position 0, the projections, flats at position 10, split by image_key.
  const std::vector<std::int64_t> keys = read_hdf5_integers(nexus, "/entry/data/image_key");
  std::vector<std::int64_t> expected_keys = {2, 2, 1, 1};
  expected_keys.insert(expected_keys.end(), 10, 0);
  expected_keys.insert(expected_keys.end(), {1, 1});
  CHECK(keys == expected_keys);
  CHECK(read_hdf5_integers(nexus, "/entry/instrument/detector/image_key") == expected_keys);
  const auto tiff_series = [&](const std::string& prefix) {
    return frames_of(ProjectionStack::files(list_numbered_files(tiff, prefix, ".tif")));
  };
  const auto nexus_frames = [&](std::vector<index_t> which) {
    return frames_of(ProjectionStack::hdf5(nexus, "/entry/data/data", std::move(which)));
  };
  require_same(tiff_series("di"), nexus_frames({0, 1}));
  require_same(tiff_series("io"), nexus_frames({2, 3, 14, 15}));
  require_same(tiff_series("scan_"), nexus_frames({4, 5, 6, 7, 8, 9, 10, 11, 12, 13}));
  require_same(tiff_series("di"), frames_of(ProjectionStack::hdf5(exchange, "/exchange/data_dark")));
  require_same(tiff_series("io"), frames_of(ProjectionStack::hdf5(exchange, "/exchange/data_white")));
  require_same(tiff_series("scan_"), frames_of(ProjectionStack::hdf5(exchange, "/exchange/data")));
  CHECK(hdf5_has(nexus, "/entry/sample/rotation_angle"));
  CHECK(hdf5_has(nexus, "/entry/data/rotation_angle"));
  CHECK(hdf5_has(exchange, "/exchange/theta"));

  // Without a CircularScan (per-view vectors) the NeXus file holds no geometry: the vectors file is beside it.
  ct::SimulatedScanOptions o = sim.options;
  o.format = ct::ScanFormat::nexus;
  const fs::path vectors_only = dir / "vectors" / "scan.h5";
  ct::write_simulated_scan(exec, vectors_only.string(), ct::circular_geometry(sim.orbit, sim.volume),
                           sim.truth.const_view(), o);
  CHECK_FALSE(hdf5_has(vectors_only.string(), "/entry/sample/rotation_angle"));
  CHECK(fs::exists(vectors_only.parent_path() / "scan_geom.geom"));
  require_same(tiff_series("scan_"),
                frames_of(ProjectionStack::hdf5(vectors_only.string(), "/entry/data/data",
                                                std::vector<index_t>{4, 5, 6, 7, 8, 9, 10, 11, 12, 13})));
}

TEST_CASE("A simulated NeXus or Data Exchange scan reads like its TIFF directory", "[ct][scan][hdf5]") {
  const Simulation sim;
  const fs::path dir = fresh_dir("read");
  const std::string tiff = sim.write(dir / "tiff", ct::ScanFormat::tiff);
  const std::string nexus = sim.write(dir / "nexus" / "scan.nxs", ct::ScanFormat::nexus);
  const std::string exchange =
      sim.write(dir / "exchange" / "scan.h5", ct::ScanFormat::data_exchange, ct::ScanLayout::data_exchange());
  for (const ct::ScanReadOptions& o : test::scan_read_variants()) {
    const ct::Scan expected = ct::read_scan(exec, tiff, sim.volume, o);
    require_same(expected, ct::read_scan(exec, nexus, sim.volume, o));
    require_same(expected, ct::read_scan(exec, exchange, sim.volume, o, ct::ScanLayout::data_exchange()));
  }
  // The nominal geometry: the orbit's, without the centre shift of the data.
  CHECK(ct::read_scan(exec, nexus, sim.volume).geometry.vectors == ct::circular_geometry(sim.orbit, sim.volume).vectors);
}
