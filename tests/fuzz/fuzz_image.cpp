// libFuzzer target: read_image (PNG and JPEG through libpng and libjpeg, .npy) with the allocation limit.
#include <pnpdist/io/image.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = pnpdist::fuzz::write_input(data, size);
  return pnpdist::fuzz::run([&] { (void)pnpdist::read_image(path, pnpdist::fuzz::fuzz_limits()); });
}
