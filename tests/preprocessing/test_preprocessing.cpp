// Preprocessing steps against obvious loops, on every host executor: binning averages blocks; averaged
// frames; dark/flat correction with one flat, with interpolated flats (a linear source drift is removed
// exactly) and the dead-pixel rule; -log with its floor; outlier removal replaces isolated spikes by the
// local median and leaves every other pixel unchanged; ring reduction removes stripes and keeps linear
// column profiles.
#include <catch2/catch.hpp>

#include <pnpdist/preprocessing/preprocessing.hpp>
#include <pnpdist/tensor/owning_tensor.hpp>

#include <support/host_executors.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace pnpdist;
namespace pre = pnpdist::preprocessing;

namespace {

Tensor<float, 3> ramp(index_t n, index_t rows, index_t cols) {
  Tensor<float, 3> x(Extents<3>{n, rows, cols});
  for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>((i * 37) % 101) + 0.25f;
  return x;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("bin_detector averages b x b blocks", "[preprocessing]", test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  const Tensor<float, 3> in = ramp(2, 7, 9);
  for (const index_t b : {1, 2, 3}) {
    Tensor<float, 3> out(pre::binned_extents(in.extents(), b));
    CHECK(out.extent(1) == 7 / b);
    CHECK(out.extent(2) == 9 / b);
    pre::bin_detector(exec, in.const_view(), out.view(), b);
    for (index_t k = 0; k < 2; ++k)
      for (index_t r = 0; r < out.extent(1); ++r)
        for (index_t c = 0; c < out.extent(2); ++c) {
          double sum = 0;
          for (index_t i = 0; i < b; ++i)
            for (index_t j = 0; j < b; ++j) sum += in(k, b * r + i, b * c + j);
          REQUIRE(out(k, r, c) == Approx(sum / static_cast<double>(b * b)).epsilon(1e-6));
        }
  }
  Tensor<float, 3> wrong(Extents<3>{2, 3, 3});
  CHECK_THROWS_AS(pre::bin_detector(exec, in.const_view(), wrong.view(), 2), dimension_mismatch);
}

TEMPLATE_LIST_TEST_CASE("Dark/flat correction and -log", "[preprocessing]", test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  const index_t n = 5, rows = 4, cols = 6;
  // Truth: line integrals p(k, r, c); gain g(r, c); dark d(r, c); source intensity drifting linearly from
  // I0 at position 0 (flat before) to 0.8 I0 at position 10 (flat after).
  const auto p = [](index_t k, index_t r, index_t c) {
    return 0.1 * static_cast<double>(k + r) + 0.05 * static_cast<double>(c);
  };
  const auto g = [](index_t r, index_t c) { return 1.0 + 0.1 * static_cast<double>((r * 3 + c) % 5); };
  const auto d = [](index_t r, index_t c) { return 90.0 + static_cast<double>(r + c); };
  const auto intensity = [](double position) { return 10000.0 * (1.0 - 0.02 * position); };
  const std::vector<double> positions{2, 3, 5, 8, 12};  // the last beyond the after flat

  pre::FlatFields<> fields;
  Tensor<float, 3> dark_frames(Extents<3>{3, rows, cols});
  for (index_t f = 0; f < 3; ++f)
    for (index_t r = 0; r < rows; ++r)
      for (index_t c = 0; c < cols; ++c)
        dark_frames(f, r, c) = static_cast<float>(d(r, c) + static_cast<double>(f) - 1.0);
  fields.dark = Tensor<float, 2>(Extents<2>{rows, cols});
  pre::average_frames(exec, dark_frames.const_view(), fields.dark.view());
  CHECK(fields.dark(1, 2) == Approx(d(1, 2)));
  fields.flats = Tensor<float, 3>(Extents<3>{2, rows, cols});
  fields.positions = {0, 10};
  for (index_t r = 0; r < rows; ++r)
    for (index_t c = 0; c < cols; ++c) {
      fields.flats(0, r, c) = static_cast<float>(intensity(0) * g(r, c) + d(r, c));
      fields.flats(1, r, c) = static_cast<float>(intensity(10) * g(r, c) + d(r, c));
    }
  Tensor<float, 3> y(Extents<3>{n, rows, cols});
  for (index_t k = 0; k < n; ++k)
    for (index_t r = 0; r < rows; ++r)
      for (index_t c = 0; c < cols; ++c) {
        const double at = std::min(positions[static_cast<std::size_t>(k)], 10.0);
        y(k, r, c) = static_cast<float>(intensity(at) * g(r, c) * std::exp(-p(k, r, c)) + d(r, c));
      }
  y(0, 0, 0) = 50.0f;  // below the dark: transmission < 0, floored
  pre::flat_field_correct(exec, fields, y.view(), positions);
  pre::minus_log(exec, y.view(), 1e-3f);
  CHECK(y(0, 0, 0) == Approx(-std::log(1e-3)));
  for (index_t k = 0; k < n; ++k)
    for (index_t r = 0; r < rows; ++r)
      for (index_t c = 0; c < cols; ++c)
        if (k + r + c > 0) REQUIRE(y(k, r, c) == Approx(p(k, r, c)).margin(2e-4));

  // A single flat does not remove the drift: projection at position 8 is off by -log(1 - 0.16).
  pre::FlatFields<> single;
  single.dark = Tensor<float, 2>(Extents<2>{rows, cols});
  pre::average_frames(exec, dark_frames.const_view(), single.dark.view());
  single.flats = Tensor<float, 3>(Extents<3>{1, rows, cols});
  for (index_t r = 0; r < rows; ++r)
    for (index_t c = 0; c < cols; ++c) single.flats(0, r, c) = fields.flats(0, r, c);
  single.positions = {0};
  Tensor<float, 3> one(Extents<3>{1, rows, cols});
  for (index_t r = 0; r < rows; ++r)
    for (index_t c = 0; c < cols; ++c)
      one(0, r, c) = static_cast<float>(intensity(8) * g(r, c) * std::exp(-p(3, r, c)) + d(r, c));
  one(0, 1, 1) = 5.0f;
  single.flats(0, 1, 1) = static_cast<float>(d(1, 1)) - 1.0f;  // dead pixel: flat below dark
  pre::flat_field_correct(exec, single, one.view(), {8.0});
  pre::minus_log(exec, one.view());
  CHECK(one(0, 1, 1) == Approx(0.0).margin(1e-7));
  CHECK(one(0, 2, 3) == Approx(p(3, 2, 3) - std::log(1.0 - 0.16)).margin(2e-4));
  CHECK_THROWS_AS(pre::minus_log(exec, one.view(), 0.0f), invalid_argument);
  CHECK_THROWS_AS(pre::flat_field_correct(exec, single, one.view(), {1.0, 2.0}), dimension_mismatch);
}

TEMPLATE_LIST_TEST_CASE("remove_outliers replaces isolated spikes by the 3x3 median", "[preprocessing]",
                        test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  const index_t rows = 9, cols = 11;
  Tensor<float, 3> in(Extents<3>{2, rows, cols});
  for (index_t k = 0; k < 2; ++k)
    for (index_t r = 0; r < rows; ++r)
      for (index_t c = 0; c < cols; ++c) in(k, r, c) = static_cast<float>(100 + 2 * r + c + k);  // smooth
  const std::vector<std::array<index_t, 3>> spikes{{0, 4, 5}, {1, 0, 0}, {1, 8, 10}, {0, 0, 6}};
  for (const auto& s : spikes) in(s[0], s[1], s[2]) += 5000.0f;
  in(1, 5, 5) -= 3000.0f;  // a dead spot
  Tensor<float, 3> out(in.extents());
  pre::remove_outliers(exec, in.const_view(), out.view(), 50.0f);
  for (index_t k = 0; k < 2; ++k)
    for (index_t r = 0; r < rows; ++r)
      for (index_t c = 0; c < cols; ++c) {
        std::vector<float> around;
        for (index_t i = -1; i <= 1; ++i)
          for (index_t j = -1; j <= 1; ++j)
            around.push_back(in(k, std::clamp<index_t>(r + i, 0, rows - 1), std::clamp<index_t>(c + j, 0, cols - 1)));
        std::nth_element(around.begin(), around.begin() + 4, around.end());
        const float median = around[4];
        const bool outlier = std::abs(in(k, r, c) - median) > 50.0f;
        REQUIRE(out(k, r, c) == (outlier ? median : in(k, r, c)));
        const bool planted = (k == 1 && r == 5 && c == 5) ||
                             std::any_of(spikes.begin(), spikes.end(),
                                         [&](const auto& s) { return s[0] == k && s[1] == r && s[2] == c; });
        REQUIRE(outlier == planted);  // exactly the planted pixels are replaced
      }
}

TEMPLATE_LIST_TEST_CASE("reduce_rings removes per-pixel stripes and keeps linear sinograms", "[preprocessing]",
                        test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  const index_t views = 40, rows = 3, cols = 50;
  // A smooth sinogram: a sinusoid of the view with a column profile; and per-pixel offsets (stripes).
  Tensor<float, 3> clean(Extents<3>{views, rows, cols}), striped(Extents<3>{views, rows, cols});
  std::vector<float> offset(static_cast<std::size_t>(rows * cols));
  for (index_t r = 0; r < rows; ++r)  // isolated stripes, away from the edges (where the window shrinks to 1)
    for (index_t c = 3; c < cols - 3; ++c)
      offset[static_cast<std::size_t>(r * cols + c)] = (c + 4 * r) % 9 == 4 ? 0.2f : 0.0f;
  for (index_t k = 0; k < views; ++k)
    for (index_t r = 0; r < rows; ++r)
      for (index_t c = 0; c < cols; ++c) {
        const double x = (static_cast<double>(c) - 24.5) / 25.0;
        clean(k, r, c) = static_cast<float>((1 - x * x) * (1.0 + 0.3 * std::sin(0.3 * static_cast<double>(k) + x)));
        striped(k, r, c) = clean(k, r, c) + offset[static_cast<std::size_t>(r * cols + c)];
      }
  const auto rms = [&](const Tensor<float, 3>& a) {
    double s = 0;
    for (index_t i = 0; i < a.size(); ++i) s += std::pow(static_cast<double>(a.data()[i]) - clean.data()[i], 2);
    return std::sqrt(s / static_cast<double>(a.size()));
  };
  const double before = rms(striped);
  pre::reduce_rings(exec, striped.view(), 3);
  const double after = rms(striped);
  INFO("RMS error of the striped sinogram " << before << ", after ring reduction " << after);
  CHECK(after < 0.15 * before);

  // Mean over views linear in the column: unchanged (up to float rounding).
  Tensor<float, 3> linear(Extents<3>{views, rows, cols});
  for (index_t k = 0; k < views; ++k)
    for (index_t r = 0; r < rows; ++r)
      for (index_t c = 0; c < cols; ++c)
        linear(k, r, c) = static_cast<float>(0.5 + 0.01 * static_cast<double>(c) * static_cast<double>(r + 1) +
                                             0.1 * std::cos(static_cast<double>(k)));
  Tensor<float, 3> kept(linear.extents());
  for (index_t i = 0; i < linear.size(); ++i) kept.data()[i] = linear.data()[i];
  pre::reduce_rings(exec, kept.view(), 4);
  for (index_t i = 0; i < linear.size(); ++i) REQUIRE(kept.data()[i] == Approx(linear.data()[i]).margin(1e-5));
  CHECK_THROWS_AS(pre::reduce_rings(exec, kept.view(), 0), invalid_argument);
  CHECK_THROWS_AS(pre::reduce_rings(exec, kept.view(), 16), invalid_argument);
}
