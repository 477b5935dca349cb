// The physics of learned primal-dual (learned/sinogram_operator.hpp): a StackedPhysics of view blocks of a 2D
// Joseph projector (parallel and fan beam) as one operator from images to whole sinograms. Its projection
// is the projector's bit for bit, its adjoint the projector's to round-off; the LPD built on it gives the
// single projector's output, gradients and training losses to round-off; the whole network's backward
// through the stack (explicit matrices per block) equals central finite differences; blocks of different
// detector widths are refused.
#include <catch2/catch.hpp>

#include <pnpdist/learned/lpd_training.hpp>
#include <pnpdist/learned/sinogram_operator.hpp>
#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/physics/ct/projector.hpp>
#include <pnpdist/physics/ct/split_views.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "lpd_test_support.hpp"

using namespace pnpdist;
using namespace pnpdist::learned;
using namespace lpd_test;

namespace {

// The Joseph projectors of `parts` contiguous view blocks of `geometry`, as a StackedPhysics.
template <class T>
auto view_blocks(const ct::Geometry2D& geometry, index_t parts) {
  std::vector<decltype(ct::make_projector<T>(Serial{}, geometry))> blocks;
  for (const ct::Geometry2D& part : ct::split_views(geometry, parts)) blocks.push_back(ct::make_projector<T>(Serial{}, part));
  return StackedPhysics(std::move(blocks));
}

// max |a - b| / max |b|.
template <class T>
double relative_difference(const std::vector<T>& a, const std::vector<T>& b) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  return diff / scale;
}

ct::Geometry2D beam_geometry(bool fan) {
  return fan ? ellipse_geometry(16, 7, ct::Beam::divergent) : ellipse_geometry(16, 7);
}

}  // namespace

TEST_CASE("sinogram operator: view blocks stacked project bit for bit, back-project to round-off", "[learned]") {
  const bool fan = GENERATE(false, true);
  INFO((fan ? "fan beam" : "parallel beam"));
  const ct::Geometry2D geometry = beam_geometry(fan);
  const auto projector = ct::make_projector<float>(Serial{}, geometry);
  const auto stack = view_blocks<float>(geometry, 3);  // 3, 2, 2 views
  const double scale = inverse_operator_norm(projector);
  const ProjectorLayer single(projector, scale);
  const ProjectorLayer stacked(stack, scale);
  REQUIRE(stacked.image_shape() == single.image_shape());
  REQUIRE(stacked.sinogram_shape() == single.sinogram_shape());
  const index_t batch = 2;
  const auto x = random_vector<float>(batch * single.image_size(), 1);
  const auto y = random_vector<float>(batch * single.sinogram_size(), 2);
  std::vector<float> ys(y.size()), yb(y.size()), xs(x.size()), xb(x.size());
  single.forward(batch, x.data(), ys.data());
  stacked.forward(batch, x.data(), yb.data());
  CHECK(yb == ys);
  single.adjoint(batch, y.data(), xs.data());
  stacked.adjoint(batch, y.data(), xb.data());
  const double adjoint_difference = relative_difference(xb, xs);
  CHECK(adjoint_difference < 1e-6);
  // The stack's own dot-product test: <A x, y> = <x, A^T y>.
  CHECK(dot(yb, y) == Approx(dot(x, xb)).epsilon(1e-5));
  // Its norm is the projector's.
  CHECK(inverse_operator_norm(stack) == Approx(scale).epsilon(1e-4));
}

TEST_CASE("sinogram operator: LPD through stacked view blocks gives the single projector's output and gradients",
          "[learned]") {
  const bool fan = GENERATE(false, true);
  INFO((fan ? "fan beam" : "parallel beam"));
  const ct::Geometry2D geometry = beam_geometry(fan);
  const auto projector = ct::make_projector<float>(Serial{}, geometry);
  const auto stack = view_blocks<float>(geometry, 3);
  const double scale = inverse_operator_norm(projector);
  const ProjectorLayer single_layer(projector, scale);
  const ProjectorLayer stacked_layer(stack, scale);
  LearnedPrimalDual single(single_layer, tiny_config());
  LearnedPrimalDual stacked(stacked_layer, tiny_config());
  const auto weights = random_vector<float>(single.parameters().size(), 4);
  single.parameters().values() = weights;
  stacked.parameters().values() = weights;
  const index_t batch = 2;
  const auto g = random_vector<float>(batch * single_layer.sinogram_size(), 5);
  const auto c = random_vector<float>(batch * single_layer.image_size(), 6);
  std::vector<float> out_single(c.size()), out_stacked(c.size());
  single.forward(Serial{}, batch, g.data(), out_single.data());
  stacked.forward(Serial{}, batch, g.data(), out_stacked.data());
  const double output_difference = relative_difference(out_stacked, out_single);
  CHECK(output_difference < 1e-5);
  single.parameters().zero_gradients();
  stacked.parameters().zero_gradients();
  single.backward(Serial{}, c.data());
  stacked.backward(Serial{}, c.data());
  const double gradient_difference = relative_difference(stacked.parameters().gradients(), single.parameters().gradients());
  CHECK(gradient_difference < 1e-5);
}

TEST_CASE("sinogram operator: LPD backward through stacked view blocks equals finite differences", "[learned]") {
  const bool fan = GENERATE(false, true);
  INFO((fan ? "fan beam" : "parallel beam"));
  const ct::Geometry2D geometry = fan ? ellipse_geometry(12, 4, ct::Beam::divergent) : ellipse_geometry(16, 5);
  std::vector<ExplicitProjector> blocks;
  for (const ct::Geometry2D& part : ct::split_views(geometry, 2)) blocks.emplace_back(part);
  const StackedPhysics stack(std::move(blocks));
  check_lpd_gradient_through(stack, geometry);
}

TEST_CASE("sinogram operator: training through stacked view blocks follows the single projector's", "[learned]") {
  const ct::Geometry2D geometry = ellipse_geometry(16, 6);
  const auto projector = ct::make_projector<float>(Serial{}, geometry);
  const auto stack = view_blocks<float>(geometry, 2);
  const double scale = inverse_operator_norm(projector);
  const ProjectorLayer single_layer(projector, scale);
  const ProjectorLayer stacked_layer(stack, scale);
  LearnedPrimalDual single(single_layer, tiny_config());
  LearnedPrimalDual stacked(stacked_layer, tiny_config());
  const nn::train::AdamOptions adam{.learning_rate = 1e-2, .total_steps = 3};
  LpdTrainer single_trainer(Serial{}, single, EllipseDataOptions{}, adam, 2);
  LpdTrainer stacked_trainer(Serial{}, stacked, EllipseDataOptions{}, adam, 2);
  for (int t = 0; t < 3; ++t) CHECK(stacked_trainer.step() == Approx(single_trainer.step()).epsilon(1e-4));
  CHECK(relative_difference(stacked.parameters().values(), single.parameters().values()) < 1e-4);
  CHECK(stacked_trainer.evaluate(DataSplit::validation, 2).psnr ==
        Approx(single_trainer.evaluate(DataSplit::validation, 2).psnr).epsilon(1e-4));
}

TEST_CASE("sinogram operator: view blocks of different detector widths are refused", "[learned]") {
  std::vector<ExplicitProjector> blocks;
  blocks.emplace_back(Extents<2>{3, 3}, Extents<2>{2, 5}, Tensor<double, 2>(Extents<2>{10, 9}));
  blocks.emplace_back(Extents<2>{3, 3}, Extents<2>{3, 4}, Tensor<double, 2>(Extents<2>{12, 9}));
  const StackedPhysics stack(std::move(blocks));
  CHECK_THROWS_WITH(ProjectorLayer(stack, 1.0), Catch::Contains("operator 1 has sinograms of shape") &&
                                                    Catch::Contains("the same number of detector columns"));
}
