// libFuzzer target: read_checkpoint (format, checksum, field ranges). The checksum rejects almost every
// mutation, so every other input is re-sealed: its last 8 bytes replaced by the FNV-1a of the rest, which
// lets the fuzzer reach the field checks.
#include <pnpdist/solvers/checkpoint.hpp>

#include <cstring>
#include <vector>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> bytes(data, data + size);
  if (size >= 8 && (size % 2) == 0) {
    const std::uint64_t sum = pnpdist::detail::fnv1a(bytes.data(), size - 8);
    std::memcpy(bytes.data() + size - 8, &sum, 8);
  }
  const std::string& path = pnpdist::fuzz::write_input(bytes.data(), bytes.size());
  return pnpdist::fuzz::run([&] { (void)pnpdist::read_checkpoint(path); });
}
