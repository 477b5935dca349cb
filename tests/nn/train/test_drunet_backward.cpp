// DRUNetBackward (nn/train/drunet_backward.hpp): its forward pass against the inference DRUNet (the reference
// engine in double, the default engine in float, the shipped gray weights), its vector-Jacobian product in the
// input, sigma and every parameter against central finite differences of <c, DRUNet(x, sigma)> in double on
// tiny networks (widths 4, 8, 16, 32, one residual block; gray 16 x 16, and colour with biases at 13 x 11,
// batch 2, which exercises the replicate padding), against PyTorch autograd through the replica of
// tools/drunet_torch.py (fixtures of tools/make_drunet_backward_fixtures.py), thread-count independence and the
// refusals.
#include <catch2/catch.hpp>

#include <pnpdist/io/npy.hpp>
#include <pnpdist/io/safetensors.hpp>
#include <pnpdist/nn/drunet.hpp>
#include <pnpdist/nn/train/drunet_backward.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "nn/nn_test_support.hpp"
#include "support/host_executors.hpp"
#include "train_test_support.hpp"

using namespace pnpdist;
using namespace pnpdist::nn;
using namespace pnpdist::nn::train;

using test::check_gradient;
using test::dot;
using test::random_vector;

namespace {

// The network is piecewise linear, so central differences have no truncation error away from ReLU kinks; the
// loss sums about a thousand terms of order 10, and a step of 1e-5 keeps its round-off (about 1e-12 / step)
// under the checks' absolute margin of 1e-7 (a step of 1e-6 does not).
constexpr double network_step = 1e-5;

DRUNetConfig tiny_config(index_t channels, bool bias) {
  DRUNetConfig c;
  c.image_channels = channels;
  c.widths = {4, 8, 16, 32};
  c.blocks = 1;
  c.bias = bias;
  return c;
}

template <class T>
DRUNetWeights<T, 2> tiny_weights(const DRUNetConfig& config, std::uint64_t seed) {
  auto w = random_drunet_weights<T, 2>(config, seed);
  std::uint64_t stream = 100;
  for (auto& l : w.layers)  // random biases too, so that their gradients are tested on non-zero values
    if (!l.bias.empty()) l.bias = random_vector<T>(static_cast<index_t>(l.bias.size()), stream++, T(-0.1), T(0.1));
  return w;
}

template <class T>
View<const T, 4, HostSpace> cview(const std::vector<T>& v, const Extents<4>& e) {
  return View<const T, 4, HostSpace>(v.data(), e);
}
template <class T>
View<T, 4, HostSpace> mview(std::vector<T>& v, const Extents<4>& e) {
  return View<T, 4, HostSpace>(v.data(), e);
}

double max_relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  return diff / scale;
}

}  // namespace

TEST_CASE("DRUNetBackward's forward pass equals the inference DRUNet", "[nn][train]") {
  SECTION("double, reference engine, tiny colour network with biases, padded size") {
    const auto weights = tiny_weights<double>(tiny_config(3, true), 1);
    const Extents<4> e{2, 3, 13, 11};
    const auto x = random_vector<double>(product(e), 2, 0.0, 1.0);
    std::vector<double> ours(x.size()), reference(x.size());
    DRUNetBackward<double, Serial> net(weights);
    net.forward(cview(x, e), 0.1, mview(ours, e));
    DRUNet<2, double, Serial>(weights).denoise(cview(x, e), 0.1, mview(reference, e));
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      diff = std::max(diff, std::abs(ours[i] - reference[i]));
      scale = std::max(scale, std::abs(reference[i]));
    }
    CHECK(diff <= 1e-13 * scale);
  }
  SECTION("float, the default engine, the shipped gray weights at 40 x 56") {
    const std::string path = std::string(PNPDIST_WEIGHTS_DIR) + "/drunet_gray.safetensors";
    const auto weights = load_drunet_weights<float, 2>(path, infer_drunet_config(path));
    const Extents<4> e{1, 1, 40, 56};
    const auto x = random_vector<float>(product(e), 3, 0.0f, 1.0f);
    std::vector<float> ours(x.size()), reference(x.size());
    const auto exec = test::fast_host_executor();
    DRUNetBackward<float, test::FastHostExecutor> net(weights, exec);
    const auto tape = net.forward(cview(x, e), 0.05f, mview(ours, e));
    DRUNet<2, float, test::FastHostExecutor>(weights, exec).denoise(cview(x, e), 0.05f, mview(reference, e));
    const double relative = max_relative_difference(ours, reference);
    INFO("largest difference relative to the largest output: " << relative);
    CHECK(relative < 2e-6);
    CHECK(tape.bytes() == static_cast<std::size_t>(tape_floats_per_pixel(weights.config) * 40 * 56 * sizeof(float)));
  }
}

TEST_CASE("DRUNetBackward: the vector-Jacobian product in x, sigma and the parameters against finite differences",
          "[nn][train]") {
  const bool colour = GENERATE(false, true);
  const DRUNetConfig config = tiny_config(colour ? 3 : 1, colour);
  const Extents<4> e = colour ? Extents<4>{2, 3, 13, 11} : Extents<4>{1, 1, 16, 16};
  DRUNetBackward<double, Serial> net(tiny_weights<double>(config, 5));
  auto x = random_vector<double>(product(e), 6, 0.0, 1.0);
  const auto c = random_vector<double>(product(e), 7);  // loss = <c, DRUNet(x, sigma)>
  double sigma = 0.1;
  std::vector<double> y(x.size());
  const auto loss = [&] {
    net.forward(cview(x, e), sigma, mview(y, e));
    return dot(c, y);
  };
  const auto tape = net.forward(cview(x, e), sigma, mview(y, e));
  std::vector<double> dx(x.size(), 123.0);                                        // written, not accumulated
  net.parameters().gradients().assign(net.parameters().gradients().size(), 0.5);  // accumulated
  const double d_sigma = net.backward(tape, cview(c, e), mview(dx, e));
  std::vector<double> dw = net.parameters().gradients();
  for (double& v : dw) v -= 0.5;

  check_gradient(x, dx, loss, network_step);
  std::vector<double> s{sigma};
  const auto sigma_loss = [&] {
    sigma = s[0];
    return loss();
  };
  check_gradient(s, {d_sigma}, sigma_loss, network_step);
  sigma = 0.1;

  // Every parameter tensor: its first, middle and last entries one by one, and all parameters at once along a
  // random direction.
  auto& values = net.parameters().values();
  for (const ParameterInfo& p : net.parameters().infos()) {
    INFO(p.name);
    for (index_t k : {index_t{0}, p.size / 2, p.size - 1}) {
      const std::size_t i = static_cast<std::size_t>(p.offset + k);
      std::vector<double> one{values[i]};
      check_gradient(
          one, {dw[i]},
          [&] {
            values[i] = one[0];
            return loss();
          },
          network_step);
      values[i] = one[0];
    }
  }
  const auto direction = random_vector<double>(net.parameters().size(), 8);
  const std::vector<double> keep = values;
  std::vector<double> t{0.0};
  check_gradient(
      t, {dot(direction, dw)},
      [&] {
        for (std::size_t i = 0; i < values.size(); ++i) values[i] = keep[i] + t[0] * direction[i];
        return loss();
      },
      network_step);
}

TEST_CASE("DRUNetBackward: double results do not depend on the thread count, and bad shapes are refused",
          "[nn][train]") {
  const auto weights = tiny_weights<double>(tiny_config(1, false), 9);
  const Extents<4> e{1, 1, 24, 16};
  const auto x = random_vector<double>(product(e), 10, 0.0, 1.0);
  const auto c = random_vector<double>(product(e), 11);
  auto run = [&](auto exec) {
    DRUNetBackward<double, decltype(exec)> net(weights, exec);
    std::vector<double> y(x.size()), dx(x.size());
    const auto tape = net.forward(cview(x, e), 0.2, mview(y, e));
    const double d_sigma = net.backward(tape, cview(c, e), mview(dx, e));
    y.insert(y.end(), dx.begin(), dx.end());
    y.push_back(d_sigma);
    y.insert(y.end(), net.parameters().gradients().begin(), net.parameters().gradients().end());
    return y;
  };
  const auto serial = run(Serial{});
#if defined(PNPDIST_HAS_OPENMP)
  CHECK(run(OpenMP{1}) == serial);
  CHECK(run(OpenMP{2}) == serial);
#endif

  DRUNetBackward<double, Serial> net(weights);
  std::vector<double> y(x.size());
  const Extents<4> two{1, 2, 24, 16};
  std::vector<double> x2(static_cast<std::size_t>(product(two)));
  CHECK_THROWS_WITH(net.forward(cview(x2, two), 0.1, mview(x2, two)), Catch::Contains("(N, 1, H, W)"));
  const auto tape = net.forward(cview(x, e), 0.1, mview(y, e));
  const Extents<4> other{1, 1, 16, 24};
  CHECK_THROWS_WITH(net.backward(tape, cview(c, other), mview(y, other)),
                    Catch::Contains("extents of the forward pass's x"));
}

TEST_CASE("DRUNetBackward: the gradients equal PyTorch autograd (tools/make_drunet_backward_fixtures.py)",
          "[nn][train]") {
  const std::string name = GENERATE(as<std::string>{}, "drunet2d_color", "drunet2d_gray_bias");
  INFO(name);
  const std::string path = test::nn_fixture(name + ".safetensors");
  DRUNetBackward<double, Serial> net(load_drunet_weights<double, 2>(path, infer_drunet_config(path)));
  const auto x = read_npy<double, 4>(test::nn_fixture(name + "_input.npy"));
  const auto c = read_npy<double, 4>(test::nn_fixture(name + "_cotangent.npy"));
  const auto expected_dx = read_npy<double, 4>(test::nn_fixture(name + "_grad_input.npy"));
  const double sigma = read_npy<double, 1>(test::nn_fixture(name + "_sigma.npy")).data()[0];
  const double expected_d_sigma = read_npy<double, 1>(test::nn_fixture(name + "_grad_sigma.npy")).data()[0];
  Tensor<double, 4> y(x.extents()), dx(x.extents());
  const auto tape = net.forward(View<const double, 4, HostSpace>(x.data(), x.extents()), sigma, y.view());
  const double d_sigma = net.backward(tape, View<const double, 4, HostSpace>(c.data(), c.extents()), dx.view());
  CHECK(test::relative_error(dx, expected_dx) < 1e-12);
  CHECK(d_sigma == Approx(expected_d_sigma).epsilon(1e-12));
  // The parameter gradients are stored in float32: 1e-6 of each tensor's largest entry.
  const SafetensorsFile expected(test::nn_fixture(name + "_grad_parameters.safetensors"));
  REQUIRE(expected.entries().size() == net.parameters().infos().size());
  for (const ParameterInfo& p : net.parameters().infos()) {
    INFO(p.name);
    const SafetensorsEntry* e = expected.find(p.name);
    REQUIRE(e != nullptr);
    const std::vector<double> g = expected.read<double>(*e);
    REQUIRE(static_cast<index_t>(g.size()) == p.size);
    double diff = 0, scale = 0;
    for (index_t k = 0; k < p.size; ++k) {
      diff = std::max(diff, std::abs(net.parameters().gradients()[static_cast<std::size_t>(p.offset + k)] -
                                     g[static_cast<std::size_t>(k)]));
      scale = std::max(scale, std::abs(g[static_cast<std::size_t>(k)]));
    }
    CHECK(diff <= 1e-6 * scale);
  }
}

TEST_CASE("DRUNetBackward's parameter store saves a weights file the inference network loads", "[nn][train]") {
  const DRUNetConfig config = tiny_config(3, true);
  const auto weights = tiny_weights<float>(config, 12);
  DRUNetBackward<float, Serial> net(weights);
  REQUIRE(net.parameters().size() == weights.parameter_count());
  const auto path = std::filesystem::temp_directory_path() / "pnpdist_test_drunet_backward.safetensors";
  net.parameters().save_safetensors(path.string());
  const auto loaded = load_drunet_weights<float, 2>(path.string(), infer_drunet_config(path.string()));
  std::filesystem::remove(path);
  REQUIRE(loaded.layers.size() == weights.layers.size());
  for (std::size_t l = 0; l < weights.layers.size(); ++l) {
    CHECK(loaded.layers[l].weight == weights.layers[l].weight);
    CHECK(loaded.layers[l].bias == weights.layers[l].bias);
  }
}
