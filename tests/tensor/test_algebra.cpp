#include <catch2/catch.hpp>

#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/reductions.hpp>

#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

namespace {

// Deterministic, irregular test data.
void fill_pattern(Tensor<float, 3>& t, float phase) {
  for (index_t i = 0; i < t.size(); ++i) t.data()[i] = std::sin(0.37f * static_cast<float>(i) + phase) * 3.0f;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("element-wise algebra matches plain loops on whole tensors and patches", "[algebra][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  const Extents<3> shape{5, 37, 41};
  const Extents<3> offset{1, 3, 4}, box{3, 30, 20};
  for (const bool patch : {false, true}) {
    INFO((patch ? "patch" : "whole tensor"));
    Tensor<float, 3> x(shape), y(shape), expected(shape);
    fill_pattern(x, 0.0f);
    fill_pattern(y, 1.0f);
    auto xv = patch ? pnpdist::subview(x.view(), offset, box) : x.view();
    auto yv = patch ? pnpdist::subview(y.view(), offset, box) : y.view();
    auto in_box = [&](index_t i, index_t j, index_t k) {
      return !patch || (i >= offset[0] && i < offset[0] + box[0] && j >= offset[1] && j < offset[1] + box[1] &&
                        k >= offset[2] && k < offset[2] + box[2]);
    };
    auto check_all = [&](auto&& expect_fn) {
      int wrong = 0;
      for (index_t i = 0; i < shape[0]; ++i)
        for (index_t j = 0; j < shape[1]; ++j)
          for (index_t k = 0; k < shape[2]; ++k) wrong += y(i, j, k) != expect_fn(i, j, k, in_box(i, j, k));
      CHECK(wrong == 0);
    };
    Tensor<float, 3> y0 = pnpdist::clone(y.const_view());

    pnpdist::axpby(exec, 2.5f, pnpdist::View<const float, 3>(xv), -0.5f, yv);
    check_all([&](index_t i, index_t j, index_t k, bool in) {
      return in ? 2.5f * x(i, j, k) + -0.5f * y0(i, j, k) : y0(i, j, k);
    });

    pnpdist::copy(exec, y0.const_view(), y.view());
    pnpdist::axpy(exec, 0.25f, xv, yv);
    check_all(
        [&](index_t i, index_t j, index_t k, bool in) { return in ? y0(i, j, k) + 0.25f * x(i, j, k) : y0(i, j, k); });

    pnpdist::copy(exec, y0.const_view(), y.view());
    pnpdist::scale(exec, -3.0f, yv);
    check_all([&](index_t i, index_t j, index_t k, bool in) { return in ? -3.0f * y0(i, j, k) : y0(i, j, k); });

    pnpdist::copy(exec, y0.const_view(), y.view());
    pnpdist::affine(exec, 1.5f, xv, -0.75f, yv);
    check_all([&](index_t i, index_t j, index_t k, bool in) { return in ? 1.5f * x(i, j, k) + -0.75f : y0(i, j, k); });

    pnpdist::copy(exec, y0.const_view(), y.view());
    pnpdist::affine(exec, 2.0f, yv, 0.125f, yv);  // in place
    check_all([&](index_t i, index_t j, index_t k, bool in) { return in ? 2.0f * y0(i, j, k) + 0.125f : y0(i, j, k); });

    pnpdist::copy(exec, y0.const_view(), y.view());
    pnpdist::clamp(exec, yv, -1.0f, 0.5f);
    check_all([&](index_t i, index_t j, index_t k, bool in) {
      return in ? std::min(std::max(y0(i, j, k), -1.0f), 0.5f) : y0(i, j, k);
    });

    pnpdist::copy(exec, y0.const_view(), y.view());
    pnpdist::fill(exec, yv, 7.0f);
    check_all([&](index_t i, index_t j, index_t k, bool in) { return in ? 7.0f : y0(i, j, k); });

    pnpdist::copy(exec, y0.const_view(), y.view());
    pnpdist::copy(exec, pnpdist::View<const float, 3>(xv), yv);
    check_all([&](index_t i, index_t j, index_t k, bool in) { return in ? x(i, j, k) : y0(i, j, k); });
  }
}

TEMPLATE_LIST_TEST_CASE("axpby with beta = 0 overwrites NaN and clamp keeps NaN visible", "[algebra][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  Tensor<float, 1> x(Extents<1>{1000}), y(Extents<1>{1000});
  pnpdist::fill(exec, x.view(), 2.0f);
  pnpdist::fill(exec, y.view(), std::numeric_limits<float>::quiet_NaN());
  pnpdist::axpby(exec, 3.0f, x.const_view(), 0.0f, y.view());
  CHECK(pnpdist::count_nonfinite(exec, y.view()) == 0);
  CHECK(pnpdist::min_value(exec, y.view()) == 6.0f);
  y(17) = std::numeric_limits<float>::quiet_NaN();
  pnpdist::clamp(exec, y.view(), 0.0f, 1.0f);
  CHECK(std::isnan(y(17)));
  CHECK(pnpdist::count_nonfinite(exec, y.view()) == 1);
  CHECK_THROWS_AS(pnpdist::require_finite(exec, y.view(), "measurement"), pnpdist::invalid_argument);
  CHECK_THROWS_WITH(pnpdist::clamp(exec, y.view(), 1.0f, 0.0f), Catch::Contains("exceeds upper bound"));
}

TEMPLATE_LIST_TEST_CASE("mismatched shapes are rejected", "[algebra][unit]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  Tensor<float, 2> a(Extents<2>{3, 4}), b(Extents<2>{4, 3});
  CHECK_THROWS_WITH(pnpdist::axpby(exec, 1.0f, a.const_view(), 1.0f, b.view()),
                    Catch::Contains("(3, 4)") && Catch::Contains("(4, 3)"));
  CHECK_THROWS_AS(pnpdist::dot(exec, a.view(), b.view()), pnpdist::dimension_mismatch);
}

TEMPLATE_LIST_TEST_CASE("view reductions agree with long double references", "[reductions][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  Tensor<float, 3> x(Extents<3>{7, 129, 131}), y(Extents<3>{7, 129, 131});
  fill_pattern(x, 0.3f);
  fill_pattern(y, 2.0f);
  long double s = 0, d = 0, q = 0;
  for (index_t i = 0; i < x.size(); ++i) {
    s += x.data()[i];
    d += static_cast<long double>(x.data()[i]) * y.data()[i];
    q += static_cast<long double>(x.data()[i]) * x.data()[i];
  }
  CHECK(pnpdist::sum(exec, x.view()) == Approx(static_cast<double>(s)).epsilon(1e-12));
  CHECK(pnpdist::dot(exec, x.view(), y.view()) == Approx(static_cast<double>(d)).epsilon(1e-12));
  CHECK(pnpdist::squared_norm(exec, x.view()) == Approx(static_cast<double>(q)).epsilon(1e-12));
  CHECK(pnpdist::norm(exec, x.view()) == Approx(std::sqrt(static_cast<double>(q))).epsilon(1e-12));
  // Strided: the patch's sum equals a loop over the patch.
  const auto p = pnpdist::subview(x.view(), Extents<3>{2, 10, 20}, Extents<3>{3, 50, 60});
  long double ps = 0;
  for (index_t i = 0; i < 3; ++i)
    for (index_t j = 0; j < 50; ++j)
      for (index_t k = 0; k < 60; ++k) ps += p(i, j, k);
  CHECK(pnpdist::sum(exec, p) == Approx(static_cast<double>(ps)).epsilon(1e-12));
  float mx = -1e30f;
  for (index_t i = 0; i < x.size(); ++i) mx = std::max(mx, x.data()[i]);
  CHECK(pnpdist::max_value(exec, x.view()) == mx);
}

#if defined(PNPDIST_HAS_OPENMP)
TEST_CASE("float dot products have the same bits at 1 and 2 threads", "[reductions][unit]") {
  Tensor<float, 3> x(Extents<3>{3, 1000, 1001}), y(Extents<3>{3, 1000, 1001});
  fill_pattern(x, 0.1f);
  fill_pattern(y, 0.7f);
  const double serial = pnpdist::dot(pnpdist::Serial{}, x.view(), y.view());
  const double one = pnpdist::dot(pnpdist::OpenMP{1}, x.view(), y.view());
  const double two = pnpdist::dot(pnpdist::OpenMP{2}, x.view(), y.view());
  CHECK(std::bit_cast<std::uint64_t>(serial) == std::bit_cast<std::uint64_t>(one));
  CHECK(std::bit_cast<std::uint64_t>(one) == std::bit_cast<std::uint64_t>(two));
  CHECK(std::bit_cast<std::uint64_t>(pnpdist::norm(pnpdist::OpenMP{1}, x.view())) ==
        std::bit_cast<std::uint64_t>(pnpdist::norm(pnpdist::OpenMP{2}, x.view())));
}
#endif
