// Writes the seed corpus of the fuzz targets into <folder>/<target>/: small valid files made by the
// library's own writers (nothing binary is kept in the repository). The image target also takes the PNG and
// JPEG test fixtures as seeds (scripts/run_fuzzers.sh). The HDF5 seeds (a NeXus scan with its geometry and an
// image_key, a Data Exchange scan, a deflated float stack) need the pnpdist::hdf5 and pnpdist::tiff components.
#include <pnpdist/io/npy.hpp>
#include <pnpdist/io/safetensors.hpp>
#include <pnpdist/io/tiff.hpp>
#include <pnpdist/physics/ct/vector_file.hpp>
#if defined(PNPDIST_HAS_HDF5) && defined(PNPDIST_HAS_TIFF)
#include <pnpdist/backend/serial.hpp>
#include <pnpdist/io/hdf5_writer.hpp>
#include <pnpdist/physics/ct/simulated_scan.hpp>
#endif
#include <pnpdist/solvers/checkpoint.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <seed folder>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  for (const char* target : {"npy", "safetensors", "image", "checkpoint", "tiff", "geometry", "vectors", "yaml", "hdf5"})
    std::filesystem::create_directories(root / target);

  pnpdist::Tensor<float, 2, pnpdist::HostSpace> plane(pnpdist::Extents<2>{3, 4});
  for (pnpdist::index_t i = 0; i < plane.size(); ++i) plane.data()[i] = 0.25f * static_cast<float>(i);
  pnpdist::write_npy((root / "npy" / "plane.npy").string(), plane.const_view());
  pnpdist::write_npy((root / "image" / "plane.npy").string(), plane.const_view());
  pnpdist::Tensor<std::uint8_t, 3, pnpdist::HostSpace> bytes(pnpdist::Extents<3>{2, 2, 2});
  for (pnpdist::index_t i = 0; i < bytes.size(); ++i) bytes.data()[i] = static_cast<std::uint8_t>(i);
  pnpdist::write_npy((root / "npy" / "bytes.npy").string(), bytes.const_view());

  pnpdist::write_safetensors((root / "safetensors" / "two.safetensors").string(),
                             {{"a.weight", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"b", {1}, {-0.5f}}});

  pnpdist::Checkpoint c;
  c.iteration = 3;
  c.step = 0.5;
  c.value_size = 4;
  c.extents = {2};
  c.records.resize(2);
  c.records[1].iteration = 3;
  c.data.resize(8);
  pnpdist::write_checkpoint((root / "checkpoint" / "state.ckpt").string(), c, false);

#if defined(PNPDIST_HAS_TIFF)
  // Two pages of 16-bit samples (a stack) and one page of floats.
  pnpdist::Tensor<std::uint16_t, 3, pnpdist::HostSpace> stack(pnpdist::Extents<3>{2, 3, 5});
  for (pnpdist::index_t i = 0; i < stack.size(); ++i) stack.data()[i] = static_cast<std::uint16_t>(1000 * i);
  pnpdist::write_tiff((root / "tiff" / "stack.tif").string(), stack.const_view());
  pnpdist::Tensor<float, 3, pnpdist::HostSpace> page(pnpdist::Extents<3>{1, 4, 3});
  for (pnpdist::index_t i = 0; i < page.size(); ++i) page.data()[i] = 0.5f * static_cast<float>(i);
  pnpdist::write_tiff((root / "tiff" / "float.tif").string(), page.const_view());
#endif

  std::ofstream((root / "geometry" / "cone.json").string())
      << R"({"beam": "cone", "source_origin": 40.0, "origin_detector": 20.0,
  "detector": {"rows": 6, "cols": 7, "pixel_width": 2.0, "pixel_height": 1.5, "offset_u": 0.5, "tilt_degrees": 1.0},
  "angles": {"count": 5, "first_degrees": 10.0, "range_degrees": 180.0}})";
  std::ofstream((root / "geometry" / "parallel.json").string())
      << R"({"beam": "parallel", "detector": {"rows": 4, "cols": 5, "pixel_width": 1.0}, "angles": {"count": 3}})";

  std::ofstream((root / "yaml" / "cone.yaml").string()) << R"(# a cone-beam orbit, block style
beam: cone
source_origin: 40.0
source_detector: 60.0
detector:
  rows: &rows 6
  cols: *rows
  pixel_width: &pixel 2.0
  pixel_height: *pixel
  offset_u: 0.5
  offset_v: -0.25
  tilt_degrees: 1.0
angles: {count: 5, first_degrees: 10.0, range_degrees: 180.0}
)";
  std::ofstream((root / "yaml" / "parallel.yml").string())
      << "beam: parallel\ndetector: {rows: 4, cols: 5, pixel_width: 1.0}\nangles: {count: 3}\n";

  const auto cone = pnpdist::ct::cone_beam(pnpdist::ct::uniform_angles(4, 0.0, 2 * std::numbers::pi),
                                           {6, 7, 2.0, 2.0, 0.5, 0.0}, 40.0, 20.0, {8, 8, 8, 1.0, 1.0, 1.0});
  pnpdist::ct::write_vector_file((root / "vectors" / "cone.txt").string(), cone);

#if defined(PNPDIST_HAS_HDF5) && defined(PNPDIST_HAS_TIFF)
  // Simulated scans of a uniform cube (4 projections of 6 x 8), written in a scratch folder (the Data Exchange
  // writer puts flat_positions.txt beside its file) and copied.
  const std::filesystem::path scratch = root / "hdf5_scratch";
  const pnpdist::ct::VolumeGeometry3D grid{4, 4, 4, 1.0, 1.0, 1.0};
  pnpdist::Tensor<float, 3, pnpdist::HostSpace> cube(pnpdist::Extents<3>{4, 4, 4});
  for (pnpdist::index_t i = 0; i < cube.size(); ++i) cube.data()[i] = 0.05f;
  pnpdist::ct::CircularScan orbit;
  orbit.angles_degrees = {0.0, 90.0, 180.0, 270.0};
  orbit.detector = {6, 8, 1.5, 1.5, 0.5, -0.25};
  orbit.source_origin = 20.0;
  orbit.origin_detector = 10.0;
  pnpdist::ct::SimulatedScanOptions o;
  o.format = pnpdist::ct::ScanFormat::nexus;
  o.drift = 0.1;  // flats before and after the projections
  pnpdist::ct::write_simulated_scan(pnpdist::Serial{}, (scratch / "cone.nxs").string(), orbit, grid,
                                    cube.const_view(), o);
  orbit.beam = pnpdist::ct::Beam::parallel;
  orbit.detector.offset_u = orbit.detector.offset_v = 0;
  o.format = pnpdist::ct::ScanFormat::data_exchange;
  o.drift = 0;
  pnpdist::ct::write_simulated_scan(pnpdist::Serial{}, (scratch / "exchange.h5").string(), orbit, grid,
                                    cube.const_view(), o, pnpdist::ct::ScanLayout::data_exchange());
  for (const char* name : {"cone.nxs", "exchange.h5"})
    std::filesystem::copy_file(scratch / name, root / "hdf5" / name);
  std::filesystem::remove_all(scratch);
  // Float frames in deflated chunks of 2 views, darks and flats beside them (no image_key), and the NeXus
  // geometry of a parallel beam.
  pnpdist::Tensor<float, 3, pnpdist::HostSpace> frames(pnpdist::Extents<3>{3, 4, 5});
  for (pnpdist::index_t i = 0; i < frames.size(); ++i) frames.data()[i] = 100.0f + static_cast<float>(i);
  pnpdist::Hdf5Writer h5((root / "hdf5" / "deflated.h5").string());
  h5.write("/entry/data/data", frames.const_view(), {.chunk_views = 2, .deflate = 4});
  h5.write("/entry/data/dark", frames.const_view());
  h5.write("/entry/data/flat", frames.const_view());
  orbit.angles_degrees = {0.0, 60.0, 120.0};
  orbit.detector = {4, 5, 1.0, 1.0, 0.0, 0.0};
  pnpdist::ct::write_nexus_geometry(h5, orbit, orbit.angles_degrees, "mm");
  h5.flush();
#endif
  return 0;
}
