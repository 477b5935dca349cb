#pragma once
/// \file
/// CT geometry as per-view vectors, in ASTRA's `parallel_vec`, `fanflat_vec`, `parallel3d_vec` and `cone_vec`
/// conventions, with constructors from circular-orbit parameters.
///
/// World coordinates (x, y, z). The volume is centred at the origin; voxel (iz, iy, ix) of a volume of shape
/// (D, H, W) and voxel size (sz, sy, sx) has its centre at
///     x = (ix - (W - 1) / 2) sx,   y = (iy - (H - 1) / 2) sy,   z = (iz - (D - 1) / 2) sz
/// (a 2D image (H, W) is the slice z = 0). Every view is one row of numbers:
///   2D:  (rx, ry | sx, sy,  dx, dy,  ux, uy)             6 numbers: ray direction (parallel) or source
///                                                        position (fan), detector centre, pixel vector u
///   3D:  (rx, ry, rz | sx, sy, sz,  dx, dy, dz,  ux, uy, uz,  vx, vy, vz)   12 numbers, v the row vector
/// Detector pixel (row r, column c) of an (R x C) detector has its centre at
///     d + (c - (C - 1) / 2) u + (r - (R - 1) / 2) v.
/// Projections are stored (view, row, column); 2D sinograms (view, column).
///
/// Circular orbits (ASTRA's convention) for angle t: ray direction (sin t, -cos t, 0); source
/// (sin t, -cos t, 0) * source_origin; detector centre (-sin t, cos t, 0) * origin_detector (parallel: the
/// origin) plus the detector offsets along u and v; u = (cos t, sin t, 0) * pixel width; v = (0, 0, pixel height).

#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist::ct {

/// Parallel rays or rays from a point source (fan beam in 2D, cone beam in 3D).
enum class Beam { parallel, divergent };

/// A 2D image grid: H rows (y) by W columns (x), pixel size (sy, sx) in world units, centred at the origin.
struct VolumeGeometry2D {
  index_t rows = 0;
  index_t cols = 0;
  double pixel_size_y = 1;
  double pixel_size_x = 1;

  [[nodiscard]] Extents<2> shape() const { return Extents<2>{rows, cols}; }
};

/// A 3D voxel grid: D slices (z), H rows (y), W columns (x), voxel size (sz, sy, sx), centred at the origin.
struct VolumeGeometry3D {
  index_t slices = 0;
  index_t rows = 0;
  index_t cols = 0;
  double voxel_size_z = 1;
  double voxel_size_y = 1;
  double voxel_size_x = 1;

  [[nodiscard]] Extents<3> shape() const { return Extents<3>{slices, rows, cols}; }
};

/// 2D parallel- or fan-beam geometry: one 6-number vector per view (see the file comment).
struct Geometry2D {
  Beam beam = Beam::parallel;
  VolumeGeometry2D volume;
  index_t detector_cols = 0;
  std::vector<std::array<double, 6>> vectors;

  [[nodiscard]] index_t views() const { return static_cast<index_t>(vectors.size()); }
  [[nodiscard]] Extents<2> sinogram_shape() const { return Extents<2>{views(), detector_cols}; }
};

/// 3D parallel- or cone-beam geometry: one 12-number vector per view (see the file comment).
struct Geometry3D {
  Beam beam = Beam::divergent;
  VolumeGeometry3D volume;
  index_t detector_rows = 0;
  index_t detector_cols = 0;
  std::vector<std::array<double, 12>> vectors;

  [[nodiscard]] index_t views() const { return static_cast<index_t>(vectors.size()); }
  [[nodiscard]] Extents<3> projection_shape() const { return Extents<3>{views(), detector_rows, detector_cols}; }
};

/// `count` angles t_k = first + k (last - first) / count, k = 0 .. count-1 (the end point excluded).
[[nodiscard]] inline std::vector<double> uniform_angles(index_t count, double first, double last) {
  require(count >= 1, [&] { return "uniform_angles: count must be >= 1, got " + std::to_string(count); });
  std::vector<double> angles(static_cast<std::size_t>(count));
  for (index_t k = 0; k < count; ++k)
    angles[static_cast<std::size_t>(k)] = first + (last - first) * static_cast<double>(k) / static_cast<double>(count);
  return angles;
}

namespace detail {

inline double norm2(double x, double y) { return std::sqrt(x * x + y * y); }
inline double norm3(double x, double y, double z) { return std::sqrt(x * x + y * y + z * z); }

inline std::string view_name(std::size_t k) { return "view " + std::to_string(k); }

}  // namespace detail

/// Throws invalid_argument naming the problem unless the geometry is usable: at least one view, a non-empty
/// volume with positive pixel sizes, at least one detector pixel, finite non-zero ray / u vectors, rays not
/// parallel to the detector, and (fan beam) every source outside the image's bounding box.
inline void validate(const Geometry2D& g) {
  const VolumeGeometry2D& v = g.volume;
  require(g.views() >= 1, "ct::Geometry2D: the geometry has no views");
  require(v.rows >= 1 && v.cols >= 1,
          [&] { return "ct::Geometry2D: empty image " + std::to_string(v.rows) + " x " + std::to_string(v.cols); });
  require(v.pixel_size_x > 0 && v.pixel_size_y > 0, [&] {
    return "ct::Geometry2D: pixel sizes must be > 0, got " + std::to_string(v.pixel_size_y) + " x " +
           std::to_string(v.pixel_size_x);
  });
  require(g.detector_cols >= 1,
          [&] { return "ct::Geometry2D: detector_cols must be >= 1, got " + std::to_string(g.detector_cols); });
  const double hx = 0.5 * static_cast<double>(v.cols) * v.pixel_size_x;
  const double hy = 0.5 * static_cast<double>(v.rows) * v.pixel_size_y;
  for (std::size_t k = 0; k < g.vectors.size(); ++k) {
    const auto& e = g.vectors[k];
    for (double value : e)
      require(std::isfinite(value), [&] { return "ct::Geometry2D: non-finite number in " + detail::view_name(k); });
    const double un = detail::norm2(e[4], e[5]);
    require(un > 0, [&] { return "ct::Geometry2D: zero-length detector pixel vector u in " + detail::view_name(k); });
    if (g.beam == Beam::parallel) {
      const double rn = detail::norm2(e[0], e[1]);
      require(rn > 0, [&] { return "ct::Geometry2D: zero-length ray direction in " + detail::view_name(k); });
      require(std::abs(e[0] * e[5] - e[1] * e[4]) > 1e-12 * rn * un,
              [&] { return "ct::Geometry2D: ray direction parallel to the detector in " + detail::view_name(k); });
    } else {
      require(std::abs(e[0]) > hx || std::abs(e[1]) > hy, [&] {
        return "ct::Geometry2D: source (" + std::to_string(e[0]) + ", " + std::to_string(e[1]) + ") of " +
               detail::view_name(k) + " lies inside the image's bounding box [" + std::to_string(-hx) + ", " +
               std::to_string(hx) + "] x [" + std::to_string(-hy) + ", " + std::to_string(hy) + "]";
      });
      const double c = (e[2] - e[0]) * e[5] - (e[3] - e[1]) * e[4];
      require(std::abs(c) > 1e-12 * un * detail::norm2(e[2] - e[0], e[3] - e[1]),
              [&] { return "ct::Geometry2D: source lies on the detector line in " + detail::view_name(k); });
    }
  }
}

/// Throws invalid_argument naming the problem unless the geometry is usable (the 3D counterpart of
/// validate(Geometry2D): views, volume, detector, finite non-zero and non-parallel u and v, rays not parallel
/// to the detector plane, every cone-beam source outside the volume's bounding box).
inline void validate(const Geometry3D& g) {
  const VolumeGeometry3D& v = g.volume;
  require(g.views() >= 1, "ct::Geometry3D: the geometry has no views");
  require(v.slices >= 1 && v.rows >= 1 && v.cols >= 1, [&] {
    return "ct::Geometry3D: empty volume " + std::to_string(v.slices) + " x " + std::to_string(v.rows) + " x " +
           std::to_string(v.cols);
  });
  require(v.voxel_size_x > 0 && v.voxel_size_y > 0 && v.voxel_size_z > 0, "ct::Geometry3D: voxel sizes must be > 0");
  require(g.detector_rows >= 1 && g.detector_cols >= 1, [&] {
    return "ct::Geometry3D: detector must have >= 1 row and column, got " + std::to_string(g.detector_rows) + " x " +
           std::to_string(g.detector_cols);
  });
  const double h[3] = {0.5 * static_cast<double>(v.cols) * v.voxel_size_x,
                       0.5 * static_cast<double>(v.rows) * v.voxel_size_y,
                       0.5 * static_cast<double>(v.slices) * v.voxel_size_z};
  for (std::size_t k = 0; k < g.vectors.size(); ++k) {
    const auto& e = g.vectors[k];
    for (double value : e)
      require(std::isfinite(value), [&] { return "ct::Geometry3D: non-finite number in " + detail::view_name(k); });
    const double un = detail::norm3(e[6], e[7], e[8]);
    const double vn = detail::norm3(e[9], e[10], e[11]);
    require(un > 0, [&] { return "ct::Geometry3D: zero-length detector pixel vector u in " + detail::view_name(k); });
    require(vn > 0, [&] { return "ct::Geometry3D: zero-length detector pixel vector v in " + detail::view_name(k); });
    const double nx = e[7] * e[11] - e[8] * e[10];
    const double ny = e[8] * e[9] - e[6] * e[11];
    const double nz = e[6] * e[10] - e[7] * e[9];
    const double nn = detail::norm3(nx, ny, nz);
    require(nn > 1e-12 * un * vn,
            [&] { return "ct::Geometry3D: detector vectors u and v are parallel in " + detail::view_name(k); });
    if (g.beam == Beam::parallel) {
      const double rn = detail::norm3(e[0], e[1], e[2]);
      require(rn > 0, [&] { return "ct::Geometry3D: zero-length ray direction in " + detail::view_name(k); });
      require(std::abs(e[0] * nx + e[1] * ny + e[2] * nz) > 1e-12 * rn * nn,
              [&] { return "ct::Geometry3D: ray direction parallel to the detector in " + detail::view_name(k); });
    } else {
      require(std::abs(e[0]) > h[0] || std::abs(e[1]) > h[1] || std::abs(e[2]) > h[2], [&] {
        return "ct::Geometry3D: source (" + std::to_string(e[0]) + ", " + std::to_string(e[1]) + ", " +
               std::to_string(e[2]) + ") of " + detail::view_name(k) + " lies inside the volume's bounding box";
      });
      const double dn = detail::norm3(e[3] - e[0], e[4] - e[1], e[5] - e[2]);
      require(std::abs((e[3] - e[0]) * nx + (e[4] - e[1]) * ny + (e[5] - e[2]) * nz) > 1e-12 * nn * dn,
              [&] { return "ct::Geometry3D: source lies in the detector plane in " + detail::view_name(k); });
    }
  }
}

/// Detector parameters of a circular orbit (world units). Offsets shift the detector centre along u and v.
struct Detector2D {
  index_t cols = 0;
  double pixel_size = 1;
  double offset = 0;
};
struct Detector3D {
  index_t rows = 0;
  index_t cols = 0;
  double pixel_height = 1;  ///< row spacing (|v|)
  double pixel_width = 1;   ///< column spacing (|u|)
  double offset_u = 0;
  double offset_v = 0;
};

/// 2D parallel beam on a circular orbit (ASTRA `parallel` converted to `parallel_vec`).
[[nodiscard]] inline Geometry2D parallel_beam_2d(const std::vector<double>& angles, const Detector2D& detector,
                                                 const VolumeGeometry2D& volume) {
  Geometry2D g{Beam::parallel, volume, detector.cols, {}};
  for (double t : angles) {
    const double c = std::cos(t), s = std::sin(t);
    g.vectors.push_back(
        {s, -c, detector.offset * c, detector.offset * s, detector.pixel_size * c, detector.pixel_size * s});
  }
  validate(g);
  return g;
}

/// 2D fan beam with a flat detector on a circular orbit (ASTRA `fanflat` converted to `fanflat_vec`).
[[nodiscard]] inline Geometry2D fan_beam_2d(const std::vector<double>& angles, const Detector2D& detector,
                                            double source_origin, double origin_detector,
                                            const VolumeGeometry2D& volume) {
  require(source_origin > 0,
          [&] { return "ct::fan_beam_2d: source_origin must be > 0, got " + std::to_string(source_origin); });
  Geometry2D g{Beam::divergent, volume, detector.cols, {}};
  for (double t : angles) {
    const double c = std::cos(t), s = std::sin(t);
    g.vectors.push_back({s * source_origin, -c * source_origin, -s * origin_detector + detector.offset * c,
                         c * origin_detector + detector.offset * s, detector.pixel_size * c, detector.pixel_size * s});
  }
  validate(g);
  return g;
}

/// 3D parallel beam on a circular orbit about z (ASTRA `parallel3d` converted to `parallel3d_vec`).
[[nodiscard]] inline Geometry3D parallel_beam_3d(const std::vector<double>& angles, const Detector3D& detector,
                                                 const VolumeGeometry3D& volume) {
  Geometry3D g{Beam::parallel, volume, detector.rows, detector.cols, {}};
  for (double t : angles) {
    const double c = std::cos(t), s = std::sin(t);
    g.vectors.push_back({s, -c, 0, detector.offset_u * c, detector.offset_u * s, detector.offset_v,
                         detector.pixel_width * c, detector.pixel_width * s, 0, 0, 0, detector.pixel_height});
  }
  validate(g);
  return g;
}

/// 3D cone beam with a flat detector on a circular orbit about z (ASTRA `cone` converted to `cone_vec`).
[[nodiscard]] inline Geometry3D cone_beam(const std::vector<double>& angles, const Detector3D& detector,
                                          double source_origin, double origin_detector,
                                          const VolumeGeometry3D& volume) {
  require(source_origin > 0,
          [&] { return "ct::cone_beam: source_origin must be > 0, got " + std::to_string(source_origin); });
  Geometry3D g{Beam::divergent, volume, detector.rows, detector.cols, {}};
  for (double t : angles) {
    const double c = std::cos(t), s = std::sin(t);
    g.vectors.push_back({s * source_origin, -c * source_origin, 0, -s * origin_detector + detector.offset_u * c,
                         c * origin_detector + detector.offset_u * s, detector.offset_v, detector.pixel_width * c,
                         detector.pixel_width * s, 0, 0, 0, detector.pixel_height});
  }
  validate(g);
  return g;
}

/// The views [begin, begin + count) of a geometry, same volume and detector.
[[nodiscard]] inline Geometry2D select_views(const Geometry2D& g, index_t begin, index_t count) {
  require(begin >= 0 && count >= 0 && begin + count <= g.views(), [&] {
    return "ct::select_views: views [" + std::to_string(begin) + ", " + std::to_string(begin + count) +
           ") outside [0, " + std::to_string(g.views()) + ")";
  });
  Geometry2D out{g.beam, g.volume, g.detector_cols, {}};
  out.vectors.assign(g.vectors.begin() + begin, g.vectors.begin() + begin + count);
  return out;
}
[[nodiscard]] inline Geometry3D select_views(const Geometry3D& g, index_t begin, index_t count) {
  require(begin >= 0 && count >= 0 && begin + count <= g.views(), [&] {
    return "ct::select_views: views [" + std::to_string(begin) + ", " + std::to_string(begin + count) +
           ") outside [0, " + std::to_string(g.views()) + ")";
  });
  Geometry3D out{g.beam, g.volume, g.detector_rows, g.detector_cols, {}};
  out.vectors.assign(g.vectors.begin() + begin, g.vectors.begin() + begin + count);
  return out;
}

}  // namespace pnpdist::ct
