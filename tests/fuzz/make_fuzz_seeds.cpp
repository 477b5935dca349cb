// Writes the seed corpus of the fuzz targets into <folder>/<target>/: small valid files made by the
// library's own writers (nothing binary is kept in the repository). The image target also takes the PNG and
// JPEG test fixtures as seeds (scripts/run_fuzzers.sh).
#include <pnpdist/io/npy.hpp>
#include <pnpdist/io/safetensors.hpp>
#include <pnpdist/io/tiff.hpp>
#include <pnpdist/physics/ct/vector_file.hpp>
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
  for (const char* target : {"npy", "safetensors", "image", "checkpoint", "tiff", "geometry", "vectors"})
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

  const auto cone = pnpdist::ct::cone_beam(pnpdist::ct::uniform_angles(4, 0.0, 2 * std::numbers::pi),
                                           {6, 7, 2.0, 2.0, 0.5, 0.0}, 40.0, 20.0, {8, 8, 8, 1.0, 1.0, 1.0});
  pnpdist::ct::write_vector_file((root / "vectors" / "cone.txt").string(), cone);
  return 0;
}
