// bench_gpu_operators: the hot operations of the benchmarks on a real GPU (the Cuda executor), first checked
// against the Serial executor at small sizes, then timed at the sizes of the launch census and the GPU model
// (docs/gpu_model.md), whose predictions the measured times are to be printed next to. Exits 77 (skipped)
// when no CUDA device is usable, 1 when a check fails. Plain program (no Catch2, no Google Benchmark), so that
// a bare GPU machine with nvcc can build it by itself (tools/gpu_session.sh).
//
//     bench_gpu_operators [--repetitions N] [--quick]
//
// --quick times at a quarter of the sizes (a smoke test of the program). Times are wall-clock medians of N
// repetitions after one warm-up, each bracketed by synchronize(Cuda{}), in milliseconds.

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/nn/drunet.hpp>
#include <pnpdist/nn/reference_engine.hpp>
#include <pnpdist/physics/blur/direct_blur.hpp>
#include <pnpdist/physics/blur/fft_blur.hpp>
#include <pnpdist/physics/blur/psf.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/tensor.hpp>

#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <numbers>
#include <string>
#include <vector>

#include "support/relative_difference.hpp"

namespace {

using namespace pnpdist;

constexpr int skipped = 77;
int failures = 0;

/// Applies `device_op` (on Cuda) and `host_op` (on Serial) to the same random input; their outputs must agree
/// to `tolerance` relative to the largest value (the device sums the same terms in another order, with FMAs).
template <class DeviceOp, class HostOp>
void check_operator(const std::string& name, const DeviceOp& device_op, const HostOp& host_op, double tolerance) {
  auto x = make_domain_tensor(host_op);
  auto y = make_range_tensor(host_op);
  fill_uniform(Serial{}, x.view(), 3, 0, 0.0f, 1.0f);
  fill_uniform(Serial{}, y.view(), 4, 0, -1.0f, 1.0f);
  auto forward_host = make_range_tensor(host_op);
  auto back_host = make_domain_tensor(host_op);
  host_op.apply(x.const_view(), forward_host.view());
  host_op.apply_adjoint(y.const_view(), back_host.view());
  auto x_device = clone<CudaSpace>(x.const_view());
  auto y_device = clone<CudaSpace>(y.const_view());
  auto forward_device = make_range_tensor(device_op);
  auto back_device = make_domain_tensor(device_op);
  device_op.apply(x_device.const_view(), forward_device.view());
  device_op.apply_adjoint(y_device.const_view(), back_device.view());
  synchronize(Cuda{});
  const double forward = test::relative_max_difference(clone<HostSpace>(forward_device.const_view()), forward_host);
  const double back = test::relative_max_difference(clone<HostSpace>(back_device.const_view()), back_host);
  const bool ok = forward <= tolerance && back <= tolerance;
  std::printf("check %-34s forward %.2e  adjoint %.2e  (tolerance %.0e)  %s\n", name.c_str(), forward, back,
              tolerance, ok ? "ok" : "FAILED");
  if (!ok) ++failures;
}

/// Median and minimum wall-clock milliseconds of `repetitions` runs of `run` after one warm-up run.
void time_operation(const std::string& name, const std::string& size, int repetitions, const std::function<void()>& run) {
  run();
  synchronize(Cuda{});
  std::vector<double> ms;
  for (int r = 0; r < repetitions; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    synchronize(Cuda{});
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("time  %-28s %-34s median %10.3f ms  min %10.3f ms  (%d runs)\n", name.c_str(), size.c_str(),
              ms[ms.size() / 2], ms.front(), repetitions);
  std::fflush(stdout);
}

ct::Geometry2D parallel_2d(index_t n, index_t views) {
  return ct::parallel_beam_2d(ct::uniform_angles(views, 0, std::numbers::pi), {n, 1.0, 0.0}, {n, n, 1.0, 1.0});
}
ct::Geometry3D cone_3d(index_t n, index_t views) {
  return ct::cone_beam(ct::uniform_angles(views, 0, 2 * std::numbers::pi), {n, n, 2.0, 2.0, 0, 0}, 500.0, 500.0,
                       {n, n, n, 1.0, 1.0, 1.0});
}

void checks() {
  check_operator("CT 2D parallel 256^2, 100 views", ct::make_projector<float>(Cuda{}, parallel_2d(256, 100)),
                 ct::make_projector<float>(Serial{}, parallel_2d(256, 100)), 1e-4);
  check_operator("CT 3D cone 64^3, 50 views", ct::make_projector<float>(Cuda{}, cone_3d(64, 50)),
                 ct::make_projector<float>(Serial{}, cone_3d(64, 50)), 1e-4);
  const ImageShape shape{1, 3, 256, 256};
  const auto psf = blur::gaussian_psf<float>(2.0, 1.0, 30.0);
  check_operator("blur direct 1x3x256^2, 15x15 PSF",
                 blur::DirectBlur<float, Cuda>(Cuda{}, psf.const_view(), shape, blur::Boundary::circular),
                 blur::DirectBlur<float, Serial>(Serial{}, psf.const_view(), shape, blur::Boundary::circular), 1e-5);
  check_operator("blur FFT 1x3x256^2, 15x15 PSF", blur::FftBlur<Cuda>(Cuda{}, psf.const_view(), shape),
                 blur::FftBlur<Serial>(Serial{}, psf.const_view(), shape), 1e-4);
}

template <class Op>
void time_operator(const std::string& name, const std::string& size, int repetitions, const Op& op) {
  auto x = make_domain_tensor(op);
  auto y = make_range_tensor(op);
  fill(Cuda{}, x.view(), 1.0f);
  fill(Cuda{}, y.view(), 1.0f);
  time_operation(name + " forward", size, repetitions, [&] { op.apply(x.const_view(), y.view()); });
  time_operation(name + " adjoint", size, repetitions, [&] { op.apply_adjoint(y.const_view(), x.view()); });
}

void timings(int repetitions, bool quick) {
  const index_t n2 = quick ? 512 : 2048, n3 = quick ? 128 : 512, image = quick ? 512 : 2048;
  const std::string s2 = std::to_string(n2) + "^2, 100 views, " + std::to_string(n2) + " detectors";
  time_operator("CT 2D parallel", s2, repetitions, ct::make_projector<float>(Cuda{}, parallel_2d(n2, 100)));
  const std::string s3 = std::to_string(n3) + "^3, 50 views, " + std::to_string(n3) + "^2 detector";
  time_operator("CT 3D cone", s3, repetitions, ct::make_projector<float>(Cuda{}, cone_3d(n3, 50)));
  const ImageShape shape{1, 3, image, image};
  const std::string sb = "1x3x" + std::to_string(image) + "^2, 15x15 PSF";
  const auto psf = blur::gaussian_psf<float>(2.0, 1.0, 30.0);
  time_operator("blur direct", sb, repetitions,
                blur::DirectBlur<float, Cuda>(Cuda{}, psf.const_view(), shape, blur::Boundary::circular));
  time_operator("blur FFT", sb, repetitions, blur::FftBlur<Cuda>(Cuda{}, psf.const_view(), shape));

  // DRUNet (reference engine) on one tile, random weights: the denoiser's share of a PnP iteration.
  const index_t tile = quick ? 128 : 512;
  const auto weights = nn::random_drunet_weights<float, 2>(nn::DRUNetConfig{}, 1);
  nn::DRUNet<2, float, Cuda, nn::ReferenceEngine<float, 2, Cuda>> net(weights, Cuda{});
  Tensor<float, 4, CudaSpace> x(Extents<4>{1, 3, tile, tile}), y(Extents<4>{1, 3, tile, tile});
  fill(Cuda{}, x.view(), 0.5f);
  time_operation("DRUNet (reference engine)", "1x3x" + std::to_string(tile) + "^2 tile", repetitions,
                 [&] { net.denoise(x.const_view(), 0.05f, y.view()); });
}

}  // namespace

int main(int argc, char** argv) {
  int repetitions = 5;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--repetitions") == 0 && i + 1 < argc) {
      repetitions = std::atoi(argv[++i]);
      if (repetitions < 1) {
        std::fprintf(stderr, "bench_gpu_operators: --repetitions needs a positive count, got %s\n", argv[i]);
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: bench_gpu_operators [--repetitions N] [--quick]\n");
      return 2;
    }
  }
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess || devices == 0) {
    std::printf("SKIPPED: no usable CUDA device (%s)\n",
                status != cudaSuccess ? cudaGetErrorString(status) : "no device present");
    return skipped;
  }
  cudaDeviceProp properties{};
  if (cudaGetDeviceProperties(&properties, 0) == cudaSuccess)
    std::printf("device 0: %s (sm_%d%d, %d multiprocessors)\n", properties.name, properties.major, properties.minor,
                properties.multiProcessorCount);
  try {
    checks();
    if (failures != 0) {
      std::printf("FAILED: %d check(s); no timings\n", failures);
      return 1;
    }
    timings(repetitions, quick);
  } catch (const std::exception& e) {
    std::printf("FAILED: %s\n", e.what());
    return 1;
  }
  return 0;
}
