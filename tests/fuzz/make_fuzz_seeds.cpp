// Writes the seed corpus of the fuzz targets into <folder>/<target>/: small valid files made by the
// library's own writers (nothing binary is kept in the repository). The image target also takes the PNG and
// JPEG test fixtures as seeds (scripts/run_fuzzers.sh).
#include <pnpdist/io/npy.hpp>
#include <pnpdist/io/safetensors.hpp>
#include <pnpdist/solvers/checkpoint.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <seed folder>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  for (const char* target : {"npy", "safetensors", "image", "checkpoint"})
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
  return 0;
}
