// Data-parallel training of learned primal-dual (learned/lpd_training.hpp) on a group of threads
// (ThreadCommunicator): the global batch split over 1, 2 and 3 ranks (evenly and not) gives bitwise the
// weights, losses and evaluations of one process; a checkpoint of a 2-rank run resumes on one rank; a batch
// smaller than the rank count is refused; a run's training samples can start further on (continuation runs).
// The same under mpirun: data_parallel.sh.
#include <catch2/catch.hpp>

#include <pnpdist/learned/lpd_training.hpp>
#include <pnpdist/physics/ct/projector.hpp>

#include "../distributed/thread_communicator.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using namespace pnpdist;
using namespace pnpdist::learned;
using pnpdist::test::make_thread_group;
using pnpdist::test::ThreadCommunicator;

namespace {

LpdConfig small_config() {
  return {.iterations = 2, .primal_memory = 2, .dual_memory = 2, .width = 3, .prelu_init = 0.2, .seed = 7};
}

nn::train::AdamOptions adam_options() { return {.learning_rate = 1e-2, .total_steps = 4}; }

struct RankResult {
  std::vector<float> weights;
  std::vector<double> losses;
  LpdEvaluation validation, single;
};

// Each rank (thread) has a projector of its own, as an MPI rank has: a projector is not shared between threads.
auto make_projector() { return ct::make_projector<float>(Serial{}, ellipse_geometry(16, 6)); }

// Trains `steps` steps with the global batch `batch` on every rank of a group of `ranks` threads; returns each
// rank's weights, step losses and evaluations (3 validation samples, and 1 so that ranks idle).
std::vector<RankResult> train_on_threads(int ranks, index_t batch, int steps) {
  std::vector<RankResult> results(static_cast<std::size_t>(ranks));
  std::vector<ThreadCommunicator> group = make_thread_group(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      const auto projector = make_projector();
      const ProjectorLayer layer(projector, inverse_operator_norm(projector));
      LearnedPrimalDual net(layer, small_config());
      LpdTrainer trainer(Serial{}, net, EllipseDataOptions{}, adam_options(), batch,
                         group[static_cast<std::size_t>(r)]);
      RankResult& out = results[static_cast<std::size_t>(r)];
      for (int t = 0; t < steps; ++t) out.losses.push_back(trainer.step());
      out.validation = trainer.evaluate(DataSplit::validation, 3);
      out.single = trainer.evaluate(DataSplit::validation, 1);
      out.weights = net.parameters().values();
    });
  for (std::thread& t : threads) t.join();
  return results;
}

}  // namespace

TEST_CASE("data parallel: contiguous blocks of the global batch, sizes differing by at most one", "[learned]") {
  CHECK(batch_begin(5, 3, 0) == 0);
  CHECK(batch_begin(5, 3, 1) == 2);
  CHECK(batch_begin(5, 3, 2) == 4);
  CHECK(batch_begin(5, 3, 3) == 5);
  for (int ranks = 1; ranks <= 5; ++ranks)
    for (int r = 0; r < ranks; ++r) CHECK(batch_begin(8, ranks, r + 1) - batch_begin(8, ranks, r) >= 8 / ranks);
  CHECK(batch_begin(8, 4, 2) == 4);
}

TEST_CASE("data parallel: 1, 2 and 3 ranks train bitwise the weights of one process", "[learned]") {
  const auto projector = make_projector();
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  constexpr index_t batch = 3;
  constexpr int steps = 4;
  LearnedPrimalDual reference(layer, small_config());
  LpdTrainer trainer(Serial{}, reference, EllipseDataOptions{}, adam_options(), batch);
  std::vector<double> losses;
  for (int t = 0; t < steps; ++t) losses.push_back(trainer.step());
  const LpdEvaluation validation = trainer.evaluate(DataSplit::validation, 3);
  CHECK(reference.parameters().values() != LearnedPrimalDual(layer, small_config()).parameters().values());
  for (int ranks : {1, 2, 3}) {
    INFO(ranks << " ranks");
    for (const RankResult& rank : train_on_threads(ranks, batch, steps)) {
      CHECK(rank.weights == reference.parameters().values());
      CHECK(rank.losses == losses);
      CHECK(rank.validation.loss == validation.loss);
      CHECK(rank.validation.psnr == validation.psnr);
      CHECK(rank.single.loss == trainer.evaluate(DataSplit::validation, 1).loss);
    }
  }
}

TEST_CASE("data parallel: a checkpoint of a 2-rank run, written by rank 0, resumes on one process", "[learned]") {
  const auto dir = std::filesystem::temp_directory_path() / "pnpdist_test_lpd_data_parallel";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto projector = make_projector();
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  LearnedPrimalDual whole(layer, small_config());
  LpdTrainer uninterrupted(Serial{}, whole, EllipseDataOptions{}, adam_options(), 2);
  for (int t = 0; t < 4; ++t) uninterrupted.step();

  std::vector<ThreadCommunicator> group = make_thread_group(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r)
    threads.emplace_back([&, r] {
      const auto rank_projector = make_projector();
      const ProjectorLayer rank_layer(rank_projector, inverse_operator_norm(rank_projector));
      LearnedPrimalDual net(rank_layer, small_config());
      LpdTrainer trainer(Serial{}, net, EllipseDataOptions{}, adam_options(), 2, group[static_cast<std::size_t>(r)]);
      for (int t = 0; t < 2; ++t) trainer.step();
      trainer.save((dir / ("rank" + std::to_string(r) + ".ckpt")).string(), 0.0);
    });
  for (std::thread& t : threads) t.join();
  CHECK(std::filesystem::exists(dir / "rank0.ckpt"));
  CHECK_FALSE(std::filesystem::exists(dir / "rank1.ckpt"));

  LearnedPrimalDual resumed_net(layer, small_config());
  LpdTrainer resumed(Serial{}, resumed_net, EllipseDataOptions{}, adam_options(), 2);
  resumed.resume((dir / "rank0.ckpt").string());
  CHECK(resumed.steps_done() == 2);
  for (int t = 0; t < 2; ++t) resumed.step();
  CHECK(resumed_net.parameters().values() == whole.parameters().values());
  std::filesystem::remove_all(dir);
}

TEST_CASE("data parallel: a global batch smaller than the rank count is refused", "[learned]") {
  const auto projector = make_projector();
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  LearnedPrimalDual net(layer, small_config());
  const std::vector<ThreadCommunicator> group = make_thread_group(3);
  CHECK_THROWS_WITH(LpdTrainer(Serial{}, net, EllipseDataOptions{}, adam_options(), 2, group[1]),
                    Catch::Contains("global batch (2) is smaller than the number of ranks (3)"));
  LpdTrainer trainer(Serial{}, net, EllipseDataOptions{}, adam_options(), 5, group[2]);
  CHECK(trainer.first_sample() == 4);
  CHECK(trainer.local_batch() == 1);
}

TEST_CASE("a run continuing from given weights can take fresh training samples (set_first_training_sample)",
          "[learned]") {
  const auto projector = make_projector();
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  // The first step's loss is that of the initial weights: the mean over samples 0..2 (batch 3) minus that over
  // samples 0..1 (batch 2) gives sample 2's loss, which a run starting at sample 2 must see first.
  const auto first_loss = [&](index_t batch, std::uint64_t first_sample) {
    LearnedPrimalDual net(layer, small_config());
    LpdTrainer trainer(Serial{}, net, EllipseDataOptions{}, adam_options(), batch);
    trainer.set_first_training_sample(first_sample);
    return trainer.step();
  };
  const double sample2 = 3 * first_loss(3, 0) - 2 * first_loss(2, 0);
  CHECK(first_loss(1, 2) == Approx(sample2).epsilon(1e-5));
  CHECK(first_loss(1, 2) != Approx(first_loss(1, 0)).epsilon(1e-3));  // the samples differ

  LearnedPrimalDual net(layer, small_config());
  LpdTrainer trainer(Serial{}, net, EllipseDataOptions{}, adam_options(), 1);
  const std::uint64_t hash = trainer.options_hash();
  trainer.set_first_training_sample(0);
  CHECK(trainer.options_hash() == hash);  // 0 is the default: hashes of earlier runs are unchanged
  trainer.set_first_training_sample(14000);
  CHECK(trainer.options_hash() != hash);  // a checkpoint of a run on other samples is not resumed
  trainer.step();
  CHECK_THROWS_WITH(trainer.set_first_training_sample(1), Catch::Contains("before the first step"));
}
