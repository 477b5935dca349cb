#pragma once
/// \file
/// The LaunchCost (backend/launch_cost.hpp) of the Joseph kernels that run on device executors: the
/// interpolation taps of their rays, counted on the host from the rays' set-up. One tap is one
/// multiply-add: w * volume[i] in the forward projection, w * value in the back projection; the gather
/// back projection takes exactly the taps of the forward projection of the same views (its terms are the
/// transpose), so both declare the same samples. Host code only: it reads the view vectors on the host,
/// which the CUDA emulation allows (launch_cost is asked for only there).

#include <cstdint>

#include "pnpdist/backend/launch_cost.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/ct/joseph/layout.hpp"
#include "pnpdist/physics/ct/joseph/rays.hpp"
#include "pnpdist/physics/ct/joseph/sampling.hpp"

namespace pnpdist::ct {
namespace detail {

/// A sample policy that only counts the taps it is given (host and device, as the sample functions).
template <class T>
struct TapCounter {
  std::uint64_t taps = 0;
  PNPDIST_HOST_DEVICE void operator()(index_t /*i*/, T /*w*/, int /*lane*/ = 0) { ++taps; }
};

}  // namespace detail

/// The taps of one ray: k per sample of its interior range (k = 2 in 2D, 4 in 3D: every interpolation
/// neighbour lies inside the grid) plus those of its checked end samples, counted with the sample function.
template <class T, class Grid, class Ray>
std::uint64_t joseph_ray_taps(const Grid& grid, const Ray& ray) {
  constexpr std::uint64_t k = sizeof(Grid::n) / sizeof(Grid::n[0]) == 2 ? 2 : 4;
  const auto ax = sample_axes(grid, ray.axis, slice_layout_swapped(grid, ray.axis));
  detail::TapCounter<T> ends;
  const index_t in_lo = ray.in_lo > ray.s_lo ? ray.in_lo : ray.s_lo;
  const index_t in_hi = ray.in_hi < ray.s_hi ? ray.in_hi : ray.s_hi;
  if (in_lo > in_hi) {
    for (index_t s = ray.s_lo; s <= ray.s_hi; ++s) joseph_sample<T>(ax, ray, s, ends);
    return ends.taps;
  }
  for (index_t s = ray.s_lo; s < in_lo; ++s) joseph_sample<T>(ax, ray, s, ends);
  for (index_t s = in_hi + 1; s <= ray.s_hi; ++s) joseph_sample<T>(ax, ray, s, ends);
  return ends.taps + k * static_cast<std::uint64_t>(in_hi - in_lo + 1);
}

/// The taps of the rays of views [first_view, first_view + views) (vectors: all views, on the host).
template <class T, class Grid>
std::uint64_t joseph_view_taps(const Grid& grid, const double* vectors, index_t first_view, index_t views) {
  const index_t pixels = joseph_detector_rows(grid) * grid.detector_cols;
  std::uint64_t taps = 0;
  for (index_t v = first_view; v < first_view + views; ++v)
    for (index_t p = 0; p < pixels; ++p) taps += joseph_ray_taps<T>(grid, joseph_pixel_ray<joseph_real_t<T>>(grid, vectors, v, p));
  return taps;
}

/// Bytes of the image / volume of `grid` in T.
template <class T, class Grid>
std::uint64_t joseph_volume_bytes(const Grid& grid) {
  index_t n = 1;
  for (const index_t e : grid.n) n *= e;
  return bytes_of<T>(n);
}

/// The cost of a forward projection of views [0, views): its rays' taps; it reads the view vectors and the
/// volume in each layout some ray reads (its own, and the swapped copy for rays along x: each counted once)
/// and writes one projection value per ray.
template <class T, class Grid>
LaunchCost joseph_forward_cost(const Grid& grid, const double* vectors, index_t views) {
  const index_t pixels = joseph_detector_rows(grid) * grid.detector_cols;
  constexpr index_t columns = sizeof(Grid::n) / sizeof(Grid::n[0]) == 2 ? 6 : 12;
  bool reads[2] = {false, false};  // the volume's own layout, the swapped one
  LaunchCost cost;
  for (index_t v = 0; v < views; ++v)
    for (index_t p = 0; p < pixels; ++p) {
      const auto ray = joseph_pixel_ray<joseph_real_t<T>>(grid, vectors, v, p);
      reads[slice_layout_swapped(grid, ray.axis) ? 1 : 0] = true;
      cost.samples += joseph_ray_taps<T>(grid, ray);
    }
  cost.bytes_read = bytes_of<double>(views * columns) + (reads[0] ? joseph_volume_bytes<T>(grid) : 0) +
                    (reads[1] ? joseph_volume_bytes<T>(grid) : 0);
  cost.bytes_written = bytes_of<T>(views * pixels);
  return cost;
}

}  // namespace pnpdist::ct
