#pragma once
/// \file
/// Detector tilts: the rotation of a flat detector about its own centre, applied to the u and v vectors of
/// every view of a 3D geometry (the source, or ray direction, and the detector centre d stay):
///
///   Geometry3D g = ct::tilt_detector(ct::cone_beam(angles, detector, so, od, volume), {.roll_degrees = 0.7});
///
/// Each view has its own frame: u_hat and v_hat (the directions of its columns and rows) and n = u_hat x v_hat,
/// the detector normal, which for ct::cone_beam and ct::parallel_beam_3d points back to the source (the beam
/// axis reversed). Angles are in degrees, each a right-handed rotation about one axis of that frame:
///
///   roll   about n (the in-plane rotation): positive turns u towards v, counter-clockwise as seen from the source;
///   pitch  about u_hat: positive turns v towards n, the top row (largest v) towards the source;
///   yaw    about v_hat: positive turns n towards u_hat, the last column (largest u) away from the source.
///
/// They compose as R = R_yaw R_pitch R_roll about the untilted axes (roll first), and u' = R u, v' = R v:
/// the pixel sizes |u| and |v| are kept for any aspect ratio. The rotation is about the detector centre d, which
/// includes any offsets along u and v. Needs u orthogonal to v in every view (the circular geometries; a vectors
/// file may hold a sheared detector): invalid_argument otherwise, and for non-finite angles.

#include <array>
#include <cmath>
#include <numbers>
#include <string>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

namespace pnpdist::ct {

/// The three tilt angles of a detector in degrees (file comment).
struct DetectorTilt {
  double roll_degrees = 0;   ///< about the detector normal n (in-plane)
  double pitch_degrees = 0;  ///< about the column direction u
  double yaw_degrees = 0;    ///< about the row direction v

  [[nodiscard]] bool none() const { return roll_degrees == 0 && pitch_degrees == 0 && yaw_degrees == 0; }
};

/// The 3 x 3 rotation of `tilt` in the detector frame (u_hat, v_hat, n): column j is the image of axis j.
[[nodiscard]] inline std::array<std::array<double, 3>, 3> detector_tilt_matrix(const DetectorTilt& tilt) {
  require(std::isfinite(tilt.roll_degrees) && std::isfinite(tilt.pitch_degrees) && std::isfinite(tilt.yaw_degrees),
          "ct::tilt_detector: the tilt angles must be finite");
  const double k = std::numbers::pi / 180;
  const double cr = std::cos(tilt.roll_degrees * k), sr = std::sin(tilt.roll_degrees * k);
  const double cp = std::cos(tilt.pitch_degrees * k), sp = std::sin(tilt.pitch_degrees * k);
  const double cy = std::cos(tilt.yaw_degrees * k), sy = std::sin(tilt.yaw_degrees * k);
  // Right-handed rotations about n (roll), u (pitch) and v (yaw), rows and columns in (u, v, n) order.
  const double roll[3][3] = {{cr, -sr, 0}, {sr, cr, 0}, {0, 0, 1}};
  const double pitch[3][3] = {{1, 0, 0}, {0, cp, -sp}, {0, sp, cp}};
  const double yaw[3][3] = {{cy, 0, sy}, {0, 1, 0}, {-sy, 0, cy}};
  double pr[3][3] = {};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int m = 0; m < 3; ++m) pr[i][j] += pitch[i][m] * roll[m][j];
  std::array<std::array<double, 3>, 3> r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int m = 0; m < 3; ++m) r[i][j] += yaw[i][m] * pr[m][j];
  return r;
}

/// `g` with every view's detector tilted by `tilt` about its centre (file comment).
[[nodiscard]] inline Geometry3D tilt_detector(Geometry3D g, const DetectorTilt& tilt) {
  const auto r = detector_tilt_matrix(tilt);
  if (tilt.none()) return g;
  for (std::size_t view = 0; view < g.vectors.size(); ++view) {
    auto& e = g.vectors[view];
    const double u[3] = {e[6], e[7], e[8]}, v[3] = {e[9], e[10], e[11]};
    const double lu = std::sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    const double lv = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    const double cosine = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (lu * lv);
    require(lu > 0 && lv > 0 && std::abs(cosine) <= 1e-9, [&] {
      return "ct::tilt_detector: view " + std::to_string(view) + " has u and v that are not orthogonal (cosine " +
             std::to_string(cosine) + "): a tilt is defined for a rectangular detector only";
    });
    double axes[3][3];  // u_hat, v_hat, n
    for (int j = 0; j < 3; ++j) axes[0][j] = u[j] / lu, axes[1][j] = v[j] / lv;
    axes[2][0] = axes[0][1] * axes[1][2] - axes[0][2] * axes[1][1];
    axes[2][1] = axes[0][2] * axes[1][0] - axes[0][0] * axes[1][2];
    axes[2][2] = axes[0][0] * axes[1][1] - axes[0][1] * axes[1][0];
    for (int j = 0; j < 3; ++j) {
      // Column 0 of r is the image of u_hat, column 1 that of v_hat, in the (u_hat, v_hat, n) frame.
      e[6 + j] = lu * (r[0][0] * axes[0][j] + r[1][0] * axes[1][j] + r[2][0] * axes[2][j]);
      e[9 + j] = lv * (r[0][1] * axes[0][j] + r[1][1] * axes[1][j] + r[2][1] * axes[2][j]);
    }
  }
  validate(g);
  return g;
}

}  // namespace pnpdist::ct
