// PnPSolver on small dense problems: the iteration against a hand computation (gradient step, relaxation,
// clipping), the automatic step against the exact norm of a matrix with known singular values, the
// initialisations, stagnation stop, option and shape errors, observers and records.
#include <catch2/catch.hpp>

#include <pnpdist/priors/identity_denoiser.hpp>
#include <pnpdist/solvers/pnp_solver.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "solvers/solver_test_support.hpp"
#include "support/host_executors.hpp"

using namespace pnpdist;

namespace {

Tensor<double, 1> random_vector(index_t n, std::uint64_t seed) {
  Tensor<double, 1> v(Extents<1>{n});
  fill_normal(Serial{}, v.view(), seed, 0, 0.0, 1.0);
  return v;
}

// g = sum_i A_i^T (A_i x - y_i) by plain loops.
template <class Physics>
std::vector<double> reference_gradient(const Physics& physics, const std::vector<double>& x) {
  const std::size_t n = x.size();
  std::vector<double> g(n, 0.0);
  for (std::size_t i = 0; i < physics.size(); ++i) {
    const auto& a = physics.op(i).entries();
    const auto& y = physics.measurement(i);
    const index_t m = a.extent(0);
    for (index_t r = 0; r < m; ++r) {
      double res = -y(r);
      for (std::size_t c = 0; c < n; ++c) res += a(r, static_cast<index_t>(c)) * x[c];
      for (std::size_t c = 0; c < n; ++c) g[c] += a(r, static_cast<index_t>(c)) * res;
    }
  }
  return g;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("PnP iterations follow the hand computation (step, relaxation, clip)", "[solvers][pnp]",
                        test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  const index_t n = 9;
  const auto truth = random_vector(n, 3);
  const auto physics = test::dense_stack<double>(exec, 3, 7, n, truth.const_view(), 11);
  const double gamma = 0.3, lambda = 2.0, factor = 0.5;
  for (const bool relaxed : {false, true}) {
    for (const bool clipped : {false, true}) {
      test::ScalingDenoiser<double, Exec> prior(exec, factor);
      PnPOptions options;
      ProximalGradient pgd;
      pgd.step = gamma;
      options.max_iterations = 4;
      if (relaxed) pgd.relaxation = lambda;
      if (clipped) options.clip = std::pair{-0.2, 0.25};
      const auto result = PnPSolver(prior, options, pgd).solve(physics, init::zeros);
      // Hand computation: x+ = clip((1 - a) z + a f z), a = g l / (1 + g l); without relaxation x+ = clip(f z).
      const double a = relaxed ? gamma * lambda / (1 + gamma * lambda) : 1.0;
      std::vector<double> x(static_cast<std::size_t>(n), 0.0);
      for (int k = 0; k < 4; ++k) {
        const auto g = reference_gradient(physics, x);
        for (std::size_t c = 0; c < x.size(); ++c) {
          const double z = x[c] - gamma * g[c];
          double v = (1 - a) * z + a * factor * z;
          if (clipped) v = std::min(std::max(v, -0.2), 0.25);
          x[c] = v;
        }
      }
      REQUIRE(result.iterations == 4);
      REQUIRE(result.records.size() == 4);
      for (index_t c = 0; c < n; ++c)
        CHECK(result.x(c) == Approx(x[static_cast<std::size_t>(c)]).epsilon(1e-12).margin(1e-14));
      CHECK(result.step == gamma);
    }
  }
}

TEST_CASE("With the identity denoiser PnP is gradient descent and relaxation changes nothing", "[solvers][pnp]") {
  const index_t n = 6;
  const auto truth = random_vector(n, 5);
  const auto physics = test::dense_stack<double>(Serial{}, 2, 8, n, truth.const_view(), 17);
  IdentityDenoiser<double, 1, Serial> prior;
  PnPOptions options;
  ProximalGradient pgd;
  pgd.step = 0.2;
  options.max_iterations = 3;
  const auto plain = PnPSolver(prior, options, pgd).solve(physics, init::adjoint);
  pgd.relaxation = 5.0;
  const auto relaxed = PnPSolver(prior, options, pgd).solve(physics, init::adjoint);
  std::vector<double> x = reference_gradient(physics, std::vector<double>(static_cast<std::size_t>(n), 0.0));
  for (double& v : x) v = -v;  // A^T y
  for (int k = 0; k < 3; ++k) {
    const auto g = reference_gradient(physics, x);
    for (std::size_t c = 0; c < x.size(); ++c) x[c] -= 0.2 * g[c];
  }
  for (index_t c = 0; c < n; ++c) {
    CHECK(plain.x(c) == Approx(x[static_cast<std::size_t>(c)]).epsilon(1e-12).margin(1e-14));
    CHECK(relaxed.x(c) == Approx(x[static_cast<std::size_t>(c)]).epsilon(1e-12).margin(1e-14));
  }
  // Data fidelity of each iterate: decreasing for gradient descent with step < 1/L, and its relative change.
  double before = plain.initial.data_fidelity;
  for (const auto& r : plain.records) {
    CHECK(r.data_fidelity < before);
    CHECK(r.relative_residual_change == Approx((before - r.data_fidelity) / before).epsilon(1e-12));
    before = r.data_fidelity;
  }
}

TEMPLATE_LIST_TEST_CASE("The automatic step is 0.99 / ||A||^2 of a matrix with known singular values",
                        "[solvers][pnp][step]", test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  // A = U diag(s) V^T with Householder reflections U, V: singular values s exactly, ||A||^2 = 3^2.
  const index_t m = 10, n = 8;
  const std::vector<double> s = {3.0, 1.5, 1.2, 1.0, 0.8, 0.5, 0.3, 0.1};
  const auto u = random_vector(m, 1), v = random_vector(n, 2);
  double uu = 0, vv = 0;
  for (index_t i = 0; i < m; ++i) uu += u(i) * u(i);
  for (index_t j = 0; j < n; ++j) vv += v(j) * v(j);
  Tensor<double, 2> a(Extents<2>{m, n});
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      double sum = 0;  // sum_k U(i,k) s_k V(j,k)
      for (index_t k = 0; k < n; ++k) {
        const double uik = (i == k ? 1.0 : 0.0) - 2 * u(i) * u(k) / uu;
        const double vjk = (j == k ? 1.0 : 0.0) - 2 * v(j) * v(k) / vv;
        sum += uik * s[static_cast<std::size_t>(k)] * vjk;
      }
      a(i, j) = sum;
    }
  std::vector<DenseMatrix<double, Exec>> ops;
  ops.emplace_back(exec, std::move(a));
  StackedPhysics<DenseMatrix<double, Exec>> physics(std::move(ops));
  std::vector<Tensor<double, 1>> ys;
  ys.push_back(zeros<double>(Serial{}, Extents<1>{m}));
  physics.set_measurements(std::move(ys));
  const double norm2 = physics_squared_norm(physics, 60);
  CHECK(norm2 == Approx(9.0).epsilon(1e-8));
  CHECK(norm2 <= 9.0 * (1 + 1e-12));  // a Rayleigh quotient never exceeds the largest eigenvalue
  IdentityDenoiser<double, 1, Exec> prior(exec);
  PnPOptions options;
  options.max_iterations = 1;
  ProximalGradient pgd;
  pgd.power_iterations = 60;
  const auto result = PnPSolver(prior, options, pgd).solve(physics, init::zeros);
  CHECK(result.step == Approx(0.99 / 9.0).epsilon(1e-8));
  CHECK(result.squared_norm == Approx(9.0).epsilon(1e-8));
}

TEST_CASE("Invalid PnP options and shapes give clear errors", "[solvers][pnp][errors]") {
  IdentityDenoiser<double, 1, Serial> prior;
  const auto bad = [&](auto change, const char* text) {
    PnPOptions options;
    ProximalGradient pgd;
    change(options, pgd);
    CHECK_THROWS_AS(PnPSolver(prior, options, pgd), invalid_argument);
    CHECK_THROWS_WITH(PnPSolver(prior, options, pgd), Catch::Contains(text));
  };
  bad([](PnPOptions&, ProximalGradient& a) { a.step = -0.1; }, "step must be positive");
  bad([](PnPOptions&, ProximalGradient& a) { a.step = 0.0; }, "step must be positive");
  bad([](PnPOptions&, ProximalGradient& a) { a.sigma = -1; }, "sigma must be non-negative");
  bad([](PnPOptions& o, ProximalGradient&) { o.max_iterations = -3; }, "max_iterations must be >= 0, got -3");
  bad([](PnPOptions&, ProximalGradient& a) { a.relaxation = -1.0; }, "relaxation");
  bad([](PnPOptions&, ProximalGradient& a) { a.damping = 1.5; }, "damping must be in (0, 1]");
  bad([](PnPOptions&, ProximalGradient& a) { a.damping = 0.0; }, "damping must be in (0, 1]");
  bad(
      [](PnPOptions&, ProximalGradient& a) {
        a.damping = 0.5;
        a.relaxation = 1.0;
      },
      "not both");
  bad([](PnPOptions& o, ProximalGradient&) { o.clip = std::pair{1.0, 0.0}; }, "clip interval");
  bad([](PnPOptions& o, ProximalGradient&) { o.checkpoint_every = 2; }, "needs a checkpoint_path");
  bad([](PnPOptions& o, ProximalGradient&) { o.residual_tolerance = -1; }, "residual_tolerance must be >= 0");
  bad(
      [](PnPOptions& o, ProximalGradient&) {
        o.residual_tolerance = 1e-3;
        o.record_data_fidelity = false;
      },
      "needs record_data_fidelity");
  bad([](PnPOptions&, ProximalGradient& a) { a.power_iterations = 0; }, "power_iterations");

  const auto truth = random_vector(5, 1);
  const auto physics = test::dense_stack<double>(Serial{}, 1, 6, 5, truth.const_view(), 2);
  PnPOptions options;
  ProximalGradient pgd;
  pgd.step = 0.1;
  const auto wrong = zeros<double>(Serial{}, Extents<1>{4});
  CHECK_THROWS_AS(PnPSolver(prior, options, pgd).solve(physics, init::given(wrong)), dimension_mismatch);
  CHECK_THROWS_WITH(PnPSolver(prior, options, pgd).solve(physics, init::given(wrong)),
                    Catch::Contains("(4)") && Catch::Contains("(5)"));
}

TEST_CASE("PnP stops on stagnation and reports it", "[solvers][pnp]") {
  const index_t n = 6;
  const auto truth = random_vector(n, 7);
  const auto physics = test::dense_stack<double>(Serial{}, 2, 12, n, truth.const_view(), 3);
  IdentityDenoiser<double, 1, Serial> prior;
  PnPOptions options;
  options.max_iterations = 500;
  options.stagnation_tolerance = 1e-4;
  const auto result = PnPSolver(prior, options).solve(physics, init::adjoint);
  REQUIRE(result.stop == PnPStop::stagnation);
  REQUIRE(result.iterations < 500);
  REQUIRE(result.records.size() == static_cast<std::size_t>(result.iterations));
  CHECK(result.records.back().relative_change < 1e-4);
  for (std::size_t k = 0; k + 1 < result.records.size(); ++k) CHECK(result.records[k].relative_change >= 1e-4);
  options.stagnation_tolerance = 0;
  options.max_iterations = 7;
  const auto fixed = PnPSolver(prior, options).solve(physics, init::adjoint);
  CHECK(fixed.stop == PnPStop::max_iterations);
  CHECK(fixed.iterations == 7);
}

TEST_CASE("PnP records and observers", "[solvers][pnp][observers]") {
  const index_t n = 6;
  const auto truth = random_vector(n, 7);
  const auto physics = test::dense_stack<double>(Serial{}, 2, 12, n, truth.const_view(), 3);
  IdentityDenoiser<double, 1, Serial> prior;
  PnPOptions options;
  options.max_iterations = 5;
  std::vector<index_t> seen;
  std::vector<double> psnrs;
  const auto result = PnPSolver(prior, options)
                          .solve(physics, init::zeros, observe::ground_truth(truth, 4.0),
                                 [&](const IterationRecord& r, const View<const double, 1>& x) {
                                   seen.push_back(r.iteration);
                                   psnrs.push_back(r.psnr);
                                   CHECK(x.extent(0) == n);
                                 });
  CHECK(seen == std::vector<index_t>{1, 2, 3, 4, 5});
  for (std::size_t k = 0; k < result.records.size(); ++k) {
    const auto& r = result.records[k];
    CHECK(r.psnr == psnrs[k]);
    CHECK(std::isnan(r.ssim));  // rank-1 data: no SSIM
    CHECK(r.iteration_seconds >= r.gradient_seconds + r.denoiser_seconds);
    CHECK(r.wall_seconds >= r.iteration_seconds);
    CHECK(r.peak_rss_gradient_bytes > 0);
    if (k > 0) CHECK(r.wall_seconds >= result.records[k - 1].wall_seconds);
  }
  // The PSNR the observer reports is that of the final iterate against the truth.
  double mse = 0;
  for (index_t c = 0; c < n; ++c) mse += (result.x(c) - truth(c)) * (result.x(c) - truth(c));
  CHECK(result.records.back().psnr == Approx(10 * std::log10(16.0 / (mse / n))).epsilon(1e-12));
  CHECK(result.initial.psnr == Approx(10 * std::log10(16.0 / (squared_norm(Serial{}, truth.const_view()) / n))));
}

namespace {

/// dense_stack's problem with measurement `bad` (of operator 1, entry 2) replaced.
StackedPhysics<DenseMatrix<float, Serial>> stack_with_measurement(float bad) {
  Tensor<float, 1> truth(Extents<1>{8});
  fill_normal(Serial{}, truth.view(), 5, 0, 0.0f, 1.0f);
  auto clean = test::dense_stack<float>(Serial{}, 3, 6, 8, truth.const_view(), 7);
  std::vector<DenseMatrix<float, Serial>> ops;
  std::vector<Tensor<float, 1>> ys;
  for (std::size_t i = 0; i < clean.size(); ++i) {
    Tensor<float, 2> a(clean.op(i).entries().extents());
    deep_copy(a.view(), clean.op(i).entries());
    ops.emplace_back(Serial{}, std::move(a));
    Tensor<float, 1> y(clean.measurement(i).extents());
    deep_copy(y.view(), clean.measurement(i).const_view());
    ys.push_back(std::move(y));
  }
  ys[1](2) = bad;
  return StackedPhysics<DenseMatrix<float, Serial>>(std::move(ops), std::move(ys));
}

/// D(x) = x, except at iteration `bad_call` (counting calls from 1), where it returns NaN.
class FailingDenoiser {
public:
  using value_type = float;
  using executor_type = Serial;
  static constexpr std::size_t rank = 1;
  explicit FailingDenoiser(int bad_call) : bad_call_(bad_call) {}
  [[nodiscard]] Serial executor() const { return {}; }
  void denoise(const View<const float, 1, HostSpace>& x, float, const View<float, 1, HostSpace>& y) {
    deep_copy(y, x);
    if (++calls_ == bad_call_) y(0) = std::nanf("");
  }

private:
  int bad_call_;
  int calls_ = 0;
};

template <class Solve>
std::string numerical_error_of(Solve&& solve) {
  try {
    solve();
  } catch (const numerical_error& e) {
    return e.message();
  }
  return "no numerical_error";
}

}  // namespace

TEST_CASE("NaN or Inf in the measured data stops the solve before the first iteration", "[solvers][pnp][finite]") {
  for (const float bad : {std::nanf(""), std::numeric_limits<float>::infinity()}) {
    for (const bool recorded : {true, false}) {
      INFO("bad " << bad << ", data fidelity recorded: " << recorded);
      const auto physics = stack_with_measurement(bad);
      test::ScalingDenoiser<float, Serial> prior(Serial{}, 0.9f);
      PnPOptions options;
      options.max_iterations = 5;
      options.record_data_fidelity = recorded;
      int iterations_seen = 0;
      const std::string message = numerical_error_of([&] {
        (void)PnPSolver(prior, options).solve(physics, init::zeros,
                                               [&](const IterationRecord&, const auto&) { ++iterations_seen; });
      });
      CHECK_THAT(message, Catch::Contains("rank 0 of 1") && Catch::Contains("data fidelity at the initial iterate") &&
                              Catch::Contains("the measured data holds NaN or Inf"));
      CHECK(iterations_seen == 0);
    }
  }
  // A clean stack solves.
  const auto clean = stack_with_measurement(0.5f);
  test::ScalingDenoiser<float, Serial> prior(Serial{}, 0.9f);
  PnPOptions options;
  options.max_iterations = 3;
  CHECK(PnPSolver(prior, options).solve(clean, init::zeros).iterations == 3);
}

TEST_CASE("A non-finite initial iterate is named", "[solvers][pnp][finite]") {
  const auto physics = stack_with_measurement(0.5f);
  Tensor<float, 1> x0(Extents<1>{8});
  fill(Serial{}, x0.view(), 1.0f);
  x0(4) = std::numeric_limits<float>::infinity();
  test::ScalingDenoiser<float, Serial> prior(Serial{}, 0.9f);
  PnPOptions options;
  options.max_iterations = 3;
  CHECK_THAT(numerical_error_of([&] { (void)PnPSolver(prior, options).solve(physics, init::given(x0.const_view())); }),
             Catch::Contains("the initial iterate holds NaN or Inf"));
}

TEST_CASE("A non-finite iterate stops the solve naming the iteration and the phase", "[solvers][pnp][finite]") {
  const auto physics = stack_with_measurement(0.5f);
  PnPOptions options;
  options.max_iterations = 6;
  SECTION("the denoiser") {
    FailingDenoiser prior(3);
    std::vector<index_t> seen;
    const std::string message = numerical_error_of([&] {
      (void)PnPSolver(prior, options).solve(physics, init::zeros,
                                             [&](const IterationRecord& r, const auto&) { seen.push_back(r.iteration); });
    });
    CHECK_THAT(message, Catch::Contains("rank 0 of 1") && Catch::Contains("iteration 3: the denoiser step produced NaN"));
    CHECK(seen == std::vector<index_t>{1, 2});  // iteration 3 is neither recorded nor observed
  }
  SECTION("the gradient step") {
    test::ScalingDenoiser<float, Serial> prior(Serial{}, 0.9f);
    ProximalGradient pgd;
    pgd.step = 1e300;  // finite in double, infinite in the float iteration
    CHECK_THAT(numerical_error_of([&] { (void)PnPSolver(prior, options, pgd).solve(physics, init::zeros); }),
               Catch::Contains("iteration 1: the gradient step produced NaN or Inf"));
  }
  SECTION("with HQS, the denoiser") {
    FailingDenoiser prior(2);
    CHECK_THAT(numerical_error_of([&] {
                 (void)PnPSolver(prior, options, HalfQuadraticSplitting{}).solve(physics, init::zeros);
               }),
               Catch::Contains("iteration 2: the denoiser step"));
  }
}
