#include <catch2/catch.hpp>

#include <pnpdist/operators/operators.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

namespace {

/// Row-major double matrix: the independent reference.
struct RefMatrix {
  index_t rows = 0, cols = 0;
  std::vector<double> a;
  RefMatrix(index_t m, index_t n) : rows(m), cols(n), a(static_cast<std::size_t>(m * n), 0.0) {}
  double& operator()(index_t i, index_t j) { return a[static_cast<std::size_t>(i * cols + j)]; }
  double operator()(index_t i, index_t j) const { return a[static_cast<std::size_t>(i * cols + j)]; }
};

/// Entries exactly representable in float (multiples of 1/64 in [-2, 2)), so the float operator and the
/// double reference hold the same matrix.
RefMatrix random_matrix(index_t m, index_t n, std::uint32_t seed) {
  RefMatrix r(m, n);
  std::uint32_t s = seed * 2654435761u + 12345u;
  for (auto& v : r.a) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<double>(static_cast<int>(s >> 24) - 128) / 64.0;
  }
  return r;
}

RefMatrix product(const RefMatrix& a, const RefMatrix& b) {
  RefMatrix c(a.rows, b.cols);
  for (index_t i = 0; i < a.rows; ++i)
    for (index_t j = 0; j < b.cols; ++j) {
      double s = 0;
      for (index_t k = 0; k < a.cols; ++k) s += a(i, k) * b(k, j);
      c(i, j) = s;
    }
  return c;
}

RefMatrix transpose(const RefMatrix& a) {
  RefMatrix t(a.cols, a.rows);
  for (index_t i = 0; i < a.rows; ++i)
    for (index_t j = 0; j < a.cols; ++j) t(j, i) = a(i, j);
  return t;
}

RefMatrix linear_combination(double alpha, const RefMatrix& a, double beta, const RefMatrix& b) {
  RefMatrix c(a.rows, a.cols);
  for (std::size_t k = 0; k < c.a.size(); ++k) c.a[k] = alpha * a.a[k] + beta * b.a[k];
  return c;
}

template <class Exec>
pnpdist::DenseMatrix<float, Exec> to_operator(const Exec& exec, const RefMatrix& r) {
  std::vector<float> values(r.a.begin(), r.a.end());
  return pnpdist::DenseMatrix<float, Exec>(exec, r.rows, r.cols, std::span<const float>(values));
}

/// The matrix of any host operator, column j = A e_j (flattened row-major domain and range).
template <class Op>
RefMatrix matrix_of(const Op& op) {
  using T = pnpdist::operator_value_t<Op>;
  auto e = pnpdist::make_domain_tensor(op);
  auto column = pnpdist::make_range_tensor(op);
  RefMatrix m(column.size(), e.size());
  for (index_t j = 0; j < e.size(); ++j) {
    for (index_t k = 0; k < e.size(); ++k) e.data()[k] = k == j ? T(1) : T(0);
    op.apply(e.const_view(), column.view());
    for (index_t i = 0; i < column.size(); ++i) m(i, j) = column.data()[i];
  }
  return m;
}

/// The matrix of the adjoint of a host operator, column i = A^T e_i.
template <class Op>
RefMatrix adjoint_matrix_of(const Op& op) {
  using T = pnpdist::operator_value_t<Op>;
  auto e = pnpdist::make_range_tensor(op);
  auto column = pnpdist::make_domain_tensor(op);
  RefMatrix m(column.size(), e.size());
  for (index_t i = 0; i < e.size(); ++i) {
    for (index_t k = 0; k < e.size(); ++k) e.data()[k] = k == i ? T(1) : T(0);
    op.apply_adjoint(e.const_view(), column.view());
    for (index_t j = 0; j < column.size(); ++j) m(j, i) = column.data()[j];
  }
  return m;
}

/// Largest |a - b| / (1 + |b|) over the entries.
double max_difference(const RefMatrix& a, const RefMatrix& b) {
  REQUIRE(a.rows == b.rows);
  REQUIRE(a.cols == b.cols);
  double worst = 0;
  for (std::size_t k = 0; k < a.a.size(); ++k)
    worst = std::max(worst, std::abs(a.a[k] - b.a[k]) / (1 + std::abs(b.a[k])));
  return worst;
}

/// Checks that op and its adjoint are the matrix `expected` and its transpose.
template <class Op>
void require_matrix(const Op& op, const RefMatrix& expected) {
  CHECK(max_difference(matrix_of(op), expected) < 1e-6);
  CHECK(max_difference(adjoint_matrix_of(op), transpose(expected)) < 1e-6);
}

using SerialMatrix = pnpdist::DenseMatrix<float, pnpdist::Serial>;

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// The concept

static_assert(pnpdist::LinearOperator<SerialMatrix>);
static_assert(pnpdist::LinearOperator<pnpdist::Identity<float, 3, pnpdist::Serial>>);
static_assert(pnpdist::LinearOperator<pnpdist::Adjoint<SerialMatrix>>);
static_assert(pnpdist::LinearOperator<pnpdist::OperatorRef<SerialMatrix>>);
static_assert(pnpdist::LinearOperator<pnpdist::Composition<SerialMatrix, pnpdist::OperatorRef<SerialMatrix>>>);
static_assert(pnpdist::LinearOperator<pnpdist::Sum<SerialMatrix, SerialMatrix>>);
static_assert(pnpdist::LinearOperator<pnpdist::Scaled<pnpdist::Adjoint<SerialMatrix>>>);
static_assert(pnpdist::LinearOperator<pnpdist::DenseMatrix<double, pnpdist::OpenMP>>);
static_assert(!pnpdist::LinearOperator<int>);
static_assert(!pnpdist::LinearOperator<pnpdist::View<float, 1>>);
static_assert(!pnpdist::LinearOperator<Tensor<float, 2>>);
static_assert(std::is_same_v<pnpdist::domain_view_t<SerialMatrix>, pnpdist::View<float, 1, pnpdist::HostSpace>>);
static_assert(std::is_same_v<pnpdist::const_range_view_t<pnpdist::Identity<double, 4, pnpdist::Serial>>,
                             pnpdist::View<const double, 4, pnpdist::HostSpace>>);
static_assert(std::is_same_v<pnpdist::range_tensor_t<SerialMatrix>, Tensor<float, 1, pnpdist::HostSpace>>);
static_assert(pnpdist::Adjoint<SerialMatrix>::domain_rank == 1);
static_assert(pnpdist::Adjoint<pnpdist::Identity<float, 3, pnpdist::Serial>>::range_rank == 3);

namespace {
/// Not an operator: apply_adjoint is missing.
struct ForwardOnly {
  using value_type = float;
  using executor_type = pnpdist::Serial;
  static constexpr std::size_t domain_rank = 1, range_rank = 1;
  Extents<1> domain_shape() const { return {1}; }
  Extents<1> range_shape() const { return {1}; }
  pnpdist::Serial executor() const { return {}; }
  void apply(pnpdist::View<const float, 1>, pnpdist::View<float, 1>) const {}
};
}  // namespace
static_assert(!pnpdist::LinearOperator<ForwardOnly>);

// ---------------------------------------------------------------------------------------------------------
// DenseMatrix

TEMPLATE_LIST_TEST_CASE("DenseMatrix apply and apply_adjoint equal a naive double loop", "[operators][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  // 300 x 270: both launches exceed the OpenMP serial threshold.
  const std::array<std::pair<index_t, index_t>, 3> sizes = {{{300, 270}, {5, 3}, {1, 7}}};
  for (const auto& [m, n] : sizes) {
    const RefMatrix ref = random_matrix(m, n, static_cast<std::uint32_t>(m + n));
    const auto op = to_operator(exec, ref);
    REQUIRE(op.rows() == m);
    REQUIRE(op.cols() == n);
    CHECK(op.domain_shape() == Extents<1>{n});
    CHECK(op.range_shape() == Extents<1>{m});

    Tensor<float, 1> x(Extents<1>{n}), y(Extents<1>{m}), ax(Extents<1>{m}), aty(Extents<1>{n});
    for (index_t j = 0; j < n; ++j) x(j) = static_cast<float>(std::sin(0.37 * static_cast<double>(j) + 1.0));
    for (index_t i = 0; i < m; ++i) y(i) = static_cast<float>(std::cos(0.11 * static_cast<double>(i)));
    pnpdist::fill(exec, ax.view(), 1e30f);  // overwritten, not accumulated into
    pnpdist::fill(exec, aty.view(), -7.0f);
    op.apply(x.const_view(), ax.view());
    op.apply_adjoint(y.const_view(), aty.view());

    int wrong = 0;
    for (index_t i = 0; i < m; ++i) {
      double s = 0;
      for (index_t j = 0; j < n; ++j) s += ref(i, j) * static_cast<double>(x(j));
      wrong += std::abs(ax(i) - s) > 1e-6 * (1 + std::abs(s));
    }
    for (index_t j = 0; j < n; ++j) {
      double s = 0;
      for (index_t i = 0; i < m; ++i) s += ref(i, j) * static_cast<double>(y(i));
      wrong += std::abs(aty(j) - s) > 1e-6 * (1 + std::abs(s));
    }
    CHECK(wrong == 0);
  }
}

TEST_CASE("DenseMatrix results are the same bits on every host executor", "[operators][unit]") {
  const RefMatrix ref = random_matrix(513, 301, 4);
  const auto serial = to_operator(pnpdist::Serial{}, ref);
  Tensor<float, 1> x(Extents<1>{301}), y(Extents<1>{513}), ax(Extents<1>{513}), aty(Extents<1>{301});
  pnpdist::fill_normal(pnpdist::Serial{}, x.view(), 3, 0, 0.0f, 1.0f);
  pnpdist::fill_normal(pnpdist::Serial{}, y.view(), 3, 1, 0.0f, 1.0f);
  serial.apply(x.const_view(), ax.view());
  serial.apply_adjoint(y.const_view(), aty.view());
#if defined(PNPDIST_HAS_OPENMP)
  const auto parallel = to_operator(pnpdist::OpenMP{3}, ref);
  Tensor<float, 1> ax2(Extents<1>{513}), aty2(Extents<1>{301});
  parallel.apply(x.const_view(), ax2.view());
  parallel.apply_adjoint(y.const_view(), aty2.view());
  int wrong = 0;
  for (index_t i = 0; i < 513; ++i) wrong += ax(i) != ax2(i);
  for (index_t j = 0; j < 301; ++j) wrong += aty(j) != aty2(j);
  CHECK(wrong == 0);
#endif
}

TEST_CASE("DenseMatrix accepts strided input and output views", "[operators][unit]") {
  const RefMatrix ref = random_matrix(4, 3, 9);
  const auto op = to_operator(pnpdist::Serial{}, ref);
  // x is column 1 of a 3 x 5 array, y is column 2 of a 4 x 3 array.
  Tensor<float, 2> xs(Extents<2>{3, 5}), ys(Extents<2>{4, 3});
  pnpdist::fill(pnpdist::Serial{}, xs.view(), 99.0f);
  pnpdist::fill(pnpdist::Serial{}, ys.view(), 99.0f);
  for (index_t j = 0; j < 3; ++j) xs(j, 1) = static_cast<float>(j + 1);
  const pnpdist::View<const float, 1> x(xs.data() + 1, Extents<1>{3}, Extents<1>{5});
  const pnpdist::View<float, 1> y(ys.data() + 2, Extents<1>{4}, Extents<1>{3});
  op.apply(x, y);
  for (index_t i = 0; i < 4; ++i) {
    const double expected = ref(i, 0) * 1 + ref(i, 1) * 2 + ref(i, 2) * 3;
    CHECK(ys(i, 2) == Approx(expected).margin(1e-6));
    CHECK(ys(i, 0) == 99.0f);  // neighbours untouched
    CHECK(ys(i, 1) == 99.0f);
  }
}

TEST_CASE("DenseMatrix constructors", "[operators][unit]") {
  const pnpdist::DenseMatrix<double, pnpdist::Serial> zero(pnpdist::Serial{}, 3, 2);
  CHECK(max_difference(matrix_of(zero), RefMatrix(3, 2)) == 0);

  Tensor<float, 2> entries(Extents<2>{2, 2});
  entries(0, 0) = 1;
  entries(0, 1) = 2;
  entries(1, 0) = 3;
  entries(1, 1) = 4;
  const float* storage = entries.data();
  const SerialMatrix owned(pnpdist::Serial{}, std::move(entries));
  CHECK(owned.entries().data() == storage);  // moved in, not copied
  RefMatrix expected(2, 2);
  expected.a = {1, 2, 3, 4};
  require_matrix(owned, expected);

  const std::vector<float> three = {1, 2, 3};
  REQUIRE_THROWS_AS(SerialMatrix(pnpdist::Serial{}, 2, 2, std::span<const float>(three)), pnpdist::dimension_mismatch);
  REQUIRE_THROWS_WITH(SerialMatrix(pnpdist::Serial{}, 2, 2, std::span<const float>(three)),
                      Catch::Contains("3 values given for a 2 x 2 matrix"));
  REQUIRE_THROWS_AS(SerialMatrix(pnpdist::Serial{}, -1, 2), pnpdist::invalid_argument);
}

// ---------------------------------------------------------------------------------------------------------
// Composites against explicitly formed matrices

TEMPLATE_LIST_TEST_CASE("composites equal the matrices formed with plain loops", "[operators][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  const RefMatrix ra = random_matrix(4, 6, 1), rb = random_matrix(6, 5, 2), rc = random_matrix(4, 6, 3),
                  rd = random_matrix(5, 6, 4);
  const auto a = to_operator(exec, ra);
  const auto b = to_operator(exec, rb);
  const auto c = to_operator(exec, rc);
  const auto d = to_operator(exec, rd);

  SECTION("DenseMatrix") { require_matrix(a, ra); }
  SECTION("adjoint") { require_matrix(pnpdist::adjoint(a), transpose(ra)); }
  SECTION("composition applies the inner operator first") { require_matrix(pnpdist::compose(a, b), product(ra, rb)); }
  SECTION("composition of three") {
    require_matrix(pnpdist::compose(pnpdist::adjoint(b), pnpdist::adjoint(a), c),
                   product(transpose(rb), product(transpose(ra), rc)));
  }
  SECTION("sum") { require_matrix(pnpdist::add(a, c), linear_combination(1, ra, 1, rc)); }
  SECTION("scaled") { require_matrix(pnpdist::scale(-2.5f, a), linear_combination(-2.5, ra, 0, ra)); }
  SECTION("identity") {
    RefMatrix eye(6, 6);
    for (index_t i = 0; i < 6; ++i) eye(i, i) = 1;
    require_matrix(pnpdist::identity<float>(exec, Extents<1>{6}), eye);
    require_matrix(pnpdist::compose(a, pnpdist::identity<float>(exec, Extents<1>{6})), ra);
  }
  SECTION("nested: (A - 0.5 C) D^T + 2 A D^T") {
    auto nested = pnpdist::add(pnpdist::compose(pnpdist::add(a, pnpdist::scale(-0.5f, c)), pnpdist::adjoint(d)),
                               pnpdist::scale(2.0f, pnpdist::compose(a, pnpdist::adjoint(d))));
    const RefMatrix dt = transpose(rd);
    require_matrix(nested, linear_combination(1, product(linear_combination(1, ra, -0.5, rc), dt), 2, product(ra, dt)));
  }
}

TEST_CASE("Identity on rank-3 tensors is the identity matrix", "[operators][unit]") {
  const auto id = pnpdist::identity<double>(pnpdist::Serial{}, Extents<3>{2, 3, 2});
  RefMatrix eye(12, 12);
  for (index_t i = 0; i < 12; ++i) eye(i, i) = 1;
  require_matrix(id, eye);
  REQUIRE_THROWS_AS(pnpdist::identity<float>(pnpdist::Serial{}, Extents<2>{2, -1}), pnpdist::invalid_argument);
}

// ---------------------------------------------------------------------------------------------------------
// Storage rules

TEST_CASE("adjoint of an adjoint gives back the operator, not a nested wrapper", "[operators][unit]") {
  const RefMatrix ra = random_matrix(3, 4, 5);
  auto a = to_operator(pnpdist::Serial{}, ra);

  // Lvalue: referenced.
  auto at = pnpdist::adjoint(a);
  static_assert(std::is_same_v<decltype(at), pnpdist::Adjoint<pnpdist::OperatorRef<SerialMatrix>>>);
  CHECK(&at.base().get() == &a);
  auto att = pnpdist::adjoint(pnpdist::adjoint(a));
  static_assert(std::is_same_v<decltype(att), pnpdist::OperatorRef<SerialMatrix>>);
  CHECK(&att.get() == &a);
  auto att_from_lvalue = pnpdist::adjoint(at);
  static_assert(std::is_same_v<decltype(att_from_lvalue), pnpdist::OperatorRef<SerialMatrix>>);

  // Rvalue: owned and moved, never copied.
  const float* storage = a.entries().data();
  auto owned_t = pnpdist::adjoint(std::move(a));
  static_assert(std::is_same_v<decltype(owned_t), pnpdist::Adjoint<SerialMatrix>>);
  auto owned = pnpdist::adjoint(std::move(owned_t));
  static_assert(std::is_same_v<decltype(owned), SerialMatrix>);
  CHECK(owned.entries().data() == storage);
  require_matrix(owned, ra);
  // Adjoint of an lvalue Adjoint that owns its operand: a reference to that operand.
  const auto owner = pnpdist::adjoint(to_operator(pnpdist::Serial{}, ra));
  auto back = pnpdist::adjoint(owner);
  static_assert(std::is_same_v<decltype(back), pnpdist::OperatorRef<SerialMatrix>>);
  CHECK(&back.get() == &owner.base());
}

TEST_CASE("composites reference lvalues and own rvalues", "[operators][unit]") {
  const RefMatrix ra = random_matrix(3, 3, 6);
  const auto a = to_operator(pnpdist::Serial{}, ra);
  auto c = pnpdist::compose(a, to_operator(pnpdist::Serial{}, ra));
  static_assert(std::is_same_v<decltype(c), pnpdist::Composition<pnpdist::OperatorRef<SerialMatrix>, SerialMatrix>>);
  CHECK(&c.outer().get() == &a);
  CHECK(c.inner().entries().data() != a.entries().data());

  auto s = pnpdist::scale(3.0f, pnpdist::scale(2.0f, a));
  static_assert(std::is_same_v<decltype(s), pnpdist::Scaled<pnpdist::OperatorRef<SerialMatrix>>>);
  CHECK(s.factor() == 6.0f);
  auto s2 = pnpdist::scale(0.5f, s);  // lvalue Scaled: factors multiply, operand still referenced
  static_assert(std::is_same_v<decltype(s2), pnpdist::Scaled<pnpdist::OperatorRef<SerialMatrix>>>);
  CHECK(s2.factor() == 3.0f);
  CHECK(&s2.base().get() == &a);
  require_matrix(s2, linear_combination(3, ra, 0, ra));

  auto r = pnpdist::operator_ref(a);
  auto sum = pnpdist::add(r, r);  // an OperatorRef lvalue is copied, not wrapped again
  static_assert(std::is_same_v<decltype(sum),
                               pnpdist::Sum<pnpdist::OperatorRef<SerialMatrix>, pnpdist::OperatorRef<SerialMatrix>>>);
  require_matrix(sum, linear_combination(2, ra, 0, ra));
}

TEST_CASE("Composition allocates its intermediate once, Sum allocates its buffers on first use only",
          "[operators][unit]") {
  auto& tracker = pnpdist::allocation_tracker<pnpdist::HostSpace>();
  const auto a = to_operator(pnpdist::Serial{}, random_matrix(7, 5, 1));
  const auto b = to_operator(pnpdist::Serial{}, random_matrix(5, 6, 2));
  Tensor<float, 1> x(Extents<1>{6}), y(Extents<1>{7});
  pnpdist::fill(pnpdist::Serial{}, x.view(), 1.0f);
  pnpdist::fill(pnpdist::Serial{}, y.view(), 1.0f);

  const auto before = tracker.statistics();
  auto ab = pnpdist::compose(a, b);
  const auto built = tracker.statistics();
  CHECK(built.allocations == before.allocations + 1);
  CHECK(built.current_bytes == before.current_bytes + 5 * sizeof(float));
  for (int k = 0; k < 3; ++k) {
    ab.apply(x.const_view(), y.view());
    ab.apply_adjoint(y.const_view(), x.view());
  }
  CHECK(tracker.statistics().allocations == built.allocations);

  auto a2 = pnpdist::add(a, pnpdist::scale(2.0f, a));
  Tensor<float, 1> u(Extents<1>{5}), v(Extents<1>{7});
  pnpdist::fill(pnpdist::Serial{}, u.view(), 1.0f);
  pnpdist::fill(pnpdist::Serial{}, v.view(), 1.0f);
  const auto sum_built = tracker.statistics();
  a2.apply(u.const_view(), v.view());
  CHECK(tracker.statistics().allocations == sum_built.allocations + 1);
  a2.apply_adjoint(v.const_view(), u.view());
  const auto warm = tracker.statistics();
  CHECK(warm.allocations == sum_built.allocations + 2);
  for (int k = 0; k < 3; ++k) {
    a2.apply(u.const_view(), v.view());
    a2.apply_adjoint(v.const_view(), u.view());
  }
  CHECK(tracker.statistics().allocations == warm.allocations);
}

// ---------------------------------------------------------------------------------------------------------
// Shape errors

TEST_CASE("composing or adding operators of mismatched shapes throws dimension_mismatch naming the shapes",
          "[operators][unit]") {
  const auto a = to_operator(pnpdist::Serial{}, random_matrix(4, 6, 1));
  const auto b = to_operator(pnpdist::Serial{}, random_matrix(5, 3, 2));
  REQUIRE_THROWS_AS(pnpdist::compose(a, b), pnpdist::dimension_mismatch);
  REQUIRE_THROWS_WITH(pnpdist::compose(a, b), Catch::Contains("domain of the outer operator, shape (6)") &&
                                                  Catch::Contains("range of the inner operator, shape (5)"));
  REQUIRE_THROWS_AS(pnpdist::add(a, b), pnpdist::dimension_mismatch);
  REQUIRE_THROWS_WITH(pnpdist::add(a, b), Catch::Contains("(6) -> (4)") && Catch::Contains("(3) -> (5)"));
  const auto id = pnpdist::identity<float>(pnpdist::Serial{}, Extents<2>{2, 3});
  const auto id2 = pnpdist::identity<float>(pnpdist::Serial{}, Extents<2>{3, 2});
  REQUIRE_THROWS_WITH(pnpdist::compose(id, id2), Catch::Contains("(2, 3)") && Catch::Contains("(3, 2)"));
}

TEST_CASE("applying with views of the wrong shape throws dimension_mismatch naming the operator and shapes",
          "[operators][unit]") {
  const auto a = to_operator(pnpdist::Serial{}, random_matrix(4, 3, 1));
  Tensor<float, 1> x3(Extents<1>{3}), x5(Extents<1>{5}), y4(Extents<1>{4}), y2(Extents<1>{2});

  REQUIRE_THROWS_AS(a.apply(x5.const_view(), y4.view()), pnpdist::dimension_mismatch);
  REQUIRE_THROWS_WITH(a.apply(x5.const_view(), y4.view()), Catch::Contains("DenseMatrix::apply") &&
                                                               Catch::Contains("expected x of shape (3)") &&
                                                               Catch::Contains("got x (5) and y (4)"));
  REQUIRE_THROWS_WITH(a.apply(x3.const_view(), y2.view()),
                      Catch::Contains("y of shape (4)") && Catch::Contains("y (2)"));
  REQUIRE_THROWS_WITH(a.apply_adjoint(y2.const_view(), x3.view()), Catch::Contains("DenseMatrix::apply_adjoint") &&
                                                                       Catch::Contains("expected y of shape (4)") &&
                                                                       Catch::Contains("got y (2) and x (3)"));

  const auto at = pnpdist::adjoint(a);
  REQUIRE_THROWS_WITH(at.apply(x3.const_view(), y4.view()),
                      Catch::Contains("Adjoint::apply") && Catch::Contains("expected x of shape (4)"));
  const auto composed = pnpdist::compose(at, a);  // 3 -> 3
  REQUIRE_THROWS_AS(composed.apply(y4.const_view(), x3.view()), pnpdist::dimension_mismatch);
  REQUIRE_THROWS_WITH(composed.apply(y4.const_view(), x3.view()),
                      Catch::Contains("Composition::apply") && Catch::Contains("got x (4)"));
  const auto summed = pnpdist::add(a, a);
  REQUIRE_THROWS_WITH(summed.apply_adjoint(y4.const_view(), x5.view()), Catch::Contains("Sum::apply_adjoint"));
  const auto scaled = pnpdist::scale(2.0f, a);
  REQUIRE_THROWS_WITH(scaled.apply(x3.const_view(), y2.view()), Catch::Contains("Scaled::apply"));
  const auto id = pnpdist::identity<float>(pnpdist::Serial{}, Extents<2>{2, 3});
  Tensor<float, 2> m23(Extents<2>{2, 3}), m32(Extents<2>{3, 2});
  REQUIRE_THROWS_WITH(id.apply(m23.const_view(), m32.view()), Catch::Contains("Identity::apply") &&
                                                                  Catch::Contains("y of shape (2, 3)") &&
                                                                  Catch::Contains("y (3, 2)"));
}
