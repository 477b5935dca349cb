// libFuzzer target: ct::read_geometry_description on a YAML orbit description (io/yaml.hpp through yaml-cpp's
// event parser, then the field checks shared with JSON), with the allocation, header, depth and alias-expansion
// limits of fuzz_limits(), on a small volume.
#include <pnpdist/physics/ct/geometry_description.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = pnpdist::fuzz::write_input(data, size, ".yaml");
  return pnpdist::fuzz::run([&] {
    (void)pnpdist::ct::read_geometry_description(path, {8, 8, 8, 1.0, 1.0, 1.0}, pnpdist::fuzz::fuzz_limits());
  });
}
