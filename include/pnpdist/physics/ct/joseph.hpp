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
/// Parallelism. The forward projection runs one iteration per group of rays of a view (8 detector columns in
/// 2D, 4 x 4 detector pixels in 3D), sampled slice by slice together where they all lie inside the grid
/// (each ray's sum in a fixed order). The back projection runs, for each block
/// of views and each axis, one iteration per run of consecutive slices of that axis, which visits every ray
/// of the block whose dominant axis it is: a sample of slice s only touches voxels of slice s, so no two
/// iterations write the same voxel and no atomics are needed. Each voxel accumulates its terms in an order
/// fixed by the geometry (blocks, axes, views, groups of rays), so the result has the same bits for any
/// number of threads.

#include <cmath>
#include <cstddef>

#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

/// Full unrolling of a short loop of constant trip count (its iterations become independent scalar code).
#if defined(__CUDA_ARCH__)
#define PNPDIST_JOSEPH_UNROLL _Pragma("unroll")
#elif defined(__CUDACC__)
#define PNPDIST_JOSEPH_UNROLL
#elif defined(__clang__)
#define PNPDIST_JOSEPH_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define PNPDIST_JOSEPH_UNROLL _Pragma("GCC unroll 16")
#else
#define PNPDIST_JOSEPH_UNROLL
#endif
/// A hint to fetch the cache line of an address that will be read soon (host compilers only).
#if defined(__GNUC__) && !defined(__CUDACC__)
#define PNPDIST_JOSEPH_PREFETCH(address) __builtin_prefetch(address)
#else
#define PNPDIST_JOSEPH_PREFETCH(address)
#endif
/// A short loop kept as a loop (so that the loop vectorizer, which runs after complete unrolling, sees it).
#if defined(__CUDA_ARCH__)
#define PNPDIST_JOSEPH_NO_UNROLL _Pragma("unroll 1")
#elif defined(__CUDACC__)
#define PNPDIST_JOSEPH_NO_UNROLL
#elif defined(__clang__)
#define PNPDIST_JOSEPH_NO_UNROLL _Pragma("clang loop unroll(disable)")
#elif defined(__GNUC__)
#define PNPDIST_JOSEPH_NO_UNROLL _Pragma("GCC unroll 1")
#else
#define PNPDIST_JOSEPH_NO_UNROLL
#endif

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
/// traversal walks memory with small strides: the forward projection of rays whose dominant axis is x reads
/// a swapped copy and their back projection accumulates into a swapped buffer, so that each slice of the
/// dominant axis is contiguous (slice_layout_swapped).
PNPDIST_HOST_DEVICE index_t axis_stride(const JosephGrid2D& g, int axis, bool swapped) {
  if (swapped) return axis == 0 ? 1 : g.n[0];
  return axis == 0 ? g.n[1] : 1;
}
PNPDIST_HOST_DEVICE index_t axis_stride(const JosephGrid3D& g, int axis, bool swapped) {
  if (axis == 0) return g.n[1] * g.n[2];
  if (swapped) return axis == 1 ? 1 : g.n[1];
  return axis == 1 ? g.n[2] : 1;
}

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

/// The layout in which the slices of a dominant axis are contiguous (stride 1 along the last other axis):
/// the swapped one for rays along x, the volume's own for the others. The forward projection of a group of
/// rays and the back projection both walk the volume slice by slice in this layout.
PNPDIST_HOST_DEVICE constexpr bool slice_layout_swapped(const JosephGrid2D&, int axis) { return axis == 1; }
PNPDIST_HOST_DEVICE constexpr bool slice_layout_swapped(const JosephGrid3D&, int axis) { return axis == 2; }

/// Rays per group of the forward projection: 8 adjacent detector columns (2D), a patch of 4 x 4 detector
/// pixels (3D).
inline constexpr int joseph_group_2d = 8;
inline constexpr int joseph_patch = 4;
inline constexpr int joseph_group_3d = joseph_patch * joseph_patch;
/// Whether every pixel / voxel offset fits an int (the groups then compute offsets in 32 bits).
PNPDIST_HOST_DEVICE bool joseph_int_offsets(const JosephGrid2D& g) { return g.n[0] * g.n[1] < (index_t{1} << 31) - 1; }
PNPDIST_HOST_DEVICE bool joseph_int_offsets(const JosephGrid3D& g) {
  return g.n[0] * g.n[1] * g.n[2] < (index_t{1} << 31) - 1;
}

/// How many slices ahead a group prefetches.
inline constexpr index_t joseph_prefetch_slices = 12;

/// The samples of rays[0 .. count-1] outside the group's common interior [lo, hi] (all samples, by
/// joseph_traverse, when lo > hi), checked or not as each ray's interior range says: acc[r] += their sum.
template <class T, class Axes, class Ray>
PNPDIST_HOST_DEVICE void joseph_gather_outside(const Axes& ax, const T* data, const Ray* rays, int count, index_t lo,
                                               index_t hi, T* acc) {
  for (int r = 0; r < count; ++r) {
    const Ray& ray = rays[r];
    GatherPolicy<T> gather{data};
    if (lo > hi) {
      joseph_traverse<T>(ax, ray, gather);
    } else {
      const index_t below = ray.s_hi < lo - 1 ? ray.s_hi : lo - 1;
      for (index_t s = ray.s_lo; s <= below; ++s) joseph_sample_any<T>(ax, ray, s, gather);
      const index_t above = ray.s_lo > hi + 1 ? ray.s_lo : hi + 1;
      for (index_t s = above; s <= ray.s_hi; ++s) joseph_sample_any<T>(ax, ray, s, gather);
    }
    acc[r] += gather.sum();
  }
}

/// The slices [lo, hi] where every ray of the group samples its interior (empty: lo > hi).
template <class Ray>
PNPDIST_HOST_DEVICE void joseph_common_interior(const Ray* rays, int count, index_t& lo, index_t& hi) {
  lo = 0;
  hi = -1;
  for (int r = 0; r < count; ++r) {
    const index_t a = rays[r].in_lo > rays[r].s_lo ? rays[r].in_lo : rays[r].s_lo;
    const index_t b = rays[r].in_hi < rays[r].s_hi ? rays[r].in_hi : rays[r].s_hi;
    if (r == 0 || a > lo) lo = a;
    if (r == 0 || b < hi) hi = b;
  }
}

/// The interior samples s in [lo, hi] of a group of joseph_group_2d rays of one dominant axis, in the slice
/// layout (stride 1 along the other axis): slice by slice, all rays at once (one loop over the rays that the
/// compiler vectorizes; the rays' samples in a slice lie close together, so they share cache lines). The
/// positions and weights are those of joseph_sample_2d_interior.
template <class T>
PNPDIST_HOST_DEVICE void joseph_gather_group_2d(const T* data, index_t stride_a, const JosephRay2D* rays, index_t lo,
                                                index_t hi, T* acc) {
  constexpr int G = joseph_group_2d;
  float q0[G], dq[G];
  T sum[G];
  for (int r = 0; r < G; ++r) {
    q0[r] = rays[r].q0;
    dq[r] = rays[r].dq;
    sum[r] = T(0);
  }
  for (index_t s = lo; s <= hi; ++s) {
    const T* slice = data + s * stride_a;
    const float fs = static_cast<float>(s);
    int index[G];
    T w0[G], w1[G], v0[G], v1[G];
    PNPDIST_JOSEPH_NO_UNROLL
    for (int r = 0; r < G; ++r) {
      const float q = q0[r] + fs * dq[r];
      const int i = static_cast<int>(q);  // q > 0: truncation is floor
      const T f = static_cast<T>(q - static_cast<float>(i));
      index[r] = i;
      w0[r] = T(1) - f;
      w1[r] = f;
    }
    // The slice joseph_prefetch_slices ahead (about the same window), then plain loads (a vector gather is
    // slower here) and the weighted sums as one vector operation.
    if (s + joseph_prefetch_slices <= hi) {
      PNPDIST_JOSEPH_PREFETCH(slice + joseph_prefetch_slices * stride_a + index[0]);
      PNPDIST_JOSEPH_PREFETCH(slice + joseph_prefetch_slices * stride_a + index[G - 1]);
    }
    PNPDIST_JOSEPH_UNROLL
    for (int r = 0; r < G; ++r) {
      const T* v = slice + index[r];
      v0[r] = v[0];
      v1[r] = v[1];
    }
    PNPDIST_JOSEPH_NO_UNROLL
    for (int r = 0; r < G; ++r) sum[r] += w0[r] * v0[r] + w1[r] * v1[r];
  }
  for (int r = 0; r < G; ++r) acc[r] += sum[r];
}

/// The same for a group of joseph_group_3d rays (bilinear; stride_0 the stride of the first other axis, the
/// second has stride 1); the weights of joseph_sample_3d_interior. Offsets within a slice are computed in
/// `Offset`: int (cheaper vector arithmetic) when joseph_int_offsets says the volume allows it.
template <class T, class Offset = index_t>
PNPDIST_HOST_DEVICE void joseph_gather_group_3d(const T* data, index_t stride_a, index_t stride_0,
                                                const JosephRay3D* rays, index_t lo, index_t hi, T* acc) {
  constexpr int G = joseph_group_3d;
  float q0[G], q1[G], dq0[G], dq1[G];
  T sum[G];
  for (int r = 0; r < G; ++r) {
    q0[r] = rays[r].q0[0];
    q1[r] = rays[r].q0[1];
    dq0[r] = rays[r].dq[0];
    dq1[r] = rays[r].dq[1];
    sum[r] = T(0);
  }
  for (index_t s = lo; s <= hi; ++s) {
    const T* slice = data + s * stride_a;
    const float fs = static_cast<float>(s);
    Offset offset[G];
    T w00[G], w01[G], w10[G], w11[G], v00[G], v01[G], v10[G], v11[G];
    PNPDIST_JOSEPH_NO_UNROLL
    for (int r = 0; r < G; ++r) {
      const float p0 = q0[r] + fs * dq0[r];
      const float p1 = q1[r] + fs * dq1[r];
      const int j0 = static_cast<int>(p0), j1 = static_cast<int>(p1);
      const T f0 = static_cast<T>(p0 - static_cast<float>(j0)), f1 = static_cast<T>(p1 - static_cast<float>(j1));
      offset[r] = static_cast<Offset>(j0) * static_cast<Offset>(stride_0) + j1;
      w00[r] = (T(1) - f0) * (T(1) - f1);
      w01[r] = (T(1) - f0) * f1;
      w10[r] = f0 * (T(1) - f1);
      w11[r] = f0 * f1;
    }
    // Prefetch the rows of the patch joseph_prefetch_slices ahead, then plain loads and vector sums.
    if (s + joseph_prefetch_slices <= hi) {
      const T* ahead = slice + joseph_prefetch_slices * stride_a;
      PNPDIST_JOSEPH_UNROLL
      for (int k = 0; k < joseph_patch; ++k) PNPDIST_JOSEPH_PREFETCH(ahead + offset[k * joseph_patch]);
      PNPDIST_JOSEPH_PREFETCH(ahead + offset[G - joseph_patch] + stride_0);
    }
    PNPDIST_JOSEPH_UNROLL
    for (int r = 0; r < G; ++r) {
      const T* v = slice + offset[r];
      v00[r] = v[0];
      v01[r] = v[1];
      v10[r] = v[stride_0];
      v11[r] = v[stride_0 + 1];
    }
    PNPDIST_JOSEPH_NO_UNROLL
    for (int r = 0; r < G; ++r) sum[r] += w00[r] * v00[r] + w01[r] * v01[r] + w10[r] * v10[r] + w11[r] * v11[r];
  }
  for (int r = 0; r < G; ++r) acc[r] += sum[r];
}

/// Forward projection, one iteration per group of joseph_group_2d consecutive detector columns of a view
/// (view-major): sinogram[i] = weight * sum of the samples. A full group whose rays share their dominant
/// axis is sampled slice by slice (joseph_gather_group_2d) inside the common interior of its rays, ray by
/// ray outside it; other groups ray by ray. Each ray's sum is taken in a fixed order.
template <class T>
struct JosephForward2D {
  JosephGrid2D grid;
  const double* vectors;   ///< views x 6
  const T* image;          ///< (H, W)
  const T* image_swapped;  ///< the same image stored (W, H); read for rays along x
  T* sinogram;

  PNPDIST_HOST_DEVICE static index_t groups(index_t cols) { return (cols + joseph_group_2d - 1) / joseph_group_2d; }
  /// Iterations of a launch over `views` views.
  [[nodiscard]] index_t iterations(index_t views) const { return views * groups(grid.detector_cols); }

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    const index_t cols = grid.detector_cols, per_view = groups(cols);
    const index_t view = i / per_view, first = (i % per_view) * joseph_group_2d;
    const int count = static_cast<int>(cols - first < joseph_group_2d ? cols - first : joseph_group_2d);
    JosephRay2D rays[joseph_group_2d];
    T acc[joseph_group_2d];
    bool same_axis = true;
    for (int r = 0; r < count; ++r) {
      rays[r] = joseph_ray_2d(grid, vectors + 6 * view, first + r);
      acc[r] = T(0);
      same_axis = same_axis && rays[r].axis == rays[0].axis;
    }
    if (count == joseph_group_2d && same_axis) {
      const int axis = rays[0].axis;
      const bool swapped = slice_layout_swapped(grid, axis);
      const SampleAxes2D ax = sample_axes(grid, axis, swapped);
      const T* data = swapped ? image_swapped : image;
      index_t lo, hi;
      joseph_common_interior(rays, count, lo, hi);
      joseph_gather_outside<T>(ax, data, rays, count, lo, hi, acc);
      if (lo <= hi) joseph_gather_group_2d<T>(data, ax.stride_a, rays, lo, hi, acc);
    } else {
      for (int r = 0; r < count; ++r) {
        const bool swapped = slice_layout_swapped(grid, rays[r].axis);
        joseph_gather_outside<T>(sample_axes(grid, rays[r].axis, swapped), swapped ? image_swapped : image, rays + r, 1,
                                 0, -1, acc + r);
      }
    }
    for (int r = 0; r < count; ++r) sinogram[view * cols + first + r] = acc[r] * static_cast<T>(rays[r].weight);
  }
};

/// Forward projection of a 3D volume, one iteration per patch of joseph_patch x joseph_patch detector pixels
/// of a view (view-major, then patch row, patch column): a full patch whose rays share their dominant axis
/// is sampled slice by slice (joseph_gather_group_3d) inside the common interior of its rays, ray by ray
/// outside it; other patches (at the detector's edges, or mixing axes) ray by ray.
template <class T>
struct JosephForward3D {
  JosephGrid3D grid;
  const double* vectors;    ///< views x 12
  const T* volume;          ///< (D, H, W)
  const T* volume_swapped;  ///< the same volume stored (D, W, H); read for rays along x
  T* projections;

  PNPDIST_HOST_DEVICE static index_t patches(index_t n) { return (n + joseph_patch - 1) / joseph_patch; }
  /// Iterations of a launch over `views` views.
  [[nodiscard]] index_t iterations(index_t views) const {
    return views * patches(grid.detector_rows) * patches(grid.detector_cols);
  }

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    const index_t rows = grid.detector_rows, cols = grid.detector_cols;
    const index_t patch_cols = patches(cols), per_view = patches(rows) * patch_cols;
    const index_t view = i / per_view, patch = i % per_view;
    const index_t row0 = patch / patch_cols * joseph_patch, col0 = patch % patch_cols * joseph_patch;
    const int height = static_cast<int>(rows - row0 < joseph_patch ? rows - row0 : joseph_patch);
    const int width = static_cast<int>(cols - col0 < joseph_patch ? cols - col0 : joseph_patch);
    const int count = height * width;
    JosephRay3D rays[joseph_group_3d];
    T acc[joseph_group_3d];
    bool same_axis = true;
    for (int r = 0; r < count; ++r) {
      rays[r] = joseph_ray_3d(grid, vectors + 12 * view, row0 + r / width, col0 + r % width);
      acc[r] = T(0);
      same_axis = same_axis && rays[r].axis == rays[0].axis;
    }
    if (count == joseph_group_3d && same_axis) {
      const int axis = rays[0].axis;
      const bool swapped = slice_layout_swapped(grid, axis);
      const SampleAxes3D ax = sample_axes(grid, axis, swapped);
      const T* data = swapped ? volume_swapped : volume;
      index_t lo, hi;
      joseph_common_interior(rays, count, lo, hi);
      joseph_gather_outside<T>(ax, data, rays, count, lo, hi, acc);
      if (lo <= hi && joseph_int_offsets(grid))
        joseph_gather_group_3d<T, int>(data, ax.stride_a, ax.stride_0, rays, lo, hi, acc);
      else if (lo <= hi)
        joseph_gather_group_3d<T, index_t>(data, ax.stride_a, ax.stride_0, rays, lo, hi, acc);
    } else {
      for (int r = 0; r < count; ++r) {
        const bool swapped = slice_layout_swapped(grid, rays[r].axis);
        joseph_gather_outside<T>(sample_axes(grid, rays[r].axis, swapped), swapped ? volume_swapped : volume, rays + r,
                                 1, 0, -1, acc + r);
      }
    }
    T* out = projections + view * rows * cols;
    for (int r = 0; r < count; ++r)
      out[(row0 + r / width) * cols + col0 + r % width] = acc[r] * static_cast<T>(rays[r].weight);
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

/// Rays per group of the back projection (consecutive rays of a view: detector columns in 2D, pixels in
/// row-major detector order in 3D).
inline constexpr int joseph_scatter_rays = 8;

/// The back projection of the interior samples s in [lo, hi] of a group of joseph_scatter_rays rays of one
/// dominant axis, in the slice layout (stride 1 along the last other axis): slice by slice, the positions
/// and weighted values of all rays at once (a loop the compiler vectorizes; the expressions of
/// joseph_sample_2d/3d_interior and ScatterPolicy), then the additions: one pass over the rays (in order)
/// per interpolation neighbour. The order of the terms a voxel receives is fixed by the geometry.
template <class T, class Offset = index_t>
PNPDIST_HOST_DEVICE void joseph_scatter_group(T* data, const SampleAxes2D& ax, const JosephRay2D* rays, index_t lo,
                                              index_t hi, int /*prefetch_row: 3D only*/ = 0) {
  constexpr int G = joseph_scatter_rays;
  float q0[G], dq[G];
  T value[G];
  for (int r = 0; r < G; ++r) {
    q0[r] = rays[r].q0;
    dq[r] = rays[r].dq;
    value[r] = static_cast<T>(rays[r].value);
  }
  for (index_t s = lo; s <= hi; ++s) {
    T* slice = data + s * ax.stride_a;
    const float fs = static_cast<float>(s);
    Offset index[G];
    T a0[G], a1[G];
    PNPDIST_JOSEPH_NO_UNROLL
    for (int r = 0; r < G; ++r) {
      const float q = q0[r] + fs * dq[r];
      const int i = static_cast<int>(q);  // q > 0: truncation is floor
      const T f = static_cast<T>(q - static_cast<float>(i));
      index[r] = i;
      a0[r] = (T(1) - f) * value[r];
      a1[r] = f * value[r];
    }
    // One pass per interpolation neighbour: neighbouring rays then rarely write the same voxel back to back
    // (a store followed by an overlapping load stalls).
    PNPDIST_JOSEPH_UNROLL
    for (int r = 0; r < G; ++r) slice[index[r]] += a0[r];
    PNPDIST_JOSEPH_UNROLL
    for (int r = 0; r < G; ++r) slice[index[r] + 1] += a1[r];
  }
}

/// 3D: `prefetch_row` (in rows of the first other axis, relative to the group's first ray) names the row
/// that the next detector row's groups will reach first; each slice prefetches it at the group's position.
/// In a detector row sweep every slice of the run gains a new voxel row per detector row, and without the
/// hint those rows arrive from the last-level cache on demand (256^3 cone beam: about 25% of the time).
template <class T, class Offset = index_t>
PNPDIST_HOST_DEVICE void joseph_scatter_group(T* data, const SampleAxes3D& ax, const JosephRay3D* rays, index_t lo,
                                              index_t hi, int prefetch_row = 2) {
  constexpr int G = joseph_scatter_rays;
  float q0[G], q1[G], dq0[G], dq1[G];
  T value[G];
  for (int r = 0; r < G; ++r) {
    q0[r] = rays[r].q0[0];
    q1[r] = rays[r].q0[1];
    dq0[r] = rays[r].dq[0];
    dq1[r] = rays[r].dq[1];
    value[r] = static_cast<T>(rays[r].value);
  }
  const index_t stride_0 = ax.stride_0;
  for (index_t s = lo; s <= hi; ++s) {
    T* slice = data + s * ax.stride_a;
    const float fs = static_cast<float>(s);
    Offset offset[G];
    T a00[G], a01[G], a10[G], a11[G];
    PNPDIST_JOSEPH_NO_UNROLL
    for (int r = 0; r < G; ++r) {
      const float p0 = q0[r] + fs * dq0[r];
      const float p1 = q1[r] + fs * dq1[r];
      const int j0 = static_cast<int>(p0), j1 = static_cast<int>(p1);
      const T f0 = static_cast<T>(p0 - static_cast<float>(j0)), f1 = static_cast<T>(p1 - static_cast<float>(j1));
      offset[r] = static_cast<Offset>(j0) * static_cast<Offset>(stride_0) + j1;
      a00[r] = (T(1) - f0) * (T(1) - f1) * value[r];
      a01[r] = (T(1) - f0) * f1 * value[r];
      a10[r] = f0 * (T(1) - f1) * value[r];
      a11[r] = f0 * f1 * value[r];
    }
    const int ahead = static_cast<int>(q0[0] + fs * dq0[0]) + prefetch_row;
    if (ahead >= 0 && ahead < ax.n_0) PNPDIST_JOSEPH_PREFETCH(slice + offset[0] + prefetch_row * stride_0);
    PNPDIST_JOSEPH_UNROLL
    for (int r = 0; r < G; ++r) slice[offset[r]] += a00[r];
    PNPDIST_JOSEPH_UNROLL
    for (int r = 0; r < G; ++r) slice[offset[r] + 1] += a01[r];
    PNPDIST_JOSEPH_UNROLL
    for (int r = 0; r < G; ++r) slice[offset[r] + stride_0] += a10[r];
    PNPDIST_JOSEPH_UNROLL
    for (int r = 0; r < G; ++r) slice[offset[r] + stride_0 + 1] += a11[r];
  }
}

/// The prefetch_row of joseph_scatter_group for the rays of one view of dominant axis `axis`: +2 when the
/// next detector row lies at larger indices of the first other axis (at the centre of the detector and of the
/// axis), -1 when at smaller ones. 2D: 0 (unused).
PNPDIST_HOST_DEVICE int joseph_prefetch_row(const JosephGrid2D&, const JosephRay2D*, int) { return 0; }
PNPDIST_HOST_DEVICE int joseph_prefetch_row(const JosephGrid3D& g, const JosephRay3D* view_rays, int axis) {
  if (g.detector_rows < 2) return 2;
  const index_t centre = (g.detector_rows / 2 - 1) * g.detector_cols + g.detector_cols / 2;
  const JosephRay3D& here = view_rays[centre];
  const JosephRay3D& next = view_rays[centre + g.detector_cols];
  if (here.axis != axis || next.axis != axis) return 2;
  const float middle = 0.5f * static_cast<float>(g.n[axis] - 1);
  const float step = (next.q0[0] + middle * next.dq[0]) - (here.q0[0] + middle * here.dq[0]);
  return step < 0 ? -1 : 2;
}

/// Slices of one iteration of the back projection (JosephBlockAdjoint): a multiple of joseph_batch, up to 4
/// batches, as long as every thread still gets at least 4 iterations per target (for n slices along an axis
/// and `threads` threads). Each iteration reads the rays of its block once, so longer runs mean less ray
/// traffic (256^3 cone beam, 2 threads: 6-25% faster with 32 slices than with 8); the result does not
/// depend on it (each slice is still written by one iteration, in the same ray order).
PNPDIST_HOST_DEVICE index_t joseph_run_slices(index_t n, index_t threads) {
  index_t batches = n / (joseph_batch * 4 * (threads > 0 ? threads : 1));
  batches = batches < 1 ? 1 : (batches > 4 ? 4 : batches);
  return batches * joseph_batch;
}

/// Back projection, step 2 for a block of views: one iteration per run of `run_slices`
/// consecutive slices of `first.axis` and of `second.axis` (interleaved, see operator()).
/// An iteration visits the views of the block in order and, in each, the rays in order whose dominant axis is
/// its axis, adding their samples in its slices: a slice is written by one iteration only, and every voxel
/// receives its terms in an order fixed by the geometry (views, then groups of joseph_scatter_rays rays),
/// whatever the number of threads. Reading each ray
/// once for several slices keeps the ray buffer traffic low. The two targets must not overlap (x goes to the
/// swapped buffer, y or z to the image).
template <class T, class Grid, class Ray>
struct JosephBlockAdjoint {
  Grid grid;
  const Ray* rays;             ///< views x pixels
  const unsigned char* masks;  ///< per view of the block: bit a set when some ray has dominant axis a
  index_t views;
  index_t pixels;
  SliceTarget<T> first;
  SliceTarget<T> second;
  index_t run_slices = joseph_batch;  ///< slices per iteration, a multiple of joseph_batch (joseph_run_slices)

  PNPDIST_HOST_DEVICE index_t runs(index_t n) const { return (n + run_slices - 1) / run_slices; }

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
    const index_t begin = run * run_slices;
    const index_t end = begin + run_slices < grid.n[axis] ? begin + run_slices : grid.n[axis];
    const auto ax = sample_axes(grid, axis, target.swapped);
    const unsigned char bit = static_cast<unsigned char>(1u << axis);
    for (index_t v = 0; v < views; ++v) {
      if (!(masks[v] & bit)) continue;
      const Ray* view_rays = rays + v * pixels;
      const int prefetch_row = joseph_prefetch_row(grid, view_rays, axis);
      index_t r = 0;
      // Groups of consecutive rays: where all rays of the group sample their interior in every slice of the
      // run (or else of a batch of joseph_batch slices), slice by slice, all rays at once
      // (joseph_scatter_group); otherwise ray by ray. Each voxel still receives its terms in ray order.
      for (; r + joseph_scatter_rays <= pixels; r += joseph_scatter_rays) {
        const Ray* group = view_rays + r;
        if (group_inside(group, axis, begin, end)) {
          scatter_group(ax, group, target.data, begin, end, prefetch_row);
          continue;
        }
        for (index_t b = begin; b < end; b += joseph_batch) {
          const index_t e = b + joseph_batch < end ? b + joseph_batch : end;
          if (group_inside(group, axis, b, e))
            scatter_group(ax, group, target.data, b, e, prefetch_row);
          else
            for (int k = 0; k < joseph_scatter_rays; ++k) scatter_ray(axis, ax, group[k], target.data, b, e);
        }
      }
      for (; r < pixels; ++r)
        for (index_t b = begin; b < end; b += joseph_batch)
          scatter_ray(axis, ax, view_rays[r], target.data, b, b + joseph_batch < end ? b + joseph_batch : end);
    }
  }

  /// Whether every ray of a group has dominant axis `axis` and samples its interior in the slices [begin, end).
  PNPDIST_HOST_DEVICE static bool group_inside(const Ray* group, int axis, index_t begin, index_t end) {
    bool inside = true;
    for (int k = 0; k < joseph_scatter_rays; ++k) {
      const Ray& ray = group[k];
      inside = inside && ray.axis == axis && ray.s_lo <= begin && ray.in_lo <= begin && ray.s_hi >= end - 1 &&
               ray.in_hi >= end - 1;
    }
    return inside;
  }
  /// joseph_scatter_group over the slices [begin, end), with 32-bit offsets where the grid allows them.
  template <class Axes>
  PNPDIST_HOST_DEVICE void scatter_group(const Axes& ax, const Ray* group, T* data, index_t begin, index_t end,
                                         int prefetch_row) const {
    if (joseph_int_offsets(grid))
      joseph_scatter_group<T, int>(data, ax, group, begin, end - 1, prefetch_row);
    else
      joseph_scatter_group<T, index_t>(data, ax, group, begin, end - 1, prefetch_row);
  }
  /// The samples of one ray in the slices [begin, end) of `axis`.
  template <class Axes>
  PNPDIST_HOST_DEVICE static void scatter_ray(int axis, const Axes& ax, const Ray& ray, T* data, index_t begin,
                                              index_t end) {
    if (ray.axis != axis) return;
    const index_t lo = ray.s_lo > begin ? ray.s_lo : begin;
    const index_t hi = ray.s_hi < end - 1 ? ray.s_hi : end - 1;
    ScatterPolicy<T> scatter{data, static_cast<T>(ray.value)};
    if (lo == begin && hi == begin + joseph_batch - 1 && lo >= ray.in_lo && hi <= ray.in_hi)
      joseph_batch_interior<T>(ax, ray, lo, scatter);  // the whole run inside: the same weights, batched
    else
      for (index_t s = lo; s <= hi; ++s) joseph_sample_any<T>(ax, ray, s, scatter);
  }
  /// Iterations of a launch.
  [[nodiscard]] index_t iterations() const {
    return runs(grid.n[first.axis]) + (second.axis >= 0 ? runs(grid.n[second.axis]) : 0);
  }
};

}  // namespace pnpdist::ct
