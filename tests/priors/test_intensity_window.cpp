// IntensityWindowDenoiser (priors/intensity_window.hpp): the base sees (x - low) / s and sigma / s, its output
// is mapped back by low + s y; a base equivariant to shifts and positive scalings is unchanged; bad windows and
// shapes are refused.
#include <catch2/catch.hpp>

#include <pnpdist/priors/identity_denoiser.hpp>
#include <pnpdist/priors/intensity_window.hpp>
#include <pnpdist/tensor/random.hpp>

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

namespace {

/// D(x, sigma) = x^2 + sigma (element-wise), recording the sigma it was given: neither shift- nor
/// scale-equivariant, so the window's maps show in the output.
template <class Exec>
class SquareDenoiser {
public:
  using value_type = double;
  using executor_type = Exec;
  static constexpr std::size_t rank = 4;
  explicit SquareDenoiser(const Exec& exec) : exec_(exec) {}
  [[nodiscard]] Exec executor() const { return exec_; }
  [[nodiscard]] index_t size_multiple() const { return 8; }
  void denoise(const pnpdist::View<const double, 4>& x, double sigma, const pnpdist::View<double, 4>& y) {
    seen_sigma = sigma;
    seen_data = x.data();
    seen.assign(x.data(), x.data() + x.size());
    for (index_t e = 0; e < x.size(); ++e) y.data()[e] = x.data()[e] * x.data()[e] + sigma;
  }
  double seen_sigma = 0;
  const double* seen_data = nullptr;
  std::vector<double> seen;

private:
  Exec exec_;
};

}  // namespace

static_assert(pnpdist::Denoiser<pnpdist::IntensityWindowDenoiser<SquareDenoiser<pnpdist::Serial>>>);

TEMPLATE_LIST_TEST_CASE("The intensity window maps [low, high] onto [0, 1] for the base and back",
                        "[priors][window]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  Tensor<double, 4> x(Extents<4>{2, 1, 3, 5}), y(x.extents());
  pnpdist::fill_uniform(exec, x.view(), 11, 0, -2.0, 3.0);  // partly outside the window: mapped, not clipped
  const double low = -0.5, high = 1.5, s = high - low, sigma = 0.1;
  auto windowed = pnpdist::intensity_window(SquareDenoiser<std::remove_const_t<decltype(exec)>>(exec), low, high);
  CHECK(windowed.size_multiple() == 8);
  windowed.denoise(x.const_view(), sigma, y.view());
  CHECK(windowed.base().seen_sigma == Approx(sigma / s).epsilon(1e-15));
  for (index_t e = 0; e < x.size(); ++e) {
    const double mapped = (x.data()[e] - low) / s;
    CHECK(windowed.base().seen[static_cast<std::size_t>(e)] == Approx(mapped).epsilon(1e-14).margin(1e-15));
    CHECK(y.data()[e] == Approx(low + s * (mapped * mapped + sigma / s)).epsilon(1e-13));
  }
}

TEST_CASE("The window [0, 1] calls the base on the input itself", "[priors][window]") {
  const pnpdist::Serial exec;
  Tensor<double, 4> x(Extents<4>{1, 1, 4, 6}), y(x.extents());
  pnpdist::fill_uniform(exec, x.view(), 12, 0, -1.0, 2.0);
  auto windowed = pnpdist::intensity_window(SquareDenoiser<pnpdist::Serial>(exec), 0.0, 1.0);
  windowed.denoise(x.const_view(), 0.25, y.view());
  CHECK(windowed.base().seen_data == x.data());  // no mapped copy
  CHECK(windowed.base().seen_sigma == 0.25);
  for (index_t e = 0; e < x.size(); ++e) CHECK(y.data()[e] == x.data()[e] * x.data()[e] + 0.25);
}

TEST_CASE("A base equivariant to shifts and scalings is unchanged by a window", "[priors][window]") {
  const pnpdist::Serial exec;
  Tensor<float, 4> x(Extents<4>{1, 1, 8, 8}), y(x.extents());
  pnpdist::fill_normal(exec, x.view(), 5, 0, 0.0f, 0.3f);
  auto windowed = pnpdist::intensity_window(pnpdist::IdentityDenoiser<float, 4, pnpdist::Serial>(exec), -1.0, 1.0);
  windowed.denoise(x.const_view(), 0.05f, y.view());
  for (index_t e = 0; e < x.size(); ++e) CHECK(y.data()[e] == Approx(x.data()[e]).margin(1e-7));
}

TEST_CASE("The intensity window refuses empty, reversed and non-finite windows and mismatched shapes",
          "[priors][window]") {
  const pnpdist::Serial exec;
  using Identity = pnpdist::IdentityDenoiser<float, 4, pnpdist::Serial>;
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(pnpdist::intensity_window(Identity(exec), 1.0, 1.0), Catch::Contains("low < high"));
  CHECK_THROWS_WITH(pnpdist::intensity_window(Identity(exec), 2.0, -1.0), Catch::Contains("[2.000000, -1.000000]"));
  CHECK_THROWS_AS(pnpdist::intensity_window(Identity(exec), 0.0, inf), pnpdist::invalid_argument);
  CHECK_THROWS_AS(pnpdist::intensity_window(Identity(exec), std::nan(""), 1.0), pnpdist::invalid_argument);
  auto windowed = pnpdist::intensity_window(Identity(exec), 0.0, 1.0);
  CHECK_THROWS_AS(windowed.set_window(3.0, 3.0), pnpdist::invalid_argument);
  CHECK((windowed.low() == 0.0 && windowed.high() == 1.0));  // unchanged by the refused window
  windowed.set_window(-1.0, 2.0);
  CHECK((windowed.low() == -1.0 && windowed.high() == 2.0));
  Tensor<float, 4> x(Extents<4>{1, 1, 4, 4}), y(Extents<4>{1, 1, 4, 5});
  CHECK_THROWS_AS(windowed.denoise(x.const_view(), 0.1f, y.view()), pnpdist::dimension_mismatch);
}
