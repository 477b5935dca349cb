// libFuzzer target: ct::read_geometry_description (the JSON orbit description, nlohmann-json) with the
// allocation and header limits, on a small volume.
#include <pnpdist/physics/ct/geometry_description.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = pnpdist::fuzz::write_input(data, size);
  return pnpdist::fuzz::run([&] {
    (void)pnpdist::ct::read_geometry_description(path, {8, 8, 8, 1.0, 1.0, 1.0}, pnpdist::fuzz::fuzz_limits());
  });
}
