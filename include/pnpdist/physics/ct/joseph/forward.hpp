#pragma once
/// \file
/// Joseph forward projection: one iteration per group of rays of a view (8 detector columns in 2D, a patch
/// of 4 x 4 detector pixels in 3D). A full group whose rays share their dominant axis is sampled slice by
/// slice, all rays at once, inside the slices where every one of them samples its interior; all other samples
/// go ray by ray. Each ray's sum is taken in a fixed order, so the result has the same bits on every executor
/// and for any number of threads.

#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/ct/joseph/launch_cost.hpp"
#include "pnpdist/physics/ct/joseph/layout.hpp"
#include "pnpdist/physics/ct/joseph/loop_hints.hpp"
#include "pnpdist/physics/ct/joseph/rays.hpp"
#include "pnpdist/physics/ct/joseph/sampling.hpp"

namespace pnpdist::ct {

/// Rays per group of the forward projection: 8 adjacent detector columns (2D), a patch of 4 x 4 detector
/// pixels (3D).
inline constexpr int joseph_group_2d = 8;
inline constexpr int joseph_patch = 4;
inline constexpr int joseph_group_3d = joseph_patch * joseph_patch;

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
template <class T, class R>
PNPDIST_HOST_DEVICE void joseph_gather_group_2d(const T* data, index_t stride_a, const JosephRay2D<R>* rays, index_t lo,
                                                index_t hi, T* acc) {
  constexpr int G = joseph_group_2d;
  const auto pos = joseph_group_positions<G>(rays);
  T sum[G];
  for (int r = 0; r < G; ++r) sum[r] = T(0);
  for (index_t s = lo; s <= hi; ++s) {
    const T* slice = data + s * stride_a;
    const R fs = static_cast<R>(s);
    int index[G];
    T w0[G], w1[G], v0[G], v1[G];
    PNPDIST_JOSEPH_NO_UNROLL
    for (int r = 0; r < G; ++r) {
      const auto w = joseph_linear_weights<T>(pos.q0[r] + fs * pos.dq[r]);
      index[r] = w.i;
      w0[r] = w.w0;
      w1[r] = w.w1;
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
template <class T, class Offset = index_t, class R>
PNPDIST_HOST_DEVICE void joseph_gather_group_3d(const T* data, index_t stride_a, index_t stride_0,
                                                const JosephRay3D<R>* rays, index_t lo, index_t hi, T* acc) {
  constexpr int G = joseph_group_3d;
  const auto pos = joseph_group_positions<G>(rays);
  T sum[G];
  for (int r = 0; r < G; ++r) sum[r] = T(0);
  for (index_t s = lo; s <= hi; ++s) {
    const T* slice = data + s * stride_a;
    const R fs = static_cast<R>(s);
    Offset offset[G];
    T w00[G], w01[G], w10[G], w11[G], v00[G], v01[G], v10[G], v11[G];
    PNPDIST_JOSEPH_NO_UNROLL
    for (int r = 0; r < G; ++r) {
      const auto w = joseph_bilinear_weights<T>(pos.q0[r] + fs * pos.dq0[r], pos.q1[r] + fs * pos.dq1[r]);
      offset[r] = static_cast<Offset>(w.i0) * static_cast<Offset>(stride_0) + w.i1;
      w00[r] = w.w00;
      w01[r] = w.w01;
      w10[r] = w.w10;
      w11[r] = w.w11;
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

/// The slice-by-slice sums of a full group over the common interior [lo, hi] of its rays (lo <= hi): 2D by
/// joseph_gather_group_2d, 3D by joseph_gather_group_3d with 32-bit offsets where joseph_int_offsets allows.
template <class T, class R>
PNPDIST_HOST_DEVICE void joseph_gather_group(const JosephGrid2D&, const T* data, const SampleAxes2D& ax,
                                             const JosephRay2D<R>* rays, index_t lo, index_t hi, T* acc) {
  joseph_gather_group_2d<T>(data, ax.stride_a, rays, lo, hi, acc);
}
template <class T, class R>
PNPDIST_HOST_DEVICE void joseph_gather_group(const JosephGrid3D& grid, const T* data, const SampleAxes3D& ax,
                                             const JosephRay3D<R>* rays, index_t lo, index_t hi, T* acc) {
  if (joseph_int_offsets(grid))
    joseph_gather_group_3d<T, int>(data, ax.stride_a, ax.stride_0, rays, lo, hi, acc);
  else
    joseph_gather_group_3d<T, index_t>(data, ax.stride_a, ax.stride_0, rays, lo, hi, acc);
}

/// acc[r] = the sum of the samples of rays[r] (r < count), the rays of one group of a view; `full`: the group
/// has all its rays. A full group whose rays share their dominant axis is sampled slice by slice
/// (joseph_gather_group) inside the common interior of its rays and ray by ray outside it; any other group
/// ray by ray. Each ray reads `volume` in the layout where its slices are contiguous: `volume_swapped` (the
/// same volume with its last two axes swapped) where slice_layout_swapped says so, `volume` otherwise.
template <class T, class Grid, class Ray>
PNPDIST_HOST_DEVICE void joseph_gather_rays(const Grid& grid, const T* volume, const T* volume_swapped, const Ray* rays,
                                            int count, bool full, T* acc) {
  bool same_axis = true;
  for (int r = 0; r < count; ++r) {
    acc[r] = T(0);
    same_axis = same_axis && rays[r].axis == rays[0].axis;
  }
  if (full && same_axis) {
    const int axis = rays[0].axis;
    const bool swapped = slice_layout_swapped(grid, axis);
    const auto ax = sample_axes(grid, axis, swapped);
    const T* data = swapped ? volume_swapped : volume;
    index_t lo, hi;
    joseph_common_interior(rays, count, lo, hi);
    joseph_gather_outside<T>(ax, data, rays, count, lo, hi, acc);
    if (lo <= hi) joseph_gather_group<T>(grid, data, ax, rays, lo, hi, acc);
  } else {
    for (int r = 0; r < count; ++r) {
      const bool swapped = slice_layout_swapped(grid, rays[r].axis);
      joseph_gather_outside<T>(sample_axes(grid, rays[r].axis, swapped), swapped ? volume_swapped : volume, rays + r, 1,
                               0, -1, acc + r);
    }
  }
}

/// Forward projection, one iteration per group of joseph_group_2d consecutive detector columns of a view
/// (view-major): sinogram[i] = weight * sum of the samples (joseph_gather_rays).
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
    JosephRay2D<joseph_real_t<T>> rays[joseph_group_2d];
    for (int r = 0; r < count; ++r) rays[r] = joseph_ray_2d<joseph_real_t<T>>(grid, vectors + 6 * view, first + r);
    T acc[joseph_group_2d];
    joseph_gather_rays<T>(grid, image, image_swapped, rays, count, count == joseph_group_2d, acc);
    for (int r = 0; r < count; ++r) sinogram[view * cols + first + r] = acc[r] * static_cast<T>(rays[r].weight);
  }
};

/// Forward projection of a 3D volume, one iteration per patch of joseph_patch x joseph_patch detector pixels
/// of a view (view-major, then patch row, patch column): projections[i] = weight * sum of the samples
/// (joseph_gather_rays; the patches at the detector's edges are not full).
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
  /// The cost of a launch of n iterations (joseph/launch_cost.hpp): the taps of its views' rays.
  [[nodiscard]] LaunchCost launch_cost(index_t n) const {
    return joseph_forward_cost<T>(grid, vectors, n / iterations(1));
  }

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    const index_t rows = grid.detector_rows, cols = grid.detector_cols;
    const index_t patch_cols = patches(cols), per_view = patches(rows) * patch_cols;
    const index_t view = i / per_view, patch = i % per_view;
    const index_t row0 = patch / patch_cols * joseph_patch, col0 = patch % patch_cols * joseph_patch;
    const int height = static_cast<int>(rows - row0 < joseph_patch ? rows - row0 : joseph_patch);
    const int width = static_cast<int>(cols - col0 < joseph_patch ? cols - col0 : joseph_patch);
    const int count = height * width;
    JosephRay3D<joseph_real_t<T>> rays[joseph_group_3d];
    for (int r = 0; r < count; ++r)
      rays[r] = joseph_ray_3d<joseph_real_t<T>>(grid, vectors + 12 * view, row0 + r / width, col0 + r % width);
    T acc[joseph_group_3d];
    joseph_gather_rays<T>(grid, volume, volume_swapped, rays, count, count == joseph_group_3d, acc);
    T* out = projections + view * rows * cols;
    for (int r = 0; r < count; ++r)
      out[(row0 + r / width) * cols + col0 + r % width] = acc[r] * static_cast<T>(rays[r].weight);
  }
};

/// Ray-driven forward projection, the launch shape for a GPU: one iteration per ray (view-major, then detector
/// pixel, row-major), so a launch over all views exposes views x detector pixels threads. Each ray is summed
/// alone by joseph_gather_rays (joseph_traverse: the same weights, from joseph_sample_2d/3d, as every other
/// path), reading the layout where its slices are contiguous, so neighbouring threads (neighbouring detector
/// pixels) read neighbouring voxels of a slice. projections[i] = weight * the ray's sum: equal to
/// JosephForward2D/3D to round-off (the group loops sum the same terms in another order), deterministic.
template <class T, class Grid>
struct JosephForwardRays {
  Grid grid;
  const double* vectors;    ///< views x 6 (2D) or 12 (3D)
  const T* volume;          ///< row-major image / volume
  const T* volume_swapped;  ///< the same with its last two axes swapped; read for rays along x
  T* projections;           ///< views x detector pixels

  /// Iterations of a launch over `views` views.
  [[nodiscard]] index_t iterations(index_t views) const {
    return views * joseph_detector_rows(grid) * grid.detector_cols;
  }
  /// The cost of a launch of n iterations (joseph/launch_cost.hpp): the taps of its views' rays.
  [[nodiscard]] LaunchCost launch_cost(index_t n) const {
    return joseph_forward_cost<T>(grid, vectors, n / iterations(1));
  }

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    const index_t pixels = joseph_detector_rows(grid) * grid.detector_cols;
    const auto ray = joseph_pixel_ray<joseph_real_t<T>>(grid, vectors, i / pixels, i % pixels);
    T acc[1];
    joseph_gather_rays<T>(grid, volume, volume_swapped, &ray, 1, false, acc);
    projections[i] = acc[0] * static_cast<T>(ray.weight);
  }
};

}  // namespace pnpdist::ct
