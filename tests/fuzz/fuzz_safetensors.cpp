// libFuzzer target: SafetensorsFile (header parsing and validation) and reading each tensor it accepts.
#include <pnpdist/io/safetensors.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = pnpdist::fuzz::write_input(data, size);
  return pnpdist::fuzz::run([&] {
    const pnpdist::SafetensorsFile file(path, pnpdist::fuzz::fuzz_limits());
    for (const pnpdist::SafetensorsEntry& e : file.entries()) (void)file.read<float>(e);
  });
}
