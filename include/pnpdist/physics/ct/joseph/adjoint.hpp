#pragma once
/// \file
/// Joseph back projection, the exact transpose of forward.hpp (the weights of sampling.hpp): for each block
/// of views, the rays of the block (JosephBlockRays), then one iteration per run of consecutive slices of a
/// dominant axis (JosephBlockAdjoint). A sample of slice s writes only voxels of slice s, so no two
/// iterations write the same voxel and no atomics are needed; every voxel receives its terms in an order
/// fixed by the geometry, so the result has the same bits for any number of threads.

#include "pnpdist/backend/launch_cost.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/ct/joseph/layout.hpp"
#include "pnpdist/physics/ct/joseph/loop_hints.hpp"
#include "pnpdist/physics/ct/joseph/rays.hpp"
#include "pnpdist/physics/ct/joseph/sampling.hpp"

namespace pnpdist::ct {

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
    using R = typename Ray::real_type;
    Ray ray = joseph_pixel_ray<R>(grid, vectors, first_view + i / pixels, i % pixels);
    ray.value = static_cast<R>(projections[i] * static_cast<T>(ray.weight));
    rays[i] = ray;
  }

  /// n rays set up (the samples), the block's n projection values and the view vectors read, n rays
  /// written.
  [[nodiscard]] LaunchCost launch_cost(index_t n) const {
    constexpr index_t columns = sizeof(Grid::n) / sizeof(Grid::n[0]) == 2 ? 6 : 12;
    return LaunchCost{bytes_of<T>(n) + bytes_of<double>((n + pixels - 1) / pixels * columns), bytes_of<Ray>(n),
                      static_cast<std::uint64_t>(n)};
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
template <class T, class Offset = index_t, class R>
PNPDIST_HOST_DEVICE void joseph_scatter_group(T* data, const SampleAxes2D& ax, const JosephRay2D<R>* rays, index_t lo,
                                              index_t hi, int /*prefetch_row: 3D only*/ = 0) {
  constexpr int G = joseph_scatter_rays;
  const auto pos = joseph_group_positions<G>(rays);
  T value[G];
  for (int r = 0; r < G; ++r) value[r] = static_cast<T>(rays[r].value);
  for (index_t s = lo; s <= hi; ++s) {
    T* slice = data + s * ax.stride_a;
    const R fs = static_cast<R>(s);
    Offset index[G];
    T a0[G], a1[G];
    PNPDIST_JOSEPH_NO_UNROLL
    for (int r = 0; r < G; ++r) {
      const auto w = joseph_linear_weights<T>(pos.q0[r] + fs * pos.dq[r]);
      index[r] = w.i;
      a0[r] = w.w0 * value[r];
      a1[r] = w.w1 * value[r];
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
template <class T, class Offset = index_t, class R>
PNPDIST_HOST_DEVICE void joseph_scatter_group(T* data, const SampleAxes3D& ax, const JosephRay3D<R>* rays, index_t lo,
                                              index_t hi, int prefetch_row = 2) {
  constexpr int G = joseph_scatter_rays;
  const auto pos = joseph_group_positions<G>(rays);
  T value[G];
  for (int r = 0; r < G; ++r) value[r] = static_cast<T>(rays[r].value);
  const index_t stride_0 = ax.stride_0;
  for (index_t s = lo; s <= hi; ++s) {
    T* slice = data + s * ax.stride_a;
    const R fs = static_cast<R>(s);
    Offset offset[G];
    T a00[G], a01[G], a10[G], a11[G];
    PNPDIST_JOSEPH_NO_UNROLL
    for (int r = 0; r < G; ++r) {
      const auto w = joseph_bilinear_weights<T>(pos.q0[r] + fs * pos.dq0[r], pos.q1[r] + fs * pos.dq1[r]);
      offset[r] = static_cast<Offset>(w.i0) * static_cast<Offset>(stride_0) + w.i1;
      a00[r] = w.w00 * value[r];
      a01[r] = w.w01 * value[r];
      a10[r] = w.w10 * value[r];
      a11[r] = w.w11 * value[r];
    }
    const int ahead = static_cast<int>(pos.q0[0] + fs * pos.dq0[0]) + prefetch_row;
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
template <class R>
PNPDIST_HOST_DEVICE int joseph_prefetch_row(const JosephGrid2D&, const JosephRay2D<R>*, int) {
  return 0;
}
template <class R>
PNPDIST_HOST_DEVICE int joseph_prefetch_row(const JosephGrid3D& g, const JosephRay3D<R>* view_rays, int axis) {
  if (g.detector_rows < 2) return 2;
  const index_t centre = (g.detector_rows / 2 - 1) * g.detector_cols + g.detector_cols / 2;
  const JosephRay3D<R>& here = view_rays[centre];
  const JosephRay3D<R>& next = view_rays[centre + g.detector_cols];
  if (here.axis != axis || next.axis != axis) return 2;
  const R middle = R(0.5) * static_cast<R>(g.n[axis] - 1);
  const R step = (next.q0[0] + middle * next.dq[0]) - (here.q0[0] + middle * here.dq[0]);
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
