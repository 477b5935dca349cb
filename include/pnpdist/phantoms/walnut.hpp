#pragma once
/// \file
/// A walnut-like 3D phantom made of ellipsoids (so its projections are analytic, ellipses.hpp): a hard shell
/// (an ellipsoid minus a slightly smaller one), an inner kernel of two lobes separated by a thin gap, and a
/// texture of small ellipsoids of lower and higher density in the kernel. The texture is placed by a fixed
/// integer hash of `seed`: the same seed gives the same phantom on every platform.

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "pnpdist/phantoms/ellipses.hpp"

namespace pnpdist::phantom {

namespace detail {

/// A uniform number in [0, 1) from a 64-bit integer hash (splitmix64 finalizer).
inline double hash_uniform(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  x ^= x >> 31;
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

}  // namespace detail

/// The walnut-like phantom (densities: shell 1.0, kernel 0.5, texture +-0.1), `texture` small ellipsoids.
[[nodiscard]] inline std::vector<Ellipsoid> walnut(std::uint64_t seed = 0, int texture = 60) {
  std::vector<Ellipsoid> shapes = {
      {1.0, 0.80, 0.72, 0.88, 0.0, 0.0, 0.0, 0.3},    // shell outside
      {-1.0, 0.74, 0.66, 0.82, 0.0, 0.0, 0.0, 0.3},   // shell inside (air)
      {0.5, 0.32, 0.60, 0.74, -0.35, 0.0, 0.0, 0.3},  // kernel lobe
      {0.5, 0.32, 0.60, 0.74, 0.35, 0.0, 0.0, 0.3},   // kernel lobe
      {-0.5, 0.03, 0.55, 0.70, 0.0, 0.0, 0.0, 0.3},   // gap between the lobes (can overlap a lobe edge)
  };
  for (int k = 0; k < texture; ++k) {
    const std::uint64_t base = seed * 1000003ull + static_cast<std::uint64_t>(k) * 8ull;
    const double side = k % 2 == 0 ? -0.35 : 0.35;
    const double r = 0.04 + 0.06 * detail::hash_uniform(base);
    const double x = side + 0.18 * (2 * detail::hash_uniform(base + 1) - 1);
    const double y = 0.40 * (2 * detail::hash_uniform(base + 2) - 1);
    const double z = 0.55 * (2 * detail::hash_uniform(base + 3) - 1);
    const double value = detail::hash_uniform(base + 4) < 0.5 ? -0.1 : 0.1;
    const double phi = std::numbers::pi * detail::hash_uniform(base + 5);
    shapes.push_back({value, r, 0.6 * r, 0.8 * r, x, y, z, phi});
  }
  return shapes;
}

}  // namespace pnpdist::phantom
