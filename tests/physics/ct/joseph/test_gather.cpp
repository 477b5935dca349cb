// The voxel-driven back projection (physics/ct/joseph/gather.hpp) on the host, the kernel that device
// executors run: its detector map sends every point of a ray to the ray's detector pixel, and
// JosephGatherAdjoint on Serial (in two blocks of views, so that the second block adds to the first) equals
// the Serial projector's back projection to round-off and passes the dot-product test against its forward
// projection; 2D parallel and fan beam, 3D parallel and cone beam, odd and non-square sizes, detector
// offsets, geometries large enough for the grouped paths of adjoint.hpp, and random geometries (tilted
// detectors, rays at 45 degrees). No ray with a term is left out of a voxel's candidates (every sample of
// every ray enumerated against joseph_candidates). Also the candidate counts of the benchmark geometries
// (docs/gpu_model.md), scaled down.
#include <catch2/catch.hpp>

#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tensor/random.hpp>

#include <algorithm>
#include <cmath>
#include <array>
#include <numbers>
#include <random>
#include <utility>
#include <vector>

using namespace pnpdist;

namespace {

constexpr double pi = std::numbers::pi;

std::vector<ct::Geometry2D> geometries_2d() {
  return {ct::parallel_beam_2d(ct::uniform_angles(13, 0.1, pi + 0.1), {23, 1.3, 2.1}, {17, 21, 1.0, 1.0}),
          ct::parallel_beam_2d(ct::uniform_angles(7, 0.05, pi + 0.05), {45, 1.0, -3.4}, {40, 33, 1.0, 1.2}),
          ct::parallel_beam_2d(ct::uniform_angles(5, 0.3, pi + 0.3), {61, 0.4, 0.0}, {19, 24, 1.0, 1.0}),
          ct::fan_beam_2d(ct::uniform_angles(11, 0, 2 * pi), {29, 1.7, -1.4}, 40.0, 25.0, {19, 15, 1.2, 0.9}),
          ct::fan_beam_2d(ct::uniform_angles(6, 0.3, 2 * pi + 0.3), {51, 1.3, 0.2}, 120.0, 60.0, {36, 41, 1.0, 1.0}),
          ct::fan_beam_2d(ct::uniform_angles(8, 0.2, 2 * pi + 0.2), {37, 0.6, 5.3}, 30.0, 20.0, {21, 26, 1.0, 1.0})};
}
std::vector<ct::Geometry3D> geometries_3d() {
  return {ct::cone_beam(ct::uniform_angles(9, 0.2, 2 * pi + 0.2), {13, 17, 1.6, 1.9, 0.7, -1.1}, 35.0, 30.0,
                        {9, 11, 13, 1.1, 0.9, 1.0}),
          ct::cone_beam(ct::uniform_angles(5, 0.1, 2 * pi + 0.1), {23, 26, 1.6, 1.6, 0.3, -0.2}, 80.0, 60.0,
                        {18, 20, 23, 1.0, 1.0, 1.0}),
          ct::parallel_beam_3d(ct::uniform_angles(7, 0, pi), {11, 15, 1.1, 0.8, 0.4, 0.3}, {9, 10, 13, 1.0, 1.2, 0.8})};
}

template <class Geometry>
std::vector<double> flat_vectors(const Geometry& g) {
  std::vector<double> out;
  for (const auto& e : g.vectors) out.insert(out.end(), e.begin(), e.end());
  return out;
}

/// The back projection of `y` by JosephGatherAdjoint on Serial, views in two blocks.
template <class T, class Geometry, std::size_t Rank>
Tensor<T, Rank, HostSpace> gather_back_projection(const Geometry& g, const Tensor<T, Rank, HostSpace>& y) {
  using R = ct::joseph_real_t<T>;
  const auto grid = ct::make_joseph_grid(g);
  using Grid = decltype(grid);
  using Ray = decltype(ct::joseph_pixel_ray<R>(grid, nullptr, 0, 0));
  const std::vector<double> vectors = flat_vectors(g);
  const index_t views = g.views(), pixels = y.size() / views;
  std::vector<ct::JosephDetectorMap<R, static_cast<int>(Rank)>> maps;
  for (index_t v = 0; v < views; ++v)
    maps.push_back(ct::joseph_detector_map<R>(grid, vectors.data() + (vectors.size() / g.vectors.size()) * v));
  const std::vector<unsigned char> masks(static_cast<std::size_t>(views), 0xFF);
  std::vector<Ray> rays(static_cast<std::size_t>(views * pixels));
  Tensor<T, Rank, HostSpace> x(g.volume.shape());
  const index_t block = (views + 1) / 2;
  for (index_t begin = 0; begin < views; begin += block) {
    const index_t count = std::min(block, views - begin);
    for_each(
        Serial{}, count * pixels,
        ct::JosephBlockRays<T, Grid, Ray>{grid, vectors.data(), y.data() + begin * pixels, begin, pixels, rays.data()});
    const ct::JosephGatherAdjoint<T, Grid, Ray> op{
        grid, rays.data(), maps.data() + begin, masks.data() + begin, count, x.data(), begin > 0};
    for_each(Serial{}, op.iterations(), op);
  }
  return x;
}

template <class T, std::size_t Rank>
double max_abs(const Tensor<T, Rank, HostSpace>& a) {
  double m = 0;
  for (index_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a.data()[i])));
  return m;
}
template <class T, std::size_t Rank>
double inner(const Tensor<T, Rank, HostSpace>& a, const Tensor<T, Rank, HostSpace>& b) {
  double s = 0;
  for (index_t i = 0; i < a.size(); ++i) s += static_cast<double>(a.data()[i]) * static_cast<double>(b.data()[i]);
  return s;
}

template <class T, class Geometry>
void check_gather(const Geometry& g, double tolerance) {
  const auto op = ct::make_projector<T>(Serial{}, g);
  auto y = make_range_tensor(op);
  fill_uniform(Serial{}, y.view(), 11, 0, T(-1), T(1));
  auto reference = make_domain_tensor(op);
  op.apply_adjoint(y.const_view(), reference.view());
  const auto x = gather_back_projection<T>(g, y);
  double error = 0;
  for (index_t i = 0; i < x.size(); ++i)
    error = std::max(error, std::abs(static_cast<double>(x.data()[i]) - static_cast<double>(reference.data()[i])));
  INFO("largest difference " << error << ", largest value " << max_abs(reference));
  CHECK(max_abs(reference) > 0);
  CHECK(error <= tolerance * max_abs(reference));

  // <A u, y> = <u, G y>, relative to |A u| |y|.
  auto u = make_domain_tensor(op);
  fill_uniform(Serial{}, u.view(), 12, 0, T(-1), T(1));
  auto au = make_range_tensor(op);
  op.apply(u.const_view(), au.view());
  const double scale = std::sqrt(inner(au, au) * inner(y, y));
  INFO("<Au, y> " << inner(au, y) << ", <u, Gy> " << inner(u, x));
  CHECK(std::abs(inner(au, y) - inner(u, x)) <= tolerance * scale);
}

/// Every ray's points map to the ray's detector pixel.
template <class Geometry>
void check_detector_map(const Geometry& g) {
  const auto grid = ct::make_joseph_grid(g);
  const std::vector<double> vectors = flat_vectors(g);
  const std::size_t stride = vectors.size() / g.vectors.size();
  const index_t rows = ct::joseph_detector_rows(grid), cols = grid.detector_cols;
  constexpr int D = sizeof(grid.n) / sizeof(grid.n[0]);
  for (index_t v = 0; v < g.views(); ++v) {
    const auto m = ct::joseph_detector_map<double>(grid, vectors.data() + stride * v);
    for (index_t pixel = 0; pixel < rows * cols; ++pixel) {
      const auto ray = ct::joseph_pixel_ray<double>(grid, vectors.data(), v, pixel);
      for (const index_t s : {index_t{0}, grid.n[ray.axis] / 2, grid.n[ray.axis] - 1}) {
        double p[D];
        p[ray.axis] = static_cast<double>(s);
        for (int k = 0, j = 0; k < D; ++k) {
          if (k == ray.axis) continue;
          if constexpr (D == 2)
            p[k] = ray.q0 + static_cast<double>(s) * ray.dq;
          else
            p[k] = ray.q0[j] + static_cast<double>(s) * ray.dq[j];
          ++j;
        }
        double c = m.col[D], r = m.row[D], d = m.den[D];
        for (int k = 0; k < D; ++k) c += m.col[k] * p[k], r += m.row[k] * p[k], d += m.den[k] * p[k];
        INFO("view " << v << ", pixel " << pixel << ", slice " << s);
        CHECK(c / d == Approx(static_cast<double>(pixel % cols)).margin(1e-7));
        CHECK(r / d == Approx(static_cast<double>(pixel / cols)).margin(1e-7));
      }
    }
  }
}

/// Per (voxel, view): the dominant axes checked; per (voxel, view, axis): the candidate rays and the terms,
/// over every `step`-th voxel (float rays, as the float projector).
struct CandidateCounts {
  double axes = 0, candidates = 0, terms = 0;
};
template <class Geometry>
CandidateCounts count_candidates(const Geometry& g, index_t step) {
  using R = float;
  const auto grid = ct::make_joseph_grid(g);
  using Ray = decltype(ct::joseph_pixel_ray<R>(grid, nullptr, 0, 0));
  constexpr int D = sizeof(grid.n) / sizeof(grid.n[0]);
  const std::vector<double> vectors = flat_vectors(g);
  const std::size_t stride = vectors.size() / g.vectors.size();
  const index_t rows = ct::joseph_detector_rows(grid), cols = grid.detector_cols;
  index_t voxels = 1;
  for (const index_t n : grid.n) voxels *= n;
  double pairs = 0, axes = 0, candidates = 0, terms = 0;
  for (index_t v = 0; v < g.views(); ++v) {
    const auto m = ct::joseph_detector_map<R>(grid, vectors.data() + stride * v);
    std::vector<Ray> rays;
    unsigned mask = 0;
    for (index_t pixel = 0; pixel < rows * cols; ++pixel) {
      rays.push_back(ct::joseph_pixel_ray<R>(grid, vectors.data(), v, pixel));
      mask |= 1u << rays.back().axis;
    }
    for (index_t i = 0; i < voxels; i += step, pairs += 1) {
      index_t p[D];
      for (index_t k = D - 1, rest = i; k >= 0; --k) {
        p[k] = rest % grid.n[k];
        rest /= grid.n[k];
      }
      for (int a = 0; a < D; ++a) {
        if (!(mask & (1u << a))) continue;
        axes += 1;
        index_t target;
        const auto ax = ct::joseph_slice_axes(grid, p, a, target);
        const auto c = ct::joseph_candidates(m, p, a, rows, cols);
        for (index_t r = c.row_lo; r <= c.row_hi; ++r)
          for (index_t k = c.col_lo; k <= c.col_hi; ++k, candidates += 1) {
            const Ray& ray = rays[static_cast<std::size_t>(r * cols + k)];
            if (ray.axis != a || p[a] < ray.s_lo || p[a] > ray.s_hi) continue;
            ct::PickPolicy<float> pick{target};
            ct::joseph_sample<float>(ax, ray, p[a], pick);
            terms += pick.hit ? 1 : 0;
          }
      }
    }
  }
  return {axes / pairs, candidates / axes, terms / axes};
}

}  // namespace

TEST_CASE("joseph gather: candidate rays per voxel at the benchmark geometries (scaled down)", "[ct][gather]") {
  // bench_ct's 2D parallel beam (100 views, one detector column per pixel) and the census' 3D cone beam
  // (50 views, source-origin 500, origin-detector 500, detector pixels of 2 for voxels of 1), smaller.
  const auto c2 =
      count_candidates(ct::parallel_beam_2d(ct::uniform_angles(100, 0, pi), {128, 1.0, 0.0}, {128, 128, 1.0, 1.0}), 1);
  const auto c3 = count_candidates(ct::cone_beam(ct::uniform_angles(50, 0, 2 * pi), {48, 48, 2.0, 2.0, 0, 0}, 500.0,
                                                 500.0, {48, 48, 48, 1.0, 1.0, 1.0}),
                                   5);
  INFO("2D: axes " << c2.axes << ", candidates " << c2.candidates << ", terms " << c2.terms);
  INFO("3D: axes " << c3.axes << ", candidates " << c3.candidates << ", terms " << c3.terms);
  CHECK(c2.axes == 1.0);
  CHECK(c2.candidates < 1.85);  // 2.64 with the half-pixel margin of earlier versions
  CHECK(c2.terms > 1.6);
  CHECK(c2.candidates >= c2.terms);
  CHECK(c3.candidates < 4.4);  // 7.7 with the half-pixel margin
  CHECK(c3.terms > 2.7);
  CHECK(c3.candidates >= c3.terms);
}

namespace {

/// Random geometries of small grids: divergent and parallel rays in all directions, detectors tilted
/// against the rays, and rays at exactly 45 degrees (ties of the dominant axis).
std::vector<ct::Geometry2D> random_geometries_2d(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<ct::Geometry2D> out;
  for (int g = 0; g < 6; ++g) {
    // Square pixels in the first two, so that the diagonal directions tie in index space too.
    const bool square = g < 2;
    const double sy = 0.7 + 0.6 * unit(rng), sx = 0.7 + 0.6 * unit(rng);
    const ct::VolumeGeometry2D volume{static_cast<index_t>(6 + 9 * unit(rng)), static_cast<index_t>(6 + 9 * unit(rng)),
                                      square ? 1.0 : sy, square ? 1.0 : sx};
    const double half = 0.5 * std::hypot(volume.rows * volume.pixel_size_y, volume.cols * volume.pixel_size_x);
    const bool parallel = g % 2 == 0;
    const index_t cols = 9 + static_cast<index_t>(14 * unit(rng));
    ct::Geometry2D geometry{parallel ? ct::Beam::parallel : ct::Beam::divergent, volume, cols, {}};
    for (int v = 0; v < 5; ++v) {
      // Directions at multiples of 45 degrees for the first views (axis ties), random for the rest.
      const double t = v < 2 ? (2 * (g + v) + 1) * pi / 4 : 2 * pi * unit(rng);
      const double c = std::sqrt(0.5);  // exactly equal components on the diagonals
      const double dir[2] = {v < 2 ? (std::cos(t) < 0 ? -c : c) : std::cos(t), v < 2 ? (std::sin(t) < 0 ? -c : c) : std::sin(t)};
      const double tilt = (unit(rng) - 0.5) * 1.2;  // the detector turned by up to 34 degrees
      const double pixel = 0.6 + 1.2 * unit(rng);
      const double u[2] = {pixel * std::cos(t + pi / 2 + tilt), pixel * std::sin(t + pi / 2 + tilt)};
      const double offset = (unit(rng) - 0.5) * 3;
      if (parallel) {
        geometry.vectors.push_back({dir[0], dir[1], offset * u[0], offset * u[1], u[0], u[1]});
      } else {
        const double so = half * (1.2 + 2 * unit(rng)), od = half * (0.2 + 2 * unit(rng));
        geometry.vectors.push_back({-so * dir[0], -so * dir[1], od * dir[0] + offset * u[0], od * dir[1] + offset * u[1],
                                    u[0], u[1]});
      }
    }
    ct::validate(geometry);
    out.push_back(geometry);
  }
  return out;
}

std::vector<ct::Geometry3D> random_geometries_3d(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  const auto normalized = [](std::array<double, 3> a) {
    const double n = std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
    return std::array<double, 3>{a[0] / n, a[1] / n, a[2] / n};
  };
  const auto cross = [](const std::array<double, 3>& a, const std::array<double, 3>& b) {
    return std::array<double, 3>{a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
  };
  std::vector<ct::Geometry3D> out;
  for (int g = 0; g < 6; ++g) {
    const bool parallel = g % 3 == 2;
    // Cubic voxels for the parallel beams, so that the diagonal directions tie in index space too.
    const double sz = 0.7 + 0.6 * unit(rng), sy = 0.7 + 0.6 * unit(rng), sx = 0.7 + 0.6 * unit(rng);
    const ct::VolumeGeometry3D volume{static_cast<index_t>(5 + 6 * unit(rng)), static_cast<index_t>(5 + 6 * unit(rng)),
                                      static_cast<index_t>(5 + 6 * unit(rng)), parallel ? 1.0 : sz,
                                      parallel ? 1.0 : sy, parallel ? 1.0 : sx};
    const double half = 0.5 * std::sqrt(std::pow(volume.slices * volume.voxel_size_z, 2) +
                                        std::pow(volume.rows * volume.voxel_size_y, 2) +
                                        std::pow(volume.cols * volume.voxel_size_x, 2));
    const index_t rows = 7 + static_cast<index_t>(8 * unit(rng)), cols = 7 + static_cast<index_t>(8 * unit(rng));
    ct::Geometry3D geometry{parallel ? ct::Beam::parallel : ct::Beam::divergent, volume, rows, cols, {}};
    for (int v = 0; v < 4; ++v) {
      // 45 degrees in the xy plane, along a space diagonal (ties of all three axes), then random directions.
      std::array<double, 3> dir;
      if (v == 0) {
        const double c = std::sqrt(0.5);
        dir = {g % 2 ? c : -c, g % 4 < 2 ? c : -c, 0};
      } else if (v == 1) {
        dir = normalized({g % 2 ? 1.0 : -1.0, 1.0, g % 3 ? 1.0 : -1.0});
      } else {
        dir = normalized({unit(rng) - 0.5, unit(rng) - 0.5, 0.8 * (unit(rng) - 0.5)});
      }
      // A frame across the rays, turned by random angles about its three axes (tilts up to about 35 degrees).
      std::array<double, 3> a = normalized(cross(dir, std::abs(dir[2]) < 0.9 ? std::array<double, 3>{0, 0, 1}
                                                                              : std::array<double, 3>{1, 0, 0}));
      std::array<double, 3> b = cross(dir, a);
      const double t1 = (unit(rng) - 0.5) * 1.2, t2 = (unit(rng) - 0.5) * 1.2, t3 = unit(rng) * 2 * pi;
      std::array<double, 3> u, w;
      for (int k = 0; k < 3; ++k) {
        u[k] = std::cos(t3) * a[k] + std::sin(t3) * b[k];
        w[k] = -std::sin(t3) * a[k] + std::cos(t3) * b[k];
      }
      for (int k = 0; k < 3; ++k) {
        const double uk = u[k], wk = w[k];
        u[k] = std::cos(t1) * uk + std::sin(t1) * dir[k];
        w[k] = std::cos(t2) * wk + std::sin(t2) * dir[k];
      }
      const double pu = 0.6 + 1.2 * unit(rng), pv = 0.6 + 1.2 * unit(rng);
      const double ou = (unit(rng) - 0.5) * 3, ov = (unit(rng) - 0.5) * 3;
      std::array<double, 12> e{};
      const double so = half * (1.2 + 2 * unit(rng)), od = half * (0.2 + 2 * unit(rng));
      for (int k = 0; k < 3; ++k) {
        e[k] = parallel ? dir[k] : -so * dir[k];
        e[3 + k] = (parallel ? 0.0 : od * dir[k]) + ou * pu * u[k] + ov * pv * w[k];
        e[6 + k] = pu * u[k];
        e[9 + k] = pv * w[k];
      }
      geometry.vectors.push_back(e);
    }
    ct::validate(geometry);
    out.push_back(geometry);
  }
  return out;
}

/// Every term of every ray (each sample's voxels with a nonzero weight, in the ray's real type R) has the
/// ray's pixel among joseph_candidates of its voxel and the ray's axis; returns the terms checked.
template <class R, class Geometry>
index_t check_no_ray_dropped(const Geometry& g) {
  const auto grid = ct::make_joseph_grid(g);
  constexpr int D = sizeof(grid.n) / sizeof(grid.n[0]);
  const std::vector<double> vectors = flat_vectors(g);
  const std::size_t stride = vectors.size() / g.vectors.size();
  const index_t rows = ct::joseph_detector_rows(grid), cols = grid.detector_cols;
  struct Collect {
    std::vector<std::pair<index_t, R>> hits;
    void operator()(index_t i, R w, int = 0) { hits.emplace_back(i, w); }
  };
  index_t terms = 0, missed = 0;
  for (index_t v = 0; v < g.views(); ++v) {
    const auto m = ct::joseph_detector_map<R>(grid, vectors.data() + stride * v);
    for (index_t pixel = 0; pixel < rows * cols; ++pixel) {
      const auto ray = ct::joseph_pixel_ray<R>(grid, vectors.data(), v, pixel);
      const int a = ray.axis;
      for (index_t s = ray.s_lo; s <= ray.s_hi; ++s) {
        index_t p[D], unused;
        p[a] = s;
        const auto ax = ct::joseph_slice_axes(grid, p, a, unused);  // indices within the slice
        Collect collect;
        ct::joseph_sample<R>(ax, ray, s, collect);
        for (const auto& [i, w] : collect.hits) {
          if (w == R(0)) continue;  // a zero term changes no sum
          if constexpr (D == 2) {
            p[1 - a] = i;
          } else {
            const int b0 = a == 0 ? 1 : 0, b1 = a == 2 ? 1 : 2;
            p[b0] = i / grid.n[b1];
            p[b1] = i % grid.n[b1];
          }
          const auto c = ct::joseph_candidates(m, p, a, rows, cols);
          const index_t r = pixel / cols, k = pixel % cols;
          const bool inside = r >= c.row_lo && r <= c.row_hi && k >= c.col_lo && k <= c.col_hi;
          ++terms;
          if (!inside) {
            ++missed;
            UNSCOPED_INFO("view " << v << ", pixel " << pixel << ", slice " << s << ", weight " << w << ", candidates rows "
                                  << c.row_lo << ".." << c.row_hi << ", columns " << c.col_lo << ".." << c.col_hi);
          }
        }
      }
    }
  }
  CHECK(missed == 0);
  return terms;
}

}  // namespace

TEST_CASE("joseph gather: no ray with a term is left out of the candidates (random geometries, tilted detectors, 45 degrees)",
          "[ct][gather]") {
  for (unsigned seed = 1; seed <= 3; ++seed) {
    for (const auto& g : random_geometries_2d(seed)) {
      CHECK(check_no_ray_dropped<float>(g) > 0);
      CHECK(check_no_ray_dropped<double>(g) > 0);
    }
    for (const auto& g : random_geometries_3d(seed)) {
      CHECK(check_no_ray_dropped<float>(g) > 0);
      CHECK(check_no_ray_dropped<double>(g) > 0);
    }
  }
}

TEST_CASE("joseph gather: no ray grazing a voxel boundary is left out of the candidates", "[ct][gather]") {
  // Rays one micro-voxel beside the voxel boundaries: their terms at the far voxel have weights of about
  // 1e-6, and the map puts their pixels a rounding error from the candidate box's edge, so only the
  // rounding margin keeps them in.
  for (const double eps : {1e-6, -1e-6, 3e-7, -1e-7}) {
    const std::vector<double> angles = {0, pi / 2, pi, 0.5 * eps};
    const auto g2 = ct::parallel_beam_2d(angles, {256, 1.0, 0.5 + eps}, {255, 255, 1.0, 1.0});
    const auto g3 = ct::parallel_beam_3d(angles, {40, 64, 1.0, 1.0, 0.5 + eps, 0.5 - eps}, {39, 63, 63, 1.0, 1.0, 1.0});
    const auto c3 = ct::cone_beam(angles, {40, 64, 1.0, 1.0, 0.5 + eps, 0.5 - eps}, 1e5, 1.0, {39, 63, 63, 1.0, 1.0, 1.0});
    CHECK(check_no_ray_dropped<float>(g2) > 0);
    CHECK(check_no_ray_dropped<double>(g2) > 0);
    CHECK(check_no_ray_dropped<float>(g3) > 0);
    CHECK(check_no_ray_dropped<double>(g3) > 0);
    CHECK(check_no_ray_dropped<float>(c3) > 0);
  }
}

TEST_CASE("joseph gather: equals the Serial scatter on random geometries (double: a dropped term shows)", "[ct][gather]") {
  // In double the two back projections differ by round-off only (about 1e-16 relative): any term left out
  // (a weight of 1e-10 or more times the largest value) fails the bound.
  for (const auto& g : random_geometries_2d(7)) check_gather<double>(g, 1e-12);
  for (const auto& g : random_geometries_3d(7)) check_gather<double>(g, 1e-12);
  for (const auto& g : random_geometries_2d(8)) check_gather<float>(g, 1e-5);
  for (const auto& g : random_geometries_3d(8)) check_gather<float>(g, 1e-5);
}

TEST_CASE("joseph gather: the detector map sends the points of every ray to its detector pixel", "[ct][gather]") {
  for (const auto& g : geometries_2d()) check_detector_map(g);
  for (const auto& g : geometries_3d()) check_detector_map(g);
}

TEMPLATE_TEST_CASE("joseph gather: equals the Serial back projection and is the adjoint of the forward projection",
                   "[ct][gather]", float, double) {
  const double tolerance = std::is_same_v<TestType, float> ? 1e-5 : 1e-12;
  for (const auto& g : geometries_2d()) {
    INFO((g.beam == ct::Beam::parallel ? "parallel" : "fan") << " beam, " << g.volume.rows << " x " << g.volume.cols);
    check_gather<TestType>(g, tolerance);
  }
  for (const auto& g : geometries_3d()) {
    INFO((g.beam == ct::Beam::parallel ? "parallel" : "cone")
         << " beam, " << g.volume.slices << " x " << g.volume.rows << " x " << g.volume.cols);
    check_gather<TestType>(g, tolerance);
  }
}
