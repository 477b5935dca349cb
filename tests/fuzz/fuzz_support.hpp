#pragma once
// libFuzzer support: the readers take paths, so each input is written to a file of this process's own, and
// read with small limits (so that an input may not make the reader allocate much). A reader may throw
// pnpdist::error for a bad input; any other exception, a crash or a sanitizer report is a finding.
#include <pnpdist/core/errors.hpp>
#include <pnpdist/io/read_limits.hpp>

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace pnpdist::fuzz {

/// The file holding the current input (in /dev/shm when it exists: no disk traffic), named with `extension`
/// (".yaml" for a reader that chooses its format by the name; one extension per process).
inline const std::string& input_path(const char* extension = "") {
  static const std::string path = [extension] {
    const char* folder = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return std::string(folder) + "/pnpdist_fuzz_" + std::to_string(::getpid()) + extension;
  }();
  return path;
}

/// Writes the input to input_path(extension); aborts when it cannot (the run would test nothing).
inline const std::string& write_input(const std::uint8_t* data, std::size_t size, const char* extension = "") {
  const std::string& path = input_path(extension);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) std::abort();
  return path;
}

/// Limits that keep one input's allocations small.
inline ReadLimits fuzz_limits() {
  ReadLimits limits;
  limits.max_allocation_bytes = std::uint64_t{64} << 20;
  limits.max_header_bytes = std::uint64_t{1} << 20;
  limits.max_yaml_expanded_bytes = std::uint64_t{1} << 20;
  return limits;
}

/// Runs `read`; a pnpdist::error is an accepted outcome.
template <class Read>
int run(Read&& read) {
  try {
    read();
  } catch (const pnpdist::error&) {
  }
  return 0;
}

}  // namespace pnpdist::fuzz
