// The training layers of nn/train: conv3 forward against the reference convolution (layers.hpp), every
// backward pass against central finite differences in double, concatenation as the transpose of its
// backward, the MSE gradient, Adam against a hand-computed update, the parameter store's safetensors
// round trip and the training checkpoint round trip.
#include <catch2/catch.hpp>

#include <pnpdist/core/bfloat16.hpp>
#include <pnpdist/nn/layers.hpp>
#include <pnpdist/nn/train/adam.hpp>
#include <pnpdist/nn/train/conv3_train.hpp>
#include <pnpdist/nn/train/mse_loss.hpp>
#include <pnpdist/nn/train/parameters.hpp>
#include <pnpdist/nn/train/pointwise_train.hpp>
#include <pnpdist/nn/train/training_checkpoint.hpp>
#include <pnpdist/tensor/random.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <vector>

#include "support/host_executors.hpp"
#include "train_test_support.hpp"

using namespace pnpdist;
using namespace pnpdist::nn::train;

using test::check_gradient;
using test::check_layer_gradients;
using test::dot;
using test::random_vector;
using test::to_channels_last;

TEMPLATE_LIST_TEST_CASE("conv3_forward equals the reference convolution on every host executor", "[nn][train]",
                        test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  const Conv3Shape s{2, 3, 4, 7, 21};
  const auto x = random_vector<float>(s.batch * s.in_channels * s.plane(), 1);
  const auto w = random_vector<float>(s.out_channels * s.in_channels * 9, 2);
  const auto b = random_vector<float>(s.out_channels, 3);
  std::vector<float> ours(static_cast<std::size_t>(s.batch * s.out_channels * s.plane()));
  std::vector<float> reference(ours.size());
  conv3_forward(exec, s, x.data(), w.data(), b.data(), ours.data());
  nn::conv3(Serial{}, View<const float, 4, HostSpace>(x.data(), Extents<4>{2, 3, 7, 21}), w.data(), b.data(),
            View<float, 4, HostSpace>(reference.data(), Extents<4>{2, 4, 7, 21}));
  for (std::size_t i = 0; i < ours.size(); ++i) CHECK(ours[i] == Approx(reference[i]).margin(1e-5));
}

TEST_CASE("conv3 backward-data and backward-weights are the gradients of the forward pass", "[nn][train]") {
  // Narrow images, one column, and rows wider than the 16 lanes of the weight gradient (with a remainder).
  const Conv3Shape s = GENERATE(Conv3Shape{2, 2, 3, 4, 5}, Conv3Shape{1, 2, 2, 3, 1}, Conv3Shape{1, 2, 2, 3, 37});
  auto x = random_vector<double>(s.batch * s.in_channels * s.plane(), 1);
  auto w = random_vector<double>(s.out_channels * s.in_channels * 9, 2);
  auto b = random_vector<double>(s.out_channels, 3);
  const auto c = random_vector<double>(s.batch * s.out_channels * s.plane(), 4);  // loss = <c, conv(x)>
  check_layer_gradients(
      x, w, b, c, [&](auto... a) { conv3_forward(Serial{}, s, a...); },
      [&](auto... a) { conv3_backward_data(Serial{}, s, a...); },
      [&](auto... a) { conv3_backward_weights(Serial{}, s, a...); });
}

TEST_CASE("PReLU backward is the gradient in the input and the per-channel slopes", "[nn][train]") {
  const index_t batch = 2, channels = 3, plane = 6;
  auto x = random_vector<double>(batch * channels * plane, 1);
  auto alpha = random_vector<double>(channels, 2, 0.0, 0.5);
  const auto c = random_vector<double>(x.size(), 3);
  const auto loss = [&] {
    std::vector<double> y(x.size());
    prelu_forward(Serial{}, batch, channels, plane, x.data(), alpha.data(), y.data());
    return dot(c, y);
  };
  std::vector<double> dx(x.size(), 0.0), dalpha(alpha.size(), 0.0);
  prelu_backward(Serial{}, batch, channels, plane, x.data(), alpha.data(), c.data(), dx.data(), dalpha.data());
  check_gradient(x, dx, loss);
  check_gradient(alpha, dalpha, loss);
}

namespace {
/// Random PReLU inputs: x and dy of `size` values, `channels` slopes in [0, 0.5] (streams first, +1, +2).
struct PreluInputs {
  std::vector<float> x, dy, alpha;
};
PreluInputs prelu_inputs(index_t size, index_t channels, std::uint64_t first) {
  return {random_vector<float>(size, first), random_vector<float>(size, first + 1),
          random_vector<float>(channels, first + 2, 0.0f, 0.5f)};
}
}  // namespace

TEST_CASE("channels-last PReLU equals PReLU on the transposed tensors", "[nn][train]") {
  // 2 images of 1500 positions: per image a chunk of prelu_chunk_positions and a partial one.
  const index_t batch = 2, plane = 1500, channels = GENERATE(as<index_t>{}, 3, 32);
  const index_t size = batch * channels * plane;
  const auto [x, dy, alpha] = prelu_inputs(size, channels, 1);
  std::vector<float> y(x.size()), dx(x.size(), 0.25f), d_alpha(alpha.size(), 1.0f);
  prelu_forward(Serial{}, batch, channels, plane, x.data(), alpha.data(), y.data());
  prelu_backward(Serial{}, batch, channels, plane, x.data(), alpha.data(), dy.data(), dx.data(), d_alpha.data());
  const auto xt = to_channels_last(x, batch, channels, plane), dyt = to_channels_last(dy, batch, channels, plane);
  std::vector<float> scale(alpha.size(), 0.0f);  // sum of |dy min(x, 0)| per channel
  for (index_t i = 0; i < size; ++i)
    scale[static_cast<std::size_t>((i / plane) % channels)] +=
        std::fabs(dy[static_cast<std::size_t>(i)] * std::min(x[static_cast<std::size_t>(i)], 0.0f));
  const auto check_on = [&](const auto& exec) {
    std::vector<float> yt(x.size()), dxt(x.size(), 0.25f), d_alpha_t(alpha.size(), 1.0f);
    prelu_forward_channels_last(exec, batch, channels, plane, xt.data(), alpha.data(), yt.data());
    CHECK(yt == to_channels_last(y, batch, channels, plane));
    prelu_backward_channels_last(exec, batch, channels, plane, xt.data(), alpha.data(), dyt.data(), dxt.data(),
                                 d_alpha_t.data());
    CHECK(dxt == to_channels_last(dx, batch, channels, plane));
    for (std::size_t c = 0; c < alpha.size(); ++c) CHECK(std::fabs(d_alpha_t[c] - d_alpha[c]) <= 1e-6f * scale[c] + 1e-7f);
    return d_alpha_t;
  };
  const auto serial = check_on(Serial{});
  // Per image: the slope gradient of the batch equals the sum of the images' (as data-parallel ranks add them).
  std::vector<float> first(alpha.size(), 0.0f), second(alpha.size(), 0.0f), unused(x.size(), 0.0f);
  const std::size_t half = xt.size() / 2;
  prelu_backward_channels_last(Serial{}, 1, channels, plane, xt.data(), alpha.data(), dyt.data(), unused.data(),
                               first.data());
  prelu_backward_channels_last(Serial{}, 1, channels, plane, xt.data() + half, alpha.data(), dyt.data() + half,
                               unused.data(), second.data());
  for (std::size_t c = 0; c < alpha.size(); ++c) CHECK(serial[c] == 1.0f + (first[c] + second[c]));
#if defined(PNPDIST_HAS_OPENMP)
  // The slope gradient does not depend on the thread count (the chunks are fixed).
  CHECK(check_on(OpenMP{1}) == check_on(OpenMP{2}));
#endif
}

TEST_CASE("channels-last PReLU follows its definition on zeros, subnormals, infinities and NaNs", "[nn][train]") {
  // The kernels select with bit masks; the definition: y = x > 0 ? x : alpha x, dx += x > 0 ? dy : alpha dy,
  // d_alpha += x > 0 ? 0 : dy x. Equal as floats (a zero's sign may differ), NaN where the definition gives NaN.
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> values = {0.0f, -0.0f, 1e-40f, -1e-40f, inf, -inf, nan, -nan, 2.5f, -2.5f, 1e-30f, -7.0f};
  const std::vector<float> slopes = {0.0f, 0.25f, -0.5f, 1.0f};
  const index_t channels = static_cast<index_t>(slopes.size()), positions = static_cast<index_t>(values.size());
  std::vector<float> x, dy;  // (1, positions, channels): every value in every channel, dy = 1.5 or -3
  for (index_t p = 0; p < positions; ++p)
    for (index_t c = 0; c < channels; ++c) {
      x.push_back(values[static_cast<std::size_t>(p)]);
      dy.push_back((p + c) % 2 == 0 ? 1.5f : -3.0f);
    }
  std::vector<float> y(x.size()), dx(x.size(), 0.0f), d_alpha(slopes.size(), 0.0f);
  prelu_forward_channels_last(Serial{}, 1, channels, positions, x.data(), slopes.data(), y.data());
  prelu_backward_channels_last(Serial{}, 1, channels, positions, x.data(), slopes.data(), dy.data(), dx.data(),
                               d_alpha.data());
  const auto same = [](float got, float expected) {
    return std::isnan(expected) ? std::isnan(got) : got == expected;
  };
  for (std::size_t c = 0; c < slopes.size(); ++c) {
    float expected_slope_gradient = 0.0f;
    for (std::size_t p = 0; p < values.size(); ++p) {
      const std::size_t i = p * slopes.size() + c;
      const float v = x[i], a = slopes[c], g = dy[i];
      INFO("x " << v << " alpha " << a << " dy " << g);
      CHECK(same(y[i], v > 0.0f ? v : a * v));
      CHECK(same(dx[i], v > 0.0f ? g : a * g));
      expected_slope_gradient += v > 0.0f ? 0.0f : g * v;
    }
    CHECK(same(d_alpha[c], expected_slope_gradient));  // NaN and infinite inputs make it NaN, as defined
  }
}

TEST_CASE("channels-last PReLU writes bfloat16 outputs and input gradients rounded", "[nn][train][bf16]") {
  // The bf16 variants write round_to_bf16 of the float results (the backward one writes dx instead of adding to
  // it) and add the same slope gradient.
  const index_t batch = 2, plane = 1100, channels = GENERATE(as<index_t>{}, 5, 32);
  const index_t size = batch * channels * plane;
  const auto [x, dy, alpha] = prelu_inputs(size, channels, 4);
  std::vector<float> y(x.size()), dx(x.size(), 0.0f), d_alpha(alpha.size(), 1.0f);
  prelu_forward_channels_last(Serial{}, batch, channels, plane, x.data(), alpha.data(), y.data());
  prelu_backward_channels_last(Serial{}, batch, channels, plane, x.data(), alpha.data(), dy.data(), dx.data(),
                               d_alpha.data());
  std::vector<bf16_bits> y_rounded(x.size()), dx_rounded(x.size(), 0x7fc0);  // NaN: must be overwritten
  std::vector<float> d_alpha_rounded(alpha.size(), 1.0f);
  prelu_forward_channels_last(Serial{}, batch, channels, plane, x.data(), alpha.data(), y_rounded.data());
  prelu_backward_channels_last(Serial{}, batch, channels, plane, x.data(), alpha.data(), dy.data(), dx_rounded.data(),
                               d_alpha_rounded.data());
  std::size_t changed = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    REQUIRE(y_rounded[i] == round_to_bf16(y[i]));
    REQUIRE(dx_rounded[i] == round_to_bf16(dx[i]));
    changed += bf16_to_float(y_rounded[i]) != y[i] ? 1 : 0;
  }
  CHECK(changed > x.size() / 2);  // the values were rounded, not copied
  CHECK(d_alpha_rounded == d_alpha);
}

TEST_CASE("concatenation and residual sum: backward is the transpose, bad blocks are refused", "[nn][train]") {
  const index_t batch = 2, plane = 5;
  const auto a = random_vector<double>(batch * 2 * plane, 1);
  const auto d = random_vector<double>(batch * 5 * plane, 2);
  std::vector<double> cat(d.size(), 0.0);
  copy_channels(Serial{}, batch, plane, a.data(), 2, cat.data(), {1, 2, 5});
  std::vector<double> da(a.size(), 0.0);
  add_channels(Serial{}, batch, plane, d.data(), {1, 2, 5}, da.data(), 2);
  CHECK(dot(cat, d) == Approx(dot(a, da)).epsilon(1e-14));
  CHECK_THROWS_AS(copy_channels(Serial{}, batch, plane, a.data(), 2, cat.data(), {4, 2, 5}), dimension_mismatch);
  std::vector<double> y(a.size(), 1.0);
  residual_add(Serial{}, static_cast<index_t>(a.size()), a.data(), y.data());
  CHECK(y[3] == 1.0 + a[3]);
}

TEST_CASE("MSE loss and its gradient", "[nn][train]") {
  auto x = random_vector<double>(12, 1);
  const auto t = random_vector<double>(12, 2);
  std::vector<double> g(x.size());
  mse_loss<double>(12, x.data(), t.data(), g.data());
  check_gradient(x, g, [&] { return mse_loss<double>(12, x.data(), t.data(), nullptr); });
  CHECK_THROWS_AS(mse_loss<double>(0, x.data(), t.data(), nullptr), invalid_argument);
}

TEST_CASE("Adam: clipping, cosine decay and the update of two steps by hand", "[nn][train]") {
  ParameterStore<double> store;
  store.add("a", {2}, {1.0, -2.0});
  AdamOptions o;
  o.learning_rate = 0.1;
  o.beta1 = 0.9;
  o.beta2 = 0.99;
  o.epsilon = 1e-8;
  o.clip_norm = 1.0;
  o.total_steps = 4;
  Adam<double> adam(store.size(), o);
  CHECK(adam.learning_rate(1) == Approx(0.1));
  CHECK(adam.learning_rate(3) == Approx(0.05));
  store.gradients() = {3.0, 4.0};  // norm 5: clipped to (0.6, 0.8)
  CHECK(adam.step(store) == Approx(5.0));
  // t = 1: m = 0.1 g, v = 0.01 g^2, bias-corrected m / sqrt(v) = sign(g): x -= 0.1.
  CHECK(store.values()[0] == Approx(1.0 - 0.1 * 0.6 / (0.6 + 1e-8)));
  CHECK(store.values()[1] == Approx(-2.0 - 0.1 * 0.8 / (0.8 + 1e-8)));
  store.gradients() = {0.5, 0.0};  // not clipped; lr of step 2 = 0.1 (1 + cos(pi / 4)) / 2
  adam.step(store);
  const double m = 0.9 * 0.1 * 0.6 + 0.1 * 0.5, v = 0.99 * 0.01 * 0.36 + 0.01 * 0.25;
  const double lr = 0.1 * (1 + std::cos(std::acos(-1.0) / 4)) / 2;
  const double expected = 1.0 - 0.1 * 0.6 / (0.6 + 1e-8) - lr * (m / (1 - 0.81)) / (std::sqrt(v / (1 - 0.9801)) + 1e-8);
  CHECK(store.values()[0] == Approx(expected).epsilon(1e-12));
  AdamOptions bad;
  bad.beta2 = 1.0;
  CHECK_THROWS_AS(Adam<double>(2, bad), invalid_argument);
}

TEST_CASE("parameter store: safetensors round trip, mismatches named, checkpoint restores the bits",
          "[nn][train]") {
  const auto dir = std::filesystem::temp_directory_path() / "pnpdist_test_train_layers";
  std::filesystem::create_directories(dir);
  ParameterStore<float> store;
  store.add("block.conv1.weight", {2, 1, 3, 3}, random_vector<float>(18, 1));
  store.add("block.conv1.bias", {2}, {0.5f, -0.25f});
  CHECK_THROWS_AS(store.add("block.conv1.bias", {2}, {0.f, 0.f}), invalid_argument);
  CHECK_THROWS_AS(store.add("x", {3}, {0.f}), invalid_argument);
  const std::string weights = (dir / "w.safetensors").string();
  store.save_safetensors(weights);
  ParameterStore<float> copy;
  copy.add("block.conv1.weight", {2, 1, 3, 3}, std::vector<float>(18));
  copy.add("block.conv1.bias", {2}, {0.f, 0.f});
  copy.load_safetensors(weights);
  CHECK(copy.values() == store.values());
  ParameterStore<float> other;
  other.add("block.conv1.weight", {2, 2, 3, 3}, std::vector<float>(36));
  other.add("block.conv1.bias", {2}, {0.f, 0.f});
  CHECK_THROWS_WITH(other.load_safetensors(weights), Catch::Contains("block.conv1.weight") && Catch::Contains("shape"));

  Adam<float> adam(store.size());
  store.gradients().assign(store.gradients().size(), 0.125f);
  adam.step(store);
  const std::string checkpoint = (dir / "run.ckpt").string();
  save_training_checkpoint(checkpoint, store, adam, 42, 1.5);
  Adam<float> restored(copy.size());
  CHECK(load_training_checkpoint(checkpoint, copy, restored, 42) == 1.5);
  CHECK(copy.values() == store.values());
  CHECK(restored.first_moment() == adam.first_moment());
  CHECK(restored.second_moment() == adam.second_moment());
  CHECK(restored.steps() == 1);
  CHECK_THROWS_WITH(load_training_checkpoint(checkpoint, copy, restored, 43), Catch::Contains("another run"));
  std::filesystem::remove_all(dir);
}
