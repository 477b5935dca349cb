// Parker weights: the two measurements of every ray of a short parallel scan weigh 1 together (times the
// fdk() scale); a Parker-weighted short-scan FDK of the walnut-like phantom comes within 1 dB of the
// full-scan FDK's PSNR and within 30 dB of the full-scan FDK itself, the unweighted short scan 6 dB further; full scans
// and too-short scans are refused.
#include <catch2/catch.hpp>

#include "support/host_executors.hpp"

#include <pnpdist/metrics/psnr.hpp>
#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/physics/ct/parker.hpp>
#include <pnpdist/tensor/reductions.hpp>

#include <cmath>
#include <numbers>
#include <vector>

using namespace pnpdist;

namespace {

constexpr double pi = std::numbers::pi;

const test::FastHostExecutor exec = test::fast_host_executor();

std::vector<double> angles(index_t count, double step) {
  std::vector<double> a;
  for (index_t k = 0; k < count; ++k) a.push_back(static_cast<double>(k) * step);
  return a;
}

}  // namespace

TEST_CASE("Parker weights of conjugate parallel rays sum to one", "[ct][parker]") {
  const double step = pi / 60;  // 3 degrees; 180 + 2 x 15 degrees in 71 views
  const index_t views = 71, cols = 9;
  const ct::VolumeGeometry3D volume{4, 4, 4, 1, 1, 1};
  const auto g = ct::parallel_beam_3d(angles(views, step), ct::Detector3D{2, cols, 1.0, 1.0, 0.0, 0.0}, volume);
  const std::vector<double> w = ct::parker_weights(g);
  const double scale = static_cast<double>(views) * step / pi;
  for (index_t k = 0; k < views; ++k)
    for (index_t c = 0; c < cols; ++c) {
      const double own = w[static_cast<std::size_t>(k * cols + c)] / scale;
      REQUIRE(own >= 0.0);
      REQUIRE(own <= 1.0 + 1e-12);
      if (k + 60 < views)  // the conjugate: 180 degrees later, mirrored column
        REQUIRE(own + w[static_cast<std::size_t>((k + 60) * cols + (cols - 1 - c))] / scale ==
                Approx(1.0).margin(1e-9));
      else if (k >= 10 && k < 61)  // measured once: 30 .. 180 degrees
        REQUIRE(own == Approx(1.0));
    }
  CHECK_THROWS_AS(ct::parker_weights(ct::parallel_beam_3d(angles(120, pi / 60), {2, cols, 1.0, 1.0, 0.0, 0.0}, volume)),
                  invalid_argument);  // 360 degrees
  CHECK_THROWS_AS(ct::parker_weights(ct::parallel_beam_3d(angles(50, pi / 60), {2, cols, 1.0, 1.0, 0.0, 0.0}, volume)),
                  invalid_argument);  // less than 180 degrees
}

TEST_CASE("Parker-weighted short-scan FDK is close to the full scan", "[ct][parker]") {
  const index_t n = 32;
  const ct::VolumeGeometry3D volume{n, n, n, 1.0 / n, 1.0 / n, 1.0 / n};
  const auto truth = phantom::rasterize<float>(exec, phantom::walnut(0), volume, phantom::fitted_scale(volume));
  const double pixel = 2.0 / n, step = 2 * pi / 180;
  const ct::Detector3D detector{24, 64, pixel, pixel, 0.0, 0.0};
  // Half fan angle atan(2 / 4) = 26.6 degrees: a short scan of 180 + 2 x 26.6 degrees, in 2-degree steps.
  const index_t short_views = static_cast<index_t>(std::ceil((pi + 2 * std::atan(0.5)) / step)) + 1;
  const auto reconstruct = [&](const ct::Geometry3D& g, bool parker) {
    Tensor<float, 3> y(g.projection_shape());
    ct::JosephProjector3D<float, std::remove_const_t<decltype(exec)>>(exec, g).apply(truth.const_view(), y.view());
    if (parker) ct::apply_parker_weights(exec, g, y.view());
    Tensor<float, 3> x(volume.shape());
    ct::fdk<float>(exec, g, y.const_view(), x.view());
    return x;
  };
  const Tensor<float, 3> full = reconstruct(ct::cone_beam(angles(180, step), detector, 2.0, 2.0, volume), false);
  const auto short_scan = ct::cone_beam(angles(short_views, step), detector, 2.0, 2.0, volume);
  const Tensor<float, 3> parker = reconstruct(short_scan, true);
  const Tensor<float, 3> unweighted = reconstruct(short_scan, false);
  const double full_truth = psnr(exec, full.const_view(), truth.const_view(), 1.5);
  const double parker_truth = psnr(exec, parker.const_view(), truth.const_view(), 1.5);
  const double parker_full = psnr(exec, parker.const_view(), full.const_view(), 1.5);
  const double unweighted_full = psnr(exec, unweighted.const_view(), full.const_view(), 1.5);
  INFO("PSNR against the truth: full scan "
       << full_truth << " dB, Parker short scan " << parker_truth << " dB; against the full scan: Parker "
       << parker_full << " dB, unweighted " << unweighted_full << " dB (" << short_views << " views)");
  CHECK(parker_truth > full_truth - 1.0);
  CHECK(parker_full > 30.0);
  CHECK(unweighted_full < parker_full - 6.0);
}
