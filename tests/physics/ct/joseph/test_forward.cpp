// The ray-driven forward projection of device executors (JosephForwardRays, physics/ct/joseph/forward.hpp),
// run on Serial: one iteration per ray equals the Serial projector's forward projection (ray groups) to
// round-off, 2D parallel and fan beam, 3D cone and parallel beam, odd and non-square sizes, detector offsets.
// And SwapLastAxesElements (joseph/layout.hpp, one iteration per element) gives SwapLastAxes' bits.
#include <catch2/catch.hpp>

#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tensor/random.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <type_traits>
#include <vector>

using namespace pnpdist;

namespace {

constexpr double pi = std::numbers::pi;

/// JosephForwardRays on Serial against the Serial projector's apply.
template <class T, class Geometry>
void check_forward_rays(const Geometry& g) {
  const auto op = ct::make_projector<T>(Serial{}, g);
  auto x = make_domain_tensor(op);
  fill_uniform(Serial{}, x.view(), 21, 0, T(-1), T(1));
  auto reference = make_range_tensor(op);
  op.apply(x.const_view(), reference.view());

  const auto grid = ct::make_joseph_grid(g);
  std::vector<double> vectors;
  for (const auto& e : g.vectors) vectors.insert(vectors.end(), e.begin(), e.end());
  auto swapped = make_domain_tensor(op);  // the last two axes swapped (same size)
  const index_t rows = x.extent(x.rank - 2), cols = x.extent(x.rank - 1);
  const ct::SwapLastAxes<T> swap{x.data(), swapped.data(), rows, cols, false};
  for_each(Serial{}, swap.iterations(x.size() / (rows * cols)), swap);
  auto y = make_range_tensor(op);
  const ct::JosephForwardRays<T, decltype(grid)> rays{grid, vectors.data(), x.data(), swapped.data(), y.data()};
  REQUIRE(rays.iterations(g.views()) == y.size());
  for_each(Serial{}, rays.iterations(g.views()), rays);

  double largest = 0, error = 0;
  for (index_t i = 0; i < y.size(); ++i) {
    largest = std::max(largest, std::abs(static_cast<double>(reference.data()[i])));
    error = std::max(error, std::abs(static_cast<double>(y.data()[i]) - static_cast<double>(reference.data()[i])));
  }
  INFO("largest difference " << error << ", largest value " << largest);
  CHECK(largest > 0);
  CHECK(error <= (std::is_same_v<T, float> ? 1e-5 : 1e-12) * largest);
}

}  // namespace

TEMPLATE_TEST_CASE("JosephForwardRays (one iteration per ray) equals the grouped forward projection", "[ct][joseph]",
                   float, double) {
  SECTION("2D parallel beam, 19 x 26, detector offset 1.9") {
    check_forward_rays<TestType>(
        ct::parallel_beam_2d(ct::uniform_angles(11, 0.1, pi + 0.1), {31, 1.1, 1.9}, {19, 26, 1.0, 1.1}));
  }
  SECTION("2D parallel beam, 37 x 30, wide detector, offset -2.6") {
    check_forward_rays<TestType>(
        ct::parallel_beam_2d(ct::uniform_angles(6, 0.05, pi + 0.05), {53, 0.9, -2.6}, {37, 30, 1.0, 1.0}));
  }
  SECTION("2D fan beam, 23 x 18, detector offset -1.3") {
    check_forward_rays<TestType>(
        ct::fan_beam_2d(ct::uniform_angles(9, 0.2, 2 * pi + 0.2), {33, 1.5, -1.3}, 45.0, 30.0, {23, 18, 1.1, 0.9}));
  }
  SECTION("2D fan beam, 35 x 42, detector offset 2.7") {
    check_forward_rays<TestType>(
        ct::fan_beam_2d(ct::uniform_angles(7, 0.4, 2 * pi + 0.4), {49, 1.2, 2.7}, 110.0, 55.0, {35, 42, 1.0, 1.0}));
  }
  SECTION("3D cone beam, 9 x 11 x 12") {
    check_forward_rays<TestType>(ct::cone_beam(ct::uniform_angles(6, 0.3, 2 * pi + 0.3), {13, 15, 1.7, 1.8, 0.5, -0.9},
                                               35.0, 30.0, {9, 11, 12, 1.1, 0.9, 1.0}));
  }
  SECTION("3D parallel beam, 8 x 11 x 13") {
    check_forward_rays<TestType>(
        ct::parallel_beam_3d(ct::uniform_angles(5, 0, pi), {12, 15, 1.0, 0.9, 0.3, -0.4}, {8, 11, 13, 1.0, 1.1, 0.9}));
  }
}

TEST_CASE("SwapLastAxesElements (one iteration per element) gives SwapLastAxes' bits", "[ct][joseph]") {
  for (const bool accumulate : {false, true}) {
    // 3 stacked 45 x 70 matrices: partial 32 x 32 tiles along both axes.
    const index_t count = 3, rows = 45, cols = 70;
    Tensor<float, 1, HostSpace> in(Extents<1>{count * rows * cols}), tiles(in.extents()), elements(in.extents());
    fill_uniform(Serial{}, in.view(), 31, 0, -1.0f, 1.0f);
    fill_uniform(Serial{}, tiles.view(), 32, 0, -1.0f, 1.0f);
    copy(Serial{}, tiles.const_view(), elements.view());
    const ct::SwapLastAxes<float> by_tiles{in.data(), tiles.data(), rows, cols, accumulate};
    for_each(Serial{}, by_tiles.iterations(count), by_tiles);
    const ct::SwapLastAxesElements<float> by_elements{{in.data(), elements.data(), rows, cols, accumulate}};
    REQUIRE(by_elements.iterations(count) == count * rows * cols);
    for_each(Serial{}, by_elements.iterations(count), by_elements);
    INFO("accumulate " << accumulate);
    CHECK(std::equal(tiles.data(), tiles.data() + tiles.size(), elements.data()));
    CHECK(elements.data()[(2 * cols + 5) * rows + 7] ==
          (accumulate ? tiles.data()[(2 * cols + 5) * rows + 7] : in.data()[(2 * rows + 7) * cols + 5]));
  }
}
