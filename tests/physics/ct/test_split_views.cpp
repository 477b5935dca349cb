// split_views: 100 views in 8 blocks of 13,13,13,13,12,12,12,12; stacking the sinograms of the parts gives
// the full sinogram (bit for bit: the rays are the same); the adjoints sum to the full adjoint.
#include <catch2/catch.hpp>

#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tensor/random.hpp>

#include <cstring>
#include <numbers>

#include "support/host_executors.hpp"

using namespace pnpdist;

TEMPLATE_LIST_TEST_CASE("split_views builds the operators of a 100-view problem", "[ct][split]", test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  const auto g = ct::parallel_beam_2d(ct::uniform_angles(100, 0, std::numbers::pi), {37, 1.0, 0.0}, {32, 32, 1, 1});
  const auto parts = ct::split_views(g, 8);
  REQUIRE(parts.size() == 8);
  const index_t expected[8] = {13, 13, 13, 13, 12, 12, 12, 12};
  for (std::size_t p = 0; p < 8; ++p) CHECK(parts[p].views() == expected[p]);

  const auto full = ct::make_projector<float>(exec, g);
  Tensor<float, 2> x(full.domain_shape());
  fill_normal(Serial{}, x.view(), 3, 0, 0.0f, 1.0f);
  Tensor<float, 2> y(full.range_shape());
  full.apply(x.const_view(), y.view());
  Tensor<float, 2> at_y(full.domain_shape()), sum(full.domain_shape());
  full.apply_adjoint(y.const_view(), at_y.view());
  fill(Serial{}, sum.view(), 0.0f);
  index_t row = 0;
  for (const auto& part : parts) {
    const auto A = ct::make_projector<float>(exec, part);
    Tensor<float, 2> yp(A.range_shape()), xp(A.domain_shape());
    A.apply(x.const_view(), yp.view());
    CHECK(std::memcmp(yp.data(), y.data() + row * g.detector_cols, yp.bytes()) == 0);
    A.apply_adjoint(View<const float, 2>(y.data() + row * g.detector_cols, yp.extents()), xp.view());
    axpy(Serial{}, 1.0f, xp.const_view(), sum.view());
    row += part.views();
  }
  CHECK(row == 100);
  double worst = 0, scale = 0;
  for (index_t i = 0; i < sum.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::abs(sum.data()[i] - at_y.data()[i])));
    scale = std::max(scale, static_cast<double>(std::abs(at_y.data()[i])));
  }
  CHECK(worst <= 1e-5 * scale);
  CHECK_THROWS_AS(ct::split_views(g, 101), invalid_argument);
  CHECK_THROWS_AS(ct::split_views(g, 0), invalid_argument);
}

#include <pnpdist/operators/stacked_physics.hpp>

TEST_CASE("StackedPhysics of split CT operators has the gradient of the single operator", "[ct][split]") {
  const Serial exec{};
  const auto g =
      ct::fan_beam_2d(ct::uniform_angles(30, 0, 2 * std::numbers::pi), {41, 1.5, 0.0}, 80.0, 60.0, {24, 28, 1, 1});
  using Op = ct::JosephProjector2D<float, Serial>;
  const Op full(exec, g);
  Tensor<float, 2> truth(full.domain_shape()), x(full.domain_shape());
  fill_normal(exec, truth.view(), 11, 0, 0.0f, 1.0f);
  fill_normal(exec, x.view(), 12, 0, 0.0f, 1.0f);
  Tensor<float, 2> y(full.range_shape()), r(full.range_shape());
  full.apply(truth.const_view(), y.view());
  std::vector<Op> ops;
  std::vector<Tensor<float, 2>> ys;
  index_t row = 0;
  for (const auto& part : ct::split_views(g, 4)) {
    ops.emplace_back(exec, part);
    ys.emplace_back(ops.back().range_shape());
    std::memcpy(ys.back().data(), y.data() + row * g.detector_cols, ys.back().bytes());
    row += part.views();
  }
  const StackedPhysics<Op> physics(std::move(ops), std::move(ys));
  Tensor<float, 2> grad(full.domain_shape()), expected(full.domain_shape());
  physics.gradient(x.const_view(), grad.view());
  full.apply(x.const_view(), r.view());
  axpy(exec, -1.0f, y.const_view(), r.view());
  full.apply_adjoint(r.const_view(), expected.view());
  double worst = 0, scale = 0;
  for (index_t i = 0; i < grad.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::abs(grad.data()[i] - expected.data()[i])));
    scale = std::max(scale, static_cast<double>(std::abs(expected.data()[i])));
  }
  CHECK(worst <= 1e-5 * scale);
  CHECK(physics.data_fidelity(x.const_view()) == Approx(0.5 * std::pow(norm(exec, r.const_view()), 2)).epsilon(1e-5));
}
