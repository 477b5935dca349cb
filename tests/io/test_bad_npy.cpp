// read_npy on crafted bad files: every declared size is checked before it is allocated, and each problem is
// an io_error naming the file and the field.
#include <catch2/catch.hpp>

#include <pnpdist/io/npy.hpp>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "io/bad_input_support.hpp"

using pnpdist::io_error;
using pnpdist::ReadLimits;
using pnpdist::test::little_endian;
using pnpdist::test::require_error;
using pnpdist::test::write_file;

namespace {

/// A .npy file of format `version` (1, 2 or 3) with header dictionary `dict` followed by `data`.
std::string npy_bytes(int version, const std::string& dict, const std::string& data) {
  std::string bytes = "\x93NUMPY";
  bytes += static_cast<char>(version);
  bytes += '\0';
  bytes += little_endian(dict.size(), version == 1 ? 2 : 4);
  return bytes + dict + data;
}

std::string dict_of(const std::string& descr, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }\n";
}

/// The header of a v2/v3 file with `length` declared as its header length and only a few bytes after it.
std::string npy_with_header_length(int version, std::uint64_t length) {
  std::string bytes = "\x93NUMPY";
  bytes += static_cast<char>(version);
  bytes += '\0';
  return bytes + little_endian(length, 4) + "{'descr': '<f4'";
}

}  // namespace

TEST_CASE("read_npy: a 4 GiB header length is rejected before it is allocated", "[io][npy][bad-input]") {
  for (int version : {2, 3}) {
    INFO("version " << version);
    const std::string path = write_file("huge_header_v" + std::to_string(version) + ".npy",
                                        npy_with_header_length(version, 0xFFFFFFFFull));
    require_error<io_error>([&] { (void)pnpdist::read_npy<float, 1>(path); },
                            {path, "header length 4294967295 exceeds the 15 bytes that follow it"});
  }
}

TEST_CASE("read_npy: a v1 header longer than the file is rejected", "[io][npy][bad-input]") {
  std::string bytes = npy_bytes(1, dict_of("<f4", "(2,)"), std::string(8, '\0'));
  bytes[8] = '\xff';
  bytes[9] = '\x7f';
  const std::string path = write_file("long_v1_header.npy", bytes);
  require_error<io_error>([&] { (void)pnpdist::read_npy<float, 1>(path); }, {"header length 32767 exceeds"});
}

TEST_CASE("read_npy: a header longer than ReadLimits::max_header_bytes is rejected", "[io][npy][bad-input]") {
  const std::string path = write_file("capped_header.npy", npy_bytes(1, dict_of("<f4", "(2,)"), std::string(8, '\0')));
  ReadLimits limits;
  limits.max_header_bytes = 16;
  require_error<io_error>([&] { (void)pnpdist::read_npy<float, 1>(path, limits); },
                          {"exceeds the limit of 16 bytes", "max_header_bytes"});
  CHECK(pnpdist::read_npy<float, 1>(path).size() == 2);  // the default limit reads it
}

TEST_CASE("read_npy: a shape whose product overflows is rejected", "[io][npy][bad-input]") {
  const std::string path = write_file(
      "overflow.npy", npy_bytes(1, dict_of("<f4", "(4294967296, 4294967296, 2)"), std::string(16, '\0')));
  require_error<io_error>([&] { (void)pnpdist::read_npy<float, 3>(path); },
                          {path, "(4294967296, 4294967296, 2)", "overflows 64 bits"});
}

TEST_CASE("read_npy: an empty array whose other extents overflow is rejected", "[io][npy][bad-input]") {
  // Found by fuzz_npy (UBSan: signed overflow in the product of the extents).
  const std::string path =
      write_file("empty_overflow.npy", npy_bytes(1, dict_of("|u1", "(00000000022590,93800000404420775,0)"), ""));
  require_error<io_error>([&] { (void)pnpdist::read_npy<std::uint8_t, 3>(path); }, {path, "overflows 64 bits"});
  const std::string fine = write_file("empty.npy", npy_bytes(1, dict_of("|u1", "(22590, 0, 3)"), ""));
  CHECK(pnpdist::read_npy<std::uint8_t, 3>(fine).size() == 0);
}

TEST_CASE("read_npy: an extent beyond 64 bits is rejected", "[io][npy][bad-input]") {
  const std::string path =
      write_file("extent64.npy", npy_bytes(1, dict_of("<f4", "(99999999999999999999,)"), std::string(4, '\0')));
  require_error<io_error>([&] { (void)pnpdist::read_npy<float, 1>(path); },
                          {"malformed shape", "exceeds 64 bits"});
}

TEST_CASE("read_npy: negative and malformed extents are rejected", "[io][npy][bad-input]") {
  for (const char* shape : {"(-3,)", "(3x,)", "(3.5,)", "(,)a"}) {
    INFO(shape);
    const std::string path = write_file("malformed.npy", npy_bytes(1, dict_of("<f4", shape), std::string(12, '\0')));
    require_error<io_error>([&] { (void)pnpdist::read_npy<float, 1>(path); }, {path});
  }
}

TEST_CASE("read_npy: a shape larger than the file is rejected before the data is allocated", "[io][npy][bad-input]") {
  const std::string path =
      write_file("short_data.npy", npy_bytes(1, dict_of("<f8", "(100000000, 4)"), std::string(8, '\0')));
  require_error<io_error>([&] { (void)pnpdist::read_npy<double, 2>(path); },
                          {"truncated", "announces 3200000000 data bytes, the file holds 8"});
}

TEST_CASE("read_npy: a shape above the allocation limit is rejected", "[io][npy][bad-input]") {
  const std::string path =
      write_file("over_limit.npy", npy_bytes(1, dict_of("<f4", "(1073741824, 2)"), std::string(8, '\0')));
  require_error<io_error>([&] { (void)pnpdist::read_npy<float, 2>(path); },
                          {"needs 8589934592 bytes", "allocation limit"});
  // The limit also bounds the converted tensor: 64 uint8 values read as doubles need 512 bytes.
  const std::string bytes_path = write_file("u1.npy", npy_bytes(1, dict_of("|u1", "(64,)"), std::string(64, '\0')));
  ReadLimits limits;
  limits.max_allocation_bytes = 256;
  CHECK(pnpdist::read_npy<std::uint8_t, 1>(bytes_path, limits).size() == 64);
  require_error<io_error>([&] { (void)pnpdist::read_npy<double, 1>(bytes_path, limits); },
                          {"read as 8-byte values", "needs 512 bytes"});
}

TEST_CASE("read_npy: unsupported versions, dtypes and missing fields are named", "[io][npy][bad-input]") {
  const std::string v4 = write_file("v4.npy", npy_bytes(4, dict_of("<f4", "(1,)"), std::string(4, '\0')));
  require_error<io_error>([&] { (void)pnpdist::read_npy<float, 1>(v4); }, {"unsupported format version 4"});
  const std::string big_endian = write_file("be.npy", npy_bytes(1, dict_of(">f4", "(1,)"), std::string(4, '\0')));
  require_error<io_error>([&] { (void)pnpdist::read_npy<float, 1>(big_endian); }, {"unsupported dtype '>f4'"});
  const std::string no_descr =
      write_file("nodescr.npy", npy_bytes(1, "{'fortran_order': False, 'shape': (1,), }\n", std::string(4, '\0')));
  require_error<io_error>([&] { (void)pnpdist::read_npy<float, 1>(no_descr); }, {"no dtype ('descr')"});
  const std::string no_order =
      write_file("noorder.npy", npy_bytes(1, "{'descr': '<f4', 'shape': (1,), }\n", std::string(4, '\0')));
  require_error<io_error>([&] { (void)pnpdist::read_npy<float, 1>(no_order); }, {"'fortran_order'"});
  const std::string no_shape =
      write_file("noshape.npy", npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, }\n", std::string(4, '\0')));
  require_error<io_error>([&] { (void)pnpdist::read_npy<float, 1>(no_shape); }, {"no valid 'shape'"});
  const std::string tiny = write_file("tiny.npy", "\x93NUM");
  require_error<io_error>([&] { (void)pnpdist::read_npy<float, 1>(tiny); }, {"not a .npy file"});
}

TEST_CASE("read_npy: a rank other than the requested one is a dimension_mismatch", "[io][npy][bad-input]") {
  const std::string path = write_file("rank.npy", npy_bytes(1, dict_of("<f4", "(2, 2)"), std::string(16, '\0')));
  require_error<pnpdist::dimension_mismatch>([&] { (void)pnpdist::read_npy<float, 3>(path); },
                                             {"rank 2, expected 3"});
}

TEST_CASE("read_npy: values outside an integer target type are io_errors, not undefined conversions",
          "[io][npy][bad-input]") {
  const auto doubles = [](std::initializer_list<double> values) {
    std::string data;
    for (double v : values) data.append(reinterpret_cast<const char*>(&v), sizeof v);
    return data;
  };
  // Found by fuzz_npy: 5e223 stored as f8 and read as uint8.
  for (const double bad : {5.04533e223, 256.0, -1.0, std::nan("")}) {
    INFO(bad);
    const std::string path = write_file("f8.npy", npy_bytes(1, dict_of("<f8", "(2,)"), doubles({1.0, bad})));
    require_error<io_error>([&] { (void)pnpdist::read_npy<std::uint8_t, 1>(path); },
                            {path, "element 1 holds", "outside the range of the requested 1-byte unsigned"});
  }
  const std::string edge = write_file("edge.npy", npy_bytes(1, dict_of("<f8", "(3,)"), doubles({255.9, -0.9, 0.0})));
  const auto bytes = pnpdist::read_npy<std::uint8_t, 1>(edge);
  CHECK((bytes(0) == 255 && bytes(1) == 0 && bytes(2) == 0));
  const std::string big = write_file("i8.npy", npy_bytes(1, dict_of("<i8", "(1,)"), little_endian(std::uint64_t{1} << 40, 8)));
  require_error<io_error>([&] { (void)pnpdist::read_npy<std::int32_t, 1>(big); }, {"4-byte signed"});
  CHECK(pnpdist::read_npy<std::int64_t, 1>(big)(0) == std::int64_t{1} << 40);
  CHECK(pnpdist::read_npy<float, 1>(big)(0) == 1099511627776.0f);
  const std::string huge = write_file("huge_i64.npy", npy_bytes(1, dict_of("<f8", "(1,)"), doubles({9.3e18})));
  require_error<io_error>([&] { (void)pnpdist::read_npy<std::int64_t, 1>(huge); }, {"8-byte signed"});
}
