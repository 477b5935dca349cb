#include <catch2/catch.hpp>

#include <pnpdist/io/npy.hpp>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "physics/blur/blur_test_support.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

namespace {

std::string temp_path(const char* name) {
  std::filesystem::path path = std::filesystem::temp_directory_path();
  path /= "pnpdist_io_test_" + std::to_string(::getpid());
  path += name;
  return path.string();
}

std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("read_npy reads a numpy-written float32 array", "[io][npy]") {
  const auto a = pnpdist::read_npy<float, 3>(pnpdist::test::blur_fixture("npy_arange_2x3x4.npy"));
  REQUIRE(a.extents() == Extents<3>{2, 3, 4});
  for (index_t i = 0; i < 24; ++i) CHECK(a.data()[i] == static_cast<float>(i) * 0.5f - 3.0f);
  CHECK(a(1, 2, 3) == 23 * 0.5f - 3.0f);
  const auto as_double = pnpdist::read_npy<double, 3>(pnpdist::test::blur_fixture("npy_arange_2x3x4.npy"));
  CHECK(as_double(0, 1, 0) == 4 * 0.5 - 3.0);
  CHECK_THROWS_AS((pnpdist::read_npy<float, 2>(pnpdist::test::blur_fixture("npy_arange_2x3x4.npy"))),
                  pnpdist::dimension_mismatch);
}

TEST_CASE("write_npy and read_npy round-trip float, double and integer arrays", "[io][npy]") {
  const std::string path = temp_path("round.npy");
  Tensor<float, 2> f(Extents<2>{3, 5});
  for (index_t i = 0; i < f.size(); ++i) f.data()[i] = 1.0f / static_cast<float>(i + 1);
  pnpdist::write_npy(path, f.const_view());
  const auto f2 = pnpdist::read_npy<float, 2>(path);
  REQUIRE(f2.extents() == f.extents());
  for (index_t i = 0; i < f.size(); ++i) CHECK(f2.data()[i] == f.data()[i]);
  Tensor<std::uint16_t, 1> u(Extents<1>{4});
  for (index_t i = 0; i < 4; ++i) u.data()[i] = static_cast<std::uint16_t>(65535 - i);
  pnpdist::write_npy(path, u.const_view());
  const auto u2 = pnpdist::read_npy<double, 1>(path);
  CHECK(u2(3) == 65532.0);
  std::remove(path.c_str());
}

TEST_CASE("read_npy rejects missing, truncated and corrupt files with io_error", "[io][npy][errors]") {
  CHECK_THROWS_AS((pnpdist::read_npy<float, 1>("/nonexistent/file.npy")), pnpdist::io_error);
  const auto bytes = file_bytes(pnpdist::test::blur_fixture("npy_arange_2x3x4.npy"));
  const std::string path = temp_path("bad.npy");
  // Truncated data.
  write_bytes(path, std::vector<char>(bytes.begin(), bytes.end() - 5));
  CHECK_THROWS_AS((pnpdist::read_npy<float, 3>(path)), pnpdist::io_error);
  // Trailing data.
  auto longer = bytes;
  longer.push_back('x');
  write_bytes(path, longer);
  CHECK_THROWS_AS((pnpdist::read_npy<float, 3>(path)), pnpdist::io_error);
  // A broken magic string.
  auto corrupt = bytes;
  corrupt[1] = 'X';
  write_bytes(path, corrupt);
  CHECK_THROWS_AS((pnpdist::read_npy<float, 3>(path)), pnpdist::io_error);
  // Truncated inside the header.
  write_bytes(path, std::vector<char>(bytes.begin(), bytes.begin() + 20));
  CHECK_THROWS_AS((pnpdist::read_npy<float, 3>(path)), pnpdist::io_error);
  std::remove(path.c_str());
}
