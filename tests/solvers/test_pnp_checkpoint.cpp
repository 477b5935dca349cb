// Checkpoints: a PnP run killed by SIGKILL (in a forked child) at any iteration resumes from its last
// checkpoint and ends with the bit-identical iterate and records of an uninterrupted run; corrupt,
// truncated or mismatched checkpoints give errors naming the file and the problem.
#include <catch2/catch.hpp>

#include <pnpdist/solvers/pnp_solver.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

#include "solvers/solver_test_support.hpp"

using namespace pnpdist;

namespace {

struct Problem {
  Tensor<float, 1> truth;
  StackedPhysics<DenseMatrix<float, Serial>> physics;
};

Problem make_problem() {
  Tensor<float, 1> truth(Extents<1>{16});
  fill_normal(Serial{}, truth.view(), 9, 0, 0.0f, 1.0f);
  auto physics = test::dense_stack<float>(Serial{}, 3, 10, 16, truth.const_view(), 4);
  return {std::move(truth), std::move(physics)};
}

PnPOptions checkpoint_options(const std::string& path) {
  PnPOptions o;
  o.max_iterations = 10;
  o.clip = std::pair{-2.0, 2.0};
  o.checkpoint_path = path;
  o.checkpoint_every = 3;
  return o;
}

// The algorithms of the resume test: PGD relaxed (step estimated, then restored), ADMM (extra state u, v),
// HQS (a sigma schedule and CG data steps).
template <class Algorithm>
Algorithm checkpoint_algorithm() {
  Algorithm a;
  if constexpr (std::is_same_v<Algorithm, ProximalGradient>) a.relaxation = 1.5;
  if constexpr (std::is_same_v<Algorithm, ADMM>) a.penalty = 2.0;
  if constexpr (std::is_same_v<Algorithm, HalfQuadraticSplitting>) a.schedule_iterations = 6;
  return a;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("pnpdist_" + std::to_string(::getpid()) + "_" + name)).string();
}

// Runs the solve in a forked child that SIGKILLs itself in the observer of iteration `kill_at`.
template <class Algorithm>
void run_and_kill(const Problem& p, const PnPOptions& options, index_t kill_at) {
  std::fflush(nullptr);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    test::ScalingDenoiser<float, Serial> prior(Serial{}, 0.9f);
    (void)PnPSolver(prior, options, checkpoint_algorithm<Algorithm>())
        .solve(p.physics, init::adjoint, [&](const IterationRecord& r, const auto&) {
          if (r.iteration == kill_at) ::raise(SIGKILL);
        });
    ::_exit(3);  // not reached when kill_at <= max_iterations
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
}

bool same_bits_or_both_nan(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

bool same_bits(const Tensor<float, 1>& a, const Tensor<float, 1>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.bytes()) == 0;
}

}  // namespace

TEMPLATE_TEST_CASE("A PnP run killed at any iteration resumes to the uninterrupted result, bit for bit",
                   "[solvers][pnp][checkpoint]", ProximalGradient, ADMM, HalfQuadraticSplitting) {
  const Problem p = make_problem();
  const std::string path = temp_path(std::string("resume_") + TestType::name + ".ckpt");
  test::ScalingDenoiser<float, Serial> prior(Serial{}, 0.9f);
  PnPOptions plain = checkpoint_options("");
  plain.checkpoint_every = 0;
  const TestType algorithm = checkpoint_algorithm<TestType>();
  const auto reference = PnPSolver(prior, plain, algorithm).solve(p.physics, init::adjoint);
  REQUIRE(reference.iterations == 10);

  for (const index_t kill_at : {2, 3, 4, 7, 10}) {
    std::filesystem::remove(path);
    std::filesystem::remove(previous_checkpoint_path(path));
    run_and_kill<TestType>(p, checkpoint_options(path), kill_at);
    const index_t expected_checkpoint = (kill_at / 3) * 3;  // the observer runs before the checkpoint write
    const index_t last_written = kill_at % 3 == 0 ? kill_at - 3 : expected_checkpoint;
    CHECK(std::filesystem::exists(path) == (last_written > 0));
    const auto resumed = PnPSolver(prior, checkpoint_options(path), algorithm).solve(p.physics, init::adjoint);
    CHECK(resumed.resumed_from == last_written);
    CHECK(resumed.iterations == 10);
    CHECK(same_bits(resumed.x, reference.x));
    REQUIRE(resumed.records.size() == reference.records.size());
    for (std::size_t k = 0; k < resumed.records.size(); ++k) {
      CHECK(resumed.records[k].iteration == static_cast<index_t>(k + 1));
      CHECK(resumed.records[k].data_fidelity == reference.records[k].data_fidelity);
      CHECK(resumed.records[k].relative_change == reference.records[k].relative_change);
      CHECK(resumed.records[k].denoiser_sigma == reference.records[k].denoiser_sigma);
    }
    CHECK(same_bits_or_both_nan(resumed.step, reference.step));
    CHECK(resumed.initial.data_fidelity == reference.initial.data_fidelity);  // restored from the checkpoint
  }
  // A finished run's checkpoint (iteration 9 of 10) resumes and performs only the missing iteration.
  const auto again = PnPSolver(prior, checkpoint_options(path), algorithm).solve(p.physics, init::adjoint);
  CHECK(again.resumed_from == 9);
  CHECK(same_bits(again.x, reference.x));
  std::filesystem::remove(path);
  std::filesystem::remove(previous_checkpoint_path(path));
}

TEST_CASE("Corrupt, truncated or mismatched checkpoints give errors naming the file", "[solvers][pnp][checkpoint]") {
  const Problem p = make_problem();
  const std::string path = temp_path("bad.ckpt");
  test::ScalingDenoiser<float, Serial> prior(Serial{}, 0.9f);
  PnPOptions options = checkpoint_options(path);
  options.max_iterations = 3;
  std::filesystem::remove(path);
  (void)PnPSolver(prior, options, checkpoint_algorithm<ProximalGradient>()).solve(p.physics, init::zeros);
  REQUIRE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  const auto size = std::filesystem::file_size(path);
  std::vector<char> good(size);
  std::ifstream(path, std::ios::binary).read(good.data(), static_cast<std::streamsize>(size));
  const auto write = [&](const std::vector<char>& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  };

  SECTION("other options") {
    ProximalGradient other = checkpoint_algorithm<ProximalGradient>();
    other.sigma = 0.02;
    CHECK_THROWS_AS(PnPSolver(prior, options, other).solve(p.physics, init::zeros), invalid_argument);
    CHECK_THROWS_WITH(PnPSolver(prior, options, other).solve(p.physics, init::zeros),
                      Catch::Contains(path) && Catch::Contains("other options"));
  }
  SECTION("another algorithm") {
    CHECK_THROWS_WITH(PnPSolver(prior, options, ADMM{}).solve(p.physics, init::zeros),
                      Catch::Contains(path) && Catch::Contains("other options"));
  }
  SECTION("a flipped byte") {
    auto bytes = good;
    bytes[bytes.size() / 2] ^= 0x5a;
    write(bytes);
    CHECK_THROWS_AS(PnPSolver(prior, options, checkpoint_algorithm<ProximalGradient>()).solve(p.physics, init::zeros),
                    io_error);
    CHECK_THROWS_WITH(PnPSolver(prior, options, checkpoint_algorithm<ProximalGradient>()).solve(p.physics, init::zeros),
                      Catch::Contains(path) && Catch::Contains("checksum"));
  }
  SECTION("truncated") {
    write(std::vector<char>(good.begin(), good.begin() + 12));
    CHECK_THROWS_WITH(PnPSolver(prior, options, checkpoint_algorithm<ProximalGradient>()).solve(p.physics, init::zeros),
                      Catch::Contains(path) && Catch::Contains("truncated"));
    write(std::vector<char>(good.begin(), good.end() - 5));
    CHECK_THROWS_AS(PnPSolver(prior, options, checkpoint_algorithm<ProximalGradient>()).solve(p.physics, init::zeros),
                    io_error);
  }
  SECTION("not a checkpoint") {
    write(std::vector<char>(40, 'x'));
    CHECK_THROWS_WITH(PnPSolver(prior, options, checkpoint_algorithm<ProximalGradient>()).solve(p.physics, init::zeros),
                      Catch::Contains(path) && Catch::Contains("bad magic"));
  }
  SECTION("another shape") {
    Tensor<float, 1> truth(Extents<1>{15});
    fill(Serial{}, truth.view(), 1.0f);
    const auto physics = test::dense_stack<float>(Serial{}, 3, 10, 15, truth.const_view(), 4);
    CHECK_THROWS_WITH(PnPSolver(prior, options, checkpoint_algorithm<ProximalGradient>()).solve(physics, init::zeros),
                      Catch::Contains(path) && Catch::Contains("shape"));
  }
  std::filesystem::remove(path);
  std::filesystem::remove(previous_checkpoint_path(path));
}
