#pragma once
// Reference Joseph forward projector for tests: plain double-precision loops written from the definition
// (for every ray: the dominant index axis, one sample per slice at the ray's intersection with the slice
// plane, (bi)linear interpolation with zero outside, weight = world length per slice). Shares no code with
// the library's traversal. 2D geometries are handled as 3D ones with a single slice and z = 0.
#include <pnpdist/physics/ct/geometry.hpp>
#include <pnpdist/tensor/view.hpp>

#include <array>
#include <cmath>
#include <vector>

namespace pnpdist::test {

namespace ct_reference {

struct Grid {
  index_t n[3];    // (z, y, x)
  double size[3];  // voxel size (z, y, x)
};

// Value of the volume at index-space point (z, y, x), trilinear with zero outside; `axis` is sampled exactly.
inline double sample(const Grid& g, const float* v, const double p[3]) {
  double total = 0;
  const index_t base[3] = {static_cast<index_t>(std::floor(p[0])), static_cast<index_t>(std::floor(p[1])),
                           static_cast<index_t>(std::floor(p[2]))};
  for (int dz = 0; dz < 2; ++dz)
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx) {
        const index_t i[3] = {base[0] + dz, base[1] + dy, base[2] + dx};
        double w = 1;
        bool inside = true;
        const int d[3] = {dz, dy, dx};
        for (int k = 0; k < 3; ++k) {
          const double f = p[k] - static_cast<double>(base[k]);
          w *= d[k] ? f : 1 - f;
          inside = inside && i[k] >= 0 && i[k] < g.n[k];
        }
        if (inside && w != 0) total += w * v[(i[0] * g.n[1] + i[1]) * g.n[2] + i[2]];
      }
  return total;
}

// Line integral along o + t d (world (x, y, z)).
inline double ray_sum(const Grid& g, const float* v, const double o[3], const double d[3]) {
  // Index coordinates (z, y, x) of a world point: i = w / size + (n - 1) / 2.
  const double oi[3] = {o[2] / g.size[0] + 0.5 * (g.n[0] - 1), o[1] / g.size[1] + 0.5 * (g.n[1] - 1),
                        o[0] / g.size[2] + 0.5 * (g.n[2] - 1)};
  const double di[3] = {d[2] / g.size[0], d[1] / g.size[1], d[0] / g.size[2]};
  int a = 2;
  if (std::abs(di[1]) > std::abs(di[a])) a = 1;
  if (std::abs(di[0]) > std::abs(di[a])) a = 0;
  const double step = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) / std::abs(di[a]);
  double total = 0;
  for (index_t s = 0; s < g.n[a]; ++s) {
    const double t = (static_cast<double>(s) - oi[a]) / di[a];
    double p[3];
    for (int k = 0; k < 3; ++k) p[k] = oi[k] + t * di[k];
    p[a] = static_cast<double>(s);
    bool inside = true;
    for (int k = 0; k < 3; ++k) inside = inside && p[k] > -1 && p[k] < static_cast<double>(g.n[k]);
    if (inside) total += sample(g, v, p);
  }
  return total * step;
}

}  // namespace ct_reference

inline std::vector<double> reference_joseph_forward(const ct::Geometry2D& g, View<const float, 2> image) {
  const ct_reference::Grid grid{{1, g.volume.rows, g.volume.cols}, {1.0, g.volume.pixel_size_y, g.volume.pixel_size_x}};
  std::vector<double> out;
  for (const auto& e : g.vectors)
    for (index_t c = 0; c < g.detector_cols; ++c) {
      const double pc = static_cast<double>(c) - 0.5 * static_cast<double>(g.detector_cols - 1);
      const double pix[3] = {e[2] + pc * e[4], e[3] + pc * e[5], 0};
      double o[3], d[3];
      for (int k = 0; k < 3; ++k) {
        const double src = k < 2 ? e[static_cast<std::size_t>(k)] : 0.0;
        o[k] = g.beam == ct::Beam::parallel ? pix[k] : src;
        d[k] = g.beam == ct::Beam::parallel ? src : pix[k] - src;
      }
      out.push_back(ct_reference::ray_sum(grid, image.data(), o, d));
    }
  return out;
}

inline std::vector<double> reference_joseph_forward(const ct::Geometry3D& g, View<const float, 3> volume) {
  const ct_reference::Grid grid{{g.volume.slices, g.volume.rows, g.volume.cols},
                                {g.volume.voxel_size_z, g.volume.voxel_size_y, g.volume.voxel_size_x}};
  std::vector<double> out;
  for (const auto& e : g.vectors)
    for (index_t r = 0; r < g.detector_rows; ++r)
      for (index_t c = 0; c < g.detector_cols; ++c) {
        const double pc = static_cast<double>(c) - 0.5 * static_cast<double>(g.detector_cols - 1);
        const double pr = static_cast<double>(r) - 0.5 * static_cast<double>(g.detector_rows - 1);
        double o[3], d[3];
        for (std::size_t k = 0; k < 3; ++k) {
          const double pix = e[3 + k] + pc * e[6 + k] + pr * e[9 + k];
          o[k] = g.beam == ct::Beam::parallel ? pix : e[k];
          d[k] = g.beam == ct::Beam::parallel ? e[k] : pix - e[k];
        }
        out.push_back(ct_reference::ray_sum(grid, volume.data(), o, d));
      }
  return out;
}

}  // namespace pnpdist::test
