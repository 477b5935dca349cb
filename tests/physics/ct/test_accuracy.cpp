// Joseph forward projections against the EXACT line integrals of the Shepp-Logan phantoms (ellipses /
// ellipsoids), on refined grids: the relative RMS error must shrink with the grid (and stay below the
// bounds stated in docs/ct.md); limits of the divergent geometries approach the parallel ones.
#include <catch2/catch.hpp>

#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/ct.hpp>

#include <cmath>
#include <numbers>
#include <vector>

#include "support/host_executors.hpp"

using namespace pnpdist;

namespace {

constexpr double pi = std::numbers::pi;

struct Errors {
  double rms;  // ||a - b|| / ||b||
  double max;  // max |a - b| / max |b|
};

template <class A, class B>
Errors relative_errors(const A* a, const B* b, index_t n) {
  double num = 0, den = 0, worst = 0, peak = 0;
  for (index_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    num += d * d;
    den += static_cast<double>(b[i]) * static_cast<double>(b[i]);
    worst = std::max(worst, std::abs(d));
    peak = std::max(peak, std::abs(static_cast<double>(b[i])));
  }
  return {std::sqrt(num / den), worst / peak};
}

const test::FastHostExecutor exec = test::fast_host_executor();

}  // namespace

TEST_CASE("2D forward projections converge to the analytic line integrals", "[ct][accuracy]") {
  const auto shapes = phantom::shepp_logan_2d();
  for (const bool fan : {false, true}) {
    std::vector<Errors> errors;
    for (index_t n : {64, 128, 256}) {
      const ct::VolumeGeometry2D image{n, n, 1, 1};
      const auto g =
          fan ? ct::fan_beam_2d(ct::uniform_angles(90, 0, 2 * pi), {2 * n, 1.0, 0.0}, 2.0 * n, 1.0 * n, image)
              : ct::parallel_beam_2d(ct::uniform_angles(90, 0, pi), {n + n / 2, 1.0, 0.0}, image);
      const double scale = phantom::fitted_scale(image);
      const auto x = phantom::rasterize<float>(exec, shapes, image, scale, 8);
      const auto A = ct::make_projector<float>(exec, g);
      Tensor<float, 2> y(A.range_shape());
      A.apply(x.const_view(), y.view());
      const auto exact = phantom::analytic_projections(shapes, scale, g);
      errors.push_back(relative_errors(y.data(), exact.data(), y.size()));
      INFO("fan " << fan << " n " << n << " rms " << errors.back().rms << " max " << errors.back().max);
      CHECK(true);
    }
    CHECK(errors[1].rms < 0.6 * errors[0].rms);
    CHECK(errors[2].rms < 0.6 * errors[1].rms);
    CHECK(errors[2].max < errors[1].max);
    CHECK(errors[1].max < errors[0].max);
    CHECK(errors[2].rms < 0.016);  // measured 0.0145 (parallel), 0.0127 (fan)
    CHECK(errors[2].max < 0.16);
  }
}

TEST_CASE("3D cone-beam forward projections converge to the analytic line integrals", "[ct][accuracy]") {
  const auto shapes = phantom::shepp_logan_3d();
  std::vector<Errors> errors;
  for (index_t n : {32, 64, 128}) {
    const ct::VolumeGeometry3D volume{n, n, n, 1, 1, 1};
    const auto g =
        ct::cone_beam(ct::uniform_angles(n / 2, 0, 2 * pi), {n, n, 2.0, 2.0, 0, 0}, 4.0 * n, 4.0 * n, volume);
    const double scale = phantom::fitted_scale(volume);
    const auto x = phantom::rasterize<float>(exec, shapes, volume, scale, 2);
    const auto A = ct::make_projector<float>(exec, g);
    Tensor<float, 3> y(A.range_shape());
    A.apply(x.const_view(), y.view());
    const auto exact = phantom::analytic_projections(shapes, scale, g);
    errors.push_back(relative_errors(y.data(), exact.data(), y.size()));
  }
  CHECK(errors[1].rms < 0.7 * errors[0].rms);
  CHECK(errors[2].rms < 0.7 * errors[1].rms);
  CHECK(errors[2].max < errors[0].max);
  CHECK(errors[2].rms < 0.045);  // measured 0.037
  CHECK(errors[2].max < 0.22);
}

TEST_CASE("A cone beam with a tiny cone angle matches a parallel beam", "[ct][accuracy]") {
  const index_t n = 48;
  const ct::VolumeGeometry3D volume{n, n, n, 1, 1, 1};
  const auto angles = ct::uniform_angles(12, 0.1, pi + 0.1);
  const auto cone = ct::cone_beam(angles, {n, n + 5, 2.0, 2.0, 0, 0}, 1e6, 1e6, volume);
  const auto par = ct::parallel_beam_3d(angles, {n, n + 5, 1.0, 1.0, 0, 0}, volume);
  const auto x = phantom::rasterize<float>(exec, phantom::shepp_logan_3d(), volume, phantom::fitted_scale(volume), 1);
  const auto A = ct::make_projector<float>(exec, cone);
  const auto B = ct::make_projector<float>(exec, par);
  Tensor<float, 3> ya(A.range_shape()), yb(B.range_shape());
  A.apply(x.const_view(), ya.view());
  B.apply(x.const_view(), yb.view());
  const Errors e = relative_errors(ya.data(), yb.data(), ya.size());
  CHECK(e.rms < 1e-3);
  CHECK(e.max < 1e-3);
}

TEST_CASE("A fan beam with huge distances matches a parallel beam", "[ct][accuracy]") {
  const index_t n = 96;
  const ct::VolumeGeometry2D image{n, n, 1, 1};
  const auto angles = ct::uniform_angles(30, 0.05, 2 * pi + 0.05);
  const auto fan = ct::fan_beam_2d(angles, {n + 9, 3.0, 0.0}, 1e6, 2e6, image);
  const auto par = ct::parallel_beam_2d(angles, {n + 9, 1.0, 0.0}, image);
  const auto x = phantom::rasterize<float>(exec, phantom::shepp_logan_2d(), image, phantom::fitted_scale(image), 2);
  const auto A = ct::make_projector<float>(exec, fan);
  const auto B = ct::make_projector<float>(exec, par);
  Tensor<float, 2> ya(A.range_shape()), yb(B.range_shape());
  A.apply(x.const_view(), ya.view());
  B.apply(x.const_view(), yb.view());
  const Errors e = relative_errors(ya.data(), yb.data(), ya.size());
  CHECK(e.rms < 1e-3);
  CHECK(e.max < 1e-3);
}
