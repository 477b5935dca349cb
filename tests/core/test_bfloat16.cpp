// Tests of pnpdist/core/bfloat16.hpp: round_to_bf16 against an independent rounding in double (the nearest of
// the two bfloat16 neighbours, ties to the even one), the special values, and the exact widening.

#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "pnpdist/core/bfloat16.hpp"
#include "pnpdist/core/philox.hpp"

using namespace pnpdist;

namespace {

/// The bfloat16 nearest to x, ties to even, found by comparing x with its two truncation neighbours in double
/// (|x| < 2^127, so both neighbours are finite).
bf16_bits reference_round(float x) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  const auto down = static_cast<bf16_bits>(u >> 16);  // toward zero
  const auto up = static_cast<bf16_bits>(down + 1);   // away from zero (the next magnitude)
  if ((u & 0xffffu) == 0) return down;
  const double d_down = std::abs(static_cast<double>(x) - static_cast<double>(bf16_to_float(down)));
  const double d_up = std::abs(static_cast<double>(bf16_to_float(up)) - static_cast<double>(x));
  if (d_down < d_up) return down;
  if (d_up < d_down) return up;
  return (down & 1u) == 0 ? down : up;
}

}  // namespace

TEST_CASE("round_to_bf16 rounds to the nearest bfloat16, ties to even", "[core][bfloat16]") {
  const PhiloxStream random{2026, 12};
  int checked = 0;
  for (std::uint64_t i = 0; i < 200000; ++i) {
    // Random bit patterns of finite floats: every exponent, sign and mantissa.
    const std::uint32_t bits = random.bits(i).v[0];
    const float x = std::bit_cast<float>(bits);
    if (!std::isfinite(x) || std::abs(x) >= std::ldexp(1.0f, 127)) continue;
    REQUIRE(round_to_bf16(x) == reference_round(x));
    ++checked;
  }
  CHECK(checked > 150000);
  // Exact ties: the low 16 bits are 0x8000; even upper halves stay, odd ones go up.
  CHECK(round_to_bf16(std::bit_cast<float>(0x3f808000u)) == 0x3f80);
  CHECK(round_to_bf16(std::bit_cast<float>(0x3f818000u)) == 0x3f82);
  CHECK(round_to_bf16(std::bit_cast<float>(0xbf818000u)) == 0xbf82);
  // Just below and above a tie.
  CHECK(round_to_bf16(std::bit_cast<float>(0x3f807fffu)) == 0x3f80);
  CHECK(round_to_bf16(std::bit_cast<float>(0x3f808001u)) == 0x3f81);
}

TEST_CASE("round_to_bf16 keeps special values and overflows to infinity", "[core][bfloat16]") {
  constexpr float inf = std::numeric_limits<float>::infinity();
  CHECK(round_to_bf16(0.0f) == 0x0000);
  CHECK(round_to_bf16(-0.0f) == 0x8000);
  CHECK(round_to_bf16(inf) == 0x7f80);
  CHECK(round_to_bf16(-inf) == 0xff80);
  CHECK(std::isinf(bf16_to_float(round_to_bf16(std::numeric_limits<float>::max()))));
  CHECK(bf16_to_float(round_to_bf16(std::numeric_limits<float>::max())) > 0);
  // NaNs (quiet, signalling, with payload only in the low half) stay NaN.
  for (const std::uint32_t nan : {0x7fc00000u, 0x7f800001u, 0xff800001u, 0x7fa00000u})
    CHECK(std::isnan(bf16_to_float(round_to_bf16(std::bit_cast<float>(nan)))));
  // Subnormals round like normal numbers (no flush to zero).
  CHECK(round_to_bf16(std::bit_cast<float>(0x00010000u)) == 0x0001);
  CHECK(round_to_bf16(std::bit_cast<float>(0x00018000u)) == 0x0002);
}

TEST_CASE("bf16_to_float is exact and round_to_bf16 inverts it", "[core][bfloat16]") {
  for (std::uint32_t b = 0; b <= 0xffffu; ++b) {
    const float x = bf16_to_float(static_cast<bf16_bits>(b));
    CHECK(std::bit_cast<std::uint32_t>(x) == b << 16);
    if (!std::isnan(x)) REQUIRE(round_to_bf16(x) == b);
  }
  static_assert(round_to_bf16(1.0f) == 0x3f80 && bf16_to_float(0x4000) == 2.0f);
}
