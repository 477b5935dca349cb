#pragma once
// Helpers of the training-layer tests: seeded random vectors, the dot product, the channels-last transpose and
// the central-difference gradient check every backward pass is tested with.
#include <catch2/catch.hpp>

#include <pnpdist/backend/serial.hpp>
#include <pnpdist/tensor/random.hpp>

#include <cstdint>
#include <functional>
#include <vector>

namespace pnpdist::test {

/// n values uniform in [low, high) from Philox stream `stream` (seed 7).
template <class T>
std::vector<T> random_vector(index_t n, std::uint64_t stream, T low = T(-1), T high = T(1)) {
  std::vector<T> v(static_cast<std::size_t>(n));
  fill_uniform(Serial{}, View<T, 1, HostSpace>(v.data(), Extents<1>{n}), 7, stream, low, high);
  return v;
}

/// (batch, channels, plane) -> (batch, plane, channels).
template <class T>
std::vector<T> to_channels_last(const std::vector<T>& v, index_t batch, index_t channels, index_t plane) {
  std::vector<T> t(v.size());
  for (index_t n = 0; n < batch; ++n)
    for (index_t c = 0; c < channels; ++c)
      for (index_t p = 0; p < plane; ++p)
        t[static_cast<std::size_t>((n * plane + p) * channels + c)] =
            v[static_cast<std::size_t>((n * channels + c) * plane + p)];
  return t;
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Checks d/dx_i of loss() against `analytic` at every element of x: central differences with `step`, within
// `epsilon` relative or `margin` absolute.
inline void check_gradient(std::vector<double>& x, const std::vector<double>& analytic,
                           const std::function<double()>& loss, double step = 1e-6, double epsilon = 1e-6,
                           double margin = 1e-7) {
  REQUIRE(x.size() == analytic.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + step;
    const double up = loss();
    x[i] = keep - step;
    const double down = loss();
    x[i] = keep;
    CHECK((up - down) / (2 * step) == Approx(analytic[i]).margin(margin).epsilon(epsilon));
  }
}

// The gradient check of a layer with weights and a bias, through the loss <c, layer(x; w, b)>:
// forward(x, w, b, y) writes y = layer(x; w, b); backward_data(c, w, dx) and backward_weights(x, c, dw, db) must
// ADD the gradients in x, w and b to their outputs (checked by starting them from nonzero values).
template <class Forward, class BackwardData, class BackwardWeights>
void check_layer_gradients(std::vector<double>& x, std::vector<double>& w, std::vector<double>& b,
                           const std::vector<double>& c, Forward forward, BackwardData backward_data,
                           BackwardWeights backward_weights) {
  const auto loss = [&] {
    std::vector<double> y(c.size());
    forward(x.data(), w.data(), b.data(), y.data());
    return dot(c, y);
  };
  std::vector<double> dx(x.size(), 0.5), dw(w.size(), 0.25), db(b.size(), -1.0);
  backward_data(c.data(), w.data(), dx.data());
  backward_weights(x.data(), c.data(), dw.data(), db.data());
  for (double& v : dx) v -= 0.5;
  for (double& v : dw) v -= 0.25;
  for (double& v : db) v += 1.0;
  check_gradient(x, dx, loss);
  check_gradient(w, dw, loss);
  check_gradient(b, db, loss);
}

}  // namespace pnpdist::test
