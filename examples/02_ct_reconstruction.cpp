// Example 02: classical 2D CT reconstruction of the modified Shepp-Logan phantom (the tomography benchmark's
// problem at a CPU size).
//
// The phantom (N x N pixels covering the unit square) is projected in parallel beam over `views` angles in
// [0, 180) onto N detector bins by Joseph projectors, one per contiguous block of views (`operators` blocks:
// 100 views in 8 operators are 13,13,13,13,12,12,12,12), stacked as a StackedPhysics. Each block's
// measurement gets seeded Gaussian noise from its own stream. The example checks that the stacked gradient
// equals the single full-range projector's, then reconstructs by FBP (Ram-Lak and Hann filters), SIRT and
// CGLS, and prints the PSNR of each against the phantom.
//
//   02_ct_reconstruction [--size 256] [--views 100] [--operators 8] [--noise 0.01] [--sirt 100] [--cgls 20]
//                        [--seed 0] [--threads 0]

#include <pnpdist/pnp.hpp>

#include "example_options.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

namespace {

struct Options {
  pnpdist::index_t size = 256;
  pnpdist::index_t views = 100;
  pnpdist::index_t operators = 8;
  double noise = 0.01;
  pnpdist::index_t sirt_iterations = 100;
  pnpdist::index_t cgls_iterations = 20;
  std::uint64_t seed = 0;
  int threads = 0;
};

Options parse(int argc, char** argv) {
  Options o;
  constexpr pnpdist::index_t any = std::numeric_limits<pnpdist::index_t>::max();
  pnpdist::index_t seed = 0, threads = 0;
  pnpdist_examples::OptionTable table(
      "02_ct_reconstruction: FBP, SIRT and CGLS of the 2D Shepp-Logan phantom with pnpdist's Joseph projectors.");
  table.integer("--size", "image side in pixels, also the number of detector bins", o.size, 8);
  table.integer("--views", "projection angles, uniform in [0, 180) degrees", o.views, 1, any, "V");
  table.integer("--operators", "projectors (contiguous blocks of views) in the stack, at most --views", o.operators, 1,
                any, "K");
  table.number("--noise",
               "standard deviation of the Gaussian noise on the sinogram (line integrals of a phantom\n"
               "of values <= 1 over the unit square)",
               o.noise, 0.0, 1e30, "SIGMA");
  table.integer("--sirt", "SIRT iterations", o.sirt_iterations, 0, any, "K");
  table.integer("--cgls", "CGLS iterations", o.cgls_iterations, 0, any, "K");
  table.integer("--seed", "seed of the noise streams (operator i uses stream i)", seed, 0,
                std::numeric_limits<pnpdist::index_t>::max(), "S");
  table.integer("--threads", "OpenMP threads, 0 = all cores (ignored without OpenMP)", threads, 0, 4096, "T");
  table.parse(argc, argv);
  pnpdist::require(o.operators <= o.views, "--operators must be in [1, views]");
  o.seed = static_cast<std::uint64_t>(seed);
  o.threads = static_cast<int>(threads);
  return o;
}

#if defined(PNPDIST_HAS_OPENMP)
using Exec = pnpdist::OpenMP;
Exec make_executor(int threads) { return Exec{threads}; }
#else
using Exec = pnpdist::Serial;
Exec make_executor(int) { return Exec{}; }
#endif

/// PSNR of x against the truth, peak = max(truth).
template <class X>
double psnr(const Exec& exec, const X& x, const pnpdist::Tensor<float, 2>& truth) {
  pnpdist::Tensor<float, 2> difference = pnpdist::clone(truth.view());
  pnpdist::axpby(exec, 1.0f, x, -1.0f, difference.view());
  const double mse = pnpdist::squared_norm(exec, difference.const_view()) / static_cast<double>(truth.size());
  const double peak = pnpdist::max_value(exec, truth.const_view());
  return 10.0 * std::log10(peak * peak / mse);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run(const Options& o) {
  namespace ct = pnpdist::ct;
  const Exec exec = make_executor(o.threads);
  const double pixel = 1.0 / static_cast<double>(o.size);
  const ct::VolumeGeometry2D volume{o.size, o.size, pixel, pixel};
  const ct::Geometry2D geometry = ct::parallel_beam_2d(ct::uniform_angles(o.views, 0.0, std::numbers::pi),
                                                       ct::Detector2D{o.size, pixel, 0.0}, volume);
  std::printf("problem: Shepp-Logan %lld x %lld, %lld views in %lld operators, %lld detector bins, noise %.3g, %s\n",
              static_cast<long long>(o.size), static_cast<long long>(o.size), static_cast<long long>(o.views),
              static_cast<long long>(o.operators), static_cast<long long>(o.size), o.noise, Exec::name);

  const auto shapes = pnpdist::phantom::shepp_logan_2d();
  const pnpdist::Tensor<float, 2> truth =
      pnpdist::phantom::rasterize<float>(exec, shapes, volume, pnpdist::phantom::fitted_scale(volume));

  // The stack of block projectors and their noisy measurements.
  auto start = std::chrono::steady_clock::now();
  std::vector<ct::JosephProjector2D<float, Exec>> blocks;
  for (const ct::Geometry2D& part : ct::split_views(geometry, o.operators)) blocks.emplace_back(exec, part);
  pnpdist::StackedPhysics<ct::JosephProjector2D<float, Exec>> physics(std::move(blocks));
  physics.simulate(truth.const_view(), pnpdist::MeasurementSimulation{o.noise, o.seed});
  std::printf("measurements: %lld blocks of views simulated in %.2f s\n", static_cast<long long>(o.operators),
              seconds_since(start));

  // The full sinogram: the blocks' measurements one after another.
  const auto full = ct::make_projector<float>(exec, geometry);
  pnpdist::Tensor<float, 2> sinogram(geometry.sinogram_shape());
  pnpdist::index_t row = 0;
  for (std::size_t i = 0; i < physics.operators().size(); ++i) {
    const auto& y = physics.measurement(i);
    pnpdist::copy(exec, y.const_view(),
                  pnpdist::subview(sinogram.view(), pnpdist::Extents<2>{row, 0}, y.extents()));
    row += y.extent(0);
  }

  // The stacked gradient sum_i A_i^T (A_i x - y_i) equals the full projector's A^T (A x - y).
  pnpdist::Tensor<float, 2> x = pnpdist::zeros<float>(exec, volume.shape());
  pnpdist::fill(exec, x.view(), 0.5f);
  pnpdist::Tensor<float, 2> stacked_gradient(volume.shape());
  physics.gradient(x.const_view(), stacked_gradient.view());
  pnpdist::Tensor<float, 2> residual(geometry.sinogram_shape());
  full.apply(x.const_view(), residual.view());
  pnpdist::axpy(exec, -1.0f, sinogram.const_view(), residual.view());
  pnpdist::Tensor<float, 2> full_gradient(volume.shape());
  full.apply_adjoint(residual.const_view(), full_gradient.view());
  pnpdist::axpy(exec, -1.0f, full_gradient.const_view(), stacked_gradient.view());
  std::printf("stacked vs full gradient: relative difference %.2e\n",
              pnpdist::norm(exec, stacked_gradient.const_view()) / pnpdist::norm(exec, full_gradient.const_view()));

  pnpdist::Tensor<float, 2> image(volume.shape());
  for (const auto& [name, filter] : {std::pair{"Ram-Lak", ct::Filter::ram_lak}, std::pair{"Hann", ct::Filter::hann}}) {
    start = std::chrono::steady_clock::now();
    ct::fbp<float>(exec, geometry, sinogram.const_view(), image.view(), filter);
    std::printf("FBP (%s):%*s PSNR %6.2f dB  (%.2f s)\n", name, static_cast<int>(8 - std::string(name).size()), "",
                psnr(exec, image.const_view(), truth), seconds_since(start));
  }
  if (o.sirt_iterations > 0) {
    start = std::chrono::steady_clock::now();
    const auto sirt = pnpdist::sirt(full, sinogram.const_view(), pnpdist::SirtOptions{o.sirt_iterations, 1.0, true});
    std::printf("SIRT (%lld it.): PSNR %6.2f dB  (%.2f s)\n", static_cast<long long>(o.sirt_iterations),
                psnr(exec, sirt.x.const_view(), truth), seconds_since(start));
  }
  if (o.cgls_iterations > 0) {
    start = std::chrono::steady_clock::now();
    const auto cgls = pnpdist::cgls(full, sinogram.const_view(), pnpdist::CglsOptions{o.cgls_iterations});
    std::printf("CGLS (%lld it.): PSNR %6.2f dB  (%.2f s)\n", static_cast<long long>(o.cgls_iterations),
                psnr(exec, cgls.x.const_view(), truth), seconds_since(start));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const pnpdist::error& e) {  // a bad option: its message, exit status 2 as in every example
    std::fprintf(stderr, "02_ct_reconstruction: %s\n", e.message().c_str());
    return 2;
  }
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "02_ct_reconstruction: %s\n", e.what());
    return 1;
  }
}
