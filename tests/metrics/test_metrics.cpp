// PSNR and SSIM against skimage's values (tests/fixtures/metrics, tools/make_metrics_fixtures.py) for a gray
// image, a colour image (per-channel mean) and a volume (mean over slices), analytic values, strided
// views, executor independence and errors.
#include <catch2/catch.hpp>

#include <pnpdist/io/npy.hpp>
#include <pnpdist/metrics/metrics.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>

#include <cmath>
#include <string>

#include "support/host_executors.hpp"

using namespace pnpdist;

namespace {
std::string fixture(const std::string& name) { return std::string(PNPDIST_METRICS_FIXTURES) + "/" + name + ".npy"; }

template <std::size_t Rank, class Exec>
void check_case(const Exec& exec, const std::string& name) {
  const auto reference = read_npy<float, Rank>(fixture(name + "_reference"));
  const auto image = read_npy<float, Rank>(fixture(name + "_image"));
  const auto values = read_npy<double, 1>(fixture(name + "_values"));
  INFO(name);
  CHECK(psnr(exec, image.const_view(), reference.const_view(), values(0)) == Approx(values(1)).epsilon(1e-10));
  CHECK(ssim(exec, image.const_view(), reference.const_view(), values(0)) == Approx(values(2)).epsilon(1e-10));
}
}  // namespace

TEMPLATE_LIST_TEST_CASE("PSNR and SSIM match skimage", "[metrics]", test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  check_case<2>(exec, "gray");
  check_case<3>(exec, "colour");
  check_case<3>(exec, "volume");
}

TEMPLATE_LIST_TEST_CASE("PSNR and SSIM analytic values", "[metrics]", test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  Tensor<float, 2> a(Extents<2>{20, 23});
  fill_normal(Serial{}, a.view(), 5, 0, 0.5f, 0.2f);
  Tensor<float, 2> b = clone(a.const_view());
  CHECK(std::isinf(psnr(exec, a.const_view(), b.const_view(), 1.0)));
  CHECK(ssim(exec, a.const_view(), b.const_view(), 1.0) == Approx(1.0).epsilon(1e-12));
  // A constant offset c: MSE = c^2, PSNR = 20 log10(R / c).
  Tensor<float, 2> c = clone(a.const_view());
  for (index_t i = 0; i < 20; ++i)
    for (index_t j = 0; j < 23; ++j) c(i, j) = a(i, j) + 0.125f;
  const double mse = mean_squared_error(exec, c.const_view(), a.const_view());
  CHECK(mse == Approx(0.125 * 0.125).epsilon(1e-5));
  CHECK(psnr(exec, c.const_view(), a.const_view(), 2.0) == Approx(10 * std::log10(4.0 / mse)).epsilon(1e-12));
  // SSIM of a constant image against itself shifted: structure term 1, luminance term < 1.
  const double s = ssim(exec, c.const_view(), a.const_view(), 1.0);
  CHECK(s < 1.0);
  CHECK(s > 0.5);
}

TEMPLATE_LIST_TEST_CASE("Metrics are independent of the executor and accept strided views for PSNR", "[metrics]",
                        test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  Tensor<float, 3> a(Extents<3>{3, 40, 50}), b(Extents<3>{3, 40, 50});
  fill_normal(Serial{}, a.view(), 1, 0, 0.0f, 1.0f);
  fill_normal(Serial{}, b.view(), 1, 1, 0.0f, 1.0f);
  CHECK(ssim(exec, a.const_view(), b.const_view(), 3.0) == ssim(Serial{}, a.const_view(), b.const_view(), 3.0));
  CHECK(psnr(exec, a.const_view(), b.const_view(), 3.0) == psnr(Serial{}, a.const_view(), b.const_view(), 3.0));
  const auto pa = subview(a.const_view(), Extents<3>{1, 3, 4}, Extents<3>{2, 20, 30});
  const auto pb = subview(b.const_view(), Extents<3>{1, 3, 4}, Extents<3>{2, 20, 30});
  Tensor<float, 3> da(Extents<3>{2, 20, 30}), db(Extents<3>{2, 20, 30});
  copy(Serial{}, pa, da.view());
  copy(Serial{}, pb, db.view());
  CHECK(psnr(exec, pa, pb, 1.0) == psnr(exec, da.const_view(), db.const_view(), 1.0));
}

TEST_CASE("Metric errors name the problem", "[metrics]") {
  Tensor<float, 2> a = zeros<float>(Serial{}, Extents<2>{10, 30}), b = zeros<float>(Serial{}, Extents<2>{10, 30});
  CHECK_THROWS_AS(ssim(Serial{}, a.const_view(), b.const_view(), 1.0), dimension_mismatch);
  CHECK_THROWS_WITH(ssim(Serial{}, a.const_view(), b.const_view(), 1.0), Catch::Contains("11 x 11"));
  CHECK_THROWS_WITH(psnr(Serial{}, a.const_view(), b.const_view(), 0.0), Catch::Contains("data_range"));
  Tensor<float, 2> c = zeros<float>(Serial{}, Extents<2>{10, 31});
  CHECK_THROWS_AS(psnr(Serial{}, a.const_view(), c.const_view(), 1.0), dimension_mismatch);
}
