#pragma once
/// \file
/// Joseph rays in index space (voxel centres at integer coordinates). A ray is stepped along its dominant
/// axis a, one slice s at a time; in slice s it lies at q0 + s dq along each other axis, and every sample has
/// the weight |d| / |d_a| (the world length of the ray per slice). A ray records two ranges of slices:
/// [s_lo, s_hi], where it may touch the grid, and [in_lo, in_hi], where all its interpolation neighbours lie
/// inside the grid.
///
/// Positions, slopes, weights and values are kept in a real type R, joseph_real_t<T> for element type T:
/// float for float (the set-up itself runs in double and is rounded once), double for double, so that a
/// double projector computes in double end to end.

#include <cmath>
#include <type_traits>

#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

namespace pnpdist::ct {

/// Index-space description of a 2D grid: axis 0 = y (rows), axis 1 = x (columns).
struct JosephGrid2D {
  index_t n[2];
  double inverse_size[2];  ///< 1 / pixel size along each axis
  double centre[2];        ///< (n - 1) / 2
  index_t detector_cols;
  bool parallel;
};

/// Index-space description of a 3D grid: axis 0 = z (slices), 1 = y (rows), 2 = x (columns).
struct JosephGrid3D {
  index_t n[3];
  double inverse_size[3];
  double centre[3];
  index_t detector_rows;
  index_t detector_cols;
  bool parallel;
};

[[nodiscard]] inline JosephGrid2D make_joseph_grid(const Geometry2D& g) {
  const VolumeGeometry2D& v = g.volume;
  return JosephGrid2D{{v.rows, v.cols},
                      {1.0 / v.pixel_size_y, 1.0 / v.pixel_size_x},
                      {0.5 * static_cast<double>(v.rows - 1), 0.5 * static_cast<double>(v.cols - 1)},
                      g.detector_cols,
                      g.beam == Beam::parallel};
}
[[nodiscard]] inline JosephGrid3D make_joseph_grid(const Geometry3D& g) {
  const VolumeGeometry3D& v = g.volume;
  return JosephGrid3D{{v.slices, v.rows, v.cols},
                      {1.0 / v.voxel_size_z, 1.0 / v.voxel_size_y, 1.0 / v.voxel_size_x},
                      {0.5 * static_cast<double>(v.slices - 1), 0.5 * static_cast<double>(v.rows - 1),
                       0.5 * static_cast<double>(v.cols - 1)},
                      g.detector_rows,
                      g.detector_cols,
                      g.beam == Beam::parallel};
}

/// The real type of the ray set-up and traversal for element type T: double for double, float otherwise.
template <class T>
using joseph_real_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

/// One ray of a 2D geometry in index space. Samples s in [s_lo, s_hi] (empty when s_lo > s_hi).
template <class R>
struct JosephRay2D {
  using real_type = R;
  R q0;      ///< position along the other axis at slice 0
  R dq;      ///< its change per slice
  R weight;  ///< world length per slice
  R value;   ///< back projection: the sinogram value times weight
  int axis;  ///< dominant axis (0 = y, 1 = x)
  int s_lo;
  int s_hi;
  int in_lo;  ///< [in_lo, in_hi]: samples whose interpolation neighbours all lie inside the grid
  int in_hi;
};

/// One ray of a 3D geometry in index space; q0/dq along the two other axes in increasing axis order.
template <class R>
struct JosephRay3D {
  using real_type = R;
  R q0[2];
  R dq[2];
  R weight;
  R value;
  int axis;  ///< dominant axis (0 = z, 1 = y, 2 = x)
  int s_lo;
  int s_hi;
  int in_lo;  ///< [in_lo, in_hi]: samples whose interpolation neighbours all lie inside the grid
  int in_hi;
};

namespace detail {

/// Narrows the sample range [lo, hi] to the slices where q0 + s dq lies in (-1, n) (widened by one slice on
/// each side; the sampling function checks every sample anyway).
PNPDIST_HOST_DEVICE void clip_sample_range(double q0, double dq, index_t n, double& lo, double& hi) {
  const double upper = static_cast<double>(n);
  if (dq == 0) {
    if (!(q0 > -1.0 && q0 < upper)) {
      lo = 1;
      hi = 0;
    }
    return;
  }
  double t1 = (-1.0 - q0) / dq, t2 = (upper - q0) / dq;
  if (t1 > t2) {
    const double t = t1;
    t1 = t2;
    t2 = t;
  }
  if (t1 - 1 > lo) lo = t1 - 1;
  if (t2 + 1 < hi) hi = t2 + 1;
}

/// Narrows [lo, hi] to the slices where q0 + s dq lies in [margin, n - 1 - margin] (both interpolation
/// neighbours inside the grid, with a margin that covers the float rounding of the sample position).
PNPDIST_HOST_DEVICE void clip_interior_range(double q0, double dq, index_t n, double& lo, double& hi) {
  const double margin = 1e-2;
  const double low = margin, high = static_cast<double>(n - 1) - margin;
  if (high < low) {
    lo = 1;
    hi = 0;
    return;
  }
  if (dq == 0) {
    if (!(q0 >= low && q0 <= high)) {
      lo = 1;
      hi = 0;
    }
    return;
  }
  double t1 = (low - q0) / dq, t2 = (high - q0) / dq;
  if (t1 > t2) {
    const double t = t1;
    t1 = t2;
    t2 = t;
  }
  if (t1 > lo) lo = t1;
  if (t2 < hi) hi = t2;
}

PNPDIST_HOST_DEVICE void set_range(double lo, double hi, int& s_lo, int& s_hi) {
  if (lo > hi) {
    s_lo = 1;
    s_hi = 0;
    return;
  }
  s_lo = static_cast<int>(::ceil(lo));
  s_hi = static_cast<int>(::floor(hi));
}

PNPDIST_HOST_DEVICE double absolute(double x) { return x < 0 ? -x : x; }

}  // namespace detail

/// The ray through detector column `col` of the view with vector `e` (6 numbers, geometry.hpp), computed in
/// double and stored in R.
template <class R>
PNPDIST_HOST_DEVICE JosephRay2D<R> joseph_ray_2d(const JosephGrid2D& grid, const double* e, index_t col) {
  const double pc = static_cast<double>(col) - 0.5 * static_cast<double>(grid.detector_cols - 1);
  const double px = e[2] + pc * e[4], py = e[3] + pc * e[5];
  double ox, oy, dx, dy;
  if (grid.parallel) {
    ox = px, oy = py, dx = e[0], dy = e[1];
  } else {
    ox = e[0], oy = e[1], dx = px - e[0], dy = py - e[1];
  }
  const double p[2] = {oy * grid.inverse_size[0] + grid.centre[0], ox * grid.inverse_size[1] + grid.centre[1]};
  const double d[2] = {dy * grid.inverse_size[0], dx * grid.inverse_size[1]};
  const int a = detail::absolute(d[1]) >= detail::absolute(d[0]) ? 1 : 0;
  const int b = 1 - a;
  const double slope = d[b] / d[a];
  const double q0 = p[b] - p[a] * slope;
  JosephRay2D<R> ray;
  ray.q0 = static_cast<R>(q0);
  ray.dq = static_cast<R>(slope);
  ray.weight = static_cast<R>(::sqrt(dx * dx + dy * dy) / detail::absolute(d[a]));
  ray.value = 0;
  ray.axis = a;
  double lo = 0, hi = static_cast<double>(grid.n[a] - 1);
  detail::clip_sample_range(q0, slope, grid.n[b], lo, hi);
  detail::set_range(lo, hi, ray.s_lo, ray.s_hi);
  double in_lo = 0, in_hi = static_cast<double>(grid.n[a] - 1);
  detail::clip_interior_range(q0, slope, grid.n[b], in_lo, in_hi);
  detail::set_range(in_lo, in_hi, ray.in_lo, ray.in_hi);
  return ray;
}

/// The ray through detector pixel (row, col) of the view with vector `e` (12 numbers, geometry.hpp),
/// computed in double and stored in R.
template <class R>
PNPDIST_HOST_DEVICE JosephRay3D<R> joseph_ray_3d(const JosephGrid3D& grid, const double* e, index_t row, index_t col) {
  const double pc = static_cast<double>(col) - 0.5 * static_cast<double>(grid.detector_cols - 1);
  const double pr = static_cast<double>(row) - 0.5 * static_cast<double>(grid.detector_rows - 1);
  double pix[3], o[3], dw[3];
  for (int k = 0; k < 3; ++k) pix[k] = e[3 + k] + pc * e[6 + k] + pr * e[9 + k];
  for (int k = 0; k < 3; ++k) {
    if (grid.parallel) {
      o[k] = pix[k];
      dw[k] = e[k];
    } else {
      o[k] = e[k];
      dw[k] = pix[k] - e[k];
    }
  }
  // World (x, y, z) to index axes (z, y, x).
  const double p[3] = {o[2] * grid.inverse_size[0] + grid.centre[0], o[1] * grid.inverse_size[1] + grid.centre[1],
                       o[0] * grid.inverse_size[2] + grid.centre[2]};
  const double d[3] = {dw[2] * grid.inverse_size[0], dw[1] * grid.inverse_size[1], dw[0] * grid.inverse_size[2]};
  int a = 2;
  if (detail::absolute(d[1]) > detail::absolute(d[a])) a = 1;
  if (detail::absolute(d[0]) > detail::absolute(d[a])) a = 0;
  const int b0 = a == 0 ? 1 : 0;
  const int b1 = a == 2 ? 1 : 2;
  JosephRay3D<R> ray;
  double lo = 0, hi = static_cast<double>(grid.n[a] - 1);
  double in_lo = 0, in_hi = hi;
  const int others[2] = {b0, b1};
  for (int k = 0; k < 2; ++k) {
    const int b = others[k];
    const double slope = d[b] / d[a];
    const double q0 = p[b] - p[a] * slope;
    ray.q0[k] = static_cast<R>(q0);
    ray.dq[k] = static_cast<R>(slope);
    detail::clip_sample_range(q0, slope, grid.n[b], lo, hi);
    detail::clip_interior_range(q0, slope, grid.n[b], in_lo, in_hi);
  }
  ray.weight = static_cast<R>(::sqrt(dw[0] * dw[0] + dw[1] * dw[1] + dw[2] * dw[2]) / detail::absolute(d[a]));
  ray.value = 0;
  ray.axis = a;
  detail::set_range(lo, hi, ray.s_lo, ray.s_hi);
  detail::set_range(in_lo, in_hi, ray.in_lo, ray.in_hi);
  return ray;
}

/// Detector rows of a grid's geometry: 1 in 2D.
PNPDIST_HOST_DEVICE constexpr index_t joseph_detector_rows(const JosephGrid2D&) { return 1; }
PNPDIST_HOST_DEVICE constexpr index_t joseph_detector_rows(const JosephGrid3D& g) { return g.detector_rows; }

/// The ray of detector pixel `pixel` (row-major over the detector) of view `view`; `views` holds the vectors of
/// all views.
template <class R>
PNPDIST_HOST_DEVICE JosephRay2D<R> joseph_pixel_ray(const JosephGrid2D& g, const double* views, index_t view,
                                                    index_t pixel) {
  return joseph_ray_2d<R>(g, views + 6 * view, pixel);
}
template <class R>
PNPDIST_HOST_DEVICE JosephRay3D<R> joseph_pixel_ray(const JosephGrid3D& g, const double* views, index_t view,
                                                    index_t pixel) {
  return joseph_ray_3d<R>(g, views + 12 * view, pixel / g.detector_cols, pixel % g.detector_cols);
}

}  // namespace pnpdist::ct
