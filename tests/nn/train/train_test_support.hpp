#pragma once
// Helpers of the training-layer tests: seeded random vectors, the dot product and the central-difference
// gradient check every backward pass is tested with.
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

}  // namespace pnpdist::test
