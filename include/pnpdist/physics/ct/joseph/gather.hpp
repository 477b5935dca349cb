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
/// inside the square (2D: segment) [p[b] - 1, p[b] + 1) around p. The candidates are the detector pixels
/// whose rays can do so, found through JosephDetectorMap (a projective map from index space to the
/// detector, set up in double and stored in R), and each is then checked with the exact weight function.
/// Why no ray that gives a term is left out (joseph_candidates):
///   - The computed position of a ray (R: q0 + s dq) is within e of the exact line through its pixel's
///     centre, e = 16 x 2^-24 x (N + 1) voxels for a grid of largest side N (the float rounding of q0, dq
///     and of the sum is at most 2^-24 (3 n_a + 2 n_b + 1), the double set-up far below), so a ray with a
///     term crosses the square of half-width 1 + e exactly; the map is evaluated at the corners of the
///     square of half-width reach = 1 + 2 e (the second e covers the rounding of the corner coordinates).
///   - The map's column (row) is a ratio of affine functions with a denominator of one sign over the
///     square, so its extremes over the square are at the corners: the pixel of such a ray lies in the
///     bounding box of the exact corner values.
///   - The computed corner values differ from the exact ones by at most the margin of joseph_candidates,
///     twice a first-order bound of the float rounding of the forms (coefficients and sums: at most
///     2 D + 8 roundings of terms bounded by the per-view constants of the map) and of the quotient,
///     divided by the smallest |denominator| at the corners less its own error bound; where that is not
///     positive (a source next to the voxel) the whole detector is the candidate set.
/// The margin is 3-6e-3 pixels at the 512^3 cone benchmark (it was half a pixel, a fixed guess, before), so
/// a dimension has about w candidates, w the footprint's width in pixels, instead of w + 1.

#include <cmath>
#include <cstdint>

#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/ct/joseph/launch_cost.hpp"
#include "pnpdist/physics/ct/joseph/layout.hpp"
#include "pnpdist/physics/ct/joseph/rays.hpp"
#include "pnpdist/physics/ct/joseph/sampling.hpp"

namespace pnpdist::ct {

/// Per view: the detector position (continuous column and row, in detector pixels from pixel 0) of the line
/// through an index-space point p (parallel beam: along the rays; divergent: from the source):
///     column = (col . p + col[D]) / (den . p + den[D]),   row = (row . p + row[D]) / (den . p + den[D]),
/// D = 2 (index axes (y, x); row is 0) or 3 (axes (z, y, x)); and the bounds joseph_candidates needs: the
/// footprint's half-width and the rounding bounds of the forms (file comment).
template <class R, int D>
struct JosephDetectorMap {
  R col[D + 1];
  R row[D + 1];
  R den[D + 1];
  R reach;       ///< half-width of the footprint in voxels, 1 + 2 e (file comment)
  R err_num[2];  ///< (column, row): rounding bound of numerator + |value| x denominator, over the grid
  R err_den;     ///< rounding bound of the denominator over the grid
  R err_abs[2];  ///< (column, row): rounding of the quotient and of the range ends, in detector pixels
};

namespace detail {

/// A linear form of world points, w . P + w0, as a form of index-space points (axis k of the index space is
/// world axis D - 1 - k: (y, x) or (z, y, x)), in double.
template <int D>
PNPDIST_HOST_DEVICE void index_form(const double* inverse_size, const double* centre, const double* w, double w0,
                                    double* out) {
  double constant = w0;
  for (int k = 0; k < D; ++k) {
    const double world = w[D - 1 - k];
    out[k] = world / inverse_size[k];
    constant -= world * centre[k] / inverse_size[k];
  }
  out[D] = constant;
}

/// sum_k |f_k| (n_k + 1) + |f_D|: a bound of |f . x + f_D| and of its terms at every footprint corner x.
template <int D>
PNPDIST_HOST_DEVICE double form_magnitude(const index_t* n, const double* f) {
  double m = f[D] < 0 ? -f[D] : f[D];
  for (int k = 0; k < D; ++k) m += (f[k] < 0 ? -f[k] : f[k]) * (static_cast<double>(n[k]) + 1);
  return m;
}

/// The map from its forms in double (index space): the forms rounded to R and the bounds of the file comment.
template <class R, int D>
PNPDIST_HOST_DEVICE JosephDetectorMap<R, D> finish_detector_map(const index_t* n, index_t rows, index_t cols,
                                                                 const double* col, const double* row,
                                                                 const double* den) {
  JosephDetectorMap<R, D> m;
  for (int k = 0; k <= D; ++k) {
    m.col[k] = static_cast<R>(col[k]);
    m.row[k] = static_cast<R>(row[k]);
    m.den[k] = static_cast<R>(den[k]);
  }
  // Float rounding (2^-24) for R = float and R = double alike: for double it is far above the rounding.
  const double u = 1.0 / 16777216.0;
  index_t largest = 0;
  for (int k = 0; k < D; ++k) largest = n[k] > largest ? n[k] : largest;
  const double e = 16 * u * (static_cast<double>(largest) + 1);
  m.reach = static_cast<R>(1 + 2 * e);
  const double gamma = 2 * (2 * D + 8) * u;  // twice the bound of 2 D + 8 roundings
  const double a_den = form_magnitude<D>(n, den);
  const double extent[2] = {static_cast<double>(cols) + 2, static_cast<double>(rows) + 2};
  const double a_num[2] = {form_magnitude<D>(n, col), form_magnitude<D>(n, row)};
  for (int j = 0; j < 2; ++j) {
    m.err_num[j] = static_cast<R>(gamma * (a_num[j] + extent[j] * a_den));
    m.err_abs[j] = static_cast<R>(8 * u * extent[j]);
  }
  m.err_den = static_cast<R>(gamma * a_den);
  return m;
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
  double fc[3], fr[3], fd[3];
  detail::index_form<2>(g.inverse_size, g.centre, col, num0 + h * den0, fc);
  detail::index_form<2>(g.inverse_size, g.centre, zero, 0, fr);
  detail::index_form<2>(g.inverse_size, g.centre, den, den0, fd);
  return detail::finish_detector_map<R, 2>(g.n, 1, g.detector_cols, fc, fr, fd);
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
  double fc[4], fr[4], fd[4];
  detail::index_form<3>(g.inverse_size, g.centre, col, col0 + hc * den0, fc);
  detail::index_form<3>(g.inverse_size, g.centre, row, row0 + hr * den0, fr);
  detail::index_form<3>(g.inverse_size, g.centre, den, den0, fd);
  return detail::finish_detector_map<R, 3>(g.n, g.detector_rows, g.detector_cols, fc, fr, fd);
}

/// The detector pixels [row_lo, row_hi] x [col_lo, col_hi] whose rays can reach a voxel from slice p[a] of
/// axis a (see the file comment): the bounding box of the map at the corners p[b] +- reach of the other
/// axes, widened by the rounding margin, clipped to the detector; the whole detector (along a dimension)
/// where the denominator may change sign over the footprint or the margin is not below the detector's size.
struct JosephCandidates {
  index_t row_lo, row_hi, col_lo, col_hi;
};
template <class R, int D>
PNPDIST_HOST_DEVICE JosephCandidates joseph_candidates(const JosephDetectorMap<R, D>& m, const index_t* p, int a,
                                                       index_t rows, index_t cols) {
  // The forms at p, then their steps to the corners along the other axes (b0 < b1).
  R c0 = m.col[D], r0 = m.row[D], d0 = m.den[D];
  R hc[2] = {R(0), R(0)}, hr[2] = {R(0), R(0)}, hd[2] = {R(0), R(0)};
  for (int k = 0, j = 0; k < D; ++k) {
    const R x = static_cast<R>(p[k]);
    c0 += m.col[k] * x;
    r0 += m.row[k] * x;
    d0 += m.den[k] * x;
    if (k != a) {
      hc[j] = m.col[k] * m.reach;
      hr[j] = m.row[k] * m.reach;
      hd[j] = m.den[k] * m.reach;
      ++j;
    }
  }
  R lo[2] = {R(0), R(0)}, hi[2] = {R(0), R(0)};  // (column, row)
  R smallest = R(0);                             // the smallest |denominator| at the corners
  bool positive = false, negative = false;
  for (int corner = 0; corner < (1 << (D - 1)); ++corner) {
    R c = c0, r = r0, d = d0;
    for (int j = 0; j < D - 1; ++j) {
      const bool up = (corner >> j) & 1;
      c += up ? hc[j] : -hc[j];
      r += up ? hr[j] : -hr[j];
      d += up ? hd[j] : -hd[j];
    }
    positive = positive || !(d < 0);  // a zero (or NaN) denominator counts as both signs
    negative = negative || !(d > 0);
    const R size = d < 0 ? -d : d;
    smallest = corner == 0 || size < smallest ? size : smallest;
    const R at[2] = {c / d, r / d};
    for (int j = 0; j < 2; ++j) {
      lo[j] = corner == 0 || at[j] < lo[j] ? at[j] : lo[j];
      hi[j] = corner == 0 || at[j] > hi[j] ? at[j] : hi[j];
    }
  }
  const bool whole = (positive && negative) || !(smallest > m.err_den);
  const R slack = whole ? R(0) : smallest - m.err_den;
  const index_t n[2] = {cols, rows};
  index_t first[2], last[2];
  for (int j = 0; j < 2; ++j) {
    const R top = static_cast<R>(n[j]);
    const R margin = whole ? top : m.err_num[j] / slack + m.err_abs[j];
    if (!(margin < top)) {
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

/// The candidate searches of a gather launch (one per element, view of the block and dominant axis of the
/// view) and the candidate rays they check (the sizes of the joseph_candidates boxes), counted on the host
/// over the elements i = 0, stride, 2 stride, ... of the image / volume and scaled to all of them (exact for
/// stride 1). `maps` and `masks` must be readable on the host.
struct JosephSearchCounts {
  std::uint64_t searches = 0;
  std::uint64_t checks = 0;
};
template <class Grid, class R, int D>
JosephSearchCounts joseph_gather_search_counts(const Grid& grid, const JosephDetectorMap<R, D>* maps,
                                               const unsigned char* masks, index_t views, index_t stride) {
  const index_t rows = joseph_detector_rows(grid), cols = grid.detector_cols;
  index_t n = 1;
  for (const index_t e : grid.n) n *= e;
  std::uint64_t searches = 0, checks = 0, elements = 0;
  for (index_t i = 0; i < n; i += stride, ++elements) {
    index_t p[D];
    for (index_t k = D - 1, rest = i; k >= 0; --k) {
      p[k] = rest % grid.n[k];
      rest /= grid.n[k];
    }
    for (int a = 0; a < D; ++a)
      for (index_t v = 0; v < views; ++v) {
        if (!(masks[v] & (1u << a))) continue;
        const JosephCandidates c = joseph_candidates(maps[v], p, a, rows, cols);
        ++searches;
        if (c.row_lo <= c.row_hi && c.col_lo <= c.col_hi)
          checks += static_cast<std::uint64_t>((c.row_hi - c.row_lo + 1) * (c.col_hi - c.col_lo + 1));
      }
  }
  if (stride == 1) return {searches, checks};
  const double scale = static_cast<double>(n) / static_cast<double>(elements);
  return {static_cast<std::uint64_t>(std::llround(static_cast<double>(searches) * scale)),
          static_cast<std::uint64_t>(std::llround(static_cast<double>(checks) * scale))};
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
  /// of one element's sum), counted from `vectors` (zero when it is not given); searches and checks are
  /// joseph_gather_search_counts over at most about 2^20 (element, view) pairs (every element when the
  /// launch has fewer); it reads the rays, maps and masks (and `out` when accumulating) and writes `out`.
  [[nodiscard]] LaunchCost launch_cost(index_t n) const {
    const index_t pixels = joseph_detector_rows(grid) * grid.detector_cols;
    LaunchCost cost;
    cost.bytes_read = bytes_of<Ray>(views * pixels) + bytes_of<JosephDetectorMap<R, D>>(views) +
                      bytes_of<unsigned char>(views) + (accumulate ? bytes_of<T>(n) : 0);
    cost.bytes_written = bytes_of<T>(n);
    cost.samples = vectors != nullptr ? joseph_view_taps<T>(grid, vectors, first_view, views) : 0;
    const index_t budget = index_t{1} << 20, pairs = n * views;
    // An odd stride, so that the sampled elements run through every column of the grid's power-of-two rows.
    const JosephSearchCounts counts =
        joseph_gather_search_counts(grid, maps, masks, views, pairs > budget ? ((pairs + budget - 1) / budget) | 1 : 1);
    cost.searches = counts.searches;
    cost.checks = counts.checks;
    return cost;
  }
};

}  // namespace pnpdist::ct
