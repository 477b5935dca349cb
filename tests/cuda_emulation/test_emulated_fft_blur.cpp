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

}  // namespace
