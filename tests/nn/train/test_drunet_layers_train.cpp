// The training layers DRUNet needs beyond conv3 (nn/train/conv2x2_train.hpp, ReLU in pointwise_train.hpp,
// padding_train.hpp): down2 and up2 forward against the reference layers of nn/layers.hpp on every host
// executor, their backward passes and ReLU's against central finite differences in double, the padding and
// crop backward passes as the transposes of the forward staging kernels of nn/padding.hpp.
#include <catch2/catch.hpp>

#include <pnpdist/nn/layers.hpp>
#include <pnpdist/nn/padding.hpp>
#include <pnpdist/nn/train/conv2x2_train.hpp>
#include <pnpdist/nn/train/padding_train.hpp>
#include <pnpdist/nn/train/pointwise_train.hpp>

#include <cmath>
#include <vector>

#include "support/host_executors.hpp"
#include "train_test_support.hpp"

using namespace pnpdist;
using namespace pnpdist::nn::train;

using test::check_gradient;
using test::check_layer_gradients;
using test::dot;
using test::random_vector;

TEMPLATE_LIST_TEST_CASE("down2 and up2 forward equal the reference layers on every host executor", "[nn][train]",
                        test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  const index_t n = 2, cin = 3, cout = 5, h = 6, w = 10;
  const auto x = random_vector<float>(n * cin * h * w, 1);
  const auto wd = random_vector<float>(cout * cin * 4, 2);
  const auto b = random_vector<float>(cout, 3);
  std::vector<float> ours(static_cast<std::size_t>(n * cout * (h / 2) * (w / 2))), reference(ours.size());
  down2_forward(exec, Conv2x2Shape{n, cin, cout, h, w}, x.data(), wd.data(), b.data(), ours.data());
  nn::conv_down2(Serial{}, View<const float, 4, HostSpace>(x.data(), Extents<4>{n, cin, h, w}), wd.data(), b.data(),
                 View<float, 4, HostSpace>(reference.data(), Extents<4>{n, cout, h / 2, w / 2}));
  for (std::size_t i = 0; i < ours.size(); ++i) CHECK(ours[i] == Approx(reference[i]).margin(1e-6));

  const auto wu = random_vector<float>(cin * cout * 4, 4);  // ConvTranspose layout (Cin, Cout, 2, 2)
  std::vector<float> up(static_cast<std::size_t>(n * cout * 4 * h * w)), up_reference(up.size());
  up2_forward(exec, Conv2x2Shape{n, cin, cout, h, w}, x.data(), wu.data(), b.data(), up.data());
  nn::conv_up2(Serial{}, View<const float, 4, HostSpace>(x.data(), Extents<4>{n, cin, h, w}), wu.data(), b.data(),
               View<float, 4, HostSpace>(up_reference.data(), Extents<4>{n, cout, 2 * h, 2 * w}));
  for (std::size_t i = 0; i < up.size(); ++i) CHECK(up[i] == Approx(up_reference[i]).margin(1e-6));
}

TEST_CASE("down2 and up2 backward passes are the gradients of their forward passes", "[nn][train]") {
  const bool down = GENERATE(true, false);
  const Conv2x2Shape s = GENERATE(Conv2x2Shape{2, 2, 3, 4, 6}, Conv2x2Shape{1, 3, 2, 2, 2});
  const index_t in_size = s.batch * s.in_channels * s.height * s.width;
  const index_t out_size = down ? s.batch * s.out_channels * (s.height / 2) * (s.width / 2)
                                : s.batch * s.out_channels * 4 * s.height * s.width;
  auto x = random_vector<double>(in_size, 1);
  auto w = random_vector<double>(s.in_channels * s.out_channels * 4, 2);
  auto b = random_vector<double>(s.out_channels, 3);
  const auto c = random_vector<double>(out_size, 4);  // loss = <c, layer(x)>
  if (down)
    check_layer_gradients(
        x, w, b, c, [&](auto... a) { down2_forward(Serial{}, s, a...); },
        [&](auto... a) { down2_backward_data(Serial{}, s, a...); },
        [&](auto... a) { down2_backward_weights(Serial{}, s, a...); });
  else
    check_layer_gradients(
        x, w, b, c, [&](auto... a) { up2_forward(Serial{}, s, a...); },
        [&](auto... a) { up2_backward_data(Serial{}, s, a...); },
        [&](auto... a) { up2_backward_weights(Serial{}, s, a...); });
}

TEST_CASE("2x2 layers refuse odd or empty shapes before touching memory", "[nn][train]") {
  std::vector<double> v(64);
  const double* no_bias = nullptr;
  CHECK_THROWS_WITH(down2_forward(Serial{}, Conv2x2Shape{1, 1, 1, 3, 4}, v.data(), v.data(), no_bias, v.data()),
                    Catch::Contains("down2_forward") && Catch::Contains("even") && Catch::Contains("H=3"));
  CHECK_THROWS_AS(up2_backward_data(Serial{}, Conv2x2Shape{1, 0, 1, 2, 2}, v.data(), v.data(), v.data()),
                  invalid_argument);
}

TEST_CASE("ReLU backward is the gradient of ReLU away from its kink", "[nn][train]") {
  auto x = random_vector<double>(40, 1);
  for (double& v : x)
    if (std::abs(v) < 1e-3) v = 0.5;  // keep the finite differences off the kink
  const auto c = random_vector<double>(x.size(), 2);
  const auto loss = [&] {
    std::vector<double> y(x.size());
    relu_forward(Serial{}, static_cast<index_t>(x.size()), x.data(), y.data());
    return dot(c, y);
  };
  std::vector<double> y(x.size()), dx(x.size(), 0.0);
  relu_forward(Serial{}, static_cast<index_t>(x.size()), x.data(), y.data());
  relu_backward(Serial{}, static_cast<index_t>(x.size()), y.data(), c.data(), dx.data());
  check_gradient(x, dx, loss);
}

TEMPLATE_LIST_TEST_CASE("padding and crop backward passes are the transposes of DRUNet's staging", "[nn][train]",
                        test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  const PaddingShape s{2, 3, 5, 7, 8, 16};
  const index_t image = s.batch * s.channels * s.height * s.width;
  const index_t padded = s.batch * (s.channels + 1) * s.padded_height * s.padded_width;
  const auto x = random_vector<double>(image, 1);
  const auto g = random_vector<double>(padded, 2);
  const double sigma = 0.3;
  // <pad(x, sigma), g> = <x, pad^T(g)_x> + sigma * pad^T(g)_sigma.
  std::vector<double> p(static_cast<std::size_t>(padded));
  for_each(
      Serial{}, Extents<4>{s.batch, s.channels + 1, s.padded_height, s.padded_width},
      nn::PadWithNoiseMapKernel<double, 4, HostSpace>{
          View<const double, 4, HostSpace>(x.data(), Extents<4>{s.batch, s.channels, s.height, s.width}), sigma,
          View<double, 4, HostSpace>(p.data(), Extents<4>{s.batch, s.channels + 1, s.padded_height, s.padded_width})});
  std::vector<double> dx(x.size(), 0.0);
  double dsigma = 0.0;
  pad_with_noise_map_backward(exec, s, g.data(), dx.data(), &dsigma);
  CHECK(dot(p, g) == Approx(dot(x, dx) + sigma * dsigma).epsilon(1e-13));
  double noise_sum = 0;  // the noise map's gradient is the sum of its channel
  const index_t plane = s.padded_height * s.padded_width;
  for (index_t n = 0; n < s.batch; ++n)
    for (index_t q = 0; q < plane; ++q)
      noise_sum += g[static_cast<std::size_t>((n * (s.channels + 1) + s.channels) * plane + q)];
  CHECK(dsigma == Approx(noise_sum).epsilon(1e-13));

  // <crop(q), y> = <q, crop^T(y)>.
  const PaddingShape c{2, 3, 5, 7, 8, 16};
  const auto q = random_vector<double>(c.batch * c.channels * c.padded_height * c.padded_width, 3);
  const auto y = random_vector<double>(image, 4);
  std::vector<double> cropped(y.size());
  for_each(
      Serial{}, Extents<4>{c.batch, c.channels, c.height, c.width},
      nn::CropKernel<double, 4, HostSpace>{
          View<const double, 4, HostSpace>(q.data(), Extents<4>{c.batch, c.channels, c.padded_height, c.padded_width}),
          View<double, 4, HostSpace>(cropped.data(), Extents<4>{c.batch, c.channels, c.height, c.width})});
  std::vector<double> dq(q.size(), 7.0);  // crop_backward writes every element
  crop_backward(exec, c, y.data(), dq.data());
  CHECK(dot(cropped, y) == Approx(dot(q, dq)).epsilon(1e-13));
  CHECK_THROWS_AS(crop_backward(exec, PaddingShape{1, 1, 9, 9, 8, 8}, y.data(), dq.data()), invalid_argument);
}
