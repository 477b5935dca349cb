// FftBlur on the Cuda executor run by the CPU emulation of CUDA, with FFTW standing in for cuFFT: this
// executable defines PNPDIST_HAS_CUFFT and links FFTW, and the emulator's <cufft.h> serves the cuFFT calls
// of physics/fft/cufft_plans.hpp with FFTW plans (see docs/cuda_emulation.md). It runs the library's cuFFT
// wrapper (plan cache, stream binding, batching) and the device spectrum kernels (for_each), compared
// with FftBlur<Serial> up to FFT round-off (different FFTW plans, so not bit for bit).

#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/physics/blur/fft_blur.hpp>
#include <pnpdist/tensor/tensor.hpp>

#include "emulated_test_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace {

using namespace pnpdist::test;  // NOLINT: the shared test vocabulary
using pnpdist::blur::FftBlur;

TEST_CASE("emulated Cuda FftBlur (FFTW substitute for cuFFT) equals the Serial FftBlur", "[cuda-emulated][blur]") {
  for (const pnpdist::ImageShape shape : {pnpdist::ImageShape{1, 1, 16, 16}, pnpdist::ImageShape{2, 3, 21, 34}}) {
    INFO("shape " << pnpdist::to_string(shape));
    const auto psf = uniform_test_tensor<float, 2>(Extents<2>{5, 7}, 3);
    const FftBlur<Serial> host_blur(Serial{}, psf.const_view(), shape);
    const FftBlur<Cuda> device_blur(Cuda{}, psf.const_view(), shape);

    const auto x = uniform_test_tensor<float, 4>(shape, 1);
    const auto dx = pnpdist::clone<CudaSpace>(x.const_view());
    Tensor<float, 4, HostSpace> y(shape);
    Tensor<float, 4, CudaSpace> dy(shape);
    host_blur.apply(x.const_view(), y.view());
    device_blur.apply(dx.const_view(), dy.view());
    pnpdist::synchronize(Cuda{});
    CHECK(relative_difference(y, dy) < 1e-5);

    host_blur.apply_adjoint(x.const_view(), y.view());
    device_blur.apply_adjoint(dx.const_view(), dy.view());
    pnpdist::synchronize(Cuda{});
    CHECK(relative_difference(y, dy) < 1e-5);
  }
}

TEST_CASE("the cuFFT substitute records its executions with their bytes and samples", "[cuda-emulated][blur][census]") {
  namespace emu = pnpdist_cuda_emulator;
  const pnpdist::ImageShape shape{2, 3, 16, 20};
  const auto psf = uniform_test_tensor<float, 2>(Extents<2>{5, 7}, 3);
  const FftBlur<Cuda> blur(Cuda{}, psf.const_view(), shape);
  const auto x = pnpdist::clone<CudaSpace>(uniform_test_tensor<float, 4>(shape, 1).const_view());
  Tensor<float, 4, CudaSpace> y(shape);
  const emu::RecordLaunches recording;
  blur.apply(x.const_view(), y.view());
  pnpdist::synchronize(Cuda{});
  // 6 planes of 16 x 20 real points (log2(320) = 8 in whole bits), spectra of 16 x 11 complex values.
  const std::uint64_t real = 6 * 16 * 20 * sizeof(float), spectral = 6 * 16 * 11 * 2 * sizeof(float);
  int forward = 0, inverse = 0;
  for (const emu::LaunchRecord& r : recording.records()) {
    if (!r.library_call) continue;
    CHECK(r.cost_declared);
    CHECK(r.samples == 6 * 16 * 20 * 8);
    const bool is_forward = r.signature == "cufftExecR2C";
    forward += is_forward ? 1 : 0;
    inverse += is_forward ? 0 : 1;
    CHECK(r.bytes_read == (is_forward ? real : spectral));
    CHECK(r.bytes_written == (is_forward ? spectral : real));
  }
  CHECK(forward == 1);
  CHECK(inverse == 1);
}

}  // namespace
