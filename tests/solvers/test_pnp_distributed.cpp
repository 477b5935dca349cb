// PnP with DistributedPhysics (operators dealt to the ranks) and DistributedDenoiser (tiles dealt to the
// ranks) gives the iterates of the single-process run (StackedPhysics of all operators, TiledDenoiser with
// the same tiles) to within float round-off of the gradient's sum over operators: max |x_P - x_1| <= 1e-4
// max |x_1| after 10 iterations (measured differences are a few ulps). Built twice: one process
// (SelfCommunicator, label unit) and under mpirun -np 1, 2, 3 (MpiCommunicator, label mpi). Also: the
// distributed run checkpoints one file per rank and resumes to the bit-identical iterate, also when the ranks'
// files are one checkpoint period apart (a job killed between two ranks' renames).
#include <catch2/catch.hpp>

#include <pnpdist/distributed/distributed_denoiser.hpp>
#include <pnpdist/distributed/distributed_physics.hpp>
#include <pnpdist/priors/tv_denoiser.hpp>
#include <pnpdist/solvers/pnp_solver.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>

#include "distributed/test_world.hpp"
#include "solvers/pnp_problems.hpp"

using namespace pnpdist;

namespace {

constexpr index_t n = 40, angles = 30, operators = 4;

ct::Geometry2D geometry() {
  return ct::parallel_beam_2d(ct::uniform_angles(angles, 0, std::numbers::pi), {n + n / 2, 1.0, 0.0}, {n, n, 1, 1});
}

Tensor<float, 2> truth() {
  const ct::VolumeGeometry2D image{n, n, 1, 1};
  return phantom::rasterize<float>(Serial{}, phantom::shepp_logan_2d(), image, phantom::fitted_scale(image), 2);
}

// The local physics of the operators `mine` (global indices), measurements with noise stream = global index.
StackedPhysics<ct::JosephProjector2D<float, Serial>> local_physics(std::span<const index_t> mine,
                                                                   const Tensor<float, 2>& x) {
  const auto parts = ct::split_views(geometry(), operators);
  std::vector<ct::JosephProjector2D<float, Serial>> ops;
  MeasurementSimulation sim{.noise_sigma = 1.0, .seed = 5};
  for (const index_t i : mine) {
    ops.push_back(ct::make_projector<float>(Serial{}, parts[static_cast<std::size_t>(i)]));
    sim.streams.push_back(static_cast<std::uint64_t>(i));
  }
  StackedPhysics<ct::JosephProjector2D<float, Serial>> physics(std::move(ops));
  physics.simulate(x.const_view(), sim);
  return physics;
}

PnPOptions options() {
  PnPOptions o;
  o.max_iterations = 10;
  o.clip = std::pair{0.0, 1e30};
  return o;
}

ProximalGradient pgd() {
  ProximalGradient a;
  a.sigma = 0.004;
  a.relaxation = 100.0;
  return a;
}

}  // namespace

TEST_CASE("Distributed PnP gives the iterates of one process", "[solvers][pnp][distributed][mpi]") {
  const auto comm = test::world();
  const auto x_true = truth();
  const std::vector<index_t> all = {0, 1, 2, 3};
  const auto single_physics = local_physics(all, x_true);
  TiledDenoiser<TVDenoiser<float, 4, Serial>> single_prior(TVDenoiser<float, 4, Serial>(Serial{}, 30),
                                                           PatchTiler<2>(16, 4), 0);
  const auto reference = PnPSolver(single_prior, options(), pgd()).solve(single_physics, init::adjoint);

  const auto physics = distribute_physics(operators, comm, Dealing::round_robin(),
                                          [&](std::span<const index_t> mine) { return local_physics(mine, x_true); });
  auto prior = distribute_denoiser(TVDenoiser<float, 4, Serial>(Serial{}, 30), PatchTiler<2>(16, 4), comm, 2);
  const auto result =
      PnPSolver(prior, options(), pgd()).solve(physics, init::adjoint, observe::ground_truth(x_true, 1.0));
  REQUIRE(result.iterations == 10);
  CHECK(result.step == Approx(reference.step).epsilon(1e-5));
  double scale = 0, diff = 0;
  for (index_t e = 0; e < result.x.size(); ++e) {
    scale = std::max(scale, std::abs(double(reference.x.data()[e])));
    diff = std::max(diff, std::abs(double(result.x.data()[e]) - double(reference.x.data()[e])));
  }
  INFO("ranks " << comm.size() << ": max difference " << diff << " of max " << scale);
  CHECK(diff <= 1e-4 * scale);
  for (std::size_t k = 0; k < result.records.size(); ++k)
    CHECK(result.records[k].data_fidelity == Approx(reference.records[k].data_fidelity).epsilon(1e-4));
  // PSNR improves over the iterations (A^T y is badly scaled; PnP fixes it).
  CHECK(result.records.back().psnr > result.initial.psnr + 5);
  if (comm.size() == 1) CHECK(std::memcmp(result.x.data(), reference.x.data(), reference.x.bytes()) == 0);
}

TEST_CASE("Distributed HQS and ADMM (conjugate-gradient data steps) give the iterates of one process",
          "[solvers][pnp][distributed][mpi]") {
  const auto comm = test::world();
  const auto x_true = truth();
  const std::vector<index_t> all = {0, 1, 2, 3};
  const auto single_physics = local_physics(all, x_true);
  const auto physics = distribute_physics(operators, comm, Dealing::round_robin(),
                                          [&](std::span<const index_t> mine) { return local_physics(mine, x_true); });
  HalfQuadraticSplitting hqs;
  hqs.sigma_start = 0.05;
  hqs.sigma_end = 0.004;
  hqs.schedule_iterations = 6;
  hqs.noise_level = 1.0;
  hqs.data_weight = 1.0;
  // Well-conditioned data steps (large weights, from zeros) and CG run to a tight tolerance: they are then
  // solved to round-off on P ranks as on one. (A loose tolerance may end CG an iteration earlier on P ranks
  // than on one, and float CG on an ill-conditioned step amplifies the sum's round-off: both differences are
  // well above round-off without being errors.)
  hqs.data_step = {.max_iterations = 60, .tolerance = 1e-6};
  ADMM admm;
  admm.sigma = 0.004;
  admm.penalty = 100.0;
  admm.data_step = hqs.data_step;
  const auto compare = [&](const auto& algorithm) {
    TiledDenoiser<TVDenoiser<float, 4, Serial>> single_prior(TVDenoiser<float, 4, Serial>(Serial{}, 30),
                                                             PatchTiler<2>(16, 4), 0);
    const auto reference = PnPSolver(single_prior, options(), algorithm).solve(single_physics, init::zeros);
    auto prior = distribute_denoiser(TVDenoiser<float, 4, Serial>(Serial{}, 30), PatchTiler<2>(16, 4), comm, 2);
    const auto result = PnPSolver(prior, options(), algorithm).solve(physics, init::zeros);
    REQUIRE(result.records.size() == reference.records.size());
    double scale = 0, diff = 0;
    for (index_t e = 0; e < result.x.size(); ++e) {
      scale = std::max(scale, std::abs(double(reference.x.data()[e])));
      diff = std::max(diff, std::abs(double(result.x.data()[e]) - double(reference.x.data()[e])));
    }
    INFO(algorithm.name << ", ranks " << comm.size() << ": max difference " << diff << " of max " << scale);
    CHECK(diff <= 1e-4 * scale);
    for (std::size_t k = 0; k < result.records.size(); ++k) {
      CHECK(result.records[k].data_step_iterations > 0);
      CHECK(result.records[k].data_step_iterations < 60);  // converged
    }
  };
  compare(hqs);
  compare(admm);
}

TEST_CASE("Distributed PnP checkpoints one file per rank and resumes bit for bit", "[solvers][pnp][distributed][mpi]") {
  const auto comm = test::world();
  const auto x_true = truth();
  const auto physics = distribute_physics(operators, comm, Dealing::round_robin(),
                                          [&](std::span<const index_t> mine) { return local_physics(mine, x_true); });
  auto prior = distribute_denoiser(TVDenoiser<float, 4, Serial>(Serial{}, 30), PatchTiler<2>(16, 4), comm, 0);
  const auto uninterrupted = PnPSolver(prior, options(), pgd()).solve(physics, init::adjoint);

  // Rank 0 chooses the path; every rank learns it through a broadcast of its length-independent hash.
  const std::string path =
      (std::filesystem::temp_directory_path() / "pnpdist_distributed_checkpoint").string() +
      std::to_string(static_cast<long>(comm.allreduce_sum(comm.rank() == 0 ? double(::getpid()) : 0.0)));
  PnPOptions first = options();
  first.max_iterations = 6;
  first.checkpoint_path = path;
  first.checkpoint_every = 3;
  PnPSolver solver(prior, first, pgd());
  const std::string mine = solver.checkpoint_file(comm.rank(), comm.size());
  std::filesystem::remove(mine);
  comm.barrier();
  (void)solver.solve(physics, init::adjoint);
  CHECK(std::filesystem::exists(mine));
  CHECK(mine == (comm.size() > 1 ? path + ".rank" + std::to_string(comm.rank()) : path));
  PnPOptions rest = first;
  rest.max_iterations = 10;
  const auto resumed = PnPSolver(prior, rest, pgd()).solve(physics, init::adjoint);
  CHECK(resumed.resumed_from == 6);
  CHECK(resumed.records.size() == 10);
  CHECK(std::memcmp(resumed.x.data(), uninterrupted.x.data(), uninterrupted.x.bytes()) == 0);

  if (comm.size() > 1) {
    // Rank 0 killed before renaming its iteration-6 checkpoint: it holds iteration 3, the others 6 (and 3
    // as their previous checkpoint). Every rank goes back to iteration 3.
    comm.barrier();
    std::filesystem::remove(mine);
    std::filesystem::remove(previous_checkpoint_path(mine));
    comm.barrier();
    (void)PnPSolver(prior, first, pgd()).solve(physics, init::adjoint);
    REQUIRE(std::filesystem::exists(previous_checkpoint_path(mine)));
    if (comm.rank() == 0)
      std::filesystem::copy_file(previous_checkpoint_path(mine), mine,
                                 std::filesystem::copy_options::overwrite_existing);
    comm.barrier();
    const auto back = PnPSolver(prior, rest, pgd()).solve(physics, init::adjoint);
    CHECK(back.resumed_from == 3);
    CHECK(back.records.size() == 10);
    CHECK(std::memcmp(back.x.data(), uninterrupted.x.data(), uninterrupted.x.bytes()) == 0);
  }
  comm.barrier();
  std::filesystem::remove(mine);
  std::filesystem::remove(previous_checkpoint_path(mine));
}
