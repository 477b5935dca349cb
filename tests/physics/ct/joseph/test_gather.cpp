// The voxel-driven back projection (physics/ct/joseph/gather.hpp) on the host, the kernel that device
// executors run: its detector map sends every point of a ray to the ray's detector pixel, and
// JosephGatherAdjoint on Serial (in two blocks of views, so that the second block adds to the first) equals
// the Serial projector's back projection to round-off and passes the dot-product test against its forward
// projection; 2D parallel and fan beam, 3D parallel and cone beam, odd and non-square sizes, detector
// offsets, geometries large enough for the grouped paths of adjoint.hpp. Also the candidate counts of the
// benchmark geometries (docs/gpu_model.md), scaled down.
#include <catch2/catch.hpp>

#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tensor/random.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
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
  CHECK(c2.candidates < 2.8);
  CHECK(c2.terms > 1.6);
  CHECK(c3.candidates < 8.0);
  CHECK(c3.terms > 2.7);
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
