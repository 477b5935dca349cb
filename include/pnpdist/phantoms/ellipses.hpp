#pragma once
/// \file
/// Phantoms made of ellipses (2D) and ellipsoids (3D) of constant density, with their EXACT line integrals,
/// so projectors can be checked against analytic values.
///
/// Shapes are given in phantom units (the phantom spans [-1, 1] per axis) and placed on a grid by `scale`:
/// world = scale * phantom; fitted_scale() fits the phantom to the grid (half of its smallest side).
/// Ellipses rotate by phi about the origin of their centre (counter-clockwise from +x towards +y), ellipsoids
/// about the z axis. Densities add where shapes overlap.
///
/// rasterize() samples each pixel at ss x ss (x ss) points on a regular sub-grid and averages, so a
/// pixel's value approximates the mean of the phantom over the pixel; line_integral() and the
/// analytic_projections() of a geometry are exact (up to double round-off) for any ray.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/ct/geometry.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist::phantom {

/// An ellipse of density `value`, semi-axes (a, b), centre (x0, y0), rotation phi (radians).
struct Ellipse {
  double value, a, b, x0, y0, phi;
};

/// An ellipsoid of density `value`, semi-axes (a, b, c), centre (x0, y0, z0), rotation phi about z.
struct Ellipsoid {
  double value, a, b, c, x0, y0, z0, phi;
};

/// Half of the smallest side of the grid in world units: the scale at which the phantom fills the grid.
[[nodiscard]] inline double fitted_scale(const ct::VolumeGeometry2D& v) {
  return 0.5 * std::min(static_cast<double>(v.rows) * v.pixel_size_y, static_cast<double>(v.cols) * v.pixel_size_x);
}
[[nodiscard]] inline double fitted_scale(const ct::VolumeGeometry3D& v) {
  return 0.5 * std::min({static_cast<double>(v.slices) * v.voxel_size_z, static_cast<double>(v.rows) * v.voxel_size_y,
                         static_cast<double>(v.cols) * v.voxel_size_x});
}

namespace detail {

/// Length of the chord of the unit ball cut by the line p + t d (t in world units per |d| = 1 after the
/// map to the unit ball: pd = p, dd = d in the ellipse's normalized frame, |d_world| = 1).
inline double unit_ball_chord(const double* p, const double* d, int dims) {
  double dd = 0, pd = 0, pp = 0;
  for (int k = 0; k < dims; ++k) {
    dd += d[k] * d[k];
    pd += p[k] * d[k];
    pp += p[k] * p[k];
  }
  if (dd <= 0) return 0;
  const double disc = pd * pd - dd * (pp - 1.0);
  return disc > 0 ? 2.0 * std::sqrt(disc) / dd : 0.0;
}

}  // namespace detail

/// The exact integral of the phantom along the line o + t d (world coordinates, any d != 0), per unit
/// world length.
[[nodiscard]] inline double line_integral(const std::vector<Ellipse>& shapes, double scale, const double o[2],
                                          const double d[2]) {
  const double len = std::sqrt(d[0] * d[0] + d[1] * d[1]);
  double total = 0;
  for (const Ellipse& e : shapes) {
    const double c = std::cos(e.phi), s = std::sin(e.phi);
    const double ox = o[0] / scale - e.x0, oy = o[1] / scale - e.y0;
    const double dx = d[0] / (scale * len), dy = d[1] / (scale * len);
    const double p[2] = {(c * ox + s * oy) / e.a, (-s * ox + c * oy) / e.b};
    const double q[2] = {(c * dx + s * dy) / e.a, (-s * dx + c * dy) / e.b};
    total += e.value * detail::unit_ball_chord(p, q, 2);
  }
  return total;
}

[[nodiscard]] inline double line_integral(const std::vector<Ellipsoid>& shapes, double scale, const double o[3],
                                          const double d[3]) {
  const double len = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
  double total = 0;
  for (const Ellipsoid& e : shapes) {
    const double c = std::cos(e.phi), s = std::sin(e.phi);
    const double ox = o[0] / scale - e.x0, oy = o[1] / scale - e.y0, oz = o[2] / scale - e.z0;
    const double dx = d[0] / (scale * len), dy = d[1] / (scale * len), dz = d[2] / (scale * len);
    const double p[3] = {(c * ox + s * oy) / e.a, (-s * ox + c * oy) / e.b, oz / e.c};
    const double q[3] = {(c * dx + s * dy) / e.a, (-s * dx + c * dy) / e.b, dz / e.c};
    total += e.value * detail::unit_ball_chord(p, q, 3);
  }
  return total;
}

/// What the rasterizers need of each shape, computed once per raster: cos(phi), sin(phi) (the same values as
/// computed per sub-sample, so the same image bit for bit) and the shape's axis-aligned bounding box in phantom
/// units, widened by a relative 1e-9: every point the inside test accepts lies in it, so a sub-sample outside it
/// skips the shape without changing the sum.
struct ShapeTable {
  std::vector<double> rotations;  ///< cos(phi), sin(phi) per shape
  std::vector<double> boxes;      ///< per shape: x min, x max, y min, y max (2D), then z min, z max (3D)
};

namespace detail {
inline constexpr double box_widening = 1.0 + 1e-9;

/// The half extents along x and y of an ellipse of semi-axes (a, b) rotated by (c, s) = (cos, sin) phi.
inline void rotated_half_extents(double a, double b, double c, double s, double& hx, double& hy) {
  hx = std::sqrt(a * a * c * c + b * b * s * s) * box_widening;
  hy = std::sqrt(a * a * s * s + b * b * c * c) * box_widening;
}

inline void add_shape(ShapeTable& t, const Ellipse& e) {
  const double c = std::cos(e.phi), s = std::sin(e.phi);
  double hx = 0, hy = 0;
  rotated_half_extents(e.a, e.b, c, s, hx, hy);
  t.rotations.insert(t.rotations.end(), {c, s});
  t.boxes.insert(t.boxes.end(), {e.x0 - hx, e.x0 + hx, e.y0 - hy, e.y0 + hy});
}

inline void add_shape(ShapeTable& t, const Ellipsoid& e) {
  const double c = std::cos(e.phi), s = std::sin(e.phi);
  double hx = 0, hy = 0;
  rotated_half_extents(e.a, e.b, c, s, hx, hy);
  const double hz = e.c * box_widening;
  t.rotations.insert(t.rotations.end(), {c, s});
  t.boxes.insert(t.boxes.end(), {e.x0 - hx, e.x0 + hx, e.y0 - hy, e.y0 + hy, e.z0 - hz, e.z0 + hz});
}
}  // namespace detail

template <class Shape>
[[nodiscard]] inline ShapeTable shape_table(const std::vector<Shape>& shapes) {
  ShapeTable table;
  for (const Shape& e : shapes) detail::add_shape(table, e);
  return table;
}

/// Kernel: the mean of the phantom over ss x ss sub-samples of pixel i (row-major).
template <class T>
struct RasterizeEllipses {
  const Ellipse* shapes;
  const double* rotations;  // ShapeTable::rotations
  const double* boxes;      // ShapeTable::boxes
  index_t count;
  ct::VolumeGeometry2D grid;
  double scale;
  int ss;

  void operator()(index_t i) const {
    const index_t iy = i / grid.cols, ix = i % grid.cols;
    double sum = 0;
    for (int sy = 0; sy < ss; ++sy)
      for (int sx = 0; sx < ss; ++sx) {
        const double x = (static_cast<double>(ix) - 0.5 * static_cast<double>(grid.cols - 1) + (sx + 0.5) / ss - 0.5) *
                         grid.pixel_size_x / scale;
        const double y = (static_cast<double>(iy) - 0.5 * static_cast<double>(grid.rows - 1) + (sy + 0.5) / ss - 0.5) *
                         grid.pixel_size_y / scale;
        for (index_t k = 0; k < count; ++k) {
          const double* box = boxes + 4 * k;
          if (x < box[0] || x > box[1] || y < box[2] || y > box[3]) continue;
          const Ellipse& e = shapes[k];
          const double c = rotations[2 * k], s = rotations[2 * k + 1];
          const double u = (c * (x - e.x0) + s * (y - e.y0)) / e.a, v = (-s * (x - e.x0) + c * (y - e.y0)) / e.b;
          if (u * u + v * v <= 1.0) sum += e.value;
        }
      }
    out[i] = static_cast<T>(sum / (ss * ss));
  }
  T* out;
};

/// Kernel: the mean of the phantom over ss^3 sub-samples of voxel i (row-major (z, y, x)).
template <class T>
struct RasterizeEllipsoids {
  const Ellipsoid* shapes;
  const double* rotations;  // ShapeTable::rotations
  const double* boxes;      // ShapeTable::boxes
  index_t count;
  ct::VolumeGeometry3D grid;
  double scale;
  int ss;
  T* out;

  void operator()(index_t i) const {
    const index_t iz = i / (grid.rows * grid.cols), iy = (i / grid.cols) % grid.rows, ix = i % grid.cols;
    double sum = 0;
    for (int sz = 0; sz < ss; ++sz)
      for (int sy = 0; sy < ss; ++sy)
        for (int sx = 0; sx < ss; ++sx) {
          const double x =
              (static_cast<double>(ix) - 0.5 * static_cast<double>(grid.cols - 1) + (sx + 0.5) / ss - 0.5) *
              grid.voxel_size_x / scale;
          const double y =
              (static_cast<double>(iy) - 0.5 * static_cast<double>(grid.rows - 1) + (sy + 0.5) / ss - 0.5) *
              grid.voxel_size_y / scale;
          const double z =
              (static_cast<double>(iz) - 0.5 * static_cast<double>(grid.slices - 1) + (sz + 0.5) / ss - 0.5) *
              grid.voxel_size_z / scale;
          for (index_t k = 0; k < count; ++k) {
            const double* box = boxes + 6 * k;
            if (x < box[0] || x > box[1] || y < box[2] || y > box[3] || z < box[4] || z > box[5]) continue;
            const Ellipsoid& e = shapes[k];
            const double c = rotations[2 * k], s = rotations[2 * k + 1];
            const double u = (c * (x - e.x0) + s * (y - e.y0)) / e.a, v = (-s * (x - e.x0) + c * (y - e.y0)) / e.b;
            const double w = (z - e.z0) / e.c;
            if (u * u + v * v + w * w <= 1.0) sum += e.value;
          }
        }
    out[i] = static_cast<T>(sum / (ss * ss * ss));
  }
};

/// The phantom sampled on a 2D grid (host memory), `supersampling`^2 samples per pixel, on a host executor.
template <class T, class Exec>
[[nodiscard]] inline Tensor<T, 2> rasterize(const Exec& exec, const std::vector<Ellipse>& shapes,
                                            const ct::VolumeGeometry2D& grid, double scale, int supersampling = 4) {
  require(supersampling >= 1, "phantom::rasterize: supersampling must be >= 1");
  require(scale > 0, "phantom::rasterize: scale must be > 0");
  Tensor<T, 2> out(grid.shape());
  const ShapeTable table = shape_table(shapes);
  for_each(with_iteration_cost(exec, 10 * supersampling * supersampling), out.size(),
           RasterizeEllipses<T>{shapes.data(), table.rotations.data(), table.boxes.data(),
                                static_cast<index_t>(shapes.size()), grid, scale, supersampling, out.data()});
  return out;
}

/// The phantom sampled on a 3D grid (host memory), `supersampling`^3 samples per voxel, on a host executor.
template <class T, class Exec>
[[nodiscard]] inline Tensor<T, 3> rasterize(const Exec& exec, const std::vector<Ellipsoid>& shapes,
                                            const ct::VolumeGeometry3D& grid, double scale, int supersampling = 2) {
  require(supersampling >= 1, "phantom::rasterize: supersampling must be >= 1");
  require(scale > 0, "phantom::rasterize: scale must be > 0");
  Tensor<T, 3> out(grid.shape());
  const ShapeTable table = shape_table(shapes);
  for_each(with_iteration_cost(exec, 10 * supersampling * supersampling * supersampling), out.size(),
           RasterizeEllipsoids<T>{shapes.data(), table.rotations.data(), table.boxes.data(),
                                  static_cast<index_t>(shapes.size()), grid, scale, supersampling, out.data()});
  return out;
}

/// The exact line integrals of the phantom along the rays of a 2D geometry (the lines through the detector
/// pixel centres that the projector samples), shape (views, detector_cols), double.
[[nodiscard]] inline Tensor<double, 2> analytic_projections(const std::vector<Ellipse>& shapes, double scale,
                                                            const ct::Geometry2D& g) {
  Tensor<double, 2> out(g.sinogram_shape());
  for (index_t k = 0; k < g.views(); ++k) {
    const auto& e = g.vectors[static_cast<std::size_t>(k)];
    for (index_t c = 0; c < g.detector_cols; ++c) {
      const double pc = static_cast<double>(c) - 0.5 * static_cast<double>(g.detector_cols - 1);
      const double pix[2] = {e[2] + pc * e[4], e[3] + pc * e[5]};
      double o[2], d[2];
      for (int j = 0; j < 2; ++j) {
        o[j] = g.beam == ct::Beam::parallel ? pix[j] : e[static_cast<std::size_t>(j)];
        d[j] = g.beam == ct::Beam::parallel ? e[static_cast<std::size_t>(j)] : pix[j] - e[static_cast<std::size_t>(j)];
      }
      out(k, c) = line_integral(shapes, scale, o, d);
    }
  }
  return out;
}

/// The exact line integrals of the phantom along the rays of a 3D geometry, shape (views, rows, cols).
[[nodiscard]] inline Tensor<double, 3> analytic_projections(const std::vector<Ellipsoid>& shapes, double scale,
                                                            const ct::Geometry3D& g) {
  Tensor<double, 3> out(g.projection_shape());
  for (index_t k = 0; k < g.views(); ++k) {
    const auto& e = g.vectors[static_cast<std::size_t>(k)];
    for (index_t r = 0; r < g.detector_rows; ++r)
      for (index_t c = 0; c < g.detector_cols; ++c) {
        const double pc = static_cast<double>(c) - 0.5 * static_cast<double>(g.detector_cols - 1);
        const double pr = static_cast<double>(r) - 0.5 * static_cast<double>(g.detector_rows - 1);
        double o[3], d[3];
        for (std::size_t j = 0; j < 3; ++j) {
          const double pix = e[3 + j] + pc * e[6 + j] + pr * e[9 + j];
          o[j] = g.beam == ct::Beam::parallel ? pix : e[j];
          d[j] = g.beam == ct::Beam::parallel ? e[j] : pix - e[j];
        }
        out(k, r, c) = line_integral(shapes, scale, o, d);
      }
  }
  return out;
}

}  // namespace pnpdist::phantom
