// ReadLimits: the byte-count parser, the environment variable and the overflow-checked size arithmetic.
#include <catch2/catch.hpp>

#include <pnpdist/io/read_limits.hpp>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "io/bad_input_support.hpp"

using pnpdist::index_t;
using pnpdist::io_error;
using pnpdist::ReadLimits;
using pnpdist::test::require_error;

TEST_CASE("ReadLimits parses byte counts with binary suffixes and rejects the rest", "[io][limits]") {
  CHECK(ReadLimits::parse_byte_count("4096", "X") == 4096);
  CHECK(ReadLimits::parse_byte_count("3K", "X") == 3 * 1024);
  CHECK(ReadLimits::parse_byte_count("512m", "X") == std::uint64_t{512} << 20);
  CHECK(ReadLimits::parse_byte_count("4G", "X") == std::uint64_t{4} << 30);
  CHECK(ReadLimits::parse_byte_count("2T", "X") == std::uint64_t{2} << 40);
  for (const char* bad : {"", "0", "-5", "12Q", "4GB", "G", "99999999999999999999", "16777216T", " 5"}) {
    INFO(bad);
    require_error<pnpdist::invalid_argument>([&] { (void)ReadLimits::parse_byte_count(bad, "LIMIT"); },
                                             {"LIMIT='" + std::string(bad) + "'", "not a positive byte count"});
  }
}

TEST_CASE("ReadLimits::from_environment reads PNPDIST_MAX_ALLOCATION", "[io][limits]") {
  const char* saved = std::getenv("PNPDIST_MAX_ALLOCATION");
  const std::string restore = saved ? saved : "";
  ::unsetenv("PNPDIST_MAX_ALLOCATION");
  CHECK(ReadLimits::from_environment().max_allocation_bytes == std::uint64_t{4} << 30);
  ::setenv("PNPDIST_MAX_ALLOCATION", "64M", 1);
  CHECK(ReadLimits::from_environment().max_allocation_bytes == std::uint64_t{64} << 20);
  ::setenv("PNPDIST_MAX_ALLOCATION", "lots", 1);
  require_error<pnpdist::invalid_argument>([] { (void)ReadLimits::from_environment(); },
                                           {"PNPDIST_MAX_ALLOCATION='lots'"});
  if (saved) ::setenv("PNPDIST_MAX_ALLOCATION", restore.c_str(), 1);
  else ::unsetenv("PNPDIST_MAX_ALLOCATION");
}

TEST_CASE("checked_allocation_bytes checks every product for overflow and against the limit", "[io][limits]") {
  const ReadLimits limits;
  CHECK(pnpdist::checked_allocation_bytes("ctx", std::vector<index_t>{2, 3, 4}, 4, limits) == 96);
  CHECK(pnpdist::checked_allocation_bytes("ctx", std::vector<index_t>{}, 8, limits) == 8);
  // An empty array needs nothing, but its other extents must still multiply within index_t (found by
  // fuzz_npy: (22590, 93800000404420775, 0) overflowed in the product of the extents).
  CHECK(pnpdist::checked_allocation_bytes("ctx", std::vector<index_t>{index_t{1} << 40, 0, index_t{1} << 20}, 4,
                                          limits) == 0);
  require_error<io_error>(
      [&] {
        (void)pnpdist::checked_allocation_bytes("ctx", std::vector<index_t>{22590, 93800000404420775, 0}, 1, limits);
      },
      {"(22590, 93800000404420775, 0)", "overflows 64 bits"});
  // Beyond the signed range but within 64 unsigned bits is an overflow too (index_t is signed).
  ReadLimits unlimited;
  unlimited.max_allocation_bytes = UINT64_MAX;
  require_error<io_error>(
      [&] { (void)pnpdist::checked_allocation_bytes("ctx", std::vector<index_t>{index_t{1} << 62, 3}, 1, unlimited); },
      {"overflows 64 bits"});
  require_error<io_error>(
      [&] { (void)pnpdist::checked_allocation_bytes("ctx", std::vector<index_t>{index_t{1} << 32, index_t{1} << 32}, 1, limits); },
      {"ctx: shape (4294967296, 4294967296)", "overflows 64 bits"});
  require_error<io_error>(
      [&] { (void)pnpdist::checked_allocation_bytes("ctx", std::vector<index_t>{index_t{1} << 31, 4}, 4, limits); },
      {"needs 34359738368 bytes", "allocation limit of 4294967296 bytes", "PNPDIST_MAX_ALLOCATION"});
  require_error<io_error>([&] { (void)pnpdist::checked_allocation_bytes("ctx", std::vector<index_t>{3, -1}, 4, limits); },
                          {"negative extent"});
  ReadLimits tight;
  tight.max_allocation_bytes = 95;
  require_error<io_error>([&] { (void)pnpdist::checked_allocation_bytes("ctx", std::vector<index_t>{2, 3, 4}, 4, tight); },
                          {"needs 96 bytes", "limit of 95 bytes"});
}
