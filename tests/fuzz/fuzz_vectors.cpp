// libFuzzer target: ct::read_vector_file (12-column geometry vector files), cone and parallel beam.
#include <pnpdist/physics/ct/vector_file.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = pnpdist::fuzz::write_input(data, size);
  const pnpdist::ct::VolumeGeometry3D volume{8, 8, 8, 1.0, 1.0, 1.0};
  pnpdist::fuzz::run([&] { (void)pnpdist::ct::read_vector_file(path, pnpdist::ct::Beam::divergent, volume, 6, 7); });
  pnpdist::fuzz::run([&] { (void)pnpdist::ct::read_vector_file(path, pnpdist::ct::Beam::parallel, volume, 6, 7); });
  return 0;
}
