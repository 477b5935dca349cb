// Learned primal-dual on the distributed physics (learned/distributed_sinogram.hpp): view blocks of a 2D
// Joseph projector (parallel and fan beam) dealt round robin to the ranks of the test communicator
// (tests/distributed/test_world.hpp: one process, or MPI_COMM_WORLD under mpirun -np 1, 2, 3). The
// projection is the single projector's bit for bit on every rank, the back-projection and the LPD output
// (forward) and gradients are those of the whole stack on one process (what one rank computes) to round-off,
// bit for bit on one rank, and the same on every rank.
#include <catch2/catch.hpp>

#include <pnpdist/distributed/dealing.hpp>
#include <pnpdist/distributed/distributed_physics.hpp>
#include <pnpdist/learned/distributed_sinogram.hpp>
#include <pnpdist/learned/ellipse_data.hpp>
#include <pnpdist/learned/lpd.hpp>
#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/physics/ct/projector.hpp>
#include <pnpdist/physics/ct/split_views.hpp>

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "../distributed/test_world.hpp"
#include "lpd_test_support.hpp"
#include "support/relative_difference.hpp"

using namespace pnpdist;
using namespace pnpdist::learned;
using namespace lpd_test;

namespace {

constexpr index_t blocks = 4;  // 7 views: 2, 2, 2, 1

using Projector = decltype(ct::make_projector<float>(Serial{}, ct::Geometry2D{}));

// The projectors of the view blocks `indices` of `geometry` as a StackedPhysics.
StackedPhysics<Projector> block_stack(const ct::Geometry2D& geometry, std::span<const index_t> indices) {
  const std::vector<ct::Geometry2D> parts = ct::split_views(geometry, blocks);
  std::vector<Projector> ops;
  for (const index_t i : indices) ops.push_back(ct::make_projector<float>(Serial{}, parts[static_cast<std::size_t>(i)]));
  return StackedPhysics<Projector>(std::move(ops));
}

auto distributed_blocks(const ct::Geometry2D& geometry) {
  return distribute_physics(blocks, test::world(), Dealing::round_robin(),
                            [&](std::span<const index_t> mine) { return block_stack(geometry, mine); });
}

// Rank 0's copy of `v` equals every rank's (bit for bit, by broadcast and comparison).
void check_same_on_every_rank(std::vector<float> v) {
  std::vector<float> root = v;
  test::world().broadcast(View<float, 1, HostSpace>(root.data(), Extents<1>{static_cast<index_t>(root.size())}), 0);
  CHECK(root == v);
}

ct::Geometry2D beam_geometry(bool fan) {
  return fan ? ellipse_geometry(16, 7, ct::Beam::divergent) : ellipse_geometry(16, 7);
}

}  // namespace

TEST_CASE("distributed sinogram: the single projector's projection bit for bit, its adjoint to round-off",
          "[learned][distributed]") {
  const bool fan = GENERATE(false, true);
  INFO((fan ? "fan beam" : "parallel beam"));
  const ct::Geometry2D geometry = beam_geometry(fan);
  const auto projector = ct::make_projector<float>(Serial{}, geometry);
  const std::vector<index_t> all = {0, 1, 2, 3};
  const auto whole = block_stack(geometry, all);  // what one rank holds
  const auto physics = distributed_blocks(geometry);
  const double scale = inverse_operator_norm(projector);
  const ProjectorLayer single(projector, scale);
  const ProjectorLayer local(whole, scale);
  const ProjectorLayer distributed(physics, scale);
  REQUIRE(distributed.sinogram_shape() == single.sinogram_shape());
  const index_t batch = 2;
  const auto x = random_vector<float>(batch * single.image_size(), 1);
  const auto y = random_vector<float>(batch * single.sinogram_size(), 2);
  std::vector<float> ys(y.size()), yd(y.size()), xl(x.size()), xd(x.size());
  single.forward(batch, x.data(), ys.data());
  distributed.forward(batch, x.data(), yd.data());
  CHECK(yd == ys);
  local.adjoint(batch, y.data(), xl.data());
  distributed.adjoint(batch, y.data(), xd.data());
  if (test::world().size() == 1) CHECK(xd == xl);
  CHECK(test::relative_max_difference(xd, xl) < 1e-6);
  check_same_on_every_rank(xd);
  // Collective power method: the norm of the whole stack.
  CHECK(inverse_operator_norm(physics) == Approx(scale).epsilon(1e-4));
}

TEST_CASE("distributed sinogram: LPD output and gradients of one rank to round-off", "[learned][distributed]") {
  const bool fan = GENERATE(false, true);
  INFO((fan ? "fan beam" : "parallel beam"));
  const ct::Geometry2D geometry = beam_geometry(fan);
  const std::vector<index_t> all = {0, 1, 2, 3};
  const auto whole = block_stack(geometry, all);
  const auto physics = distributed_blocks(geometry);
  const double scale = inverse_operator_norm(whole);
  const ProjectorLayer local_layer(whole, scale);
  const ProjectorLayer distributed_layer(physics, scale);
  LearnedPrimalDual local(local_layer, tiny_config());
  LearnedPrimalDual distributed(distributed_layer, tiny_config());
  const auto weights = random_vector<float>(local.parameters().size(), 4);
  local.parameters().values() = weights;
  distributed.parameters().values() = weights;
  const index_t batch = 2;
  const auto g = random_vector<float>(batch * local_layer.sinogram_size(), 5);
  const auto c = random_vector<float>(batch * local_layer.image_size(), 6);
  std::vector<float> out_local(c.size()), out_distributed(c.size());
  local.forward(Serial{}, batch, g.data(), out_local.data());
  distributed.forward(Serial{}, batch, g.data(), out_distributed.data());
  if (test::world().size() == 1) CHECK(out_distributed == out_local);
  CHECK(test::relative_max_difference(out_distributed, out_local) < 1e-5);
  check_same_on_every_rank(out_distributed);
  local.parameters().zero_gradients();
  distributed.parameters().zero_gradients();
  local.backward(Serial{}, c.data());
  distributed.backward(Serial{}, c.data());
  CHECK(test::relative_max_difference(distributed.parameters().gradients(), local.parameters().gradients()) < 1e-5);
  check_same_on_every_rank(distributed.parameters().gradients());
}
