#pragma once
/// \file
/// Centre-of-rotation estimation for circular orbits about the z axis (parallel or cone beam, flat detector),
/// by registering opposite projections: every ray of the mid-plane (the detector row at the height of the
/// source; for parallel beams the sum of all rows) is measured twice in a full scan, once from each side,
/// and the two measurements agree only when the detector sits where the vectors say.
///
///   auto found = estimate_centre_of_rotation(geometry, projections);   // line integrals, (views, rows, cols)
///   geometry = shift_detector(geometry, found.shift);                  // detector_window.hpp
///
/// The estimate is the detector shift s (in columns along u; detector_window.hpp's shift_detector(g, s)
/// gives the geometry the data fit) that minimizes the relative squared difference sum (a - b)^2 /
/// sum (a^2 + b^2) between the mid-plane samples a and their conjugates b: the same line traversed the other way, in
/// the view at angle t + pi + 2 (phi - phi0) (phi the ray's direction, phi0 the central ray's: t + pi for parallel
/// beams) at the column mirrored about the projection of the axis; the conjugate sample is interpolated linearly in
/// angle and column, and pairs that fall off the detector or between views further apart than 1.5 times the median view
/// spacing are skipped. s is searched on a grid of 0.5 column in [-max_shift, max_shift], then refined by
/// golden-section search to `tolerance`. Exact for parallel beams and for the mid-plane of cone beams; it needs views
/// over 360 degrees (cone beam) or 180 degrees plus the opposite of the views used (parallel). Refinement by the
/// reprojection error: centre_of_rotation_refinement.hpp. Runs on the host (one mid-plane sinogram, views x cols
/// values); throws invalid_argument for a geometry that is not a circular orbit about z, or when fewer than 10% of the
/// samples have a conjugate at every shift.

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/physics/ct/circular_orbit.hpp"
#include "pnpdist/physics/ct/geometry.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::ct {

struct CentreOfRotationOptions {
  double max_shift = 32;     ///< largest |shift| searched, in detector columns
  double tolerance = 0.005;  ///< of the golden-section refinement, in columns
};

struct CentreOfRotationEstimate {
  double shift = 0;     ///< columns along u: shift_detector(geometry, shift) fits the data
  double mismatch = 0;  ///< relative mismatch of conjugate samples at `shift` (sum (a - b)^2 / sum (a^2 + b^2))
  index_t pairs = 0;    ///< samples with a conjugate at `shift`
};

namespace detail {

/// The mid-plane sinogram (views x cols) and the orbit.
struct MidPlane {
  index_t views = 0, cols = 0;
  std::vector<double> sinogram;
  CircularOrbit orbit;
};

inline MidPlane mid_plane(const Geometry3D& g, const View<const float, 3, HostSpace>& p) {
  require<dimension_mismatch>(p.extents() == g.projection_shape(), [&] {
    return "ct::estimate_centre_of_rotation: projections " + to_string(p.extents()) + ", geometry " +
           to_string(g.projection_shape());
  });
  MidPlane m;
  m.orbit = circular_orbit(g, "ct::estimate_centre_of_rotation");
  m.views = g.views();
  m.cols = g.detector_cols;
  m.sinogram.assign(static_cast<std::size_t>(m.views * m.cols), 0.0);
  const index_t rows = g.detector_rows;
  for (index_t k = 0; k < m.views; ++k) {
    const auto& e = g.vectors[static_cast<std::size_t>(k)];
    double* out = m.sinogram.data() + k * m.cols;
    // Mid-plane row: where the detector meets z = source height (parallel: every row, averaged).
    if (m.orbit.parallel) {
      for (index_t r = 0; r < rows; ++r)
        for (index_t c = 0; c < m.cols; ++c) out[c] += static_cast<double>(p(k, r, c)) / static_cast<double>(rows);
    } else {
      const double row = 0.5 * static_cast<double>(rows - 1) + (e[2] - e[5]) / e[11];
      require(row >= 0 && row <= static_cast<double>(rows - 1), [&] {
        return "ct::estimate_centre_of_rotation: the mid-plane misses the detector in view " + std::to_string(k);
      });
      const index_t r0 = std::min<index_t>(static_cast<index_t>(std::floor(row)), rows - 1);
      const index_t r1 = std::min<index_t>(r0 + 1, rows - 1);
      const double w = row - static_cast<double>(r0);
      for (index_t c = 0; c < m.cols; ++c)
        out[c] = (1 - w) * static_cast<double>(p(k, r0, c)) + w * static_cast<double>(p(k, r1, c));
    }
  }
  return m;
}

/// Views sorted by angle, for the interpolation in angle.
struct AngleIndex {
  std::vector<index_t> order;
  std::vector<double> sorted;
  double max_gap = 0;

  explicit AngleIndex(const std::vector<double>& angle) {
    order.resize(angle.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<index_t>(i);
    std::sort(order.begin(), order.end(), [&](index_t a, index_t b) {
      return angle[static_cast<std::size_t>(a)] < angle[static_cast<std::size_t>(b)];
    });
    for (const index_t i : order) sorted.push_back(angle[static_cast<std::size_t>(i)]);
    std::vector<double> gaps;
    for (std::size_t i = 0; i < sorted.size(); ++i)
      gaps.push_back(i + 1 < sorted.size() ? sorted[i + 1] - sorted[i]
                                           : sorted.front() + 2 * std::numbers::pi - sorted[i]);
    std::vector<double> g = gaps;
    std::nth_element(g.begin(), g.begin() + static_cast<std::ptrdiff_t>(g.size() / 2), g.end());
    max_gap = 1.5 * g[g.size() / 2];
  }

  /// The two views around angle t and the weight of the second; false when they are too far apart.
  bool bracket(double t, index_t& a, index_t& b, double& w) const {
    t = std::fmod(std::fmod(t, 2 * std::numbers::pi) + 2 * std::numbers::pi, 2 * std::numbers::pi);
    const auto it = std::upper_bound(sorted.begin(), sorted.end(), t);
    const std::size_t hi = it == sorted.end() ? 0 : static_cast<std::size_t>(it - sorted.begin());
    const std::size_t lo = hi == 0 ? sorted.size() - 1 : hi - 1;
    double t_lo = sorted[lo], t_hi = sorted[hi];
    if (t_lo > t) t_lo -= 2 * std::numbers::pi;
    if (t_hi < t) t_hi += 2 * std::numbers::pi;
    const double gap = t_hi - t_lo;
    if (!(gap <= max_gap) || gap <= 0) return false;
    a = order[lo];
    b = order[hi];
    w = (t - t_lo) / gap;
    return true;
  }
};

/// Relative mismatch sum (a - b)^2 / sum (a^2 + b^2) of conjugate samples a, b for a detector shift s;
/// `pairs` counts them. Relative, so that pairs of empty background (zero on both sides), which agree at any
/// shift, do not favour the shifts that leave only them.
inline double conjugate_mismatch(const MidPlane& m, const AngleIndex& index, double s, index_t& pairs) {
  double sum = 0, energy = 0;
  pairs = 0;
  const auto at = [&](index_t k, double c) {
    const index_t c0 = std::min<index_t>(static_cast<index_t>(c), m.cols - 2 < 0 ? 0 : m.cols - 2);
    const double w = c - static_cast<double>(c0);
    const double* row = m.sinogram.data() + k * m.cols;
    return m.cols == 1 ? row[0] : (1 - w) * row[c0] + w * row[c0 + 1];
  };
  for (index_t k = 0; k < m.views; ++k) {
    const double axis = m.orbit.views[static_cast<std::size_t>(k)].axis_column;
    for (index_t c = 0; c < m.cols; ++c) {
      // The ray of true column c is the nominal column c + s; its conjugate the nominal column mirrored
      // about the axis, i.e. the true column 2 axis - c - 2 s.
      const double mirrored = 2 * axis - static_cast<double>(c) - 2 * s;
      if (mirrored < 0 || mirrored > static_cast<double>(m.cols - 1)) continue;
      const double turn = m.orbit.turn(k, static_cast<double>(c) + s);
      index_t a = 0, b = 0;
      double w = 0;
      if (!index.bracket(m.orbit.views[static_cast<std::size_t>(k)].angle + std::numbers::pi + 2 * turn, a, b, w))
        continue;
      const double conjugate = (1 - w) * at(a, mirrored) + w * at(b, mirrored);
      const double d = m.sinogram[static_cast<std::size_t>(k * m.cols + c)] - conjugate;
      sum += d * d;
      energy += conjugate * conjugate + m.sinogram[static_cast<std::size_t>(k * m.cols + c)] *
                                            m.sinogram[static_cast<std::size_t>(k * m.cols + c)];
      ++pairs;
    }
  }
  return energy > 0 ? sum / energy : 0.0;
}

}  // namespace detail

/// The detector shift that makes conjugate mid-plane rays agree (file comment). `projections` are line
/// integrals (after -log), shaped g.projection_shape().
[[nodiscard]] inline CentreOfRotationEstimate estimate_centre_of_rotation(
    const Geometry3D& g, const View<const float, 3, HostSpace>& projections, const CentreOfRotationOptions& o = {}) {
  require(o.max_shift >= 0 && o.tolerance > 0,
          "ct::estimate_centre_of_rotation: max_shift must be >= 0, tolerance > 0");
  const detail::MidPlane m = detail::mid_plane(g, projections);
  std::vector<double> angles;
  for (const OrbitView& v : m.orbit.views) angles.push_back(v.angle);
  const detail::AngleIndex index(angles);
  const index_t needed = std::max<index_t>(1, m.views * m.cols / 10);
  const auto cost = [&](double s) {
    index_t pairs = 0;
    const double value = detail::conjugate_mismatch(m, index, s, pairs);
    return pairs >= needed ? value : std::numeric_limits<double>::infinity();
  };
  double best = 0, best_cost = std::numeric_limits<double>::infinity();
  const index_t steps = static_cast<index_t>(std::ceil(2 * o.max_shift));
  for (index_t i = -steps; i <= steps; ++i) {
    const double s = std::clamp(0.5 * static_cast<double>(i), -o.max_shift, o.max_shift);
    const double value = cost(s);
    if (value < best_cost) best_cost = value, best = s;
  }
  require(std::isfinite(best_cost), [&] {
    return "ct::estimate_centre_of_rotation: fewer than 10% of the mid-plane samples have a conjugate at every "
           "shift (views over 360 degrees are needed)";
  });
  // Golden-section search on [best - 0.5, best + 0.5].
  const double ratio = 0.5 * (std::sqrt(5.0) - 1);
  double lo = best - 0.5, hi = best + 0.5;
  double x1 = hi - ratio * (hi - lo), x2 = lo + ratio * (hi - lo);
  double f1 = cost(x1), f2 = cost(x2);
  while (hi - lo > o.tolerance) {
    if (f1 < f2) {
      hi = x2, x2 = x1, f2 = f1;
      x1 = hi - ratio * (hi - lo);
      f1 = cost(x1);
    } else {
      lo = x1, x1 = x2, f1 = f2;
      x2 = lo + ratio * (hi - lo);
      f2 = cost(x2);
    }
  }
  CentreOfRotationEstimate out;
  out.shift = 0.5 * (lo + hi);
  out.mismatch = detail::conjugate_mismatch(m, index, out.shift, out.pairs);
  if (best_cost < out.mismatch) {  // the grid point was better than the refinement (flat or noisy cost)
    out.shift = best;
    out.mismatch = detail::conjugate_mismatch(m, index, best, out.pairs);
  }
  return out;
}

}  // namespace pnpdist::ct
