#pragma once
/// \file
/// Joseph's method (ray-driven, linear interpolation along the dominant axis), written once for the
/// forward projection and its exact transpose.
///
/// A ray is the line o + t d. In index space (voxel centres at integer coordinates) its dominant axis a is
/// the one of largest |d_a|; the ray is sampled once per slice s = 0 .. n_a - 1 of that axis, at the
/// positions q_b(s) = q0_b + s dq_b along the other axes, where the image is interpolated linearly (2D) or
/// bilinearly (3D), with zero outside the grid. Each sample has the weight |d| / |d_a| (the world length of
/// the ray per slice). The weights of a ray are produced by one function, joseph_sample_2d/3d, which calls a
/// policy with (voxel index, interpolation weight):
///   - GatherPolicy   (forward):  acc += w * volume[i]
///   - ScatterPolicy  (adjoint):  volume[i] += w * value
/// so the forward and the back projection use the same weights: the back projection is the exact transpose.
///
/// Parallelism. The forward projection runs one iteration per ray. The back projection runs, for each block
/// of views and each axis, one iteration per run of consecutive slices of that axis, which visits every ray
/// of the block whose dominant axis it is: a sample of slice s only touches voxels of slice s, so no two
/// iterations write the same voxel and no atomics are needed. Each voxel accumulates its terms in a fixed
/// order (blocks, axes, views, rays), so the result has the same bits for any number of threads.

#include <cmath>
#include <cstddef>

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

/// One ray of a 2D geometry in index space. Samples s in [s_lo, s_hi] (empty when s_lo > s_hi).
struct JosephRay2D {
  float q0;      ///< position along the other axis at slice 0
  float dq;      ///< its change per slice
  float weight;  ///< world length per slice
  float value;   ///< back projection: the sinogram value times weight
  int axis;      ///< dominant axis (0 = y, 1 = x)
  int s_lo;
  int s_hi;
  int in_lo;  ///< [in_lo, in_hi]: samples whose interpolation neighbours all lie inside the grid
  int in_hi;
};

/// One ray of a 3D geometry in index space; q0/dq along the two other axes in increasing axis order.
struct JosephRay3D {
  float q0[2];
  float dq[2];
  float weight;
  float value;
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

/// The ray through detector column `col` of the view with vector `e` (6 numbers, geometry.hpp).
PNPDIST_HOST_DEVICE JosephRay2D joseph_ray_2d(const JosephGrid2D& grid, const double* e, index_t col) {
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
  JosephRay2D ray;
  ray.q0 = static_cast<float>(q0);
  ray.dq = static_cast<float>(slope);
  ray.weight = static_cast<float>(::sqrt(dx * dx + dy * dy) / detail::absolute(d[a]));
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

/// The ray through detector pixel (row, col) of the view with vector `e` (12 numbers, geometry.hpp).
PNPDIST_HOST_DEVICE JosephRay3D joseph_ray_3d(const JosephGrid3D& grid, const double* e, index_t row, index_t col) {
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
  JosephRay3D ray;
  double lo = 0, hi = static_cast<double>(grid.n[a] - 1);
  double in_lo = 0, in_hi = hi;
  const int others[2] = {b0, b1};
  for (int k = 0; k < 2; ++k) {
    const int b = others[k];
    const double slope = d[b] / d[a];
    const double q0 = p[b] - p[a] * slope;
    ray.q0[k] = static_cast<float>(q0);
    ray.dq[k] = static_cast<float>(slope);
    detail::clip_sample_range(q0, slope, grid.n[b], lo, hi);
    detail::clip_interior_range(q0, slope, grid.n[b], in_lo, in_hi);
  }
  ray.weight = static_cast<float>(::sqrt(dw[0] * dw[0] + dw[1] * dw[1] + dw[2] * dw[2]) / detail::absolute(d[a]));
  ray.value = 0;
  ray.axis = a;
  detail::set_range(lo, hi, ray.s_lo, ray.s_hi);
  detail::set_range(in_lo, in_hi, ray.in_lo, ray.in_hi);
  return ray;
}

/// Forward policy: accumulates w * volume[i]. The samples of a ray's interior go round-robin to four
/// partial sums (`lane` = sample index mod 4), so that consecutive samples do not wait for each other; the
/// sum is ((acc0 + acc1) + (acc2 + acc3)), a fixed order.
template <class T>
struct GatherPolicy {
  const T* volume;
  T acc[4] = {T(0), T(0), T(0), T(0)};
  PNPDIST_HOST_DEVICE void operator()(index_t i, T w, int lane = 0) { acc[lane] += w * volume[i]; }
  PNPDIST_HOST_DEVICE T sum() const { return (acc[0] + acc[1]) + (acc[2] + acc[3]); }
};

/// Adjoint policy: adds w * value to volume[i].
template <class T>
struct ScatterPolicy {
  T* volume;
  T value;
  PNPDIST_HOST_DEVICE void operator()(index_t i, T w, int /*lane*/ = 0) const { volume[i] += w * value; }
};

/// Strides of the axes of a 2D / 3D grid. Two memory layouts are used: the volume's own row-major layout
/// ((y, x) or (z, y, x)) and the layout with the last two axes swapped ((x, y) or (z, x, y)), so that each
/// traversal walks memory with small strides: the forward projection of a ray whose dominant axis is y reads
/// the swapped copy (its samples are then contiguous), and the back projection of the rays whose dominant
/// axis is x accumulates into a swapped buffer (each slice is then contiguous).
PNPDIST_HOST_DEVICE index_t axis_stride(const JosephGrid2D& g, int axis, bool swapped) {
  if (swapped) return axis == 0 ? 1 : g.n[0];
  return axis == 0 ? g.n[1] : 1;
}
PNPDIST_HOST_DEVICE index_t axis_stride(const JosephGrid3D& g, int axis, bool swapped) {
  if (axis == 0) return g.n[1] * g.n[2];
  if (swapped) return axis == 1 ? 1 : g.n[1];
  return axis == 1 ? g.n[2] : 1;
}

/// The axis along which the swapped layout is used by the forward projection (y).
PNPDIST_HOST_DEVICE constexpr int swapped_forward_axis(const JosephGrid2D&) { return 0; }
PNPDIST_HOST_DEVICE constexpr int swapped_forward_axis(const JosephGrid3D&) { return 1; }

/// Strides and extents of the axes a ray visits: the dominant axis a and the other axes (increasing order).
struct SampleAxes2D {
  index_t stride_a, stride_b, n_b;
};
struct SampleAxes3D {
  index_t stride_a, stride_0, stride_1, n_0, n_1;
};

PNPDIST_HOST_DEVICE SampleAxes2D sample_axes(const JosephGrid2D& g, int a, bool swapped) {
  const int b = 1 - a;
  return SampleAxes2D{axis_stride(g, a, swapped), axis_stride(g, b, swapped), g.n[b]};
}
PNPDIST_HOST_DEVICE SampleAxes3D sample_axes(const JosephGrid3D& g, int a, bool swapped) {
  const int b0 = a == 0 ? 1 : 0;
  const int b1 = a == 2 ? 1 : 2;
  return SampleAxes3D{axis_stride(g, a, swapped), axis_stride(g, b0, swapped), axis_stride(g, b1, swapped), g.n[b0],
                      g.n[b1]};
}

/// The weights of sample s of a 2D ray: policy(voxel index, interpolation weight) for the (at most two)
/// pixels of slice s it interpolates, zero outside the grid. The ray weight is applied by the caller.
/// For s in [ray.in_lo, ray.in_hi] both pixels are inside and joseph_sample_2d_interior gives the same
/// calls without the bounds checks.
template <class T, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_2d(const SampleAxes2D& ax, const JosephRay2D& ray, index_t s, Policy& policy) {
  const float q = ray.q0 + static_cast<float>(s) * ray.dq;
  if (!(q > -1.0f && q < static_cast<float>(ax.n_b))) return;
  const float fl = ::floorf(q);
  const index_t i0 = static_cast<index_t>(fl);
  const T f = static_cast<T>(q - fl);
  const index_t base = s * ax.stride_a + i0 * ax.stride_b;
  if (i0 >= 0) policy(base, T(1) - f);
  if (i0 + 1 < ax.n_b) policy(base + ax.stride_b, f);
}

template <class T, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_2d_interior(const SampleAxes2D& ax, const JosephRay2D& ray, index_t s,
                                                   Policy& policy, int lane = 0) {
  const float q = ray.q0 + static_cast<float>(s) * ray.dq;
  const index_t i0 = static_cast<index_t>(q);  // q > 0: truncation is floor
  const T f = static_cast<T>(q - static_cast<float>(i0));
  const index_t base = s * ax.stride_a + i0 * ax.stride_b;
  policy(base, T(1) - f, lane);
  policy(base + ax.stride_b, f, lane);
}

/// The weights of sample s of a 3D ray: bilinear interpolation in the slice s of its dominant axis, zero
/// outside the grid; joseph_sample_3d_interior for s in [ray.in_lo, ray.in_hi].
template <class T, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_3d(const SampleAxes3D& ax, const JosephRay3D& ray, index_t s, Policy& policy) {
  const float fs = static_cast<float>(s);
  const float q0 = ray.q0[0] + fs * ray.dq[0];
  const float q1 = ray.q0[1] + fs * ray.dq[1];
  if (!(q0 > -1.0f && q0 < static_cast<float>(ax.n_0) && q1 > -1.0f && q1 < static_cast<float>(ax.n_1))) return;
  const float fl0 = ::floorf(q0), fl1 = ::floorf(q1);
  const index_t i0 = static_cast<index_t>(fl0), i1 = static_cast<index_t>(fl1);
  const T f0 = static_cast<T>(q0 - fl0), f1 = static_cast<T>(q1 - fl1);
  const index_t base = s * ax.stride_a + i0 * ax.stride_0 + i1 * ax.stride_1;
  const bool lo0 = i0 >= 0, hi0 = i0 + 1 < ax.n_0, lo1 = i1 >= 0, hi1 = i1 + 1 < ax.n_1;
  if (lo0 && lo1) policy(base, (T(1) - f0) * (T(1) - f1));
  if (lo0 && hi1) policy(base + ax.stride_1, (T(1) - f0) * f1);
  if (hi0 && lo1) policy(base + ax.stride_0, f0 * (T(1) - f1));
  if (hi0 && hi1) policy(base + ax.stride_0 + ax.stride_1, f0 * f1);
}

template <class T, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_3d_interior(const SampleAxes3D& ax, const JosephRay3D& ray, index_t s,
                                                   Policy& policy, int lane = 0) {
  const float fs = static_cast<float>(s);
  const float q0 = ray.q0[0] + fs * ray.dq[0];
  const float q1 = ray.q0[1] + fs * ray.dq[1];
  const index_t i0 = static_cast<index_t>(q0), i1 = static_cast<index_t>(q1);
  const T f0 = static_cast<T>(q0 - static_cast<float>(i0)), f1 = static_cast<T>(q1 - static_cast<float>(i1));
  const index_t base = s * ax.stride_a + i0 * ax.stride_0 + i1 * ax.stride_1;
  policy(base, (T(1) - f0) * (T(1) - f1), lane);
  policy(base + ax.stride_1, (T(1) - f0) * f1, lane);
  policy(base + ax.stride_0, f0 * (T(1) - f1), lane);
  policy(base + ax.stride_0 + ax.stride_1, f0 * f1, lane);
}

/// Interior samples s0 .. s0 + joseph_batch - 1 of a ray at once: the positions, voxel indices and weights
/// of joseph_sample_2d_interior / joseph_sample_3d_interior (the same expressions, so the same values) are
/// computed for the whole batch first (a loop the compiler vectorizes), then handed to the policy in sample
/// order, sample k on lane k mod 4.
inline constexpr int joseph_batch = 8;

template <class T, class Policy>
PNPDIST_HOST_DEVICE void joseph_batch_interior(const SampleAxes2D& ax, const JosephRay2D& ray, index_t s0,
                                               Policy& policy) {
  int i0[joseph_batch];
  T w0[joseph_batch], w1[joseph_batch];
  const int first = static_cast<int>(s0);
  for (int k = 0; k < joseph_batch; ++k) {
    const float q = ray.q0 + static_cast<float>(first + k) * ray.dq;
    const int i = static_cast<int>(q);  // q > 0: truncation is floor
    const T f = static_cast<T>(q - static_cast<float>(i));
    i0[k] = i;
    w0[k] = T(1) - f;
    w1[k] = f;
  }
  index_t slice = s0 * ax.stride_a;
  for (int k = 0; k < joseph_batch; k += 4) {
    for (int l = 0; l < 4; ++l, slice += ax.stride_a) {
      const index_t b = slice + i0[k + l] * ax.stride_b;
      policy(b, w0[k + l], l);
      policy(b + ax.stride_b, w1[k + l], l);
    }
  }
}

template <class T, class Policy>
PNPDIST_HOST_DEVICE void joseph_batch_interior(const SampleAxes3D& ax, const JosephRay3D& ray, index_t s0,
                                               Policy& policy) {
  int i0[joseph_batch], i1[joseph_batch];
  T w00[joseph_batch], w01[joseph_batch], w10[joseph_batch], w11[joseph_batch];
  const int first = static_cast<int>(s0);
  for (int k = 0; k < joseph_batch; ++k) {
    const float fs = static_cast<float>(first + k);
    const float q0 = ray.q0[0] + fs * ray.dq[0];
    const float q1 = ray.q0[1] + fs * ray.dq[1];
    const int j0 = static_cast<int>(q0), j1 = static_cast<int>(q1);
    const T f0 = static_cast<T>(q0 - static_cast<float>(j0)), f1 = static_cast<T>(q1 - static_cast<float>(j1));
    i0[k] = j0;
    i1[k] = j1;
    w00[k] = (T(1) - f0) * (T(1) - f1);
    w01[k] = (T(1) - f0) * f1;
    w10[k] = f0 * (T(1) - f1);
    w11[k] = f0 * f1;
  }
  index_t slice = s0 * ax.stride_a;
  for (int k = 0; k < joseph_batch; k += 4) {
    for (int l = 0; l < 4; ++l, slice += ax.stride_a) {
      const index_t b = slice + i0[k + l] * ax.stride_0 + i1[k + l] * ax.stride_1;
      policy(b, w00[k + l], l);
      policy(b + ax.stride_1, w01[k + l], l);
      policy(b + ax.stride_0, w10[k + l], l);
      policy(b + ax.stride_0 + ax.stride_1, w11[k + l], l);
    }
  }
}

/// Overloads picking the 2D or 3D sample function (joseph_traverse / joseph_sample_any are generic).
template <class T, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample(const SampleAxes2D& ax, const JosephRay2D& ray, index_t s, Policy& policy) {
  joseph_sample_2d<T>(ax, ray, s, policy);
}
template <class T, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample(const SampleAxes3D& ax, const JosephRay3D& ray, index_t s, Policy& policy) {
  joseph_sample_3d<T>(ax, ray, s, policy);
}
template <class T, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_interior(const SampleAxes2D& ax, const JosephRay2D& ray, index_t s,
                                                Policy& policy, int lane = 0) {
  joseph_sample_2d_interior<T>(ax, ray, s, policy, lane);
}
template <class T, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_interior(const SampleAxes3D& ax, const JosephRay3D& ray, index_t s,
                                                Policy& policy, int lane = 0) {
  joseph_sample_3d_interior<T>(ax, ray, s, policy, lane);
}

/// All samples of a ray, in order: the checked ends and the unchecked interior. Works on a local copy of
/// the policy (its partial sums stay in registers) and stores it back at the end.
template <class T, class Axes, class Ray, class Policy>
PNPDIST_HOST_DEVICE void joseph_traverse(const Axes& ax, const Ray& ray, Policy& result) {
  Policy policy = result;
  const index_t in_lo = ray.in_lo > ray.s_lo ? ray.in_lo : ray.s_lo;
  const index_t in_hi = ray.in_hi < ray.s_hi ? ray.in_hi : ray.s_hi;
  if (in_lo > in_hi) {
    for (index_t s = ray.s_lo; s <= ray.s_hi; ++s) joseph_sample<T>(ax, ray, s, policy);
    result = policy;
    return;
  }
  for (index_t s = ray.s_lo; s < in_lo; ++s) joseph_sample<T>(ax, ray, s, policy);
  // Batches of samples, then four at a time, each to its own lane of the policy (independent partial sums
  // for the gather).
  index_t s = in_lo;
  for (; s + joseph_batch - 1 <= in_hi; s += joseph_batch) joseph_batch_interior<T>(ax, ray, s, policy);
  for (; s + 3 <= in_hi; s += 4) {
    joseph_sample_interior<T>(ax, ray, s, policy, 0);
    joseph_sample_interior<T>(ax, ray, s + 1, policy, 1);
    joseph_sample_interior<T>(ax, ray, s + 2, policy, 2);
    joseph_sample_interior<T>(ax, ray, s + 3, policy, 3);
  }
  for (; s <= in_hi; ++s) joseph_sample_interior<T>(ax, ray, s, policy);
  for (index_t t = in_hi + 1; t <= ray.s_hi; ++t) joseph_sample<T>(ax, ray, t, policy);
  result = policy;
}

/// Sample s of a ray, checked or not as the interior range says (the same weights either way).
template <class T, class Axes, class Ray, class Policy>
PNPDIST_HOST_DEVICE void joseph_sample_any(const Axes& ax, const Ray& ray, index_t s, Policy& policy) {
  if (s >= ray.in_lo && s <= ray.in_hi)
    joseph_sample_interior<T>(ax, ray, s, policy);
  else
    joseph_sample<T>(ax, ray, s, policy);
}

/// out = in with the last two axes swapped (accumulate: out += ...), for `count` stacked (rows x cols)
/// matrices, by 32 x 32 tiles: one iteration per tile, each writing its own tile of `out`.
template <class T>
struct SwapLastAxes {
  const T* in;  ///< count x rows x cols
  T* out;       ///< count x cols x rows
  index_t rows, cols;
  bool accumulate;
  static constexpr index_t tile = 32;

  PNPDIST_HOST_DEVICE void operator()(index_t t) const {
    const index_t tiles_r = (rows + tile - 1) / tile, tiles_c = (cols + tile - 1) / tile;
    const index_t m = t / (tiles_r * tiles_c), tr = (t / tiles_c) % tiles_r, tc = t % tiles_c;
    const T* src = in + m * rows * cols;
    T* dst = out + m * rows * cols;
    const index_t r_end = (tr + 1) * tile < rows ? (tr + 1) * tile : rows;
    const index_t c_end = (tc + 1) * tile < cols ? (tc + 1) * tile : cols;
    for (index_t c = tc * tile; c < c_end; ++c)
      for (index_t r = tr * tile; r < r_end; ++r) {
        if (accumulate)
          dst[c * rows + r] += src[r * cols + c];
        else
          dst[c * rows + r] = src[r * cols + c];
      }
  }
  [[nodiscard]] index_t iterations(index_t count) const {
    return count * ((rows + tile - 1) / tile) * ((cols + tile - 1) / tile);
  }
};

/// Forward projection, one iteration per ray (view-major, then detector column): sinogram[i] = weight *
/// sum of the samples.
template <class T>
struct JosephForward2D {
  JosephGrid2D grid;
  const double* vectors;   ///< views x 6
  const T* image;          ///< (H, W)
  const T* image_swapped;  ///< the same image stored (W, H)
  T* sinogram;

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    const index_t view = i / grid.detector_cols, col = i % grid.detector_cols;
    const JosephRay2D ray = joseph_ray_2d(grid, vectors + 6 * view, col);
    const bool swapped = ray.axis == swapped_forward_axis(grid);
    const SampleAxes2D ax = sample_axes(grid, ray.axis, swapped);
    GatherPolicy<T> gather{swapped ? image_swapped : image, T(0)};
    joseph_traverse<T>(ax, ray, gather);
    sinogram[i] = gather.sum() * static_cast<T>(ray.weight);
  }
};

/// Forward projection of a 3D volume, one iteration per ray. Iterations go view by view and, in a view, by
/// bands of `band` detector rows, column by column inside a band: consecutive rays are neighbours in both
/// detector directions, so the voxels one ray reads are still in cache for the next ones.
template <class T>
struct JosephForward3D {
  static constexpr index_t band = 8;
  JosephGrid3D grid;
  const double* vectors;    ///< views x 12
  const T* volume;          ///< (D, H, W)
  const T* volume_swapped;  ///< the same volume stored (D, W, H)
  T* projections;

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    const index_t cols = grid.detector_cols;
    const index_t per_view = grid.detector_rows * cols;
    const index_t view = i / per_view, pixel = i % per_view;
    const index_t first_row = pixel / (band * cols) * band;
    const index_t height = grid.detector_rows - first_row < band ? grid.detector_rows - first_row : band;
    const index_t offset = pixel - first_row * cols;
    const index_t row = first_row + offset % height, col = offset / height;
    const JosephRay3D ray = joseph_ray_3d(grid, vectors + 12 * view, row, col);
    const bool swapped = ray.axis == swapped_forward_axis(grid);
    const SampleAxes3D ax = sample_axes(grid, ray.axis, swapped);
    GatherPolicy<T> gather{swapped ? volume_swapped : volume, T(0)};
    joseph_traverse<T>(ax, ray, gather);
    projections[view * per_view + row * cols + col] = gather.sum() * static_cast<T>(ray.weight);
  }
};

/// The ray of detector pixel `pixel` (row-major over the detector) of the view with vector `e`.
PNPDIST_HOST_DEVICE JosephRay2D joseph_pixel_ray(const JosephGrid2D& g, const double* views, index_t view,
                                                 index_t pixel) {
  return joseph_ray_2d(g, views + 6 * view, pixel);
}
PNPDIST_HOST_DEVICE JosephRay3D joseph_pixel_ray(const JosephGrid3D& g, const double* views, index_t view,
                                                 index_t pixel) {
  return joseph_ray_3d(g, views + 12 * view, pixel / g.detector_cols, pixel % g.detector_cols);
}

/// Back projection, step 1 for a block of consecutive views: the rays of the block's views and their
/// weighted projection values (one iteration per ray of the block).
template <class T, class Grid, class Ray>
struct JosephBlockRays {
  Grid grid;
  const double* vectors;  ///< all views
  const T* projections;   ///< the block's projections: views x pixels
  index_t first_view;
  index_t pixels;  ///< rays per view
  Ray* rays;

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    Ray ray = joseph_pixel_ray(grid, vectors, first_view + i / pixels, i % pixels);
    ray.value = static_cast<float>(projections[i] * static_cast<T>(ray.weight));
    rays[i] = ray;
  }
};

/// Where the samples of one dominant axis go: the image / volume in its own layout or in the swapped one.
template <class T>
struct SliceTarget {
  int axis;      ///< -1: none
  bool swapped;  ///< `data` is stored with the last two axes swapped
  T* data;
};

/// Back projection, step 2 for a block of views: one iteration per run of `slices_per_iteration`
/// consecutive slices of `first.axis` and of `second.axis` (interleaved, see operator()).
/// An iteration visits the views of the block in order and, in each, the rays in order whose dominant axis is
/// its axis, adding their samples in its slices: a slice is written by one iteration only, and every voxel
/// receives its terms in a fixed order (views, then rays), whatever the number of threads. Reading each ray
/// once for several slices keeps the ray buffer traffic low. The two targets must not overlap (x goes to the
/// swapped buffer, y or z to the image).
template <class T, class Grid, class Ray>
struct JosephBlockAdjoint {
  static constexpr index_t slices_per_iteration = joseph_batch;
  Grid grid;
  const Ray* rays;             ///< views x pixels
  const unsigned char* masks;  ///< per view of the block: bit a set when some ray has dominant axis a
  index_t views;
  index_t pixels;
  SliceTarget<T> first;
  SliceTarget<T> second;

  PNPDIST_HOST_DEVICE static index_t runs(index_t n) { return (n + slices_per_iteration - 1) / slices_per_iteration; }

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    // Iterations alternate between the two targets (run k of `first`, run k of `second`, ...) while both have
    // runs left, so that a contiguous share of the iterations holds work of both axes: the views of a block
    // often have rays of one dominant axis only.
    const index_t runs_first = runs(grid.n[first.axis]);
    const index_t runs_second = second.axis >= 0 ? runs(grid.n[second.axis]) : 0;
    const index_t common = runs_first < runs_second ? runs_first : runs_second;
    bool in_first;
    index_t run;
    if (i < 2 * common) {
      in_first = i % 2 == 0;
      run = i / 2;
    } else {
      in_first = runs_first > runs_second;
      run = i - common;
    }
    const SliceTarget<T>& target = in_first ? first : second;
    const int axis = target.axis;
    const index_t begin = run * slices_per_iteration;
    const index_t end = begin + slices_per_iteration < grid.n[axis] ? begin + slices_per_iteration : grid.n[axis];
    const auto ax = sample_axes(grid, axis, target.swapped);
    const unsigned char bit = static_cast<unsigned char>(1u << axis);
    for (index_t v = 0; v < views; ++v) {
      if (!(masks[v] & bit)) continue;
      const Ray* view_rays = rays + v * pixels;
      for (index_t r = 0; r < pixels; ++r) {
        const Ray& ray = view_rays[r];
        if (ray.axis != axis) continue;
        const index_t lo = ray.s_lo > begin ? ray.s_lo : begin;
        const index_t hi = ray.s_hi < end - 1 ? ray.s_hi : end - 1;
        ScatterPolicy<T> scatter{target.data, static_cast<T>(ray.value)};
        if (lo == begin && hi == begin + joseph_batch - 1 && lo >= ray.in_lo && hi <= ray.in_hi)
          joseph_batch_interior<T>(ax, ray, lo, scatter);  // the whole run inside: the same weights, batched
        else
          for (index_t s = lo; s <= hi; ++s) joseph_sample_any<T>(ax, ray, s, scatter);
      }
    }
  }
  /// Iterations of a launch.
  [[nodiscard]] index_t iterations() const {
    return runs(grid.n[first.axis]) + (second.axis >= 0 ? runs(grid.n[second.axis]) : 0);
  }
};

}  // namespace pnpdist::ct
