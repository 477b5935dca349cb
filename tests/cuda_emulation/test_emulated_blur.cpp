// Covers: direct_blur_tiled_kernel
// The shared-memory tiled direct blur (physics/blur/cuda/direct_blur_tiled.hpp) run by the CPU emulation of
// CUDA: DirectBlur<T, Cuda> (which takes the tiled kernel for PSF sides up to 63) against
// DirectBlur<T, Serial> (ConvolveRowKernel), for every boundary, forward and adjoint, on images that are
// not multiples of the 16 x 16 tile. Both sum the PSF products in the same order; they differ only by
// adding the products of zero padding (w * 0), so values are compared with ==, which equates -0 and +0.

#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/physics/blur/direct_blur.hpp>
#include <pnpdist/tensor/tensor.hpp>

#include "emulated_test_support.hpp"

#include <cmath>
#include <cstdint>
#include <utility>

namespace {

using namespace pnpdist::test;  // NOLINT: the shared test vocabulary
using pnpdist::blur::Boundary;
using pnpdist::blur::DirectBlur;

TEMPLATE_TEST_CASE("emulated Cuda tiled direct blur equals the Serial blur", "[cuda-emulated][blur]", float, double) {
  using T = TestType;
  const pnpdist::ImageShape shape{2, 2, 37, 21};  // 4 planes; 3 x 2 tiles, the last ones partial
  struct Case {
    index_t kh, kw;
    Boundary boundary;
  };
  for (const Case c : {Case{3, 3, Boundary::circular}, Case{5, 7, Boundary::same}, Case{1, 1, Boundary::circular},
                       Case{4, 6, Boundary::valid}, Case{9, 5, Boundary::circular}, Case{17, 3, Boundary::same}}) {
    INFO("PSF " << c.kh << " x " << c.kw << ", boundary " << pnpdist::blur::to_string(c.boundary));
    const auto psf = uniform_test_tensor<T, 2>(Extents<2>{c.kh, c.kw}, 3);
    const DirectBlur<T, Serial> host_blur(Serial{}, psf.const_view(), shape, c.boundary);
    const DirectBlur<T, Cuda> device_blur(Cuda{}, psf.const_view(), shape, c.boundary);
    REQUIRE(device_blur.range_shape() == host_blur.range_shape());

    const auto x = uniform_test_tensor<T, 4>(shape, 1);
    const auto dx = pnpdist::clone<CudaSpace>(x.const_view());
    Tensor<T, 4, HostSpace> y(host_blur.range_shape());
    Tensor<T, 4, CudaSpace> dy(host_blur.range_shape());
    host_blur.apply(x.const_view(), y.view());
    device_blur.apply(dx.const_view(), dy.view());
    pnpdist::synchronize(Cuda{});
    CHECK(value_mismatches(y, dy) == 0);

    const auto r = uniform_test_tensor<T, 4>(host_blur.range_shape(), 2);
    const auto dr = pnpdist::clone<CudaSpace>(r.const_view());
    Tensor<T, 4, HostSpace> z(shape);
    Tensor<T, 4, CudaSpace> dz(shape);
    host_blur.apply_adjoint(r.const_view(), z.view());
    device_blur.apply_adjoint(dr.const_view(), dz.view());
    pnpdist::synchronize(Cuda{});
    CHECK(value_mismatches(z, dz) == 0);
  }
}

}  // namespace
