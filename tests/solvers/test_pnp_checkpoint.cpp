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
#include <limits>
#include <sstream>
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
  SECTION("another problem (checkpoint_fingerprint)") {
    PnPOptions other = options;
    other.checkpoint_fingerprint = "{\"noise\": 0.02}";
    CHECK_THROWS_WITH(PnPSolver(prior, other, checkpoint_algorithm<ProximalGradient>()).solve(p.physics, init::zeros),
                      Catch::Contains(path) && Catch::Contains("for another problem"));
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

TEST_CASE("Checkpoint fields out of their range are io_errors naming the field", "[solvers][checkpoint][bad-input]") {
  const std::string path = temp_path("fields.ckpt");
  Checkpoint good;
  good.iteration = 4;
  good.step = 0.5;
  good.value_size = 4;
  good.extents = {2};
  good.records.resize(2);
  good.records[1].iteration = 4;
  good.data.resize(8);
  write_checkpoint(path, good, false);
  CHECK(read_checkpoint(path).iteration == 4);
  const auto check = [&](const Checkpoint& c, const std::string& expected) {
    write_checkpoint(path, c, false);
    CHECK_THROWS_AS(read_checkpoint(path), io_error);
    CHECK_THROWS_WITH(read_checkpoint(path), Catch::Contains(path) && Catch::Contains(expected));
  };
  Checkpoint c = good;
  c.iteration = -5;
  c.records.resize(1);
  check(c, "invalid iteration -5");
  c = good;
  c.step = std::numeric_limits<double>::infinity();
  check(c, "invalid step inf");
  c = good;
  c.step = -0.5;
  check(c, "invalid step -0.5");
  c = good;
  c.step = std::nan("");  // the step of an algorithm without one
  write_checkpoint(path, c, false);
  CHECK(std::isnan(read_checkpoint(path).step));
  c = good;
  c.elapsed_seconds = -1;
  check(c, "invalid elapsed time");
  c = good;
  c.rank = 2;
  c.ranks = 2;
  check(c, "invalid rank 2 of 2");
  c = good;
  c.ranks = 0;
  check(c, "invalid rank 0 of 0");
  c = good;
  c.value_size = 0;
  check(c, "invalid element size 0");
  c = good;
  c.extents = {-2};
  check(c, "invalid extent -2");
  c = good;
  c.records[1].iteration = 5;
  check(c, "invalid record iteration 5 (the checkpoint is at iteration 4)");
  std::filesystem::remove(path);
}

TEST_CASE("A NaN step is refused for an algorithm that resumes with its step", "[solvers][checkpoint][bad-input]") {
  const Problem p = make_problem();
  const std::string path = temp_path("nan_step.ckpt");
  test::ScalingDenoiser<float, Serial> prior(Serial{}, 0.9f);
  PnPOptions options = checkpoint_options(path);
  options.max_iterations = 3;
  std::filesystem::remove(path);
  (void)PnPSolver(prior, options, checkpoint_algorithm<ProximalGradient>()).solve(p.physics, init::zeros);
  Checkpoint c = read_checkpoint(path);
  REQUIRE(c.step > 0);
  c.step = std::nan("");
  write_checkpoint(path, c, false);
  options.max_iterations = 6;
  const auto solve = [&] {
    (void)PnPSolver(prior, options, checkpoint_algorithm<ProximalGradient>()).solve(p.physics, init::zeros);
  };
  CHECK_THROWS_AS(solve(), io_error);
  CHECK_THROWS_WITH(solve(), Catch::Contains(path) && Catch::Contains("invalid step nan"));
  std::filesystem::remove(path);
}

TEST_CASE("A checkpoint path that is a directory is a clear io_error", "[solvers][checkpoint][bad-input]") {
  const std::string path = temp_path("ckpt_dir");
  std::filesystem::create_directories(path);
  const Problem p = make_problem();
  test::ScalingDenoiser<float, Serial> prior(Serial{}, 0.9f);
  const auto solve = [&] {
    (void)PnPSolver(prior, checkpoint_options(path), checkpoint_algorithm<ProximalGradient>())
        .solve(p.physics, init::zeros);
  };
  CHECK_THROWS_AS(solve(), io_error);
  CHECK_THROWS_WITH(solve(), Catch::Contains(path + " is a directory"));
  CHECK_THROWS_AS(write_checkpoint(path, Checkpoint{}), io_error);
  CHECK_THROWS_WITH(write_checkpoint(path, Checkpoint{}), Catch::Contains("is a directory"));
  std::filesystem::remove_all(path);
}

TEST_CASE("A corrupt latest checkpoint falls back to the previous one with a warning",
          "[solvers][checkpoint][bad-input]") {
  const Problem p = make_problem();
  const std::string path = temp_path("fallback.ckpt");
  const std::string previous = previous_checkpoint_path(path);
  test::ScalingDenoiser<float, Serial> prior(Serial{}, 0.9f);
  PnPOptions options = checkpoint_options(path);
  options.max_iterations = 6;  // checkpoints at 3 (kept as .prev) and 6
  PnPOptions plain = options;
  plain.checkpoint_path.clear();
  plain.checkpoint_every = 0;
  const auto algorithm = checkpoint_algorithm<ProximalGradient>();
  const auto reference = PnPSolver(prior, plain, algorithm).solve(p.physics, init::adjoint);
  std::filesystem::remove(path);
  std::filesystem::remove(previous);
  (void)PnPSolver(prior, options, algorithm).solve(p.physics, init::adjoint);
  REQUIRE(read_checkpoint(path).iteration == 6);
  REQUIRE(read_checkpoint(previous).iteration == 3);
  const auto flip_byte = [](const std::string& file) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(60);
    char b = 0;
    f.read(&b, 1);
    f.seekp(60);
    b = static_cast<char>(b ^ 0x21);
    f.write(&b, 1);
  };
  flip_byte(path);

  std::ostringstream warnings;
  CHECK(read_checkpoint_or_previous(path, warnings).iteration == 3);
  CHECK_THAT(warnings.str(), Catch::Contains("warning") && Catch::Contains(path + ": checksum mismatch") &&
                                 Catch::Contains("resuming from the previous checkpoint " + previous) &&
                                 Catch::Contains("(iteration 3)") && Catch::Contains("kept as " + path + ".corrupt"));
  CHECK_FALSE(std::filesystem::exists(path));
  REQUIRE(std::filesystem::exists(path + ".corrupt"));
  std::filesystem::rename(path + ".corrupt", path);
  // The solve resumes from iteration 3 and ends with the uninterrupted result.
  const auto resumed = PnPSolver(prior, options, algorithm).solve(p.physics, init::adjoint);
  CHECK(resumed.resumed_from == 3);
  CHECK(resumed.iterations == 6);
  CHECK(same_bits(resumed.x, reference.x));
  // The corrupt file was moved aside, so the good iteration-3 checkpoint is still the previous one.
  CHECK(read_checkpoint(previous).iteration == 3);
  CHECK(read_checkpoint(path).iteration == 6);

  // Both unreadable: an io_error naming both problems.
  flip_byte(path);
  flip_byte(previous);
  CHECK_THROWS_AS(read_checkpoint_or_previous(path, warnings), io_error);
  CHECK_THROWS_WITH(read_checkpoint_or_previous(path, warnings),
                    Catch::Contains(path + ": checksum mismatch") && Catch::Contains("cannot be read either") &&
                        Catch::Contains(previous + ": checksum mismatch"));
  std::filesystem::remove(path);
  std::filesystem::remove(previous);
  std::filesystem::remove(path + ".corrupt");
}

TEST_CASE("A checkpoint beyond max_iterations is refused", "[solvers][checkpoint][bad-input]") {
  const Problem p = make_problem();
  const std::string path = temp_path("beyond.ckpt");
  test::ScalingDenoiser<float, Serial> prior(Serial{}, 0.9f);
  PnPOptions options = checkpoint_options(path);
  options.max_iterations = 6;
  std::filesystem::remove(path);
  (void)PnPSolver(prior, options, checkpoint_algorithm<ProximalGradient>()).solve(p.physics, init::zeros);
  options.max_iterations = 4;
  const auto solve = [&] {
    (void)PnPSolver(prior, options, checkpoint_algorithm<ProximalGradient>()).solve(p.physics, init::zeros);
  };
  CHECK_THROWS_AS(solve(), invalid_argument);
  CHECK_THROWS_WITH(solve(), Catch::Contains(path) && Catch::Contains("holds iteration 6, beyond max_iterations 4"));
  options.max_iterations = 6;  // the same bound resumes (and has nothing left to do)
  CHECK(PnPSolver(prior, options, checkpoint_algorithm<ProximalGradient>()).solve(p.physics, init::zeros).iterations ==
        6);
  std::filesystem::remove(path);
  std::filesystem::remove(previous_checkpoint_path(path));
}
