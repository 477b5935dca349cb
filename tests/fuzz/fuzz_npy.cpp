// libFuzzer target: read_npy of every rank the readers are used with, and read_image's .npy path.
#include <pnpdist/io/npy.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = pnpdist::fuzz::write_input(data, size);
  const auto limits = pnpdist::fuzz::fuzz_limits();
  pnpdist::fuzz::run([&] { (void)pnpdist::read_npy<float, 1>(path, limits); });
  pnpdist::fuzz::run([&] { (void)pnpdist::read_npy<double, 2>(path, limits); });
  pnpdist::fuzz::run([&] { (void)pnpdist::read_npy<std::uint8_t, 3>(path, limits); });
  return 0;
}
