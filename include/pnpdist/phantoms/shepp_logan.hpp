#pragma once
/// \file
/// The Shepp-Logan head phantoms as ellipses / ellipsoids (phantom units, [-1, 1] per axis; ellipses.hpp
/// rasterizes them and gives their exact line integrals).
///   - shepp_logan_2d(): the modified Shepp-Logan phantom (Toft's higher-contrast densities: 1, -0.8, -0.2,
///     -0.2, 0.1 x 6), background 0, brain 0.2, values in [0, 1].
///   - shepp_logan_3d(): the 3D Shepp-Logan phantom with the same modified densities, ellipsoids after Kak &
///     Slaney's 3D head, rotations about z only.

#include <numbers>
#include <vector>

#include "pnpdist/phantoms/ellipses.hpp"

namespace pnpdist::phantom {

[[nodiscard]] inline std::vector<Ellipse> shepp_logan_2d() {
  constexpr double deg = std::numbers::pi / 180.0;
  return {
      {1.0, 0.69, 0.92, 0.0, 0.0, 0.0},
      {-0.8, 0.6624, 0.8740, 0.0, -0.0184, 0.0},
      {-0.2, 0.1100, 0.3100, 0.22, 0.0, -18.0 * deg},
      {-0.2, 0.1600, 0.4100, -0.22, 0.0, 18.0 * deg},
      {0.1, 0.2100, 0.2500, 0.0, 0.35, 0.0},
      {0.1, 0.0460, 0.0460, 0.0, 0.1, 0.0},
      {0.1, 0.0460, 0.0460, 0.0, -0.1, 0.0},
      {0.1, 0.0460, 0.0230, -0.08, -0.605, 0.0},
      {0.1, 0.0230, 0.0230, 0.0, -0.606, 0.0},
      {0.1, 0.0230, 0.0460, 0.06, -0.605, 0.0},
  };
}

[[nodiscard]] inline std::vector<Ellipsoid> shepp_logan_3d() {
  constexpr double deg = std::numbers::pi / 180.0;
  return {
      {1.0, 0.6900, 0.920, 0.810, 0.0, 0.0, 0.0, 0.0},
      {-0.8, 0.6624, 0.874, 0.780, 0.0, -0.0184, 0.0, 0.0},
      {-0.2, 0.1100, 0.310, 0.220, 0.22, 0.0, 0.0, -18.0 * deg},
      {-0.2, 0.1600, 0.410, 0.280, -0.22, 0.0, 0.0, 18.0 * deg},
      {0.1, 0.2100, 0.250, 0.410, 0.0, 0.35, -0.15, 0.0},
      {0.1, 0.0460, 0.046, 0.050, 0.0, 0.1, 0.25, 0.0},
      {0.1, 0.0460, 0.046, 0.050, 0.0, -0.1, 0.25, 0.0},
      {0.1, 0.0460, 0.023, 0.050, -0.08, -0.605, 0.0, 0.0},
      {0.1, 0.0230, 0.023, 0.020, 0.0, -0.606, 0.0, 0.0},
      {0.1, 0.0230, 0.046, 0.020, 0.06, -0.605, 0.0, 0.0},
  };
}

}  // namespace pnpdist::phantom
