#include <catch2/catch.hpp>

#include <pnpdist/operators/physics.hpp>
#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/physics/blur/blur.hpp>
#include <pnpdist/physics/blur/clipped_blur_stack.hpp>
#include <pnpdist/solvers/data_proximal.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/reductions.hpp>

#include <cmath>
#include <vector>

#include "physics/blur/blur_test_support.hpp"
#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

static_assert(pnpdist::Physics<pnpdist::blur::ClippedBlurStack<pnpdist::Serial>>);
static_assert(pnpdist::ClosedFormProximal<pnpdist::blur::ClippedBlurStack<pnpdist::OpenMP>>);

#if defined(PNPDIST_HAS_FFTW)

namespace {

template <class Exec>
pnpdist::StackedPhysics<pnpdist::blur::FftBlur<Exec>> blur_stack(const Exec& exec, const Extents<4>& shape) {
  std::vector<pnpdist::blur::FftBlur<Exec>> ops;
  for (int i = 0; i < 3; ++i)
    ops.emplace_back(exec, pnpdist::blur::gaussian_psf<float>(1.5, 0.75, 60.0 * i).const_view(), shape);
  return pnpdist::StackedPhysics<pnpdist::blur::FftBlur<Exec>>(std::move(ops));
}

/// A [0, 1] image with dark and bright regions: a quarter of it at 0.02, a quarter at 0.98.
Tensor<float, 4> dark_and_bright_image(const Extents<4>& shape) {
  Tensor<float, 4> x = pnpdist::test::random_tensor(shape, 7);
  for (index_t e = 0; e < x.size(); ++e) {
    const index_t col = e % shape[3];
    x.data()[e] = col < shape[3] / 4 ? 0.02f : col >= 3 * shape[3] / 4 ? 0.98f : 0.5f + 0.3f * x.data()[e];
  }
  return x;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("ClippedBlurStack: the Tobit data fidelity of clipped blurred measurements", "[blur][clipped]",
                        pnpdist::test::HostExecutors) {
  pnpdist::fft::set_fftw_planning(pnpdist::fft::FftwPlanning::estimate);
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  const pnpdist::Serial host;
  const Extents<4> shape{1, 3, 20, 24};
  const pnpdist::ClippedGaussianNoise noise{0.1, 0.0, 1.0};
  const Tensor<float, 4> truth = dark_and_bright_image(shape);
  const pnpdist::MeasurementSimulation clamped{.noise_sigma = 0.1, .seed = 3, .first_stream = 0, .clamp = true};

  auto simulated = [&](const pnpdist::MeasurementSimulation& sim) {
    auto stack = blur_stack(exec, shape);
    stack.simulate(truth.const_view(), sim);
    return stack;
  };
  const Tensor<float, 4> x = pnpdist::test::random_tensor(shape, 11);  // a point in [-1, 1], far from the truth
  Tensor<float, 4> z(shape);
  pnpdist::copy(host, truth.const_view(), z.view());
  pnpdist::axpy(host, 0.2f, x.const_view(), z.view());  // a point near the truth

  SECTION("without clipped samples it is CircularBlurStack, bit for bit") {
    auto stack = simulated({.noise_sigma = 0.01, .seed = 3, .first_stream = 0, .clamp = false});
    const pnpdist::blur::CircularBlurStack<Exec> fused(stack);
    const pnpdist::blur::ClippedBlurStack<Exec> clipped(stack, {0.01, -10.0, 10.0});
    REQUIRE(clipped.clipped_samples() == 0);
    Tensor<float, 4> a(shape), b(shape);
    fused.gradient(x.const_view(), a.view());
    clipped.gradient(x.const_view(), b.view());
    CHECK(pnpdist::test::relative_max_difference(b, a) == 0.0);
    fused.proximal(z.const_view(), 0.3, a.view());
    clipped.proximal(z.const_view(), 0.3, b.view());
    CHECK(pnpdist::test::relative_max_difference(b, a) == 0.0);
    CHECK(clipped.data_fidelity(x.const_view()) == fused.data_fidelity(x.const_view()));
  }

  SECTION("the gradient is the derivative of the data fidelity (central differences)") {
    const auto stack = simulated(clamped);
    const pnpdist::blur::ClippedBlurStack<Exec> physics(stack, noise);
    REQUIRE(physics.clipped_samples() > shape[1] * shape[2] * shape[3] / 4);  // the dark and bright quarters
    const Tensor<float, 4> direction = pnpdist::test::random_tensor(shape, 5);
    for (const Tensor<float, 4>* point : std::initializer_list<const Tensor<float, 4>*>{&z, &truth}) {
      Tensor<float, 4> g(shape), plus(shape), minus(shape);
      physics.gradient(point->const_view(), g.view());
      const double eps = 1e-3;
      pnpdist::copy(host, point->const_view(), plus.view());
      pnpdist::copy(host, point->const_view(), minus.view());
      pnpdist::axpy(host, float(eps), direction.const_view(), plus.view());
      pnpdist::axpy(host, float(-eps), direction.const_view(), minus.view());
      const double fd =
          (physics.data_fidelity(plus.const_view()) - physics.data_fidelity(minus.const_view())) / (2 * eps);
      CHECK(fd == Approx(pnpdist::dot(host, g.const_view(), direction.const_view())).epsilon(2e-3));
    }
  }

  SECTION("the data fidelity is the Tobit likelihood summed over the blurs") {
    const auto stack = simulated(clamped);
    const pnpdist::blur::ClippedBlurStack<Exec> physics(stack, noise);
    for (const Tensor<float, 4>* point : std::initializer_list<const Tensor<float, 4>*>{&x, &z}) {
      double expected = 0;
      for (std::size_t i = 0; i < stack.size(); ++i) {
        Tensor<float, 4> mu(shape);
        stack.op(i).apply(point->const_view(), mu.view());
        const auto& y = stack.measurement(i);
        for (index_t e = 0; e < mu.size(); ++e)
          expected += pnpdist::clipped_gaussian::negative_log_likelihood(y.data()[e], mu.data()[e], 0.1, 0.0, 1.0);
      }
      CHECK(physics.data_fidelity(point->const_view()) == Approx(expected).epsilon(1e-5));
    }
  }

  SECTION("the proximal step is the closed form with the conditional means at z") {
    auto stack = simulated(clamped);
    // Reference: impute on the host with the scalar formula, then the Gaussian stack's closed form.
    std::vector<Tensor<float, 4>> imputed;
    for (std::size_t i = 0; i < stack.size(); ++i) {
      Tensor<float, 4> mu(shape);
      stack.op(i).apply(z.const_view(), mu.view());
      const auto& y = stack.measurement(i);
      for (index_t e = 0; e < mu.size(); ++e)
        mu.data()[e] =
            static_cast<float>(pnpdist::clipped_gaussian::conditional_mean(y.data()[e], mu.data()[e], 0.1, 0.0, 1.0));
      imputed.push_back(std::move(mu));
    }
    auto reference_stack = blur_stack(exec, shape);
    reference_stack.set_measurements(std::move(imputed));
    const pnpdist::blur::CircularBlurStack<Exec> reference(reference_stack);
    const pnpdist::blur::ClippedBlurStack<Exec> physics(stack, noise);
    Tensor<float, 4> expected(shape), got(shape);
    reference.proximal(z.const_view(), 0.5, expected.view());
    physics.proximal(z.const_view(), 0.5, got.view());
    CHECK(pnpdist::test::relative_max_difference(got, expected) < 1e-5);
  }

  SECTION("a proximal step decreases the proximal objective (majorise-minimise)") {
    const auto stack = simulated(clamped);
    const pnpdist::blur::ClippedBlurStack<Exec> physics(stack, noise);
    for (const double weight : {0.05, 1.0, 20.0}) {
      Tensor<float, 4> next(shape), step(shape);
      physics.proximal(z.const_view(), weight, next.view());
      pnpdist::copy(host, next.const_view(), step.view());
      pnpdist::axpy(host, -1.0f, z.const_view(), step.view());
      const double before = physics.data_fidelity(z.const_view());
      const double after =
          physics.data_fidelity(next.const_view()) + 0.5 * weight * pnpdist::squared_norm(host, step.const_view());
      INFO("weight " << weight);
      CHECK(after < before);
    }
  }

  SECTION("invalid models and stacks are refused") {
    const auto stack = simulated(clamped);
    CHECK_THROWS_WITH(pnpdist::blur::ClippedBlurStack<Exec>(stack, {0.1, 1.0, 0.0}), Catch::Contains("lower < upper"));
    const auto without_measurements = blur_stack(exec, shape);
    CHECK_THROWS_WITH(pnpdist::blur::ClippedBlurStack<Exec>(without_measurements, noise),
                      Catch::Contains("no measurements"));
  }
}

#endif  // PNPDIST_HAS_FFTW
