#pragma once
/// \file
/// Filtered back projection: fbp() for 2D parallel and fan beams, fdk() (Feldkamp-Davis-Kress) for 3D cone
/// beams (and row-by-row FBP for 3D parallel beams), on any executor, for any per-view vector geometry with a
/// flat detector.
///
///   1. Divergent beams: each projection value is weighted by the cosine of its ray's angle to the central
///      ray (the ray from the source perpendicular to the detector): SD / sqrt(SD^2 + a^2 + b^2).
///   2. Every detector row is filtered (filters.hpp) by direct convolution with zero padding; the detector
///      spacing is the column spacing |u|, scaled to the origin (by D / SD) for divergent beams.
///   3. Voxel-driven back projection with (bi)linear interpolation on the detector; divergent beams weight
///      each view by D^2 / U^2 (U: depth of the voxel along the central ray, D: that of the origin), and the
///      sum over views is scaled by pi / views.
/// The scale assumes views spread uniformly over 180 degrees (parallel) or 360 degrees (divergent): a
/// constant disc is then reconstructed to its value. Short scans: weight the projections with
/// apply_parker_weights() (parker.hpp) first. The
/// filter's detector spacing (and, for divergent beams, its scaling to the origin) is taken from the first
/// view: exact for circular orbits, an approximation for vector geometries whose magnification varies.
/// This back projection is not the adjoint of the Joseph projector (a different discretization).
///
/// Memory: two copies of the projections (weighted, filtered), the filter kernel and the per-view vectors, in the
/// executor's memory space.

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/physics/ct/filters.hpp"
#include "pnpdist/physics/ct/geometry.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist::ct {

/// Per-view quantities of the back projection (16 doubles per view).
struct FbpView {
  double s[3];   ///< source (divergent) or ray direction (parallel)
  double d[3];   ///< detector centre
  double u[3];   ///< u / |u|^2 (dot with (p - d) gives the column offset)
  double v[3];   ///< v / |v|^2
  double n[3];   ///< unit detector normal, from the source towards the detector
  double depth;  ///< D: depth of the origin along the central ray (divergent)
  double sd;     ///< SD: distance from the source to the detector plane (divergent)
  double pad;
};

namespace detail {

inline std::vector<FbpView> fbp_views(const Geometry3D& g) {
  std::vector<FbpView> out;
  for (const auto& e : g.vectors) {
    FbpView w{};
    const double uu = e[6] * e[6] + e[7] * e[7] + e[8] * e[8];
    const double vv = e[9] * e[9] + e[10] * e[10] + e[11] * e[11];
    double n[3] = {e[7] * e[11] - e[8] * e[10], e[8] * e[9] - e[6] * e[11], e[6] * e[10] - e[7] * e[9]};
    const double nn = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    const bool parallel = g.beam == Beam::parallel;
    // Orient n from the source to the detector (along the rays for parallel beams).
    double along = 0;
    for (int k = 0; k < 3; ++k)
      along += n[k] * (parallel ? e[static_cast<std::size_t>(k)]
                                : e[3 + static_cast<std::size_t>(k)] - e[static_cast<std::size_t>(k)]);
    for (double& c : n) c /= along < 0 ? -nn : nn;
    double depth = 0, sd = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      w.s[k] = e[k];
      w.d[k] = e[3 + k];
      w.u[k] = e[6 + k] / uu;
      w.v[k] = e[9 + k] / vv;
      w.n[k] = n[k];
      depth += -e[k] * n[k];
      sd += (e[3 + k] - e[k]) * n[k];
    }
    w.depth = depth;
    w.sd = sd;
    out.push_back(w);
  }
  return out;
}

inline Geometry3D as_3d(const Geometry2D& g) {
  Geometry3D out{g.beam,
                 {1, g.volume.rows, g.volume.cols, 1.0, g.volume.pixel_size_y, g.volume.pixel_size_x},
                 1,
                 g.detector_cols,
                 {}};
  for (const auto& e : g.vectors) out.vectors.push_back({e[0], e[1], 0, e[2], e[3], 0, e[4], e[5], 0, 0, 0, 1});
  return out;
}

}  // namespace detail

/// Cosine pre-weighting of one projection value (view, row, column) for divergent beams (a copy for
/// parallel beams).
template <class T>
struct FbpPreweight {
  const T* projections;  ///< views x rows x cols
  const FbpView* views;
  T* weighted;
  index_t rows, cols;
  bool divergent;

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    if (!divergent) {
      weighted[i] = projections[i];
      return;
    }
    const index_t c = i % cols, r = (i / cols) % rows, view = i / (rows * cols);
    const FbpView& w = views[view];
    const double pc = static_cast<double>(c) - 0.5 * static_cast<double>(cols - 1);
    const double pr = static_cast<double>(r) - 0.5 * static_cast<double>(rows - 1);
    const double uu = w.u[0] * w.u[0] + w.u[1] * w.u[1] + w.u[2] * w.u[2];  // 1 / |u|^2
    const double vv = w.v[0] * w.v[0] + w.v[1] * w.v[1] + w.v[2] * w.v[2];
    double dist2 = 0, along = 0;
    for (int k = 0; k < 3; ++k) {
      const double p = w.d[k] + pc * w.u[k] / uu + pr * w.v[k] / vv - w.s[k];  // pixel - source
      dist2 += p * p;
      along += p * w.n[k];
    }
    weighted[i] = static_cast<T>(along / ::sqrt(dist2) * static_cast<double>(projections[i]));
  }
};

/// Row filtering: filtered(view, row, c) = sum_k kernel(c - k) weighted(view, row, k).
template <class T>
struct FbpFilterRows {
  const T* weighted;     ///< views x rows x cols
  const double* kernel;  ///< 2 cols - 1 weights
  T* filtered;
  index_t cols;

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    const index_t c = i % cols;
    const T* row = weighted + (i - c);
    const double* w = kernel + c + cols - 1;  // w[-k] = kernel(c - k)
    double sum = 0;
    for (index_t k = 0; k < cols; ++k) sum += w[-k] * static_cast<double>(row[k]);
    filtered[i] = static_cast<T>(sum);
  }
};

/// Voxel-driven back projection of the filtered projections (one iteration per voxel).
template <class T>
struct FbpBackproject {
  const T* filtered;
  const FbpView* views;
  index_t view_count, rows, cols;
  index_t nz, ny, nx;
  double sz, sy, sx;
  double scale;
  bool divergent;
  T* volume;

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    const index_t ix = i % nx, iy = (i / nx) % ny, iz = i / (nx * ny);
    const double x[3] = {(static_cast<double>(ix) - 0.5 * static_cast<double>(nx - 1)) * sx,
                         (static_cast<double>(iy) - 0.5 * static_cast<double>(ny - 1)) * sy,
                         (static_cast<double>(iz) - 0.5 * static_cast<double>(nz - 1)) * sz};
    double sum = 0;
    for (index_t k = 0; k < view_count; ++k) {
      const FbpView& w = views[k];
      double p[3], weight = 1;
      if (divergent) {
        double num = 0, den = 0;
        for (int j = 0; j < 3; ++j) {
          num += (w.d[j] - w.s[j]) * w.n[j];
          den += (x[j] - w.s[j]) * w.n[j];
        }
        const double lambda = num / den;
        for (int j = 0; j < 3; ++j) p[j] = w.s[j] + lambda * (x[j] - w.s[j]) - w.d[j];
        weight = (w.depth * w.depth) / (den * den);
      } else {
        // Move x along the ray into the detector plane.
        double num = 0, den = 0;
        for (int j = 0; j < 3; ++j) {
          num += (w.d[j] - x[j]) * w.n[j];
          den += w.s[j] * w.n[j];
        }
        const double t = num / den;
        for (int j = 0; j < 3; ++j) p[j] = x[j] + t * w.s[j] - w.d[j];
      }
      double c = 0.5 * static_cast<double>(cols - 1), r = 0.5 * static_cast<double>(rows - 1);
      for (int j = 0; j < 3; ++j) {
        c += p[j] * w.u[j];
        r += p[j] * w.v[j];
      }
      if (!(c > -1.0 && c < static_cast<double>(cols) && r > -1.0 && r < static_cast<double>(rows))) continue;
      const double fc = ::floor(c), fr = ::floor(r);
      const index_t c0 = static_cast<index_t>(fc), r0 = static_cast<index_t>(fr);
      const double ac = c - fc, ar = r - fr;
      const T* proj = filtered + k * rows * cols;
      double value = 0;
      if (r0 >= 0) {
        if (c0 >= 0) value += (1 - ar) * (1 - ac) * static_cast<double>(proj[r0 * cols + c0]);
        if (c0 + 1 < cols) value += (1 - ar) * ac * static_cast<double>(proj[r0 * cols + c0 + 1]);
      }
      if (r0 + 1 < rows) {
        if (c0 >= 0) value += ar * (1 - ac) * static_cast<double>(proj[(r0 + 1) * cols + c0]);
        if (c0 + 1 < cols) value += ar * ac * static_cast<double>(proj[(r0 + 1) * cols + c0 + 1]);
      }
      sum += weight * value;
    }
    volume[i] = static_cast<T>(scale * sum);
  }
};

/// FDK (cone beam) or row-wise FBP (3D parallel beam) of `projections` (views, rows, cols) into `volume`
/// (D, H, W); see the file comment. Contiguous views in the executor's memory space.
template <class T, class Exec>
inline void fdk(const Exec& exec, const Geometry3D& geometry, View<const T, 3, typename Exec::memory_space> projections,
                View<T, 3, typename Exec::memory_space> volume, Filter filter = Filter::ram_lak) {
  using Space = typename Exec::memory_space;
  validate(geometry);
  require<dimension_mismatch>(
      projections.extents() == geometry.projection_shape() && volume.extents() == geometry.volume.shape(), [&] {
        return "ct::fdk: expected projections " + to_string(geometry.projection_shape()) + " and volume " +
               to_string(geometry.volume.shape()) + ", got " + to_string(projections.extents()) + " and " +
               to_string(volume.extents());
      });
  require<invalid_argument>(projections.is_contiguous() && volume.is_contiguous(), "ct::fdk needs contiguous views");
  const bool divergent = geometry.beam == Beam::divergent;
  const std::vector<FbpView> host_views = detail::fbp_views(geometry);
  // Detector spacing at the origin (first view; circular orbits have the same for every view).
  const auto& e0 = geometry.vectors.front();
  double spacing = std::sqrt(e0[6] * e0[6] + e0[7] * e0[7] + e0[8] * e0[8]);
  if (divergent) spacing *= host_views.front().depth / host_views.front().sd;
  const std::vector<double> kernel = filter_kernel(filter, geometry.detector_cols, spacing);

  Tensor<FbpView, 1, Space> views(Extents<1>{geometry.views()});
  deep_copy(views.view(), View<const FbpView, 1, HostSpace>(host_views.data(), Extents<1>{geometry.views()}));
  Tensor<double, 1, Space> kernel_device(Extents<1>{static_cast<index_t>(kernel.size())});
  deep_copy(kernel_device.view(),
            View<const double, 1, HostSpace>(kernel.data(), Extents<1>{static_cast<index_t>(kernel.size())}));
  Tensor<T, 3, Space> weighted(projections.extents()), filtered(projections.extents());
  const index_t rows = geometry.detector_rows, cols = geometry.detector_cols;
  for_each(with_iteration_cost(exec, 16), weighted.size(),
           FbpPreweight<T>{projections.data(), views.data(), weighted.data(), rows, cols, divergent});
  for_each(with_iteration_cost(exec, 2 * cols), filtered.size(),
           FbpFilterRows<T>{weighted.data(), kernel_device.data(), filtered.data(), cols});
  const VolumeGeometry3D& v = geometry.volume;
  const double scale = std::numbers::pi / static_cast<double>(geometry.views());
  for_each(with_iteration_cost(exec, 8 * geometry.views()), volume.size(),
           FbpBackproject<T>{filtered.data(), views.data(), geometry.views(), rows, cols, v.slices, v.rows, v.cols,
                             v.voxel_size_z, v.voxel_size_y, v.voxel_size_x, scale, divergent, volume.data()});
}

/// FBP of a 2D parallel- or fan-beam sinogram (views, cols) into `image` (H, W); see the file comment.
template <class T, class Exec>
inline void fbp(const Exec& exec, const Geometry2D& geometry, View<const T, 2, typename Exec::memory_space> sinogram,
                View<T, 2, typename Exec::memory_space> image, Filter filter = Filter::ram_lak) {
  validate(geometry);
  require<dimension_mismatch>(
      sinogram.extents() == geometry.sinogram_shape() && image.extents() == geometry.volume.shape(), [&] {
        return "ct::fbp: expected sinogram " + to_string(geometry.sinogram_shape()) + " and image " +
               to_string(geometry.volume.shape()) + ", got " + to_string(sinogram.extents()) + " and " +
               to_string(image.extents());
      });
  require<invalid_argument>(sinogram.is_contiguous() && image.is_contiguous(), "ct::fbp needs contiguous views");
  using Space = typename Exec::memory_space;
  const Geometry3D g3 = detail::as_3d(geometry);
  fdk<T>(exec, g3, View<const T, 3, Space>(sinogram.data(), Extents<3>{geometry.views(), 1, geometry.detector_cols}),
         View<T, 3, Space>(image.data(), Extents<3>{1, geometry.volume.rows, geometry.volume.cols}), filter);
}

}  // namespace pnpdist::ct
