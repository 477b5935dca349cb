// The non-learned denoisers: identity, and TV (Chambolle's projection) against the analytic solution of
// 1-D step signals, optimality against perturbations, and invariances.
#include <catch2/catch.hpp>

#include <pnpdist/priors/priors.hpp>
#include <pnpdist/tensor/random.hpp>

#include <cmath>
#include <utility>
#include <vector>

#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

static_assert(pnpdist::Denoiser<pnpdist::IdentityDenoiser<float, 4, pnpdist::Serial>>);
static_assert(pnpdist::Denoiser<pnpdist::TVDenoiser<float, 4, pnpdist::OpenMP>>);
static_assert(pnpdist::Denoiser<pnpdist::TVDenoiser<double, 5, pnpdist::Serial>>);

namespace {

/// 1/2 ||u - x||^2 + lambda * isotropic TV(u) of a 1 x 1 x H x W image, in double.
double tv_objective(const Tensor<double, 4>& u, const Tensor<double, 4>& x, double lambda) {
  double f = 0;
  const index_t h = x.extent(2), w = x.extent(3);
  for (index_t i = 0; i < h; ++i)
    for (index_t j = 0; j < w; ++j) {
      const double d = u(0, 0, i, j) - x(0, 0, i, j);
      const double gi = i + 1 < h ? u(0, 0, i + 1, j) - u(0, 0, i, j) : 0.0;
      const double gj = j + 1 < w ? u(0, 0, i, j + 1) - u(0, 0, i, j) : 0.0;
      f += 0.5 * d * d + lambda * std::sqrt(gi * gi + gj * gj);
    }
  return f;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("Identity denoiser copies", "[priors]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  Tensor<float, 4> x(Extents<4>{1, 2, 3, 4}), y(Extents<4>{1, 2, 3, 4});
  pnpdist::fill_uniform(exec, x.view(), 1, 0, 0.0f, 1.0f);
  pnpdist::IdentityDenoiser<float, 4, decltype(exec)> d(exec);
  d.denoise(x.const_view(), 0.5f, y.view());
  for (index_t e = 0; e < x.size(); ++e) CHECK(y.data()[e] == x.data()[e]);
}

TEMPLATE_LIST_TEST_CASE("TV denoiser shrinks a 1-D step by lambda/a and lambda/b", "[priors][tv]",
                        pnpdist::test::HostExecutors) {
  // x = 0 on a = 6 samples, 1 on b = 10: the minimiser is the step with plateaus lambda/a and 1 - lambda/b
  // (as long as those stay apart).
  const auto exec = pnpdist::test::make_executor<TestType>();
  const index_t a = 6, b = 10;
  const double lambda = 0.6;
  Tensor<double, 4> x(Extents<4>{1, 1, 1, a + b}), y(x.extents());
  for (index_t j = 0; j < a + b; ++j) x(0, 0, 0, j) = j < a ? 0.0 : 1.0;
  pnpdist::TVDenoiser<double, 4, decltype(exec)> tv(exec, 3000, 2.0);
  tv.denoise(x.const_view(), lambda / 2.0, y.view());
  for (index_t j = 0; j < a + b; ++j)
    CHECK(y(0, 0, 0, j) == Approx(j < a ? lambda / a : 1.0 - lambda / b).margin(1e-6));
}

TEST_CASE("TV denoiser: the result beats random perturbations, constants pass unchanged, executors agree",
          "[priors][tv]") {
  Tensor<double, 4> x(Extents<4>{1, 1, 12, 9}), y(x.extents()), z(x.extents());
  pnpdist::fill_uniform(pnpdist::Serial{}, x.view(), 4, 0, 0.0, 1.0);
  const double lambda = 0.15;
  pnpdist::TVDenoiser<double, 4, pnpdist::Serial> tv(pnpdist::Serial{}, 2000);
  tv.denoise(x.const_view(), lambda, y.view());
  const double best = tv_objective(y, x, lambda);
  CHECK(best < tv_objective(x, x, lambda));
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    pnpdist::fill_uniform(pnpdist::Serial{}, z.view(), 10 + seed, 0, -1e-3, 1e-3);
    for (index_t e = 0; e < z.size(); ++e) z.data()[e] += y.data()[e];
    CHECK(tv_objective(z, x, lambda) >= best - 1e-9);
  }
  pnpdist::fill(pnpdist::Serial{}, x.view(), 0.25);
  tv.denoise(x.const_view(), lambda, y.view());
  for (index_t e = 0; e < y.size(); ++e) CHECK(y.data()[e] == Approx(0.25).margin(1e-12));
#if defined(PNPDIST_HAS_OPENMP)
  Tensor<float, 5> v(Extents<5>{1, 2, 5, 6, 7}), s(v.extents()), o(v.extents());
  pnpdist::fill_uniform(pnpdist::Serial{}, v.view(), 5, 0, 0.0f, 1.0f);
  pnpdist::TVDenoiser<float, 5, pnpdist::Serial> serial(pnpdist::Serial{}, 50);
  pnpdist::TVDenoiser<float, 5, pnpdist::OpenMP> parallel(pnpdist::OpenMP{2}, 50);
  serial.denoise(v.const_view(), 0.1f, s.view());
  parallel.denoise(v.const_view(), 0.1f, o.view());
  for (index_t e = 0; e < s.size(); ++e) CHECK(s.data()[e] == Approx(o.data()[e]).epsilon(1e-5));
#endif
  CHECK_THROWS_AS(tv.denoise(x.const_view(), -1.0, y.view()), pnpdist::invalid_argument);
}

namespace {

/// A denoiser that is not equivariant: D(x) = x + r with r(i, j) = i + 2 j^2 (a fixed ramp per plane).
template <class Exec>
class RampDenoiser {
public:
  using value_type = double;
  using executor_type = Exec;
  static constexpr std::size_t rank = 4;
  explicit RampDenoiser(const Exec& exec) : exec_(exec) {}
  [[nodiscard]] Exec executor() const { return exec_; }
  void denoise(const pnpdist::View<const double, 4>& x, double, const pnpdist::View<double, 4>& y) {
    for (index_t p = 0; p < x.extent(0) * x.extent(1); ++p)
      for (index_t i = 0; i < x.extent(2); ++i)
        for (index_t j = 0; j < x.extent(3); ++j)
          y(p / x.extent(1), p % x.extent(1), i, j) =
              x(p / x.extent(1), p % x.extent(1), i, j) + static_cast<double>(i + 2 * j * j);
  }

private:
  Exec exec_;
};

}  // namespace

TEST_CASE("The equivariant denoiser averages the base over the flips and quarter turns of the plane",
          "[priors][equivariant]") {
  const pnpdist::Serial exec;
  for (const auto& [h, w] : {std::pair<index_t, index_t>{5, 5}, std::pair<index_t, index_t>{4, 6}}) {
    Tensor<double, 4> x(Extents<4>{2, 1, h, w});
    pnpdist::fill_normal(exec, x.view(), 3, 0, 0.0, 1.0);
    Tensor<double, 4> y(x.extents());
    pnpdist::EquivariantDenoiser<RampDenoiser<pnpdist::Serial>> eq(RampDenoiser<pnpdist::Serial>{exec});
    eq.denoise(x.const_view(), 0.1, y.view());
    // g^-1 D(g x) = x + g^-1 r: the average is x plus the ramp averaged over the group, computed here by
    // listing the group's index maps by hand: flips of rows and columns, and for square planes the transposes.
    const bool square = h == w;
    for (index_t i = 0; i < h; ++i)
      for (index_t j = 0; j < w; ++j) {
        const auto ramp = [&](index_t a, index_t b) { return static_cast<double>(a + 2 * b * b); };
        double sum = 0;
        int count = 0;
        for (const bool fr : {false, true})
          for (const bool fc : {false, true}) {
            const index_t a = fr ? h - 1 - i : i, b = fc ? w - 1 - j : j;
            sum += ramp(a, b);
            ++count;
            if (square) {
              sum += ramp(b, a);
              ++count;
            }
          }
        for (index_t n = 0; n < 2; ++n) CHECK(y(n, 0, i, j) == Approx(x(n, 0, i, j) + sum / count).epsilon(1e-12));
      }
    // Switched off, it is the base itself.
    pnpdist::EquivariantDenoiser<RampDenoiser<pnpdist::Serial>> off(RampDenoiser<pnpdist::Serial>{exec}, false);
    off.denoise(x.const_view(), 0.1, y.view());
    CHECK(y(1, 0, h - 1, w - 1) == Approx(x(1, 0, h - 1, w - 1) + double((h - 1) + 2 * (w - 1) * (w - 1))));
  }
}

TEST_CASE("An equivariant base is unchanged by the group average", "[priors][equivariant]") {
  const pnpdist::Serial exec;
  for (const index_t w : {9, 12}) {
    Tensor<float, 4> x(Extents<4>{1, 2, 9, w});
    pnpdist::fill_normal(exec, x.view(), 5, 0, 0.0f, 1.0f);
    Tensor<float, 4> averaged(x.extents());
    auto eq = pnpdist::equivariant(pnpdist::IdentityDenoiser<float, 4, pnpdist::Serial>(exec));
    static_assert(pnpdist::Denoiser<decltype(eq)>);
    eq.denoise(x.const_view(), 0.2f, averaged.view());
    for (index_t e = 0; e < x.size(); ++e) CHECK(averaged.data()[e] == Approx(x.data()[e]).epsilon(1e-6).margin(1e-7));
  }
}
