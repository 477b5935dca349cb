#pragma once
/// \file
/// Voxel-driven (gather) Joseph back projection, the launch shape for a GPU: one iteration per pixel / voxel,
/// which loops over the views and adds the terms that the ray-driven back projection (adjoint.hpp) scatters
/// to it. No two iterations write the same element, so no atomics are needed.
///
/// Guarantees:
///   - The same terms as adjoint.hpp: each term is w * value, the weight w computed by joseph_sample_2d/3d
///     (sampling.hpp) from the same ray (JosephBlockRays), so the forward projection and this back
///     projection are exactly adjoint up to the round-off of the sums.
///   - The sums differ from adjoint.hpp's only in the order of the terms (here: per dominant axis, the views
///     in order, in each view the rays in detector order; then the axes added in order), so the result
///     agrees with the CPU back projection to round-off, not bit for bit. It is deterministic: the same bits
///     for any launch shape.
///
/// Which rays reach a voxel. A ray of dominant axis a gives voxel p a term in slice s = p[a] when its
/// position q along each other axis b satisfies floor(q) in {p[b] - 1, p[b]}, i.e. when it crosses slice s
/// inside the square (2D: segment) of half-width one voxel around p. The detector positions of the lines
/// through the corners of that square (JosephDetectorMap: a projective map, set up in double and stored in R)
/// bound the detector pixels whose rays can cross it; the candidates, widened by joseph_candidate_margin to
/// cover rounding, are then checked with the exact weight function, so a term is missed only if rounding
/// moved a ray by more than the margin (half a detector pixel, orders of magnitude above the bound).

#include <cmath>

#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/ct/joseph/launch_cost.hpp"
#include "pnpdist/physics/ct/joseph/layout.hpp"
#include "pnpdist/physics/ct/joseph/rays.hpp"
#include "pnpdist/physics/ct/joseph/sampling.hpp"

namespace pnpdist::ct {

/// Per view: the detector position (continuous column and row, in detector pixels from pixel 0) of the line
/// through an index-space point p (parallel beam: along the rays; divergent: from the source):
///     column = (col . p + col[D]) / (den . p + den[D]),   row = (row . p + row[D]) / (den . p + den[D]).
/// D = 2 (index axes (y, x); row is 0) or 3 (axes (z, y, x)).
template <class R, int D>
struct JosephDetectorMap {
  R col[D + 1];
  R row[D + 1];
  R den[D + 1];
};

namespace detail {

/// A linear form of world points, w . P + w0, as a form of index-space points (axis k of the index space is
/// world axis D - 1 - k: (y, x) or (z, y, x)), rounded to R.
template <class R, int D>
PNPDIST_HOST_DEVICE void index_form(const double* inverse_size, const double* centre, const double* w, double w0,
                                    R* out) {
  double constant = w0;
  for (int k = 0; k < D; ++k) {
    const double world = w[D - 1 - k];
    out[k] = static_cast<R>(world / inverse_size[k]);
    constant -= world * centre[k] / inverse_size[k];
  }
  out[D] = static_cast<R>(constant);
}

PNPDIST_HOST_DEVICE double dot3(const double* a, const double* b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
PNPDIST_HOST_DEVICE void cross3(const double* a, const double* b, double* out) {
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
}

}  // namespace detail

/// The map of the view with vector e (6 numbers, geometry.hpp). From P + t d = D + c u (parallel) and
/// S + t (P - S) = D + c u (fan), c the centred column: c = cross(P - D, d) / cross(u, d), or
/// c = cross(S - D, P - S) / cross(u, P - S).
template <class R>
PNPDIST_HOST_DEVICE JosephDetectorMap<R, 2> joseph_detector_map(const JosephGrid2D& g, const double* e) {
  const double h = 0.5 * static_cast<double>(g.detector_cols - 1);
  double num[2], num0, den[2], den0;  // world (x, y)
  if (g.parallel) {
    num[0] = e[1], num[1] = -e[0], num0 = -(e[2] * e[1] - e[3] * e[0]);
    den[0] = 0, den[1] = 0, den0 = e[4] * e[1] - e[5] * e[0];
  } else {
    const double sd[2] = {e[0] - e[2], e[1] - e[3]};
    num[0] = -sd[1], num[1] = sd[0], num0 = -(e[0] * num[0] + e[1] * num[1]);
    den[0] = -e[5], den[1] = e[4], den0 = -(e[0] * den[0] + e[1] * den[1]);
  }
  // column = c + h = (num + h den) / den.
  const double col[2] = {num[0] + h * den[0], num[1] + h * den[1]};
  const double zero[2] = {0, 0};
  JosephDetectorMap<R, 2> m;
  detail::index_form<R, 2>(g.inverse_size, g.centre, col, num0 + h * den0, m.col);
  detail::index_form<R, 2>(g.inverse_size, g.centre, zero, 0, m.row);
  detail::index_form<R, 2>(g.inverse_size, g.centre, den, den0, m.den);
  return m;
}

/// The map of the view with vector e (12 numbers). By Cramer's rule on P - D = c u + r v - t d (parallel) or
/// S - D = c u + r v - t (P - S) (cone): c = [P - D, v, d] / [u, v, d], r = [u, P - D, d] / [u, v, d], or
/// c = [S - D, v, P - S] / [u, v, P - S], r = [u, S - D, P - S] / [u, v, P - S] ([a, b, c] = a . (b x c)).
template <class R>
PNPDIST_HOST_DEVICE JosephDetectorMap<R, 3> joseph_detector_map(const JosephGrid3D& g, const double* e) {
  const double hc = 0.5 * static_cast<double>(g.detector_cols - 1), hr = 0.5 * static_cast<double>(g.detector_rows - 1);
  const double* u = e + 6;
  const double* v = e + 9;
  double col[3], row[3], den[3], col0, row0, den0;  // world (x, y, z)
  if (g.parallel) {
    detail::cross3(v, e, col);
    detail::cross3(e, u, row);
    col0 = -detail::dot3(e + 3, col), row0 = -detail::dot3(e + 3, row);
    den[0] = den[1] = den[2] = 0, den0 = detail::dot3(u, col);
  } else {
    const double sd[3] = {e[0] - e[3], e[1] - e[4], e[2] - e[5]};
    detail::cross3(sd, v, col);
    detail::cross3(u, sd, row);
    detail::cross3(u, v, den);
    col0 = -detail::dot3(e, col), row0 = -detail::dot3(e, row), den0 = -detail::dot3(e, den);
  }
  for (int k = 0; k < 3; ++k) {
    col[k] += hc * den[k];
    row[k] += hr * den[k];
  }
  JosephDetectorMap<R, 3> m;
  detail::index_form<R, 3>(g.inverse_size, g.centre, col, col0 + hc * den0, m.col);
  detail::index_form<R, 3>(g.inverse_size, g.centre, row, row0 + hr * den0, m.row);
  detail::index_form<R, 3>(g.inverse_size, g.centre, den, den0, m.den);
  return m;
}

/// How far (in detector pixels) the candidates reach beyond the bounding box of the map. It covers the
/// rounding of the map (about 1e-4 pixels) and of a float ray's position q = q0 + s dq (a few float epsilons
/// of the grid size in voxels, times the detector pixels per voxel: about 8 eps x detector pixels, 1e-3 at
/// 2048 columns), with a wide safety factor.
inline constexpr double joseph_candidate_margin = 0.5;

/// The detector pixels [row_lo, row_hi] x [col_lo, col_hi] whose rays can reach a voxel from slice p[a] of
/// axis a (see the file comment): the pixels within joseph_candidate_margin of the bounding box of the map at
/// the corners p[b] +- 1 of the other axes, clipped to the detector; the whole detector where the
/// denominator changes sign (a point source next to the voxel).
struct JosephCandidates {
  index_t row_lo, row_hi, col_lo, col_hi;
};
template <class R, int D>
PNPDIST_HOST_DEVICE JosephCandidates joseph_candidates(const JosephDetectorMap<R, D>& m, const index_t* p, int a,
                                                       index_t rows, index_t cols) {
  R lo[2] = {R(0), R(0)}, hi[2] = {R(0), R(0)};  // (column, row)
  bool positive = false, negative = false;
  for (int corner = 0; corner < (1 << (D - 1)); ++corner) {
    R c = m.col[D], r = m.row[D], d = m.den[D];
    for (int k = 0, bit = 0; k < D; ++k) {
      R x = static_cast<R>(p[k]);
      if (k != a) x += (corner >> bit++) & 1 ? R(1) : R(-1);
      c += m.col[k] * x;
      r += m.row[k] * x;
      d += m.den[k] * x;
    }
    positive = positive || !(d < 0);  // a zero (or NaN) denominator counts as both signs
    negative = negative || !(d > 0);
    const R at[2] = {c / d, r / d};
    for (int j = 0; j < 2; ++j) {
      lo[j] = corner == 0 || at[j] < lo[j] ? at[j] : lo[j];
      hi[j] = corner == 0 || at[j] > hi[j] ? at[j] : hi[j];
    }
  }
  const index_t n[2] = {cols, rows};
  index_t first[2], last[2];
  for (int j = 0; j < 2; ++j) {
    const R top = static_cast<R>(n[j]), margin = static_cast<R>(joseph_candidate_margin);
    if (positive && negative) {
      first[j] = 0, last[j] = n[j] - 1;
    } else if (!(hi[j] >= R(-1) && lo[j] <= top)) {
      first[j] = 1, last[j] = 0;  // off the detector (or not finite)
    } else {
      // [ceil(lo - margin), floor(hi + margin)], lo and hi clipped to [-1, n] first (they may be huge).
      first[j] = -static_cast<index_t>(joseph_floor(margin - (lo[j] > R(-1) ? lo[j] : R(-1))));
      last[j] = static_cast<index_t>(joseph_floor((hi[j] < top ? hi[j] : top) + margin));
      first[j] = first[j] < 0 ? 0 : first[j];
      last[j] = last[j] > n[j] - 1 ? n[j] - 1 : last[j];
    }
  }
  return {first[1], last[1], first[0], last[0]};
}

/// Picks the weight of one element out of the calls of a sample function (sampling.hpp).
template <class T>
struct PickPolicy {
  index_t target;
  T weight = T(0);
  bool hit = false;
  PNPDIST_HOST_DEVICE void operator()(index_t i, T w, int /*lane*/ = 0) {
    if (i == target) weight = w, hit = true;
  }
};

/// The axes of slice p[a] indexed within the slice (stride_a 0), and the index of p in it.
PNPDIST_HOST_DEVICE SampleAxes2D joseph_slice_axes(const JosephGrid2D& g, const index_t* p, int a, index_t& target) {
  target = p[1 - a];
  return SampleAxes2D{0, 1, g.n[1 - a]};
}
PNPDIST_HOST_DEVICE SampleAxes3D joseph_slice_axes(const JosephGrid3D& g, const index_t* p, int a, index_t& target) {
  const int b0 = a == 0 ? 1 : 0, b1 = a == 2 ? 1 : 2;
  target = p[b0] * g.n[b1] + p[b1];
  return SampleAxes3D{0, g.n[b1], 1, g.n[b0], g.n[b1]};
}

/// Back projection of a block of views, one iteration per element of the image / volume (row-major):
/// out = (accumulate ? out : 0) + the terms of the block's rays (file comment). `rays` holds the block's
/// rays with their weighted values (JosephBlockRays), `maps` and `masks` (bit a: some ray of the view has
/// dominant axis a) one entry per view of the block.
template <class T, class Grid, class Ray>
struct JosephGatherAdjoint {
  using R = typename Ray::real_type;
  static constexpr int D = sizeof(Grid::n) / sizeof(Grid::n[0]);
  Grid grid;
  const Ray* rays;  ///< views x pixels
  const JosephDetectorMap<R, D>* maps;
  const unsigned char* masks;
  index_t views;
  T* out;
  bool accumulate;
  /// Host-side only, for launch_cost: the vectors of all views (on the host) and the block's first view.
  const double* vectors = nullptr;
  index_t first_view = 0;

  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    index_t p[D];
    for (index_t k = D - 1, rest = i; k >= 0; --k) {
      p[k] = rest % grid.n[k];
      rest /= grid.n[k];
    }
    const index_t rows = joseph_detector_rows(grid), cols = grid.detector_cols;
    T sum = T(0);
    for (int a = 0; a < D; ++a) {
      index_t target;
      const auto ax = joseph_slice_axes(grid, p, a, target);
      const index_t s = p[a];
      const unsigned char bit = static_cast<unsigned char>(1u << a);
      T acc = T(0);
      for (index_t v = 0; v < views; ++v) {
        if (!(masks[v] & bit)) continue;
        const JosephCandidates c = joseph_candidates(maps[v], p, a, rows, cols);
        const Ray* view_rays = rays + v * rows * cols;
        for (index_t r = c.row_lo; r <= c.row_hi; ++r)
          for (index_t k = c.col_lo; k <= c.col_hi; ++k) {
            const Ray& ray = view_rays[r * cols + k];
            if (ray.axis != a || s < ray.s_lo || s > ray.s_hi) continue;
            PickPolicy<T> pick{target};
            joseph_sample<T>(ax, ray, s, pick);
            if (pick.hit) acc += pick.weight * static_cast<T>(ray.value);
          }
      }
      sum = a == 0 ? acc : sum + acc;
    }
    out[i] = accumulate ? out[i] + sum : sum;
  }

  /// Iterations of a launch: the elements of the image / volume.
  [[nodiscard]] index_t iterations() const {
    index_t n = 1;
    for (const index_t e : grid.n) n *= e;
    return n;
  }

  /// The cost of a launch (joseph/launch_cost.hpp): samples are the taps of the block's rays (each a term
  /// of one element's sum), counted from `vectors` (zero when it is not given); it reads the rays, maps and
  /// masks (and `out` when accumulating) and writes `out`.
  [[nodiscard]] LaunchCost launch_cost(index_t n) const {
    const index_t pixels = joseph_detector_rows(grid) * grid.detector_cols;
    LaunchCost cost;
    cost.bytes_read = bytes_of<Ray>(views * pixels) + bytes_of<JosephDetectorMap<R, D>>(views) +
                      bytes_of<unsigned char>(views) + (accumulate ? bytes_of<T>(n) : 0);
    cost.bytes_written = bytes_of<T>(n);
    cost.samples = vectors != nullptr ? joseph_view_taps<T>(grid, vectors, first_view, views) : 0;
    return cost;
  }
};

}  // namespace pnpdist::ct
