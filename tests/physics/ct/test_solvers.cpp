// SIRT and CGLS: SIRT's weighted residual decreases monotonically; CGLS reaches the least-squares solution
// of a small dense system (checked against normal equations solved by Gaussian elimination in double).
#include <catch2/catch.hpp>

#include <pnpdist/operators/dense_matrix.hpp>
#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/solvers/cgls.hpp>
#include <pnpdist/solvers/sirt.hpp>
#include <pnpdist/tensor/random.hpp>

#include <numbers>
#include <vector>

#include "support/host_executors.hpp"

using namespace pnpdist;

TEMPLATE_LIST_TEST_CASE("SIRT's residual decreases monotonically on a CT problem", "[solvers][sirt]",
                        test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  const auto g = ct::parallel_beam_2d(ct::uniform_angles(24, 0, std::numbers::pi), {33, 1.0, 0.0}, {24, 24, 1, 1});
  const auto A = ct::make_projector<float>(exec, g);
  const auto truth =
      phantom::rasterize<float>(Serial{}, phantom::shepp_logan_2d(), g.volume, phantom::fitted_scale(g.volume), 2);
  Tensor<float, 2> y(A.range_shape());
  A.apply(truth.const_view(), y.view());
  const auto result = sirt(A, y.const_view(), {30, 1.0, false});
  REQUIRE(result.residual_norms.size() == 31);
  for (std::size_t k = 1; k < result.weighted_residual_norms.size(); ++k) {
    CHECK(result.weighted_residual_norms[k] < result.weighted_residual_norms[k - 1]);
    CHECK(result.residual_norms[k] < result.residual_norms[k - 1]);
  }
  CHECK(result.residual_norms.back() < 0.2 * result.residual_norms.front());
}

TEMPLATE_LIST_TEST_CASE("CGLS reaches the least-squares solution of a dense system", "[solvers][cgls]",
                        test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  const index_t m = 12, n = 7;
  Tensor<double, 2> a(Extents<2>{m, n});
  fill_normal(Serial{}, a.view(), 21, 0, 0.0, 1.0);
  Tensor<double, 1> y(Extents<1>{m});
  fill_normal(Serial{}, y.view(), 21, 1, 0.0, 1.0);
  // Reference: (A^T A) x = A^T y by Gaussian elimination with partial pivoting.
  std::vector<double> ata(static_cast<std::size_t>(n * n), 0.0), aty(static_cast<std::size_t>(n), 0.0);
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j < n; ++j)
      for (index_t k = 0; k < m; ++k) ata[static_cast<std::size_t>(i * n + j)] += a(k, i) * a(k, j);
    for (index_t k = 0; k < m; ++k) aty[static_cast<std::size_t>(i)] += a(k, i) * y(k);
  }
  for (index_t c = 0; c < n; ++c) {
    index_t p = c;
    for (index_t r = c + 1; r < n; ++r)
      if (std::abs(ata[static_cast<std::size_t>(r * n + c)]) > std::abs(ata[static_cast<std::size_t>(p * n + c)]))
        p = r;
    for (index_t j = 0; j < n; ++j)
      std::swap(ata[static_cast<std::size_t>(c * n + j)], ata[static_cast<std::size_t>(p * n + j)]);
    std::swap(aty[static_cast<std::size_t>(c)], aty[static_cast<std::size_t>(p)]);
    for (index_t r = c + 1; r < n; ++r) {
      const double f = ata[static_cast<std::size_t>(r * n + c)] / ata[static_cast<std::size_t>(c * n + c)];
      for (index_t j = c; j < n; ++j)
        ata[static_cast<std::size_t>(r * n + j)] -= f * ata[static_cast<std::size_t>(c * n + j)];
      aty[static_cast<std::size_t>(r)] -= f * aty[static_cast<std::size_t>(c)];
    }
  }
  std::vector<double> expected(static_cast<std::size_t>(n));
  for (index_t i = n - 1; i >= 0; --i) {
    double s = aty[static_cast<std::size_t>(i)];
    for (index_t j = i + 1; j < n; ++j)
      s -= ata[static_cast<std::size_t>(i * n + j)] * expected[static_cast<std::size_t>(j)];
    expected[static_cast<std::size_t>(i)] = s / ata[static_cast<std::size_t>(i * n + i)];
  }
  const DenseMatrix<double, std::remove_const_t<decltype(exec)>> op(exec, std::move(a));
  const auto result = cgls(op, y.const_view(), {20});
  for (index_t i = 0; i < n; ++i)
    CHECK(result.x(i) == Approx(expected[static_cast<std::size_t>(i)]).epsilon(1e-8).margin(1e-10));
  for (std::size_t k = 1; k < result.residual_norms.size(); ++k)
    CHECK(result.residual_norms[k] <= result.residual_norms[k - 1] * (1 + 1e-12));
}

TEST_CASE("CGLS reduces the residual of a CT problem", "[solvers][cgls]") {
  const auto g =
      ct::fan_beam_2d(ct::uniform_angles(30, 0, 2 * std::numbers::pi), {41, 1.2, 0.0}, 60.0, 40.0, {24, 24, 1, 1});
  const auto A = ct::make_projector<float>(Serial{}, g);
  Tensor<float, 2> x(A.domain_shape()), y(A.range_shape());
  fill_normal(Serial{}, x.view(), 4, 0, 0.0f, 1.0f);
  A.apply(x.const_view(), y.view());
  const auto result = cgls(A, y.const_view(), {25});
  CHECK(result.residual_norms.back() < 5e-2 * result.residual_norms.front());
  CHECK_THROWS_AS(cgls(A, View<const float, 2>(y.data(), Extents<2>{29, 41})), dimension_mismatch);
}

TEST_CASE("SIRT and CGLS stop at the first iteration whose residual reaches stop_residual", "[solvers][sirt][cgls]") {
  const Serial exec;
  const auto g = ct::parallel_beam_2d(ct::uniform_angles(24, 0, std::numbers::pi), {33, 1.0, 0.0}, {24, 24, 1, 1});
  const auto A = ct::make_projector<float>(exec, g);
  const auto truth =
      phantom::rasterize<float>(Serial{}, phantom::shepp_logan_2d(), g.volume, phantom::fitted_scale(g.volume), 2);
  Tensor<float, 2> y(A.range_shape());
  A.apply(truth.const_view(), y.view());
  // A threshold between the residuals of iterations 6 and 7 (the discrepancy principle's tau sigma sqrt(M)).
  const auto check = [&](const auto& full, const auto& solve) {
    REQUIRE(full.residual_norms.size() > 8);
    const double threshold = 0.5 * (full.residual_norms[6] + full.residual_norms[7]);
    const auto stopped = solve(threshold, index_t{40});
    CHECK(stopped.reached_stop_residual);
    CHECK(stopped.iterations == 7);
    CHECK(stopped.residual_norms.back() <= threshold);
    CHECK(stopped.residual_norms[6] > threshold);
    const auto same = solve(0.0, index_t{7});  // the same 7 iterations without the rule
    CHECK_FALSE(same.reached_stop_residual);
    for (index_t i = 0; i < same.x.size(); ++i) CHECK(stopped.x.data()[i] == same.x.data()[i]);
    const auto exact = solve(threshold, index_t{7});  // the maximum and the threshold at the same iteration
    CHECK(exact.reached_stop_residual);
    CHECK(exact.iterations == 7);
    const auto unreachable = solve(1e-9 * threshold, index_t{12});  // the maximum comes first
    CHECK_FALSE(unreachable.reached_stop_residual);
    CHECK(unreachable.iterations == 12);
  };
  check(sirt(A, y.const_view(), {20, 1.0, false}), [&](double stop, index_t most) {
    SirtOptions options{most, 1.0, false};
    options.stop_residual = stop;
    return sirt(A, y.const_view(), options);
  });
  check(cgls(A, y.const_view(), {20}), [&](double stop, index_t most) {
    CglsOptions options{most};
    options.stop_residual = stop;
    return cgls(A, y.const_view(), options);
  });
}
