#pragma once
/// \file
/// Philox4x32-10 counter-based random numbers (Salmon, Moraes, Dror, Shaw, "Parallel random numbers:
/// as easy as 1, 2, 3", SC'11), the generator of Random123 and cuRAND's PHILOX4_32_10.
///
/// A counter-based generator is a pure function: (counter, key) -> 4 random 32-bit words. There is no
/// state to advance, so element i of a stream can be computed by any thread, in any order, on any
/// backend. Everything here is a plain aggregate or a PNPDIST_HOST_DEVICE function (no std::array, no
/// `<random>`, no exceptions) and can be called from CUDA device code.
///
/// Layers, lowest first:
///   - philox4x32_10(counter, key): the raw bijection, bit-exact with Random123's known-answer vectors.
///   - uint32_to_unit_float / uint32_to_unit_double: bits -> uniform in the open interval (0, 1).
///   - box_muller(u1, u2): two uniforms -> two independent standard normals.
///   - PhiloxStream: the library's canonical mapping from (seed, stream, element index) to a uniform
///     or normal value; used for all noise the library generates.

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// 128-bit Philox counter, and also the type of the 4 output words of one Philox call.
struct PhiloxCounter {
  std::uint32_t v[4];
};

/// 64-bit Philox key.
struct PhiloxKey {
  std::uint32_t v[2];
};

namespace philox_detail {

inline constexpr std::uint32_t kMul0 = 0xD2511F53u;   ///< round multiplier applied to word 0
inline constexpr std::uint32_t kMul1 = 0xCD9E8D57u;   ///< round multiplier applied to word 2
inline constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;  ///< key schedule increment, key word 0
inline constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;  ///< key schedule increment, key word 1

/// One Philox S-box round. The 32x32 -> 64-bit product gives mulhi and mullo; it is exact on host
/// and device alike (nvcc lowers it to the same mul.lo / mul.hi pair as __umulhi).
PNPDIST_HOST_DEVICE constexpr PhiloxCounter single_round(const PhiloxCounter& c, const PhiloxKey& k) {
  const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * c.v[0];
  const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * c.v[2];
  const auto hi0 = static_cast<std::uint32_t>(p0 >> 32);
  const auto lo0 = static_cast<std::uint32_t>(p0);
  const auto hi1 = static_cast<std::uint32_t>(p1 >> 32);
  const auto lo1 = static_cast<std::uint32_t>(p1);
  return PhiloxCounter{{hi1 ^ c.v[1] ^ k.v[0], lo1, hi0 ^ c.v[3] ^ k.v[1], lo0}};
}

}  // namespace philox_detail

/// Philox4x32 with 10 rounds. Bit-exact with Random123's philox4x32(10) and cuRAND's Philox4_32_10
/// core: key words are bumped by the Weyl constants 0x9E3779B9 / 0xBB67AE85 between rounds.
/// For a fixed key it is a bijection of the 128-bit counter space.
PNPDIST_HOST_DEVICE constexpr PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key) {
  counter = philox_detail::single_round(counter, key);
  for (int r = 1; r < 10; ++r) {
    key.v[0] += philox_detail::kWeyl0;
    key.v[1] += philox_detail::kWeyl1;
    counter = philox_detail::single_round(counter, key);
  }
  return counter;
}

/// Uniform float in the open interval (0, 1) from the top 23 bits of u: returns (2k + 1) / 2^24 with
/// k = u >> 9, i.e. 2^23 equally spaced values from 2^-24 to 1 - 2^-24, all exact in float, with
/// mean exactly 1/2. Never 0 or 1, so log(u) and log(1 - u) are finite.
PNPDIST_HOST_DEVICE constexpr float uint32_to_unit_float(std::uint32_t u) {
  return static_cast<float>((u >> 8) | 1u) * 0x1p-24f;
}

/// Uniform double in the open interval (0, 1) from 53 bits of the 64-bit word (hi << 32 | lo):
/// returns (2k + 1) / 2^53 with k the top 52 bits, i.e. 2^52 equally spaced values from 2^-53 to
/// 1 - 2^-53, all exact in double. Never 0 or 1. Note the argument order: low word first.
PNPDIST_HOST_DEVICE constexpr double uint32_to_unit_double(std::uint32_t lo, std::uint32_t hi) {
  const std::uint64_t x = (static_cast<std::uint64_t>(hi) << 32) | lo;
  return static_cast<double>((x >> 11) | 1u) * 0x1p-53;
}

/// Two standard normals produced together by one Box-Muller transform.
template <class T>
struct BoxMullerPair {
  T z0;  ///< r cos(2 pi u2)
  T z1;  ///< r sin(2 pi u2)
};

/// Box-Muller transform: for independent u1, u2 uniform on (0, 1], returns two independent N(0, 1)
/// values z0 = r cos(2 pi u2), z1 = r sin(2 pi u2) with r = sqrt(-2 log u1). Computed in precision T
/// (float or double). With the uniforms of this header the magnitude is bounded by
/// sqrt(2 * 24 * ln 2) ~ 5.77 in float and sqrt(2 * 53 * ln 2) ~ 8.57 in double.
template <class T>
PNPDIST_HOST_DEVICE BoxMullerPair<T> box_muller(T u1, T u2) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "box_muller: float or double");
  PNPDIST_EXPECTS(u1 > T(0) && u1 <= T(1));
  constexpr T two_pi = static_cast<T>(6.283185307179586476925286766559);
  const T r = std::sqrt(T(-2) * std::log(u1));
  const T theta = two_pi * u2;
  return BoxMullerPair<T>{r * std::cos(theta), r * std::sin(theta)};
}

/// The values produced by one Philox call: 4 floats or 2 doubles.
template <class T>
struct PhiloxBlock {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "PhiloxBlock: float or double");
  /// Number of values of type T per Philox call: 4 for float, 2 for double.
  static constexpr index_t size = std::is_same_v<T, float> ? 4 : 2;
  T v[size];
};

/// The library's canonical random stream: a stateless view of the sequence of uniform or normal
/// values identified by (seed, stream).
///
/// Guarantee: element i depends only on (seed, stream, i) and the value type T. It never depends on
/// the number of threads, the order of evaluation, the partitioning of the index range or the
/// backend. The underlying bits and the uniforms are bit-identical everywhere; normals are computed
/// from those bits with the platform's log, sqrt, sin and cos, so host and device results may differ
/// in the last units of precision (and more under fast-math flags).
///
/// Mapping (part of the guarantee; changing it changes every generated noise realisation):
///   - key     = {low32(seed), high32(seed)}
///   - counter = {low32(block), high32(block), low32(stream), high32(stream)}
///   - r       = philox4x32_10(counter, key), four 32-bit words r0..r3
///   - float  (4 values per block, block = i / 4, component c = i % 4):
///       uniform: component c = uint32_to_unit_float(r_c)
///       normal:  (components 0, 1) = box_muller(unit(r0), unit(r1));
///                (components 2, 3) = box_muller(unit(r2), unit(r3)); z0 first, then z1
///   - double (2 values per block, block = i / 2, component c = i % 2):
///       uniform: component 0 = uint32_to_unit_double(r0, r1), component 1 = uint32_to_unit_double(r2, r3)
///       normal:  (components 0, 1) = box_muller of those two uniforms; z0 first, then z1
///
/// Uniform and normal values of the same (seed, stream) and the float and double sequences all use
/// the same Philox outputs, so they are not independent of one another: draw them from different
/// streams when independence is needed.
///
/// Cost: one Philox call per block. uniform<T>(i) / normal<T>(i) compute the whole block and return
/// one component, so computing element i alone costs one Philox call; callers that fill contiguous
/// ranges should call the block functions once per block and store every component.
struct PhiloxStream {
  std::uint64_t seed;
  std::uint64_t stream;

  /// Philox key: {low32(seed), high32(seed)}.
  PNPDIST_HOST_DEVICE constexpr PhiloxKey key() const {
    return PhiloxKey{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
  }

  /// Philox counter of a block: {low32(block), high32(block), low32(stream), high32(stream)}.
  PNPDIST_HOST_DEVICE constexpr PhiloxCounter counter(std::uint64_t block) const {
    return PhiloxCounter{{static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                          static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)}};
  }

  /// The four raw 32-bit words of a block.
  PNPDIST_HOST_DEVICE constexpr PhiloxCounter bits(std::uint64_t block) const {
    return philox4x32_10(counter(block), key());
  }

  /// Uniform floats in (0, 1): elements 4 * block .. 4 * block + 3.
  PNPDIST_HOST_DEVICE constexpr PhiloxBlock<float> uniform4f(std::uint64_t block) const {
    const PhiloxCounter r = bits(block);
    return PhiloxBlock<float>{{uint32_to_unit_float(r.v[0]), uint32_to_unit_float(r.v[1]), uint32_to_unit_float(r.v[2]),
                               uint32_to_unit_float(r.v[3])}};
  }

  /// Uniform doubles in (0, 1): elements 2 * block and 2 * block + 1.
  PNPDIST_HOST_DEVICE constexpr PhiloxBlock<double> uniform2d(std::uint64_t block) const {
    const PhiloxCounter r = bits(block);
    return PhiloxBlock<double>{{uint32_to_unit_double(r.v[0], r.v[1]), uint32_to_unit_double(r.v[2], r.v[3])}};
  }

  /// Standard normal floats: elements 4 * block .. 4 * block + 3 (two Box-Muller pairs).
  PNPDIST_HOST_DEVICE PhiloxBlock<float> normal4f(std::uint64_t block) const {
    const PhiloxBlock<float> u = uniform4f(block);
    const BoxMullerPair<float> a = box_muller(u.v[0], u.v[1]);
    const BoxMullerPair<float> b = box_muller(u.v[2], u.v[3]);
    return PhiloxBlock<float>{{a.z0, a.z1, b.z0, b.z1}};
  }

  /// Standard normal doubles: elements 2 * block and 2 * block + 1 (one Box-Muller pair).
  PNPDIST_HOST_DEVICE PhiloxBlock<double> normal2d(std::uint64_t block) const {
    const PhiloxBlock<double> u = uniform2d(block);
    const BoxMullerPair<double> a = box_muller(u.v[0], u.v[1]);
    return PhiloxBlock<double>{{a.z0, a.z1}};
  }

  /// uniform4f or uniform2d, chosen by T.
  template <class T>
  PNPDIST_HOST_DEVICE constexpr PhiloxBlock<T> uniform_block(std::uint64_t block) const {
    if constexpr (std::is_same_v<T, float>)
      return uniform4f(block);
    else
      return uniform2d(block);
  }

  /// normal4f or normal2d, chosen by T.
  template <class T>
  PNPDIST_HOST_DEVICE PhiloxBlock<T> normal_block(std::uint64_t block) const {
    if constexpr (std::is_same_v<T, float>)
      return normal4f(block);
    else
      return normal2d(block);
  }

  /// Element i (i >= 0) of the uniform sequence: uniform_block<T>(i / size).v[i % size], where size
  /// is PhiloxBlock<T>::size. A value in the open interval (0, 1).
  template <class T>
  PNPDIST_HOST_DEVICE constexpr T uniform(index_t i) const {
    PNPDIST_EXPECTS(i >= 0);
    constexpr index_t n = PhiloxBlock<T>::size;
    return uniform_block<T>(static_cast<std::uint64_t>(i / n)).v[i % n];
  }

  /// Element i (i >= 0) of the standard normal sequence: normal_block<T>(i / size).v[i % size].
  template <class T>
  PNPDIST_HOST_DEVICE T normal(index_t i) const {
    PNPDIST_EXPECTS(i >= 0);
    constexpr index_t n = PhiloxBlock<T>::size;
    return normal_block<T>(static_cast<std::uint64_t>(i / n)).v[i % n];
  }
};

}  // namespace pnpdist
