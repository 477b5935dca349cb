// The PnP algorithms beside proximal gradient on small dense problems, against hand computations with a direct
// solve of the normal equations: the conjugate-gradient data step, HQS with the DPIR schedule, ADMM, the damped
// denoiser, and the stopping rule on the data residual.
#include <catch2/catch.hpp>

#include <pnpdist/priors/identity_denoiser.hpp>
#include <pnpdist/solvers/pnp_solver.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "solvers/solver_test_support.hpp"
#include "support/host_executors.hpp"

using namespace pnpdist;

namespace {

using Matrix = std::vector<std::vector<double>>;
using Vector = std::vector<double>;

Tensor<double, 1> random_vector(index_t n, std::uint64_t seed) {
  Tensor<double, 1> v(Extents<1>{n});
  fill_normal(Serial{}, v.view(), seed, 0, 0.0, 1.0);
  return v;
}

// A^T A and A^T y of a dense stack, by plain loops.
template <class Physics>
void normal_equations(const Physics& physics, index_t n, Matrix& ata, Vector& aty) {
  ata.assign(static_cast<std::size_t>(n), Vector(static_cast<std::size_t>(n), 0.0));
  aty.assign(static_cast<std::size_t>(n), 0.0);
  for (std::size_t i = 0; i < physics.size(); ++i) {
    const auto& a = physics.op(i).entries();
    const auto& y = physics.measurement(i);
    for (index_t r = 0; r < a.extent(0); ++r)
      for (index_t c = 0; c < n; ++c) {
        aty[static_cast<std::size_t>(c)] += a(r, c) * y(r);
        for (index_t d = 0; d < n; ++d)
          ata[static_cast<std::size_t>(c)][static_cast<std::size_t>(d)] += a(r, c) * a(r, d);
      }
  }
}

// Solves (ata + w I) x = aty + w z by Gaussian elimination with partial pivoting.
Vector solve_proximal(const Matrix& ata, const Vector& aty, double w, const Vector& z) {
  const std::size_t n = aty.size();
  Matrix m = ata;
  Vector b(n);
  for (std::size_t i = 0; i < n; ++i) {
    m[i][i] += w;
    b[i] = aty[i] + w * z[i];
  }
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < n; ++r)
      if (std::abs(m[r][col]) > std::abs(m[pivot][col])) pivot = r;
    std::swap(m[col], m[pivot]);
    std::swap(b[col], b[pivot]);
    for (std::size_t r = col + 1; r < n; ++r) {
      const double f = m[r][col] / m[col][col];
      for (std::size_t c = col; c < n; ++c) m[r][c] -= f * m[col][c];
      b[r] -= f * b[col];
    }
  }
  Vector x(n);
  for (std::size_t i = n; i-- > 0;) {
    double s = b[i];
    for (std::size_t c = i + 1; c < n; ++c) s -= m[i][c] * x[c];
    x[i] = s / m[i][i];
  }
  return x;
}

Vector to_vector(const Tensor<double, 1>& t) { return Vector(t.data(), t.data() + t.size()); }

}  // namespace

TEMPLATE_LIST_TEST_CASE("The conjugate-gradient data step solves (A^T A + w I) x = A^T y + w z", "[solvers][prox]",
                        test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  const index_t n = 12;
  const auto truth = random_vector(n, 21);
  const auto physics = test::dense_stack<double>(exec, 3, 5, n, truth.const_view(), 8);  // 15 rows: well posed
  Matrix ata;
  Vector aty;
  normal_equations(physics, n, ata, aty);
  const auto z = random_vector(n, 4);
  for (const double w : {1e-3, 0.5, 20.0}) {
    const Vector expected = solve_proximal(ata, aty, w, to_vector(z));
    DataProximal<std::remove_cvref_t<decltype(physics)>> prox(physics, {.max_iterations = 100, .tolerance = 1e-13});
    Tensor<double, 1> x = zeros<double>(exec, Extents<1>{n});
    const auto report = prox.apply(z.const_view(), w, x.view());
    INFO("w = " << w << ": " << report.iterations << " CG iterations, residual " << report.relative_residual);
    CHECK(report.relative_residual <= 1e-13);
    CHECK(report.iterations <= 2 * n);  // CG ends in at most n steps in exact arithmetic
    for (index_t c = 0; c < n; ++c)
      CHECK(x(c) == Approx(expected[static_cast<std::size_t>(c)]).epsilon(1e-9).margin(1e-11));
    // Warm-started at the solution, CG has nothing left to do.
    const auto again = prox.apply(z.const_view(), w, x.view());
    CHECK(again.iterations <= 1);
  }
  DataProximal<std::remove_cvref_t<decltype(physics)>> prox(physics);
  Tensor<double, 1> x = zeros<double>(exec, Extents<1>{n});
  CHECK_THROWS_WITH(prox.apply(z.const_view(), 0.0, x.view()), Catch::Contains("weight must be positive"));
  CHECK_THROWS_WITH(DataProximal<std::remove_cvref_t<decltype(physics)>>(physics, {.max_iterations = 0}),
                    Catch::Contains("max_iterations must be >= 1"));
}

TEST_CASE("HQS follows the DPIR schedule and the hand computation", "[solvers][pnp][hqs]") {
  const Serial exec;
  const index_t n = 8;
  const auto truth = random_vector(n, 2);
  const auto physics = test::dense_stack<double>(exec, 2, 3, n, truth.const_view(), 5);  // 6 rows: underdetermined
  Matrix ata;
  Vector aty;
  normal_equations(physics, n, ata, aty);
  HalfQuadraticSplitting hqs;
  hqs.sigma_start = 0.2;
  hqs.sigma_end = 0.02;
  hqs.schedule_iterations = 4;
  hqs.noise_level = 0.05;
  hqs.data_weight = 3.0;
  hqs.data_step = {.max_iterations = 200, .tolerance = 1e-14};
  // The schedule: log-spaced from sigma_start to sigma_end over K iterations, then constant.
  CHECK(hqs.sigma(1) == Approx(0.2));
  CHECK(hqs.sigma(2) == Approx(0.2 * std::pow(0.1, 1.0 / 3)));
  CHECK(hqs.sigma(4) == Approx(0.02));
  CHECK(hqs.sigma(9) == Approx(0.02));
  CHECK(hqs.weight(2) == Approx(3.0 * std::pow(0.05 / hqs.sigma(2), 2)));

  const double factor = 0.9;
  test::ScalingDenoiser<double, Serial> prior(exec, factor);
  PnPOptions options;
  options.max_iterations = 6;
  options.clip = std::pair{-1.5, 1.5};
  const auto result = PnPSolver(prior, options, hqs).solve(physics, init::adjoint);
  Vector x = aty;  // init::adjoint
  for (index_t k = 1; k <= 6; ++k) {
    const Vector v = solve_proximal(ata, aty, hqs.weight(k), x);
    for (std::size_t c = 0; c < x.size(); ++c) x[c] = std::clamp(factor * v[c], -1.5, 1.5);
    const auto& r = result.records[static_cast<std::size_t>(k - 1)];
    CHECK(r.denoiser_sigma == Approx(hqs.sigma(k)));
    CHECK(r.data_step_iterations > 0);
  }
  REQUIRE(result.iterations == 6);
  for (index_t c = 0; c < n; ++c)
    CHECK(result.x(c) == Approx(x[static_cast<std::size_t>(c)]).epsilon(1e-8).margin(1e-10));
  CHECK(std::isnan(result.step));
}

TEST_CASE("ADMM follows the hand computation", "[solvers][pnp][admm]") {
  const Serial exec;
  const index_t n = 7;
  const auto truth = random_vector(n, 12);
  const auto physics = test::dense_stack<double>(exec, 2, 4, n, truth.const_view(), 9);
  Matrix ata;
  Vector aty;
  normal_equations(physics, n, ata, aty);
  ADMM admm;
  admm.penalty = 0.7;
  admm.sigma = 0.03;
  admm.data_step = {.max_iterations = 200, .tolerance = 1e-14};
  const double factor = 0.8;
  test::ScalingDenoiser<double, Serial> prior(exec, factor);
  PnPOptions options;
  options.max_iterations = 5;
  options.clip = std::pair{-0.6, 0.6};
  const auto result = PnPSolver(prior, options, admm).solve(physics, init::adjoint);
  Vector x = aty, u(static_cast<std::size_t>(n), 0.0);
  for (int k = 0; k < 5; ++k) {
    Vector target(x.size());
    for (std::size_t c = 0; c < x.size(); ++c) target[c] = x[c] - u[c];
    const Vector v = solve_proximal(ata, aty, admm.penalty, target);
    for (std::size_t c = 0; c < x.size(); ++c) {
      x[c] = std::clamp(factor * (v[c] + u[c]), -0.6, 0.6);
      u[c] += v[c] - x[c];
    }
  }
  for (index_t c = 0; c < n; ++c)
    CHECK(result.x(c) == Approx(x[static_cast<std::size_t>(c)]).epsilon(1e-8).margin(1e-10));
  for (const auto& r : result.records) CHECK(r.denoiser_sigma == 0.03);
}

TEST_CASE("PnP-PGD with a damped denoiser mixes a D(z) + (1 - a) z", "[solvers][pnp]") {
  const Serial exec;
  const index_t n = 5;
  const auto truth = random_vector(n, 31);
  const auto physics = test::dense_stack<double>(exec, 2, 6, n, truth.const_view(), 4);
  Matrix ata;
  Vector aty;
  normal_equations(physics, n, ata, aty);
  ProximalGradient pgd;
  pgd.step = 0.25;
  pgd.damping = 0.3;
  test::ScalingDenoiser<double, Serial> prior(exec, 0.5);
  PnPOptions options;
  options.max_iterations = 3;
  const auto result = PnPSolver(prior, options, pgd).solve(physics, init::zeros);
  Vector x(static_cast<std::size_t>(n), 0.0);
  for (int k = 0; k < 3; ++k) {
    Vector next(x.size());
    for (std::size_t c = 0; c < x.size(); ++c) {
      double g = -aty[c];
      for (std::size_t d = 0; d < x.size(); ++d) g += ata[c][d] * x[d];
      const double z = x[c] - 0.25 * g;
      next[c] = 0.3 * 0.5 * z + 0.7 * z;
    }
    x = next;
  }
  for (index_t c = 0; c < n; ++c) CHECK(result.x(c) == Approx(x[static_cast<std::size_t>(c)]).epsilon(1e-12));
}

TEST_CASE("The residual stopping rule needs no ground truth", "[solvers][pnp]") {
  const Serial exec;
  const index_t n = 6;
  const auto truth = random_vector(n, 7);
  auto physics = test::dense_stack<double>(exec, 2, 12, n, truth.const_view(), 3);
  // Noisy measurements: f converges to its positive minimum, so its relative change falls geometrically (with
  // exact data f falls to round-off, where its relative change is noise).
  std::vector<Tensor<double, 1>> noisy;
  for (std::size_t i = 0; i < physics.size(); ++i) {
    Tensor<double, 1> y(Extents<1>{12});
    fill_normal(exec, y.view(), 11, i, 0.0, 0.1);
    axpy(exec, 1.0, physics.measurement(i).const_view(), y.view());
    noisy.push_back(std::move(y));
  }
  physics.set_measurements(std::move(noisy));
  IdentityDenoiser<double, 1, Serial> prior;
  PnPOptions options;
  options.max_iterations = 1000;
  options.residual_tolerance = 1e-6;
  const auto result = PnPSolver(prior, options).solve(physics, init::zeros);
  REQUIRE(result.stop == PnPStop::stagnation);
  REQUIRE(result.iterations < 1000);
  CHECK(result.records.back().relative_residual_change < 1e-6);
  for (std::size_t k = 0; k + 1 < result.records.size(); ++k) CHECK(result.records[k].relative_residual_change >= 1e-6);
  // With both tolerances, both must hold: the run goes on at least as long.
  options.stagnation_tolerance = 1e-9;
  const auto both = PnPSolver(prior, options).solve(physics, init::zeros);
  CHECK(both.iterations >= result.iterations);
  CHECK(both.records.back().relative_change < 1e-9);
}

TEST_CASE("Invalid HQS and ADMM parameters give clear errors", "[solvers][pnp][errors]") {
  IdentityDenoiser<double, 1, Serial> prior;
  const auto hqs_error = [&](auto change, const char* text) {
    HalfQuadraticSplitting a;
    change(a);
    CHECK_THROWS_WITH(PnPSolver(prior, PnPOptions{}, a), Catch::Contains(text));
  };
  hqs_error([](auto& a) { a.sigma_start = 0; }, "sigma_start must be positive");
  hqs_error([](auto& a) { a.sigma_end = 1.0; }, "sigma_end must be in (0, sigma_start");
  hqs_error([](auto& a) { a.schedule_iterations = 0; }, "schedule_iterations must be >= 1");
  hqs_error([](auto& a) { a.noise_level = -1; }, "noise_level must be positive");
  hqs_error([](auto& a) { a.data_weight = 0; }, "data_weight must be positive");
  hqs_error([](auto& a) { a.data_step.tolerance = -1; }, "tolerance must be >= 0");
  ADMM admm;
  admm.penalty = 0;
  CHECK_THROWS_WITH(PnPSolver(prior, PnPOptions{}, admm), Catch::Contains("penalty (rho) must be positive"));
}
