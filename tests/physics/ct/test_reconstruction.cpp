// FBP / FDK from the EXACT projections of the phantoms (no inverse crime): a constant disc / ball is
// reconstructed to its value, the Shepp-Logan phantoms reach the PSNR stated in docs/ct.md.
#include <catch2/catch.hpp>

#include "support/host_executors.hpp"

#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/ct.hpp>

#include <cmath>
#include <numbers>
#include <vector>

using namespace pnpdist;

namespace {

constexpr double pi = std::numbers::pi;

const test::FastHostExecutor exec = test::fast_host_executor();

template <std::size_t R>
Tensor<float, R> to_float(const Tensor<double, R>& a) {
  Tensor<float, R> out(a.extents());
  for (index_t i = 0; i < a.size(); ++i) out.data()[i] = static_cast<float>(a.data()[i]);
  return out;
}

double psnr(const float* a, const float* b, index_t n) {  // data range 1
  double s = 0;
  for (index_t i = 0; i < n; ++i) s += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return 10 * std::log10(1.0 / (s / static_cast<double>(n)));
}

// Mean of an (H, W) image over the disc of radius `radius` (in pixels) at the centre.
double central_mean(const float* image, index_t rows, index_t cols, double radius) {
  double sum = 0;
  index_t count = 0;
  for (index_t y = 0; y < rows; ++y)
    for (index_t x = 0; x < cols; ++x) {
      const double dy = static_cast<double>(y) - 0.5 * static_cast<double>(rows - 1);
      const double dx = static_cast<double>(x) - 0.5 * static_cast<double>(cols - 1);
      if (dx * dx + dy * dy <= radius * radius) {
        sum += image[y * cols + x];
        ++count;
      }
    }
  return sum / static_cast<double>(count);
}

}  // namespace

TEST_CASE("FBP reconstructs a constant disc to its value", "[ct][fbp]") {
  const index_t n = 128;
  const ct::VolumeGeometry2D image{n, n, 1, 1};
  const std::vector<phantom::Ellipse> disc = {{0.7, 0.8, 0.8, 0, 0, 0}};
  const double scale = phantom::fitted_scale(image);
  for (const auto filter : {ct::Filter::ram_lak, ct::Filter::shepp_logan, ct::Filter::cosine, ct::Filter::hann}) {
    for (const bool fan : {false, true}) {
      const auto g =
          fan ? ct::fan_beam_2d(ct::uniform_angles(256, 0, 2 * pi), {2 * n, 1.0, 0.0}, 2.0 * n, 1.0 * n, image)
              : ct::parallel_beam_2d(ct::uniform_angles(256, 0, pi), {n + n / 2, 1.0, 0.0}, image);
      const auto sinogram = to_float(phantom::analytic_projections(disc, scale, g));
      Tensor<float, 2> rec(image.shape());
      ct::fbp<float>(exec, g, sinogram.const_view(), rec.view(), filter);
      INFO("filter " << static_cast<int>(filter) << " fan " << fan);
      CHECK(central_mean(rec.data(), n, n, 0.6 * 0.5 * n) == Approx(0.7).epsilon(0.01));
      CHECK(std::abs(rec(n / 2, 4)) < 0.02);  // outside the disc, inside the field of view
    }
  }
}

TEST_CASE("FBP of the 2D Shepp-Logan phantom reaches the stated PSNR", "[ct][fbp]") {
  const index_t n = 256;
  const ct::VolumeGeometry2D image{n, n, 1, 1};
  const auto shapes = phantom::shepp_logan_2d();
  const double scale = phantom::fitted_scale(image);
  const auto truth = phantom::rasterize<float>(exec, shapes, image, scale, 8);
  Tensor<float, 2> rec(image.shape());
  const auto par = ct::parallel_beam_2d(ct::uniform_angles(2 * n, 0, pi), {n + n / 2, 1.0, 0.0}, image);
  ct::fbp<float>(exec, par, to_float(phantom::analytic_projections(shapes, scale, par)).const_view(), rec.view());
  CHECK(psnr(rec.data(), truth.data(), rec.size()) > 34.0);  // measured 34.6 dB (Ram-Lak)
  ct::fbp<float>(exec, par, to_float(phantom::analytic_projections(shapes, scale, par)).const_view(), rec.view(),
                 ct::Filter::hann);
  CHECK(psnr(rec.data(), truth.data(), rec.size()) > 28.5);  // measured 29.2 dB (Hann: smoother, blurs the edges)
  const auto fan = ct::fan_beam_2d(ct::uniform_angles(2 * n, 0, 2 * pi), {2 * n, 1.0, 0.0}, 2.0 * n, 1.0 * n, image);
  ct::fbp<float>(exec, fan, to_float(phantom::analytic_projections(shapes, scale, fan)).const_view(), rec.view());
  CHECK(psnr(rec.data(), truth.data(), rec.size()) > 34.0);  // measured 34.7 dB
}

TEST_CASE("FDK of the 3D Shepp-Logan phantom reaches the stated PSNR and a ball its value", "[ct][fdk]") {
  const index_t n = 128;
  const ct::VolumeGeometry3D volume{n, n, n, 1, 1, 1};
  const double scale = phantom::fitted_scale(volume);
  const auto g = ct::cone_beam(ct::uniform_angles(n, 0, 2 * pi), {n, n, 2.0, 2.0, 0, 0}, 4.0 * n, 4.0 * n, volume);
  const auto shapes = phantom::shepp_logan_3d();
  const auto truth = phantom::rasterize<float>(exec, shapes, volume, scale, 2);
  Tensor<float, 3> rec(volume.shape());
  ct::fdk<float>(exec, g, to_float(phantom::analytic_projections(shapes, scale, g)).const_view(), rec.view(),
                 ct::Filter::hann);
  CHECK(psnr(rec.data(), truth.data(), rec.size()) > 26.5);  // measured 27.1 dB
  const std::vector<phantom::Ellipsoid> ball = {{0.7, 0.8, 0.8, 0.8, 0, 0, 0, 0}};
  ct::fdk<float>(exec, g, to_float(phantom::analytic_projections(ball, scale, g)).const_view(), rec.view());
  // The central slice (FDK is exact there for a circular orbit, up to discretization).
  CHECK(central_mean(rec.data() + (n / 2) * n * n, n, n, 0.6 * 0.5 * n) == Approx(0.7).epsilon(0.01));
}
