// Covers: cuda_for_each_kernel
// DRUNet's ReferenceEngine (nn/reference_engine.hpp), its layers (nn/layers.hpp) and TVDenoiser
// (priors/tv_denoiser.hpp) on the Cuda executor, run by the CPU emulation of CUDA: their functors
// (Conv3Kernel, Down2Kernel, Up2Kernel, AddKernel, PadWithNoiseMapKernel, CropKernel, TVDivergenceKernel,
// TVDualKernel) launched through cuda_for_each_kernel, against the same code on Serial. Every output
// element is computed by one iteration of the same functor, summing in the same order, and the emulated
// build sets -ffp-contract=off, so the results agree bit for bit (compared with memcmp).

#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/nn/drunet.hpp>
#include <pnpdist/nn/layers.hpp>
#include <pnpdist/nn/reference_engine.hpp>
#include <pnpdist/priors/tv_denoiser.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/tensor.hpp>

#include "emulated_test_support.hpp"

#include <cstdint>
#include <cstring>

namespace {

namespace emu = pnpdist_cuda_emulator;
using namespace pnpdist::test;  // NOLINT: the shared test vocabulary
using pnpdist::nn::ConvKind;
using pnpdist::nn::DRUNet;
using pnpdist::nn::DRUNetConfig;
using pnpdist::nn::PostOps;
using pnpdist::nn::ReferenceEngine;

template <class T, std::size_t Rank>
Tensor<T, Rank, HostSpace> host_values(const Extents<Rank>& extents, std::uint64_t seed, T low = T(-1)) {
  Tensor<T, Rank, HostSpace> t(extents);
  pnpdist::fill_uniform(Serial{}, t.view(), seed, 0, low, T(1));
  return t;
}

/// True when some output is nonzero (a network whose outputs are all zero would compare equal trivially).
template <class T, std::size_t Rank>
bool any_nonzero(const Tensor<T, Rank, HostSpace>& t) {
  for (index_t i = 0; i < t.size(); ++i)
    if (t.data()[i] != T(0)) return true;
  return false;
}

template <class T, std::size_t Rank>
void check_layers(const Extents<Rank>& in_extents) {
  const index_t cout = 3;
  const auto x = host_values<T>(in_extents, 1);
  const auto dx = pnpdist::clone<CudaSpace>(x.const_view());
  for (ConvKind kind : {ConvKind::conv3, ConvKind::down2, ConvKind::up2})
    for (bool with_bias : {false, true})
      for (PostOps post : {PostOps{false, false}, PostOps{true, true}}) {
        Extents<Rank> out_extents = in_extents;
        out_extents[1] = cout;
        index_t taps = 1;
        for (std::size_t d = 2; d < Rank; ++d) {
          out_extents[d] = kind == ConvKind::down2 ? in_extents[d] / 2
                           : kind == ConvKind::up2 ? in_extents[d] * 2
                                                   : in_extents[d];
          taps *= pnpdist::nn::kernel_extent(kind);
        }
        const auto w = host_values<T>(Extents<1>{in_extents[1] * cout * taps}, 2);
        const auto b = host_values<T>(Extents<1>{cout}, 3);
        const auto dw = pnpdist::clone<CudaSpace>(w.const_view());
        const auto db = pnpdist::clone<CudaSpace>(b.const_view());
        auto y = host_values<T>(out_extents, 4);  // the initial output matters to the sum post-op
        auto dy = pnpdist::clone<CudaSpace>(y.const_view());
        pnpdist::nn::convolution(Serial{}, kind, x.const_view(), w.data(), with_bias ? b.data() : nullptr, y.view(),
                                 post);
        pnpdist::nn::convolution(Cuda{}, kind, dx.const_view(), dw.data(), with_bias ? db.data() : nullptr, dy.view(),
                                 post);
        pnpdist::synchronize(Cuda{});
        INFO("kind " << static_cast<int>(kind) << ", bias " << with_bias << ", sum " << post.sum << ", relu "
                     << post.relu);
        CHECK(bit_mismatches(y, dy) == 0);
      }
  // The element-wise kernels of the engine.
  auto a = host_values<T>(in_extents, 5);
  auto da = pnpdist::clone<CudaSpace>(a.const_view());
  pnpdist::nn::add_residual(Serial{}, a.view(), x.const_view());
  pnpdist::nn::add_residual(Cuda{}, da.view(), dx.const_view());
  pnpdist::nn::relu(Serial{}, a.view());
  pnpdist::nn::relu(Cuda{}, da.view());
  pnpdist::synchronize(Cuda{});
  CHECK(bit_mismatches(a, da) == 0);
}

template <std::size_t Dim, class T>
void check_drunet(const Extents<Dim + 2>& extents, const DRUNetConfig& config) {
  const auto weights = pnpdist::nn::random_drunet_weights<T, Dim>(config, 11);
  DRUNet<Dim, T, Serial, ReferenceEngine<T, Dim, Serial>> host_net(weights, Serial{});
  DRUNet<Dim, T, Cuda, ReferenceEngine<T, Dim, Cuda>> device_net(weights, Cuda{});
  const auto x = host_values<T>(extents, 12, T(0));
  const auto dx = pnpdist::clone<CudaSpace>(x.const_view());
  Tensor<T, Dim + 2, HostSpace> y(extents);
  Tensor<T, Dim + 2, CudaSpace> dy(extents);
  for (const T sigma : {T(0.1), T(0.05)}) {  // the second call reuses the planned buffers
    host_net.denoise(x.const_view(), sigma, y.view());
    const auto launches = emu::statistics().launches;
    device_net.denoise(dx.const_view(), sigma, dy.view());
    pnpdist::synchronize(Cuda{});
    // Padding, every convolution and residual addition, and the crop: one launch each at least.
    CHECK(emu::statistics().launches >= launches + weights.layers.size() + 2);
    INFO("sigma " << sigma);
    CHECK(any_nonzero(y));
    CHECK(bit_mismatches(y, dy) == 0);
  }
  CHECK(device_net.planned_bytes() == host_net.planned_bytes());
}

template <class T, std::size_t Rank>
void check_tv(const Extents<Rank>& extents) {
  pnpdist::TVDenoiser<T, Rank, Serial> host_tv(Serial{}, 15, T(1));
  pnpdist::TVDenoiser<T, Rank, Cuda> device_tv(Cuda{}, 15, T(1));
  const auto x = host_values<T>(extents, 21);
  const auto dx = pnpdist::clone<CudaSpace>(x.const_view());
  Tensor<T, Rank, HostSpace> y(extents);
  Tensor<T, Rank, CudaSpace> dy(extents);
  for (const T sigma : {T(0.3), T(0)}) {  // sigma = 0 is the copy path
    host_tv.denoise(x.const_view(), sigma, y.view());
    device_tv.denoise(dx.const_view(), sigma, dy.view());
    pnpdist::synchronize(Cuda{});
    INFO("sigma " << sigma);
    CHECK(bit_mismatches(y, dy) == 0);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("emulated Cuda DRUNet layers equal the Serial layers", "[cuda-emulated][nn]", float, double) {
  SECTION("2D") { check_layers<TestType>(Extents<4>{2, 3, 6, 10}); }
  SECTION("3D") { check_layers<TestType>(Extents<5>{1, 2, 4, 6, 2}); }
}

TEMPLATE_TEST_CASE("emulated Cuda DRUNet<2> with ReferenceEngine equals the Serial ReferenceEngine",
                   "[cuda-emulated][nn]", float, double) {
  // Two images of 13 x 11 (padded to 16 x 16), one residual block per scale, with and without biases.
  check_drunet<2, TestType>(Extents<4>{2, 1, 13, 11}, DRUNetConfig{1, {3, 4, 5, 6}, 1, true});
  check_drunet<2, TestType>(Extents<4>{1, 3, 9, 7}, DRUNetConfig{3, {2, 3, 4, 5}, 1, false});
}

TEST_CASE("emulated Cuda DRUNet<3> with ReferenceEngine equals the Serial ReferenceEngine", "[cuda-emulated][nn]") {
  // A 5 x 6 x 7 volume (padded to 8 x 8 x 8).
  check_drunet<3, float>(Extents<5>{1, 1, 5, 6, 7}, DRUNetConfig{1, {2, 3, 4, 5}, 1, true});
}

TEMPLATE_TEST_CASE("emulated Cuda TVDenoiser equals the Serial TVDenoiser", "[cuda-emulated][priors]", float, double) {
  check_tv<TestType, 4>(Extents<4>{2, 1, 13, 11});
  check_tv<TestType, 5>(Extents<5>{1, 2, 5, 6, 7});
}
