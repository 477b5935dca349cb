#pragma once
/// \file
/// The mid-plane (z = 0) view of a circular orbit about the z axis, from per-view vectors: each view's angle
/// t (source, or ray direction for parallel beams, at (sin t, -cos t) as in geometry.hpp), the column where
/// the ray through the axis meets the detector, and the turn of any column's ray from that central ray.
/// Used by the centre-of-rotation estimate and the Parker weights. Throws invalid_argument unless every
/// view has a horizontal u, a vertical v, its source (or rays) in the plane z = 0 and a detector that the
/// central ray crosses.

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

namespace pnpdist::ct {

struct OrbitView {
  double angle = 0;        ///< t in [0, 2 pi)
  double sx = 0, sy = 0;   ///< source (divergent) or ray direction (parallel)
  double dx = 0, dy = 0;   ///< detector centre
  double ux = 0, uy = 0;   ///< detector column vector u
  double phi0 = 0;         ///< direction angle of the central ray (through the axis)
  double axis_column = 0;  ///< (fractional) column of the central ray on the detector
};

struct CircularOrbit {
  bool parallel = false;
  index_t cols = 0;
  std::vector<OrbitView> views;

  /// phi - phi0 for the ray through the (fractional) column x of view k, in (-pi, pi]: the angle by which
  /// the ray turns from the central ray, counter-clockwise positive; 0 for parallel beams.
  [[nodiscard]] double turn(index_t k, double x) const {
    if (parallel) return 0.0;
    const OrbitView& v = views[static_cast<std::size_t>(k)];
    const double off = x - 0.5 * static_cast<double>(cols - 1);
    return std::remainder(std::atan2(v.dy + off * v.uy - v.sy, v.dx + off * v.ux - v.sx) - v.phi0,
                          2 * std::numbers::pi);
  }
};

/// The orbit of `g` (file comment); `who` names the caller in errors.
[[nodiscard]] inline CircularOrbit circular_orbit(const Geometry3D& g, const std::string& who) {
  CircularOrbit orbit;
  orbit.parallel = g.beam == Beam::parallel;
  orbit.cols = g.detector_cols;
  for (index_t k = 0; k < g.views(); ++k) {
    const auto& e = g.vectors[static_cast<std::size_t>(k)];
    const double un = std::hypot(e[6], e[7], e[8]), vn = std::hypot(e[9], e[10], e[11]);
    require(
        std::abs(e[8]) <= 1e-6 * un && std::abs(e[9]) <= 1e-6 * vn && std::abs(e[10]) <= 1e-6 * vn &&
            std::abs(e[2]) <= 1e-6 * std::hypot(e[0], e[1]),
        [&] {
          return who + ": view " + std::to_string(k) +
                 " is not on a circular orbit about z (u horizontal, v vertical, source or rays in the plane z = 0)";
        });
    OrbitView v;
    v.sx = e[0], v.sy = e[1], v.dx = e[3], v.dy = e[4], v.ux = e[6], v.uy = e[7];
    v.angle = std::fmod(std::atan2(v.sx, -v.sy) + 2 * std::numbers::pi, 2 * std::numbers::pi);
    // The central ray (from the source through the origin; parallel: the ray through the origin) meets the
    // detector line d + x u at the axis column: solve o + l a = d + x u for x.
    const double ax = orbit.parallel ? v.sx : -v.sx, ay = orbit.parallel ? v.sy : -v.sy;
    const double ox = orbit.parallel ? 0.0 : v.sx, oy = orbit.parallel ? 0.0 : v.sy;
    const double det = ax * (-v.uy) - ay * (-v.ux);
    require(std::abs(det) > 1e-12 * std::hypot(ax, ay) * un,
            [&] { return who + ": view " + std::to_string(k) + " is edge-on"; });
    v.axis_column = (ax * (v.dy - oy) - ay * (v.dx - ox)) / det + 0.5 * static_cast<double>(orbit.cols - 1);
    v.phi0 = std::atan2(ay, ax);
    orbit.views.push_back(v);
  }
  return orbit;
}

}  // namespace pnpdist::ct
