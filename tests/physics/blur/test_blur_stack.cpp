#include <catch2/catch.hpp>

#include <pnpdist/operators/adjoint_check.hpp>
#include <pnpdist/operators/physics.hpp>
#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/physics/blur/blur.hpp>
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
using pnpdist::blur::Boundary;
using pnpdist::blur::DirectBlur;

static_assert(pnpdist::Physics<pnpdist::StackedPhysics<DirectBlur<float, pnpdist::Serial>>>);
static_assert(pnpdist::LinearOperator<pnpdist::StackedOperator<DirectBlur<float, pnpdist::OpenMP>>>);
static_assert(pnpdist::Physics<pnpdist::blur::CircularBlurStack<pnpdist::OpenMP>>);

namespace {

/// The benchmark's PSF family at a small scale: sigma (s, s / 2), angles linspace(0, 180, count).
std::vector<Tensor<float, 2>> psf_family(index_t count, double s) {
  std::vector<Tensor<float, 2>> psfs;
  for (index_t i = 0; i < count; ++i)
    psfs.push_back(pnpdist::blur::gaussian_psf<float>(s, s / 2, 180.0 * double(i) / double(count - 1)));
  return psfs;
}

template <class Physics>
void check_gradient_against_finite_differences(const Physics& physics, const Tensor<float, 4>& x,
                                               const Tensor<float, 4>& direction) {
  const pnpdist::Serial host;
  Tensor<float, 4> g(x.extents());
  physics.gradient(x.const_view(), g.view());
  const double eps = 1e-2;
  Tensor<float, 4> plus(x.extents()), minus(x.extents());
  pnpdist::copy(host, x.const_view(), plus.view());
  pnpdist::copy(host, x.const_view(), minus.view());
  pnpdist::axpy(host, float(eps), direction.const_view(), plus.view());
  pnpdist::axpy(host, float(-eps), direction.const_view(), minus.view());
  // f is quadratic: the central difference is exact up to round-off.
  const double fd = (physics.data_fidelity(plus.const_view()) - physics.data_fidelity(minus.const_view())) / (2 * eps);
  const double analytic = pnpdist::dot(host, g.const_view(), direction.const_view());
  CHECK(fd == Approx(analytic).epsilon(2e-3));
}

}  // namespace

#if defined(PNPDIST_HAS_FFTW)

TEMPLATE_LIST_TEST_CASE("A stack of circular blurs: simulation, gradient and fused gradient", "[blur][stack]",
                        pnpdist::test::HostExecutors) {
  pnpdist::fft::set_fftw_planning(pnpdist::fft::FftwPlanning::estimate);
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  using Blur = pnpdist::blur::FftBlur<Exec>;
  const Extents<4> shape{1, 3, 24, 22};
  std::vector<Blur> ops;
  for (const auto& psf : psf_family(4, 2.0)) ops.emplace_back(exec, psf.const_view(), shape);
  pnpdist::StackedPhysics<Blur> physics(std::move(ops));
  Tensor<float, 4> truth(shape);
  pnpdist::fill_uniform(exec, truth.view(), 0, 0, 0.0f, 1.0f);
  const pnpdist::MeasurementSimulation sim{.noise_sigma = 0.1, .seed = 42, .first_stream = 0, .clamp = true};
  physics.simulate(truth.const_view(), sim);

  SECTION("measurements are clamp(A_i x + sigma n_i) with one noise stream per operator") {
    for (std::size_t i = 0; i < physics.size(); ++i) {
      Tensor<float, 4> expected(shape), noise(shape);
      physics.op(i).apply(truth.const_view(), expected.view());
      pnpdist::fill_normal(pnpdist::Serial{}, noise.view(), 42, i, 0.0f, 0.1f);
      for (index_t e = 0; e < expected.size(); ++e) {
        const float v = std::min(1.0f, std::max(0.0f, expected.data()[e] + noise.data()[e]));
        REQUIRE(physics.measurement(i).data()[e] == Approx(v).margin(1e-6));
      }
    }
  }

  const auto x = pnpdist::test::random_tensor(shape, 5);
  const auto direction = pnpdist::test::random_tensor(shape, 6);

  SECTION("the gradient matches finite differences of the data fidelity") {
    check_gradient_against_finite_differences(physics, x, direction);
  }

  SECTION("the fused gradient and data fidelity equal the per-operator ones") {
    const pnpdist::blur::CircularBlurStack<Exec> fused(physics);
    Tensor<float, 4> g1(shape), g2(shape);
    physics.gradient(x.const_view(), g1.view());
    fused.gradient(x.const_view(), g2.view());
    CHECK(pnpdist::test::relative_max_difference(g2, g1) < 1e-5);
    CHECK(fused.data_fidelity(x.const_view()) == Approx(physics.data_fidelity(x.const_view())).epsilon(1e-6));
    check_gradient_against_finite_differences(fused, x, direction);
  }

  SECTION("the closed-form proximal step solves its optimality condition and equals conjugate gradients") {
    const pnpdist::blur::CircularBlurStack<Exec> fused(physics);
    const pnpdist::Serial host;
    for (const double w : {0.05, 1.0}) {
      Tensor<float, 4> prox(shape), residual(shape);
      fused.proximal(x.const_view(), w, prox.view());
      // grad f(prox) + w (prox - z) = 0, with the per-operator gradient (independent of the fused spectra).
      physics.gradient(prox.const_view(), residual.view());
      pnpdist::axpy(host, float(w), prox.const_view(), residual.view());
      pnpdist::axpy(host, float(-w), x.const_view(), residual.view());
      const double scale = w * double(pnpdist::norm(host, x.const_view()));
      INFO("w = " << w);
      CHECK(double(pnpdist::norm(host, residual.const_view())) < 1e-5 * scale + 1e-5);
      // The same step by conjugate gradients on the per-operator stack.
      pnpdist::DataProximal<pnpdist::StackedPhysics<Blur>> cg(physics, {.max_iterations = 200, .tolerance = 1e-7});
      STATIC_REQUIRE(!decltype(cg)::closed_form());
      Tensor<float, 4> iterative = pnpdist::zeros<float>(exec, shape);
      const auto report = cg.apply(x.const_view(), w, iterative.view());
      CHECK(report.iterations > 0);
      CHECK(pnpdist::test::relative_max_difference(iterative, prox) < 2e-3);  // float CG: measured 3.9e-4
    }
  }

  SECTION("the stacked operator is matched with its adjoint") {
    const auto op = pnpdist::stacked_operator(physics);
    CHECK(op.range_shape()[0] == 4 * pnpdist::product(shape));
    CHECK(pnpdist::adjoint_check(op, 3).passed(1e-5));
  }
}

TEST_CASE("CircularBlurStack needs measurements and the right shapes", "[blur][stack][errors]") {
  pnpdist::fft::set_fftw_planning(pnpdist::fft::FftwPlanning::estimate);
  const pnpdist::Serial exec;
  using Blur = pnpdist::blur::FftBlur<pnpdist::Serial>;
  const Extents<4> shape{1, 1, 8, 8};
  const auto psf = pnpdist::blur::gaussian_psf<float>(0.6, 0.6);
  std::vector<Blur> ops;
  ops.emplace_back(exec, psf.const_view(), shape);
  pnpdist::StackedPhysics<Blur> physics(std::move(ops));
  CHECK_THROWS_AS(pnpdist::blur::CircularBlurStack<pnpdist::Serial>(physics), pnpdist::invalid_argument);
  Tensor<float, 4> x(shape);
  pnpdist::fill(exec, x.view(), 0.5f);
  physics.simulate(x.const_view(), {});
  const pnpdist::blur::CircularBlurStack<pnpdist::Serial> fused(physics);
  CHECK(fused.data_fidelity(x.const_view()) == Approx(0.0).margin(1e-9));
  Tensor<float, 4> colour(Extents<4>{1, 3, 8, 8});
  CHECK_THROWS_AS(fused.gradient(colour.const_view(), colour.view()), pnpdist::dimension_mismatch);
}

#endif

TEMPLATE_LIST_TEST_CASE("A stack of direct blurs with different boundaries in a tuple", "[blur][stack]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  const Extents<4> shape{2, 1, 12, 10};
  const auto psf = pnpdist::blur::gaussian_psf<float>(1.0, 0.5, 45.0);
  const auto psf2 = pnpdist::test::random_tensor(Extents<2>{3, 4}, 12);
  pnpdist::StackedPhysicsTuple<DirectBlur<float, Exec>, DirectBlur<float, Exec>> physics(
      DirectBlur<float, Exec>(exec, psf.const_view(), shape, Boundary::same),
      DirectBlur<float, Exec>(exec, psf2.const_view(), shape, Boundary::valid));
  static_assert(pnpdist::Physics<decltype(physics)>);
  const auto truth = pnpdist::test::random_tensor(shape, 13);
  physics.simulate(truth.const_view(), {.noise_sigma = 0.05, .seed = 1});
  CHECK(physics.template measurement<1>().extents() == Extents<4>{2, 1, 10, 7});
  const auto x = pnpdist::test::random_tensor(shape, 14);
  const auto d = pnpdist::test::random_tensor(shape, 15);
  check_gradient_against_finite_differences(physics, x, d);
}
