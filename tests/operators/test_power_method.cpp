#include <catch2/catch.hpp>

#include <pnpdist/operators/operators.hpp>

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;

namespace {

/// Row-major m x n diagonal matrix with the given diagonal.
std::vector<double> diagonal(index_t m, index_t n, const std::vector<double>& d) {
  std::vector<double> a(static_cast<std::size_t>(m * n), 0.0);
  for (std::size_t k = 0; k < d.size(); ++k) a[k * static_cast<std::size_t>(n) + k] = d[k];
  return a;
}

/// Householder reflection I - 2 v v^T / (v^T v) of size n (exactly orthogonal in exact arithmetic).
std::vector<double> householder(index_t n, std::uint32_t seed) {
  std::vector<double> v(static_cast<std::size_t>(n));
  std::uint32_t s = seed * 747796405u + 1u;
  double vv = 0;
  for (auto& e : v) {
    s = s * 1664525u + 1013904223u;
    e = static_cast<double>(s >> 8) / 16777216.0 - 0.5;
    vv += e * e;
  }
  std::vector<double> h(static_cast<std::size_t>(n * n));
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j)
      h[static_cast<std::size_t>(i * n + j)] = (i == j ? 1.0 : 0.0) - 2.0 * v[i] * v[j] / vv;
  return h;
}

/// (m x k) times (k x n), row-major, plain loops in double.
std::vector<double> multiply(const std::vector<double>& a, const std::vector<double>& b, index_t m, index_t k,
                             index_t n) {
  std::vector<double> c(static_cast<std::size_t>(m * n), 0.0);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      double s = 0;
      for (index_t l = 0; l < k; ++l)
        s += a[static_cast<std::size_t>(i * k + l)] * b[static_cast<std::size_t>(l * n + j)];
      c[static_cast<std::size_t>(i * n + j)] = s;
    }
  return c;
}

/// An m x n matrix with singular values `sigma` (sigma.size() <= min(m, n)): H_m diag(sigma) H_n.
std::vector<double> with_singular_values(index_t m, index_t n, const std::vector<double>& sigma) {
  return multiply(multiply(householder(m, 11), diagonal(m, n, sigma), m, m, n), householder(n, 12), m, n, n);
}

template <class T, class Exec>
pnpdist::DenseMatrix<T, Exec> make_matrix(const Exec& exec, index_t m, index_t n, const std::vector<double>& a) {
  std::vector<T> values(a.begin(), a.end());
  return pnpdist::DenseMatrix<T, Exec>(exec, m, n, std::span<const T>(values));
}

std::vector<double> decreasing(std::size_t count, double first, double second) {
  std::vector<double> d(count);
  d[0] = first;
  for (std::size_t k = 1; k < count; ++k) d[k] = second / static_cast<double>(k);
  return d;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("power_method recovers the largest squared singular value of a known spectrum",
                        "[operators][unit]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();

  SECTION("diagonal matrix") {
    const auto d = make_matrix<float>(exec, 6, 6, diagonal(6, 6, {0.5, 3.0, 1.0, 2.0, 0.25, 1.5}));
    const auto r = pnpdist::power_method(d);
    CHECK(r.converged);
    CHECK(r.squared_norm == Approx(9.0).epsilon(1e-5));
    CHECK(r.squared_norm <= 9.0 * (1 + 1e-6));  // the Rayleigh quotient approaches from below
  }
  SECTION("rotated rectangular matrix, 300 x 280") {
    const auto sigma = decreasing(280, 4.0, 2.0);  // sigma_1^2 = 16, sigma_2^2 = 4
    const auto a = make_matrix<float>(exec, 300, 280, with_singular_values(300, 280, sigma));
    const auto r = pnpdist::power_method(a);
    CHECK(r.converged);
    CHECK(r.iterations < 30);
    CHECK(r.squared_norm == Approx(16.0).epsilon(1e-5));
    // ||A^T|| = ||A||, and the same for A^T A's square root pieces.
    CHECK(pnpdist::power_method(pnpdist::adjoint(a)).squared_norm == Approx(16.0).epsilon(1e-5));
    CHECK(pnpdist::power_method(pnpdist::compose(pnpdist::adjoint(a), a)).squared_norm == Approx(256.0).epsilon(1e-5));
  }
  SECTION("double precision, tight tolerance") {
    const auto sigma = decreasing(40, 3.0, 2.5);
    const auto a = make_matrix<double>(exec, 50, 40, with_singular_values(50, 40, sigma));
    const auto r = pnpdist::power_method(a, {.max_iterations = 500, .relative_tolerance = 1e-13, .seed = 3});
    CHECK(r.converged);
    CHECK(r.squared_norm == Approx(9.0).epsilon(1e-10));
  }
}

TEMPLATE_LIST_TEST_CASE("power_method on composites matches the product of the known norms", "[operators][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  const auto d1 = make_matrix<float>(exec, 3, 4, diagonal(3, 4, {2.0, 1.0, 0.5}));       // ||D1||^2 = 4
  const auto d2 = make_matrix<float>(exec, 4, 4, diagonal(4, 4, {3.0, 1.0, 1.0, 0.5}));  // ||D2||^2 = 9
  // Aligned diagonals: ||D1 D2|| = ||D1|| ||D2|| exactly.
  CHECK(pnpdist::power_method(pnpdist::compose(d1, d2)).squared_norm == Approx(36.0).epsilon(1e-5));
  CHECK(pnpdist::power_method(pnpdist::scale(-2.0f, d1)).squared_norm == Approx(16.0).epsilon(1e-5));
  CHECK(pnpdist::power_method(pnpdist::add(d2, d2)).squared_norm == Approx(36.0).epsilon(1e-5));
  CHECK(pnpdist::power_method(pnpdist::compose(pnpdist::adjoint(d2), pnpdist::adjoint(d1))).squared_norm ==
        Approx(36.0).epsilon(1e-5));
  const auto id = pnpdist::identity<float>(exec, Extents<2>{16, 9});
  const auto r = pnpdist::power_method(id);
  CHECK(r.squared_norm == Approx(1.0).epsilon(1e-6));
  CHECK(r.converged);
  CHECK(r.iterations == 2);  // the first iteration has no previous estimate to compare with
}

TEST_CASE("power_method throws for the zero operator, stating it", "[operators][unit]") {
  const auto zero = pnpdist::DenseMatrix<float, pnpdist::Serial>(pnpdist::Serial{}, 5, 4);
  REQUIRE_THROWS_AS(pnpdist::power_method(zero), pnpdist::invalid_argument);
  REQUIRE_THROWS_WITH(pnpdist::power_method(zero), Catch::Contains("A^T A x = 0") && Catch::Contains("zero"));
  const auto a = make_matrix<float>(pnpdist::Serial{}, 5, 4, diagonal(5, 4, {1, 2, 3, 4}));
  REQUIRE_THROWS_AS(pnpdist::power_method(pnpdist::scale(0.0f, a)), pnpdist::invalid_argument);
}

TEST_CASE("power_method validates its options and reports non-convergence", "[operators][unit]") {
  const auto sigma = decreasing(30, 1.0, 0.999);  // sigma_2 / sigma_1 = 0.999: slow
  const auto a = make_matrix<float>(pnpdist::Serial{}, 30, 30, with_singular_values(30, 30, sigma));
  const auto r = pnpdist::power_method(a, {.max_iterations = 3});
  CHECK_FALSE(r.converged);
  CHECK(r.iterations == 3);
  CHECK(r.squared_norm <= 1.0 * (1 + 1e-6));
  CHECK(r.squared_norm > 0.5);

  REQUIRE_THROWS_AS(pnpdist::power_method(a, {.max_iterations = 0}), pnpdist::invalid_argument);
  REQUIRE_THROWS_WITH(pnpdist::power_method(a, {.max_iterations = 0}), Catch::Contains("max_iterations"));
  REQUIRE_THROWS_AS(pnpdist::power_method(a, {.relative_tolerance = -1}), pnpdist::invalid_argument);
  const auto empty = pnpdist::DenseMatrix<float, pnpdist::Serial>(pnpdist::Serial{}, 3, 0);
  REQUIRE_THROWS_WITH(pnpdist::power_method(empty), Catch::Contains("empty"));
}

TEST_CASE("power_method is deterministic: same seed, same bits, on every host executor", "[operators][unit]") {
  const auto entries = with_singular_values(320, 300, decreasing(300, 2.0, 1.5));
  const auto serial = make_matrix<float>(pnpdist::Serial{}, 320, 300, entries);
  const auto r1 = pnpdist::power_method(serial, {.seed = 5});
  const auto r2 = pnpdist::power_method(serial, {.seed = 5});
  CHECK(r1.squared_norm == r2.squared_norm);
  CHECK(r1.iterations == r2.iterations);
  const auto other_seed = pnpdist::power_method(serial, {.seed = 6});
  CHECK(other_seed.squared_norm == Approx(r1.squared_norm).epsilon(1e-5));
#if defined(PNPDIST_HAS_OPENMP)
  const auto parallel = make_matrix<float>(pnpdist::OpenMP{3}, 320, 300, entries);
  const auto rp = pnpdist::power_method(parallel, {.seed = 5});
  CHECK(rp.squared_norm == r1.squared_norm);
  CHECK(rp.iterations == r1.iterations);
#endif
}
