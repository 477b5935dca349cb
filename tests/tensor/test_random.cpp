#include <catch2/catch.hpp>

#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/reductions.hpp>

#include <cmath>
#include <cstring>

#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

TEMPLATE_LIST_TEST_CASE("random fills are element i of the documented stream", "[random][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  const pnpdist::PhiloxStream stream{1234, 7};
  Tensor<float, 2> f(Extents<2>{33, 31});  // 1023 elements: not a multiple of the block size
  pnpdist::fill_normal(exec, f.view(), 1234, 7, 0.0f, 1.0f);
  Tensor<double, 1> d(Extents<1>{1001});
  pnpdist::fill_uniform(exec, d.view(), 1234, 7, 0.0, 1.0);
  int wrong = 0;
  for (index_t i = 0; i < f.size(); ++i) wrong += f.data()[i] != stream.normal<float>(i);
  for (index_t i = 0; i < d.size(); ++i) wrong += d.data()[i] != stream.uniform<double>(i);
  CHECK(wrong == 0);
}

TEMPLATE_LIST_TEST_CASE("a strided patch receives the same values as a contiguous tensor of its shape",
                        "[random][unit]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  Tensor<float, 3> big(Extents<3>{4, 20, 30});
  pnpdist::fill(exec, big.view(), -100.0f);
  const auto patch = pnpdist::subview(big.view(), Extents<3>{1, 2, 3}, Extents<3>{2, 9, 11});
  pnpdist::fill_uniform(exec, patch, 99, 3, -1.0f, 1.0f);
  Tensor<float, 3> compact(Extents<3>{2, 9, 11});
  pnpdist::fill_uniform(pnpdist::Serial{}, compact.view(), 99, 3, -1.0f, 1.0f);
  int wrong = 0;
  for (index_t i = 0; i < 2; ++i)
    for (index_t j = 0; j < 9; ++j)
      for (index_t k = 0; k < 11; ++k) wrong += patch(i, j, k) != compact(i, j, k);
  CHECK(wrong == 0);
  // Outside the patch nothing changed.
  CHECK(pnpdist::sum(exec, big.view()) ==
        Approx(-100.0 * (big.size() - compact.size()) + pnpdist::sum(exec, compact.view())));
}

#if defined(PNPDIST_HAS_OPENMP)
TEST_CASE("noise does not depend on the number of threads", "[random][unit]") {
  Tensor<float, 2> a(Extents<2>{513, 257}), b(Extents<2>{513, 257});
  pnpdist::fill(pnpdist::Serial{}, a.view(), 0.5f);
  pnpdist::fill(pnpdist::Serial{}, b.view(), 0.5f);
  pnpdist::add_gaussian_noise(pnpdist::OpenMP{1}, a.view(), 0.1f, 42, 5);
  pnpdist::add_gaussian_noise(pnpdist::OpenMP{2}, b.view(), 0.1f, 42, 5);
  CHECK(std::memcmp(a.data(), b.data(), a.bytes()) == 0);
}
#endif

TEMPLATE_LIST_TEST_CASE("Gaussian noise has the requested mean and standard deviation", "[random][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  const index_t n = 1 << 20;
  Tensor<float, 1> x(Extents<1>{n});
  pnpdist::fill(exec, x.view(), 2.0f);
  pnpdist::add_gaussian_noise(exec, x.view(), 0.25f, 2024, 0);
  const double mean = pnpdist::sum(exec, x.view()) / n;
  double var = 0;
  for (index_t i = 0; i < n; ++i) var += (x(i) - mean) * (x(i) - mean);
  var /= (n - 1);
  // Standard errors: 0.25/sqrt(n) for the mean, 0.0625*sqrt(2/n) for the variance; allow 6 of them.
  CHECK(std::abs(mean - 2.0) < 6 * 0.25 / std::sqrt(double(n)));
  CHECK(std::abs(var - 0.0625) < 6 * 0.0625 * std::sqrt(2.0 / n));
  // Different streams give different noise.
  Tensor<float, 1> y(Extents<1>{n});
  pnpdist::fill(exec, y.view(), 2.0f);
  pnpdist::add_gaussian_noise(exec, y.view(), 0.25f, 2024, 1);
  CHECK(std::abs(pnpdist::dot(exec, x.view(), y.view()) / n - 4.0) < 0.01);  // uncorrelated noise
  CHECK(std::memcmp(x.data(), y.data(), x.bytes()) != 0);
}

TEST_CASE("bad random parameters are rejected", "[random][unit]") {
  Tensor<float, 1> x(Extents<1>{8});
  CHECK_THROWS_AS(pnpdist::fill_uniform(pnpdist::Serial{}, x.view(), 0, 0, 1.0f, 1.0f), pnpdist::invalid_argument);
  CHECK_THROWS_AS(pnpdist::fill_normal(pnpdist::Serial{}, x.view(), 0, 0, 0.0f, -1.0f), pnpdist::invalid_argument);
  CHECK_THROWS_WITH(pnpdist::add_gaussian_noise(pnpdist::Serial{}, x.view(), std::nanf(""), 0, 0),
                    Catch::Contains("negative or NaN"));
}
