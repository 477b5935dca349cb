// DRUNet against PyTorch (fixtures written by tools/make_drunet_fixtures.py), on every host executor and
// with every engine built; the 2D-to-3D weight inflation; padding and shape errors.
#include <catch2/catch.hpp>

#include <pnpdist/io/npy.hpp>
#include <pnpdist/io/safetensors.hpp>
#include <pnpdist/nn/nn.hpp>
#include <pnpdist/priors/denoiser.hpp>
#include <pnpdist/tensor/random.hpp>

#include <cstdio>
#include <string>
#include <tuple>
#include <type_traits>

#include "nn/nn_test_support.hpp"
#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;
using pnpdist::nn::DRUNet;
using pnpdist::nn::DRUNetConfig;

static_assert(pnpdist::Denoiser<DRUNet<2, float, pnpdist::Serial>>);
static_assert(pnpdist::Denoiser<DRUNet<3, float, pnpdist::OpenMP>>);
static_assert(pnpdist::Denoiser<DRUNet<2, double, pnpdist::Serial>>);

namespace {

struct Fixture {
  const char* name;
  DRUNetConfig config;
};

template <std::size_t Dim, class Net>
void check_fixture(Net& net, const std::string& name, bool repeat) {
  using namespace pnpdist;
  const auto x = read_npy<float, Dim + 2>(test::nn_fixture(name + "_input.npy"));
  const auto expected = read_npy<float, Dim + 2>(test::nn_fixture(name + "_output.npy"));
  const auto sigma = read_npy<float, 1>(test::nn_fixture(name + "_sigma.npy"));
  Tensor<float, Dim + 2> y(x.extents());
  net.denoise(x.const_view(), sigma(0), y.view());
  const double error = test::relative_error(y, expected);
  INFO(name << " with engine " << Net::engine_type::name << ": relative error " << error);
  CHECK(error < 1e-4);
  if (!repeat) return;
  // A second call reuses the plan and gives the same result.
  Tensor<float, Dim + 2> y2(x.extents());
  net.denoise(x.const_view(), sigma(0), y2.view());
  CHECK(test::relative_error(y2, y) == 0.0);
}

const Fixture fixtures2d[] = {
    {"drunet2d_color", DRUNetConfig{3, {4, 8, 12, 16}, 1, false}},
    {"drunet2d_gray_bias", DRUNetConfig{1, {4, 6, 8, 10}, 2, true}},
};
const Fixture fixture3d{"drunet3d_gray", DRUNetConfig{1, {3, 4, 5, 6}, 1, false}};

}  // namespace

TEMPLATE_LIST_TEST_CASE("DRUNet<2> equals PyTorch on the fixtures", "[nn][drunet]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = decltype(exec);
  for (const Fixture& f : fixtures2d) {
    const auto weights = pnpdist::nn::load_drunet_weights<float, 2>(
        pnpdist::test::nn_fixture(std::string(f.name) + ".safetensors"), f.config);
    DRUNet<2, float, std::remove_const_t<Exec>> net(weights, exec);
    check_fixture<2>(net, f.name, std::is_same_v<TestType, pnpdist::Serial>);
  }
}

TEMPLATE_LIST_TEST_CASE("DRUNet<3> equals PyTorch on the fixture", "[nn][drunet]", pnpdist::test::HostExecutors) {
  using Exec = decltype(pnpdist::test::make_executor<TestType>());
  const auto weights = pnpdist::nn::load_drunet_weights<float, 3>(
      pnpdist::test::nn_fixture(std::string(fixture3d.name) + ".safetensors"), fixture3d.config);
  DRUNet<3, float, Exec> net(weights, pnpdist::test::make_executor<TestType>());
  check_fixture<3>(net, fixture3d.name, std::is_same_v<TestType, pnpdist::Serial>);
}

TEST_CASE("DRUNet<2> in double precision equals PyTorch", "[nn][drunet]") {
  const Fixture& f = fixtures2d[0];
  const auto weights = pnpdist::nn::load_drunet_weights<double, 2>(
      pnpdist::test::nn_fixture(std::string(f.name) + ".safetensors"), f.config);
  DRUNet<2, double, pnpdist::Serial> net(weights);
  const auto x = pnpdist::read_npy<double, 4>(pnpdist::test::nn_fixture("drunet2d_color_input.npy"));
  const auto expected = pnpdist::read_npy<double, 4>(pnpdist::test::nn_fixture("drunet2d_color_output.npy"));
  Tensor<double, 4> y(x.extents());
  net.denoise(x.const_view(), 0.1, y.view());
  CHECK(pnpdist::test::relative_error(y, expected) < 1e-5);
}

TEST_CASE("Inflated 3D DRUNet reproduces the 2D network on inputs constant along depth", "[nn][drunet]") {
  const DRUNetConfig config{2, {3, 4, 5, 6}, 1, false};
  const auto weights2d = pnpdist::nn::random_drunet_weights<float, 2>(config, 7);
  const auto weights3d = pnpdist::nn::inflate_drunet_weights(weights2d);
  DRUNet<2, float, pnpdist::Serial> net2d(weights2d);
  DRUNet<3, float, pnpdist::Serial> net3d(weights3d);
  const index_t depth = 9, h = 10, w = 11;
  Tensor<float, 4> x2(Extents<4>{1, 2, h, w});
  pnpdist::fill_uniform(pnpdist::Serial{}, x2.view(), 3, 0, 0.0f, 1.0f);
  Tensor<float, 5> x3(Extents<5>{1, 2, depth, h, w});
  for (index_t c = 0; c < 2; ++c)
    for (index_t z = 0; z < depth; ++z)
      for (index_t i = 0; i < h; ++i)
        for (index_t j = 0; j < w; ++j) x3(0, c, z, i, j) = x2(0, c, i, j);
  Tensor<float, 4> y2(x2.extents());
  Tensor<float, 5> y3(x3.extents());
  net2d.denoise(x2.const_view(), 0.1f, y2.view());
  net3d.denoise(x3.const_view(), 0.1f, y3.view());
  double diff = 0, scale = 0;
  for (index_t c = 0; c < 2; ++c)
    for (index_t i = 0; i < h; ++i)
      for (index_t j = 0; j < w; ++j) {
        scale = std::max(scale, std::abs(double(y2(0, c, i, j))));
        for (index_t z = 0; z < depth; ++z) diff = std::max(diff, std::abs(double(y3(0, c, z, i, j) - y2(0, c, i, j))));
      }
  // 3x3x3 kernels only read their centre slice, so even the border slices see no zero padding along depth.
  INFO("largest difference " << diff << ", output scale " << scale);
  CHECK(diff <= 1e-5 * scale);
}

TEST_CASE("DRUNet::denoise rejects inputs that do not fit", "[nn][drunet]") {
  const DRUNetConfig config{3, {2, 2, 2, 2}, 0, false};
  DRUNet<2, float, pnpdist::Serial> net(pnpdist::nn::random_drunet_weights<float, 2>(config, 1));
  CHECK(pnpdist::denoiser_size_multiple(net) == 8);
  Tensor<float, 4> gray(Extents<4>{1, 1, 8, 8}), out(Extents<4>{1, 1, 8, 8}), other(Extents<4>{1, 3, 8, 9});
  CHECK_THROWS_AS(net.denoise(gray.const_view(), 0.1f, out.view()), pnpdist::dimension_mismatch);
  Tensor<float, 4> colour(Extents<4>{1, 3, 8, 8});
  CHECK_THROWS_AS(net.denoise(colour.const_view(), 0.1f, other.view()), pnpdist::dimension_mismatch);
}

TEST_CASE("DRUNet parameter and MAC counts of the official colour network", "[nn][drunet]") {
  const DRUNetConfig config{};
  index_t parameters = 0;
  for (const auto& layer : pnpdist::nn::drunet_layers(config)) parameters += layer.weight_count(2);
  CHECK(parameters == 32640960);
  CHECK(pnpdist::nn::drunet_macs_per_pixel(config) == 2117568.0);
  const auto layers = pnpdist::nn::drunet_layers(config);
  CHECK(layers.size() == 1 + 3 * 9 + 8 + 3 * 9 + 1);
  CHECK(layers[1].name == "m_down1.0.res.0");
  CHECK(layers[9].name == "m_down1.4");
  CHECK(layers[36].name == "m_up3.0");
  CHECK(layers.back().name == "m_tail");
}

TEST_CASE("DRUNet's memory plan: two full-resolution work buffers, the coarse skips and the input", "[nn][drunet]") {
  const DRUNetConfig config{3, {8, 12, 16, 20}, 1, false};
  DRUNet<2, float, pnpdist::Serial, pnpdist::nn::ReferenceEngine<float, 2, pnpdist::Serial>> net(
      pnpdist::nn::random_drunet_weights<float, 2>(config, 2));
  Tensor<float, 4> x(Extents<4>{2, 3, 30, 17}), y(x.extents());
  pnpdist::fill(pnpdist::Serial{}, x.view(), 0.5f);
  net.denoise(x.const_view(), 0.1f, y.view());
  const std::size_t pixels = 2 * 32 * 24;  // batch 2, padded to 32 x 24
  const std::size_t floats = 2 * 8 * pixels + 12 * pixels / 4 + 16 * pixels / 16 + 20 * pixels / 64 + 4 * pixels;
  CHECK(net.planned_bytes() == floats * sizeof(float));
  // The per-pixel figure the examples' memory estimates use (examples/memory_budget.hpp).
  CHECK(pnpdist::nn::drunet_activation_floats_per_pixel(config, 2) * static_cast<double>(pixels) ==
        Approx(static_cast<double>(floats)));
  CHECK(pnpdist::nn::drunet_activation_floats_per_pixel(config, 3) == Approx(16 + 1.5 + 0.25 + 20.0 / 512 + 4));
}
