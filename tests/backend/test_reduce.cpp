#include <catch2/catch.hpp>

#include <pnpdist/backend/reduce.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "support/host_executors.hpp"

namespace {

using pnpdist::index_t;

// Values with wildly different magnitudes, so that any change of summation order changes the bits.
struct IllConditioned {
  PNPDIST_HOST_DEVICE double operator()(index_t i) const {
    const double sign = (i % 3 == 0) ? -1.0 : 1.0;
    return sign * std::ldexp(1.0 + static_cast<double>(i % 97) / 97.0, static_cast<int>(i % 61) - 30);
  }
};

struct Constant {
  double value;
  PNPDIST_HOST_DEVICE double operator()(index_t) const { return value; }
};

struct FromVector {
  const double* v;
  PNPDIST_HOST_DEVICE double operator()(index_t i) const { return v[i]; }
};

std::uint64_t bits(double x) { return std::bit_cast<std::uint64_t>(x); }

// Independent oracle: the same fixed-order definition written out plainly (chunks, lanes, tree, levels).
double reference_sum(std::vector<double> values) {
  const index_t lanes = 256, per_lane = 16, chunk = lanes * per_lane;
  do {
    const auto n = static_cast<index_t>(values.size());
    std::vector<double> next;
    for (index_t c = 0; c * chunk < n; ++c) {
      std::vector<double> lane(static_cast<std::size_t>(lanes), 0.0);
      for (index_t l = 0; l < lanes; ++l)
        for (index_t k = 0; k < per_lane; ++k) {
          const index_t i = c * chunk + k * lanes + l;
          if (i < n) lane[static_cast<std::size_t>(l)] += values[static_cast<std::size_t>(i)];
        }
      for (index_t s = lanes / 2; s > 0; s /= 2)
        for (index_t l = 0; l < s; ++l) lane[static_cast<std::size_t>(l)] += lane[static_cast<std::size_t>(l + s)];
      next.push_back(lane[0]);
    }
    values.swap(next);
  } while (values.size() > 1);
  return values.empty() ? 0.0 : values[0];
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("sums follow the documented fixed order on every host executor", "[reduce][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  for (index_t n :
       {index_t{1}, index_t{255}, index_t{4096}, index_t{4097}, index_t{100000}, index_t{4096 * 4096 + 17}}) {
    std::vector<double> values(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) values[static_cast<std::size_t>(i)] = IllConditioned{}(i);
    const double got = pnpdist::transform_reduce(exec, n, pnpdist::SumOp<double>{}, IllConditioned{});
    INFO("n = " << n);
    CHECK(bits(got) == bits(reference_sum(values)));
  }
}

#if defined(PNPDIST_HAS_OPENMP)
TEST_CASE("reductions give the same bits with 1 and 2 OpenMP threads and serially", "[reduce][unit]") {
  for (index_t n : {index_t{3}, index_t{5000}, index_t{1} << 20, (index_t{1} << 24) + 3}) {
    const double serial = pnpdist::transform_reduce(pnpdist::Serial{}, n, pnpdist::SumOp<double>{}, IllConditioned{});
    const double one = pnpdist::transform_reduce(pnpdist::OpenMP{1}, n, pnpdist::SumOp<double>{}, IllConditioned{});
    const double two = pnpdist::transform_reduce(pnpdist::OpenMP{2}, n, pnpdist::SumOp<double>{}, IllConditioned{});
    INFO("n = " << n);
    CHECK(bits(serial) == bits(one));
    CHECK(bits(one) == bits(two));
  }
}
#endif

TEMPLATE_LIST_TEST_CASE("sums are accurate", "[reduce][unit]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  // 0.1 summed 10^7 times: a naive running float sum drifts by ~1e-4 relative; the blocked double sum stays
  // within a few ulps of the exact 10^6 times the double value 0.1.
  const index_t n = 10'000'000;
  const double got = pnpdist::transform_reduce(exec, n, pnpdist::SumOp<double>{}, Constant{0.1});
  CHECK(std::abs(got - 0.1 * static_cast<double>(n)) < 1e-7);
  CHECK(pnpdist::transform_reduce(exec, 0, pnpdist::SumOp<double>{}, Constant{1.0}) == 0.0);
}

TEMPLATE_LIST_TEST_CASE("max and min find the extreme values and propagate NaN", "[reduce][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  std::vector<double> v(50'000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(static_cast<double>(i));
  v[31'337] = 7.5;
  v[4'095] = -8.25;
  const auto n = static_cast<index_t>(v.size());
  CHECK(pnpdist::transform_reduce(exec, n, pnpdist::MaxOp<double>{}, FromVector{v.data()}) == 7.5);
  CHECK(pnpdist::transform_reduce(exec, n, pnpdist::MinOp<double>{}, FromVector{v.data()}) == -8.25);
  CHECK(pnpdist::transform_reduce(exec, 0, pnpdist::MaxOp<double>{}, FromVector{v.data()}) ==
        -std::numeric_limits<double>::infinity());
  for (std::size_t where : {std::size_t{0}, std::size_t{4096}, v.size() - 1}) {
    auto w = v;
    w[where] = std::numeric_limits<double>::quiet_NaN();
    INFO("NaN at " << where);
    CHECK(std::isnan(pnpdist::transform_reduce(exec, n, pnpdist::MaxOp<double>{}, FromVector{w.data()})));
    CHECK(std::isnan(pnpdist::transform_reduce(exec, n, pnpdist::MinOp<double>{}, FromVector{w.data()})));
  }
}
