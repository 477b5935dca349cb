#pragma once
/// \file
/// bfloat16 storage: the upper 16 bits of an IEEE-754 float (sign, 8 exponent bits, 7 mantissa bits), the
/// layout oneDNN and PyTorch use. round_to_bf16 rounds to the nearest bfloat16, ties to even; infinities stay
/// infinities, finite values beyond the largest bfloat16 round to infinity, and a NaN stays a NaN (made
/// quiet). bf16_to_float is exact. Both are constexpr and branch-free apart from the NaN select, so loops of
/// them vectorize.

#include <bit>
#include <cstdint>

namespace pnpdist {

/// The bits of one bfloat16 value.
using bf16_bits = std::uint16_t;

/// x rounded to bfloat16, to nearest even (see the file comment).
[[nodiscard]] inline constexpr bf16_bits round_to_bf16(float x) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const std::uint32_t quiet_nan = (u >> 16) | 0x40u;
  return static_cast<bf16_bits>((u & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded);
}

/// The float of equal value.
[[nodiscard]] inline constexpr float bf16_to_float(bf16_bits b) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

}  // namespace pnpdist
