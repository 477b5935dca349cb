#include <catch2/catch.hpp>

#include <pnpdist/operators/operators.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

namespace {

/// Row-major m x n values in [-1, 1) from a small LCG, exactly representable in float.
std::vector<double> random_entries(index_t m, index_t n, std::uint32_t seed) {
  std::vector<double> a(static_cast<std::size_t>(m * n));
  std::uint32_t s = seed * 2246822519u + 7u;
  for (auto& v : a) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<double>(static_cast<int>(s >> 20) - 2048) / 2048.0;
  }
  return a;
}

template <class T, class Exec>
pnpdist::DenseMatrix<T, Exec> make_matrix(const Exec& exec, index_t m, index_t n, const std::vector<double>& a) {
  std::vector<T> values(a.begin(), a.end());
  return pnpdist::DenseMatrix<T, Exec>(exec, m, n, std::span<const T>(values));
}

/// A deliberately unmatched operator: apply uses A, apply_adjoint uses the transpose of a perturbed copy.
template <class Exec>
struct PerturbedAdjoint {
  using value_type = float;
  using executor_type = Exec;
  static constexpr std::size_t domain_rank = 1, range_rank = 1;
  pnpdist::DenseMatrix<float, Exec> forward, backward;

  Extents<1> domain_shape() const { return forward.domain_shape(); }
  Extents<1> range_shape() const { return forward.range_shape(); }
  const Exec& executor() const { return forward.executor(); }
  void apply(const pnpdist::View<const float, 1>& x, const pnpdist::View<float, 1>& y) const { forward.apply(x, y); }
  void apply_adjoint(const pnpdist::View<const float, 1>& y, const pnpdist::View<float, 1>& x) const {
    backward.apply_adjoint(y, x);
  }
};

/// Square operator whose "adjoint" applies A instead of A^T (a transposition forgotten).
struct ForgotToTranspose {
  using value_type = float;
  using executor_type = pnpdist::Serial;
  static constexpr std::size_t domain_rank = 1, range_rank = 1;
  pnpdist::DenseMatrix<float, pnpdist::Serial> a;

  Extents<1> domain_shape() const { return a.domain_shape(); }
  Extents<1> range_shape() const { return a.range_shape(); }
  const pnpdist::Serial& executor() const { return a.executor(); }
  void apply(const pnpdist::View<const float, 1>& x, const pnpdist::View<float, 1>& y) const { a.apply(x, y); }
  void apply_adjoint(const pnpdist::View<const float, 1>& y, const pnpdist::View<float, 1>& x) const { a.apply(y, x); }
};

/// Matched operator that writes only the first half of the adjoint's output (the rest keeps old contents).
struct LeavesOutputUnwritten {
  using value_type = float;
  using executor_type = pnpdist::Serial;
  static constexpr std::size_t domain_rank = 1, range_rank = 1;
  index_t n = 8;

  Extents<1> domain_shape() const { return {n}; }
  Extents<1> range_shape() const { return {n}; }
  pnpdist::Serial executor() const { return {}; }
  void apply(const pnpdist::View<const float, 1>& x, const pnpdist::View<float, 1>& y) const {
    for (index_t i = 0; i < n; ++i) y(i) = i < n / 2 ? x(i) : 0.0f;
  }
  void apply_adjoint(const pnpdist::View<const float, 1>& y, const pnpdist::View<float, 1>& x) const {
    for (index_t i = 0; i < n / 2; ++i) x(i) = y(i);  // forgets to zero x(n/2 ..)
  }
};

static_assert(pnpdist::LinearOperator<PerturbedAdjoint<pnpdist::Serial>>);
static_assert(pnpdist::LinearOperator<ForgotToTranspose>);
static_assert(pnpdist::LinearOperator<LeavesOutputUnwritten>);

}  // namespace

TEST_CASE("adjoint_check computes <Ax, y> and <x, A^T y> for the documented random vectors", "[operators][unit]") {
  const index_t m = 37, n = 23;
  const auto entries = random_entries(m, n, 1);
  const auto op = make_matrix<float>(pnpdist::Serial{}, m, n, entries);
  const std::uint64_t seed = 17;
  const auto result = pnpdist::adjoint_check(op, seed);

  // Independent reference: the same random vectors (streams 0 and 1 of the seed), inner products in double.
  Tensor<float, 1> x(Extents<1>{n}), y(Extents<1>{m});
  pnpdist::fill_normal(pnpdist::Serial{}, x.view(), seed, 0, 0.0f, 1.0f);
  pnpdist::fill_normal(pnpdist::Serial{}, y.view(), seed, 1, 0.0f, 1.0f);
  double forward = 0, adjoint = 0;
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      const double a_ij = entries[static_cast<std::size_t>(i * n + j)];
      forward += a_ij * x(j) * y(i);
    }
  adjoint = forward;  // exactly the same bilinear form for a true adjoint
  CHECK(result.forward_inner == Approx(forward).epsilon(1e-6));
  CHECK(result.adjoint_inner == Approx(adjoint).epsilon(1e-6));
  // The error is relative to the Cauchy-Schwarz bounds max(||A x|| ||y||, ||x|| ||A^T y||).
  Tensor<float, 1> ax(Extents<1>{m}), aty(Extents<1>{n});
  op.apply(x.const_view(), ax.view());
  op.apply_adjoint(y.const_view(), aty.view());
  const auto norm = [](const Tensor<float, 1>& v) {
    return static_cast<double>(pnpdist::norm(pnpdist::Serial{}, v.const_view()));
  };
  const double scale = std::max(norm(ax) * norm(y), norm(x) * norm(aty));
  CHECK(result.scale == Approx(scale).epsilon(1e-12));
  CHECK(result.relative_error == Approx(std::abs(result.forward_inner - result.adjoint_inner) / scale));
  CHECK(result.relative_error < 1e-6);
  CHECK(result.passed());
  CHECK(std::abs(result.forward_inner) > 1.0);  // a meaningful, non-degenerate test
}

TEMPLATE_LIST_TEST_CASE("DenseMatrix and composed operators pass the adjoint check", "[operators][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  // Large enough that the OpenMP launches run in parallel.
  const auto a = make_matrix<float>(exec, 400, 300, random_entries(400, 300, 1));
  const auto b = make_matrix<float>(exec, 300, 280, random_entries(300, 280, 2));
  const auto c = make_matrix<float>(exec, 400, 300, random_entries(400, 300, 3));
  const auto id = pnpdist::identity<float>(exec, Extents<1>{300});

  const auto ab = pnpdist::compose(a, b);
  const auto abbt = pnpdist::compose(a, b, pnpdist::adjoint(b));
  const auto normal = pnpdist::compose(pnpdist::adjoint(a), a);
  const auto mixed = pnpdist::add(pnpdist::compose(pnpdist::scale(0.5f, a), id), pnpdist::scale(-3.0f, c));
  const auto nested_t = pnpdist::adjoint(pnpdist::compose(mixed, b));
  const auto ones = pnpdist::identity<float>(exec, Extents<3>{4, 33, 17});
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    INFO("seed " << seed);
    const auto ra = pnpdist::adjoint_check(a, seed);
    CHECK(ra.relative_error < 1e-5);
    CHECK(ra.passed());
    CHECK(pnpdist::adjoint_check(pnpdist::adjoint(a), seed).relative_error < 1e-5);
    CHECK(pnpdist::adjoint_check(ab, seed).relative_error < 1e-5);
    CHECK(pnpdist::adjoint_check(abbt, seed).relative_error < 1e-5);
    CHECK(pnpdist::adjoint_check(normal, seed).relative_error < 1e-5);
    CHECK(pnpdist::adjoint_check(mixed, seed).relative_error < 1e-5);
    CHECK(pnpdist::adjoint_check(nested_t, seed).relative_error < 1e-5);
    CHECK(pnpdist::adjoint_check(ones, seed).relative_error < 1e-5);
  }
}

TEST_CASE("adjoint_check of double operators is matched to double precision", "[operators][unit]") {
  const auto a = make_matrix<double>(pnpdist::Serial{}, 50, 40, random_entries(50, 40, 4));
  const auto b = make_matrix<double>(pnpdist::Serial{}, 40, 60, random_entries(40, 60, 5));
  CHECK(pnpdist::adjoint_check(pnpdist::compose(a, b), 3).relative_error < 1e-12);
}

#if defined(PNPDIST_HAS_OPENMP)
TEST_CASE("adjoint_check gives the same bits on every host executor", "[operators][unit]") {
  const auto entries = random_entries(600, 500, 6);
  const auto serial = make_matrix<float>(pnpdist::Serial{}, 600, 500, entries);
  const auto parallel = make_matrix<float>(pnpdist::OpenMP{3}, 600, 500, entries);
  const auto rs = pnpdist::adjoint_check(pnpdist::compose(pnpdist::adjoint(serial), serial), 9);
  const auto rp = pnpdist::adjoint_check(pnpdist::compose(pnpdist::adjoint(parallel), parallel), 9);
  CHECK(rs.forward_inner == rp.forward_inner);
  CHECK(rs.adjoint_inner == rp.adjoint_inner);
  CHECK(rs.relative_error == rp.relative_error);
}
#endif

TEMPLATE_LIST_TEST_CASE("a perturbed adjoint fails the check", "[operators][unit]", pnpdist::test::HostExecutors) {
  using Exec = decltype(pnpdist::test::make_executor<TestType>());
  const auto exec = pnpdist::test::make_executor<TestType>();
  const index_t m = 300, n = 260;
  const auto entries = random_entries(m, n, 7);
  // An unmatched back-projector in miniature: every entry of the "adjoint" off by up to 1%.
  const auto noise = random_entries(m, n, 70);
  auto perturbed = entries;
  for (std::size_t k = 0; k < perturbed.size(); ++k) perturbed[k] *= 1.0 + 0.01 * noise[k];
  const PerturbedAdjoint<Exec> wrong{make_matrix<float>(exec, m, n, entries),
                                     make_matrix<float>(exec, m, n, perturbed)};
  const PerturbedAdjoint<Exec> right{make_matrix<float>(exec, m, n, entries), make_matrix<float>(exec, m, n, entries)};
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    INFO("seed " << seed);
    const auto bad = pnpdist::adjoint_check(wrong, seed);
    CHECK_FALSE(bad.passed());
    CHECK(bad.relative_error > 1e-5);
    CHECK(pnpdist::adjoint_check(right, seed).passed());
  }
}

TEST_CASE("an adjoint that forgets to transpose fails the check", "[operators][unit]") {
  const ForgotToTranspose wrong{make_matrix<float>(pnpdist::Serial{}, 40, 40, random_entries(40, 40, 8))};
  const auto result = pnpdist::adjoint_check(wrong);
  CHECK_FALSE(result.passed());
  CHECK(result.relative_error > 1e-2);
  // A symmetric matrix is its own transpose: the same mistake is then harmless.
  auto sym = random_entries(40, 40, 8);
  for (index_t i = 0; i < 40; ++i)
    for (index_t j = 0; j < i; ++j)
      sym[static_cast<std::size_t>(i * 40 + j)] = sym[static_cast<std::size_t>(j * 40 + i)];
  CHECK(pnpdist::adjoint_check(ForgotToTranspose{make_matrix<float>(pnpdist::Serial{}, 40, 40, sym)}).passed());
}

TEST_CASE("an operator that leaves part of its output unwritten fails the check", "[operators][unit]") {
  const auto result = pnpdist::adjoint_check(LeavesOutputUnwritten{});
  CHECK(std::isnan(result.relative_error));
  CHECK_FALSE(result.passed());
  CHECK_FALSE(result.passed(1e30));
}

TEST_CASE("the zero operator passes the adjoint check, and the tolerance is honoured", "[operators][unit]") {
  const auto a = make_matrix<float>(pnpdist::Serial{}, 5, 4, random_entries(5, 4, 9));
  const auto zero = pnpdist::adjoint_check(pnpdist::scale(0.0f, a));
  CHECK(zero.forward_inner == 0.0);
  CHECK(zero.adjoint_inner == 0.0);
  CHECK(zero.relative_error == 0.0);
  CHECK(zero.passed());

  const pnpdist::AdjointCheckResult r{1.0, 1.0001, 1e-4 / 1.0001};
  CHECK_FALSE(r.passed());
  CHECK(r.passed(1e-3));
}
