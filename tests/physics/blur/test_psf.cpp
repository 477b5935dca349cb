#include <catch2/catch.hpp>

#include <pnpdist/io/npy.hpp>
#include <pnpdist/physics/blur/psf.hpp>

#include <cmath>
#include <string>

#include "physics/blur/blur_test_support.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

TEST_CASE("gaussian_psf_size follows the 2 int(max(s) / 0.3 + 1) + 1 rule", "[blur][psf]") {
  CHECK(pnpdist::blur::gaussian_psf_size(20.48, 10.24) == 139);  // the high-resolution benchmark
  CHECK(pnpdist::blur::gaussian_psf_size(2.0, 1.0) == 15);
  CHECK(pnpdist::blur::gaussian_psf_size(1.0, 3.0) == 23);  // the larger sigma counts, whichever it is
  CHECK(pnpdist::blur::gaussian_psf_size(0.1, 0.1) == 3);
  CHECK_THROWS_AS(pnpdist::blur::gaussian_psf_size(0.0, 1.0), pnpdist::invalid_argument);
  CHECK_THROWS_AS(pnpdist::blur::gaussian_psf_size(1.0, -2.0), pnpdist::invalid_argument);
  CHECK_THROWS_AS(pnpdist::blur::gaussian_psf_size(NAN, 1.0), pnpdist::invalid_argument);
  CHECK_THROWS_AS(pnpdist::blur::gaussian_psf(1.0, 1.0, INFINITY), pnpdist::invalid_argument);
}

TEST_CASE("gaussian_psf equals the PyTorch reference of DeepInv's rule", "[blur][psf]") {
  struct Case {
    const char* file;
    double s1, s2, angle;
  };
  const Case cases[] = {{"psf_2_1_30.npy", 2.0, 1.0, 30.0},
                        {"psf_3_1.5_100.npy", 3.0, 1.5, 100.0},
                        {"psf_1.2_1.2_0.npy", 1.2, 1.2, 0.0},
                        {"psf_20.48_10.24_77.14.npy", 20.48, 10.24, 180.0 * 3 / 7}};
  for (const Case& c : cases) {
    INFO(c.file);
    const auto reference = pnpdist::read_npy<float, 2>(pnpdist::test::blur_fixture(c.file));
    const auto psf = pnpdist::blur::gaussian_psf<float>(c.s1, c.s2, c.angle);
    REQUIRE(psf.extents() == reference.extents());
    CHECK(pnpdist::test::relative_max_difference(psf, reference) < 1e-5);
    double total = 0;
    for (index_t i = 0; i < psf.size(); ++i) total += psf.data()[i];
    CHECK(total == Approx(1.0).epsilon(1e-6));
  }
}

TEST_CASE("gaussian_psf is centred and symmetric under a half turn", "[blur][psf]") {
  const auto psf = pnpdist::blur::gaussian_psf<double>(3.0, 1.0, 37.0);
  const index_t k = psf.extent(0);
  double peak = 0;
  index_t pi = -1, pj = -1;
  for (index_t i = 0; i < k; ++i) {
    for (index_t j = 0; j < k; ++j) {
      CHECK(psf(i, j) == Approx(psf(k - 1 - i, k - 1 - j)).margin(1e-15));
      if (psf(i, j) > peak) peak = psf(i, j), pi = i, pj = j;
    }
  }
  CHECK(pi == k / 2);
  CHECK(pj == k / 2);
  // Without rotation, sigma_1 spreads along the rows: the second moment along i is s1^2 (up to truncation).
  const auto axis = pnpdist::blur::gaussian_psf<double>(2.0, 1.0, 0.0);
  double mi = 0, mj = 0;
  const index_t c = axis.extent(0) / 2;
  for (index_t i = 0; i < axis.extent(0); ++i)
    for (index_t j = 0; j < axis.extent(1); ++j) {
      mi += axis(i, j) * double(i - c) * double(i - c);
      mj += axis(i, j) * double(j - c) * double(j - c);
    }
  CHECK(mi == Approx(4.0).epsilon(5e-3));  // truncated at 3.5 sigma
  CHECK(mj == Approx(1.0).epsilon(5e-3));
}

TEST_CASE("normalized_psf scales a user PSF to sum 1 and rejects bad ones", "[blur][psf]") {
  Tensor<float, 2> raw(Extents<2>{2, 3});
  for (index_t i = 0; i < 6; ++i) raw.data()[i] = static_cast<float>(i + 1);  // sum 21
  const auto psf = pnpdist::blur::normalized_psf(raw.const_view());
  CHECK(psf(1, 2) == Approx(6.0 / 21.0));
  CHECK(psf(0, 0) == Approx(1.0 / 21.0));
  for (index_t i = 0; i < 6; ++i) raw.data()[i] = 0.0f;
  CHECK_THROWS_AS(pnpdist::blur::normalized_psf(raw.const_view()), pnpdist::invalid_argument);
  raw(0, 0) = NAN;
  CHECK_THROWS_AS(pnpdist::blur::normalized_psf(raw.const_view()), pnpdist::invalid_argument);
}

TEST_CASE("read_psf reads .npy files and normalizes them", "[blur][psf]") {
  const auto psf = pnpdist::blur::read_psf<float>(pnpdist::test::blur_fixture("psf_5x3.npy"));
  const auto raw = pnpdist::read_npy<float, 2>(pnpdist::test::blur_fixture("psf_5x3.npy"));
  double total = 0;
  for (index_t i = 0; i < raw.size(); ++i) total += raw.data()[i];
  REQUIRE(psf.extents() == raw.extents());
  for (index_t i = 0; i < raw.size(); ++i) CHECK(psf.data()[i] == Approx(raw.data()[i] / total).epsilon(1e-6));
  CHECK_THROWS_AS(pnpdist::blur::read_psf<float>(pnpdist::test::blur_fixture("image_2x3x20x24.npy")),
                  pnpdist::dimension_mismatch);
  CHECK_THROWS_AS(pnpdist::blur::read_psf<float>("/nonexistent/psf.npy"), pnpdist::io_error);
}
