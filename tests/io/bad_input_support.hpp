#pragma once
// Helpers of the bad-input tests: crafted files in a per-process temporary folder, and the check that a
// reader throws exactly the expected error type with a message naming the problem.
#include <catch2/catch.hpp>

#include <pnpdist/core/errors.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <string>

namespace pnpdist::test {

/// A path in a folder of this process's own, removed at exit of the test program.
inline std::string bad_input_path(const std::string& name) {
  static const std::filesystem::path folder = [] {
    std::filesystem::path p = std::filesystem::temp_directory_path() / ("pnpdist_bad_input_" + std::to_string(::getpid()));
    std::filesystem::create_directories(p);
    return p;
  }();
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(folder, ignored);
    }
  } cleanup;
  return (folder / name).string();
}

inline std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = bad_input_path(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// `bytes` little-endian bytes of `value`.
inline std::string little_endian(std::uint64_t value, int bytes) {
  std::string s;
  for (int b = 0; b < bytes; ++b) s += static_cast<char>((value >> (8 * b)) & 0xffu);
  return s;
}

/// Runs `read`, which must throw Error (not a base or another type) whose message contains each of `parts`.
template <class Error>
void require_error(const std::function<void()>& read, std::initializer_list<std::string> parts) {
  std::string message;
  bool thrown = false;
  try {
    read();
  } catch (const Error& e) {
    thrown = true;
    message = e.message();
  }
  INFO("message: " << message);
  REQUIRE(thrown);
  for (const std::string& part : parts) CHECK(message.find(part) != std::string::npos);
}

/// What `f` writes to stderr (file descriptor 2); an exception it throws is swallowed.
inline std::string stderr_of(const std::function<void()>& f) {
  const std::string capture = bad_input_path("stderr.txt");
  std::fflush(stderr);
  const int saved = dup(2);
  FILE* sink = std::fopen(capture.c_str(), "w");
  dup2(fileno(sink), 2);
  try {
    f();
  } catch (...) {
  }
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::fclose(sink);
  return read_file(capture);
}

}  // namespace pnpdist::test
