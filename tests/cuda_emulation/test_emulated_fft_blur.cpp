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

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace {

using pnpdist::Cuda;
using pnpdist::CudaSpace;
using pnpdist::Extents;
using pnpdist::HostSpace;
using pnpdist::index_t;
using pnpdist::Serial;
using pnpdist::Tensor;
using pnpdist::blur::FftBlur;

template <std::size_t Rank>
Tensor<float, Rank, HostSpace> test_tensor(const Extents<Rank>& extents, std::uint64_t seed) {
  Tensor<float, Rank, HostSpace> t(extents);
  for (index_t i = 0; i < t.size(); ++i) {
    const std::uint64_t h =
        (static_cast<std::uint64_t>(i) + seed * 7919) * 6364136223846793005ull + 1442695040888963407ull;
    t.data()[i] = static_cast<float>(static_cast<double>((h >> 33) % 2001) / 1000.0 - 1.0);
  }
  return t;
}

/// max |device - host| / max |host|.
double relative_difference(const Tensor<float, 4, HostSpace>& host, const Tensor<float, 4, CudaSpace>& device) {
  const auto back = pnpdist::clone<HostSpace>(device.const_view());
  double difference = 0;
  double scale = 0;
  for (index_t i = 0; i < host.size(); ++i) {
    difference = std::max(difference, std::abs(static_cast<double>(back.data()[i]) - host.data()[i]));
    scale = std::max(scale, std::abs(static_cast<double>(host.data()[i])));
  }
  return difference / scale;
}

TEST_CASE("emulated Cuda FftBlur (FFTW substitute for cuFFT) equals the Serial FftBlur", "[cuda-emulated][blur]") {
  for (const pnpdist::ImageShape shape : {pnpdist::ImageShape{1, 1, 16, 16}, pnpdist::ImageShape{2, 3, 21, 34}}) {
    INFO("shape " << pnpdist::to_string(shape));
    const auto psf = test_tensor<2>(Extents<2>{5, 7}, 3);
    const FftBlur<Serial> host_blur(Serial{}, psf.const_view(), shape);
    const FftBlur<Cuda> device_blur(Cuda{}, psf.const_view(), shape);

    const auto x = test_tensor<4>(shape, 1);
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
