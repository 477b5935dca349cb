#pragma once
/// \file
/// Memory layouts of the Joseph traversals: the volume's own row-major layout and the one with its last two
/// axes swapped, the strides of the axes a ray visits in either, the layout in which the slices of a dominant
/// axis are contiguous, and SwapLastAxes (by tiles, the coarse form) and SwapLastAxesElements (one iteration
/// per element, the per-element form), which copy a volume from one layout to the other.

#include "pnpdist/backend/launch_cost.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/ct/joseph/rays.hpp"

namespace pnpdist::ct {

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

/// The layout in which the slices of a dominant axis are contiguous (stride 1 along the last other axis):
/// the swapped one for rays along x, the volume's own for the others. The forward projection of a group of
/// rays and the back projection both walk the volume slice by slice in this layout.
PNPDIST_HOST_DEVICE constexpr bool slice_layout_swapped(const JosephGrid2D&, int axis) { return axis == 1; }
PNPDIST_HOST_DEVICE constexpr bool slice_layout_swapped(const JosephGrid3D&, int axis) { return axis == 2; }

/// Whether every pixel / voxel offset fits an int (the groups then compute offsets in 32 bits).
PNPDIST_HOST_DEVICE bool joseph_int_offsets(const JosephGrid2D& g) { return g.n[0] * g.n[1] < (index_t{1} << 31) - 1; }
PNPDIST_HOST_DEVICE bool joseph_int_offsets(const JosephGrid3D& g) {
  return g.n[0] * g.n[1] * g.n[2] < (index_t{1} << 31) - 1;
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

/// The same copy (the matrices of `swap`) with one iteration per element of `out` (count x cols x rows,
/// row-major), the launch shape for a GPU: consecutive iterations write consecutive elements. Each element
/// gets the value (or sum) that SwapLastAxes gives it, bit for bit.
template <class T>
struct SwapLastAxesElements {
  SwapLastAxes<T> swap;

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    const index_t rows = swap.rows, cols = swap.cols;
    const index_t r = i % rows, c = (i / rows) % cols, m = i / (rows * cols);
    const T v = swap.in[(m * rows + r) * cols + c];
    swap.out[i] = swap.accumulate ? swap.out[i] + v : v;
  }
  [[nodiscard]] index_t iterations(index_t count) const { return count * swap.rows * swap.cols; }
  /// n elements read (twice when accumulating: in and out) and written; samples: the elements.
  [[nodiscard]] LaunchCost launch_cost(index_t n) const {
    return LaunchCost{bytes_of<T>(swap.accumulate ? 2 * n : n), bytes_of<T>(n), static_cast<std::uint64_t>(n)};
  }
};

}  // namespace pnpdist::ct
