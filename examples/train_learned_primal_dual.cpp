// train_learned_primal_dual: trains Adler & Oktem's learned primal-dual (include/pnpdist/learned/) on random
// ellipse phantoms, natively on the CPU (docs/learned.md). Progress lines give the training loss and, every
// --validate-every steps, the loss and PSNR on held-out validation phantoms. With --checkpoint the run saves
// its state atomically every --checkpoint-every steps and resumes from it when started again with the same
// options. At the end it writes --output (safetensors) and, with --test N, compares the network with FBP on
// N test phantoms (a split that training and validation never draw from). The weights' safetensors metadata
// record the network's initial primal (--initial-primal), the training geometry and the noise level, which
// tomography_2d --method lpd checks. --initial-weights continues from trained weights with a new schedule (a
// longer training over several runs): the file must be for the same network and geometry; it joins the
// checkpoint's options hash, and its path is recorded in the new weights' metadata.
//
// Under mpirun the global batch of every step is split over the ranks (data parallelism): each rank computes
// the gradients of its block of samples, the per-sample gradients are gathered and summed in sample order on
// every rank, so 1, 2, 4, ... ranks write bitwise the same weights (learned/lpd_training.hpp). With
// --view-blocks K the physics is distributed instead: the views are split into K blocks dealt round robin to
// the ranks (learned/distributed_sinogram.hpp), every rank runs the network on the whole batch and projects
// only its own blocks, so a rank holds 1/ranks of the projector (the weights equal the one-process run's to
// round-off: the back projections are summed over the ranks). --physics-ranks P with --view-blocks K combines
// the two: the world splits into size / P groups of P consecutive ranks, the K blocks are dealt over each
// group, and the groups split the global batch as ranks do in the data-parallel run (the per-sample gradients
// gathered over the ranks of the same place in every group). Rank 0 prints the progress lines and writes the
// checkpoint and the weights.
#include <pnpdist/distributed/dealing.hpp>
#include <pnpdist/distributed/distributed_physics.hpp>
#include <pnpdist/learned/distributed_sinogram.hpp>
#include <pnpdist/learned/fbp_start.hpp>
#include <pnpdist/learned/lpd_training.hpp>
#include <pnpdist/learned/lpd_weights_info.hpp>
#include <pnpdist/learned/training_geometry.hpp>
#include <pnpdist/nn/train/conv3_onednn.hpp>
#include <pnpdist/physics/ct/fbp.hpp>
#include <pnpdist/physics/ct/projector.hpp>
#include <pnpdist/physics/ct/split_views.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "example_options.hpp"
#include "run_example.hpp"

namespace {

using pnpdist::index_t;
namespace ct = pnpdist::ct;
namespace learned = pnpdist::learned;

#if defined(PNPDIST_HAS_OPENMP)
using Exec = pnpdist::OpenMP;
#else
using Exec = pnpdist::Serial;
#endif

// One line per rank (collective, rank 0 prints): the samples of every global batch its trainer computes
// (gathered from the trainers: first, count) and, with --view-blocks, its group (when there are several
// groups of `physics_ranks` ranks) and view blocks.
template <class Comm>
void print_rank_layout(const Comm& world, index_t batch, index_t view_blocks, int physics_ranks, index_t first,
                       index_t count) {
  std::vector<double> mine{static_cast<double>(first), static_cast<double>(count)};
  std::vector<double> all(2 * static_cast<std::size_t>(world.size()));
  const std::vector<index_t> counts(static_cast<std::size_t>(world.size()), 2);
  world.allgatherv(pnpdist::View<const double, 1, pnpdist::HostSpace>(mine.data(), pnpdist::Extents<1>{2}),
                   pnpdist::View<double, 1, pnpdist::HostSpace>(all.data(), pnpdist::Extents<1>{2 * world.size()}),
                   counts);
  if (world.rank() != 0) return;
  const int ranks = world.size(), groups = view_blocks > 0 ? ranks / physics_ranks : ranks;
  std::printf("ranks: %d, global batch %lld", ranks, static_cast<long long>(batch));
  if (view_blocks > 0) std::printf(", groups: %d of %d ranks sharing a projector", groups, physics_ranks);
  std::printf("\n");
  // The blocks of a group's ranks (unused without --view-blocks).
  const pnpdist::Assignment assignment =
      pnpdist::Dealing::round_robin().deal(view_blocks > 0 ? view_blocks : physics_ranks, physics_ranks);
  for (int r = 0; r < ranks; ++r) {
    const auto begin = static_cast<long long>(all[2 * static_cast<std::size_t>(r)]);
    const auto samples = static_cast<long long>(all[2 * static_cast<std::size_t>(r) + 1]);
    std::printf("  rank %d: ", r);
    if (view_blocks > 0 && groups > 1) std::printf("group %d, ", r / physics_ranks);
    if (begin == 0 && samples == batch)
      std::printf("every sample of each batch");
    else
      std::printf("samples %lld..%lld of each batch", begin, begin + samples - 1);
    if (view_blocks > 0) {
      std::printf(", view blocks");
      for (const index_t b : assignment.items_of(r % physics_ranks)) std::printf(" %lld", static_cast<long long>(b));
      std::printf(" of %lld", static_cast<long long>(view_blocks));
    }
    std::printf("\n");
  }
}

// Rank 0 prints every rank's mean seconds per step: computing its samples, exchanging the gradients (gather,
// ordered sum, Adam) and the process CPU time of the whole step (below the wall time when the rank waited for
// a core or for the other ranks).
template <class Comm>
void print_rank_timing(const Comm& world, double compute, double exchange, double cpu, index_t steps) {
  const double n = static_cast<double>(steps);
  std::vector<double> mine{compute / n, exchange / n, cpu / n};
  std::vector<double> all(3 * static_cast<std::size_t>(world.size()));
  const std::vector<index_t> counts(static_cast<std::size_t>(world.size()), 3);
  world.allgatherv(pnpdist::View<const double, 1, pnpdist::HostSpace>(mine.data(), pnpdist::Extents<1>{3}),
                   pnpdist::View<double, 1, pnpdist::HostSpace>(all.data(), pnpdist::Extents<1>{3 * world.size()}),
                   counts);
  if (world.rank() != 0) return;
  for (int r = 0; r < world.size(); ++r) {
    const double* t = all.data() + 3 * static_cast<std::size_t>(r);
    std::printf("rank %d: compute %.4f s/step  exchange %.4f s/step  cpu %.4f s/step\n", r, t[0], t[1], t[2]);
  }
}

// Every rank trains a copy of the same network: refuses (on every rank) weights that differ between ranks, by
// the ranks' fingerprints of their parameters (collective).
template <class Comm>
void require_same_weights(const Comm& world, std::uint64_t fingerprint, index_t step) {
  std::vector<std::int64_t> mine{static_cast<std::int64_t>(fingerprint)};
  std::vector<std::int64_t> all(static_cast<std::size_t>(world.size()));
  const std::vector<index_t> counts(static_cast<std::size_t>(world.size()), 1);
  world.allgatherv(pnpdist::View<const std::int64_t, 1, pnpdist::HostSpace>(mine.data(), pnpdist::Extents<1>{1}),
                   pnpdist::View<std::int64_t, 1, pnpdist::HostSpace>(all.data(), pnpdist::Extents<1>{world.size()}),
                   counts);
  for (int r = 1; r < world.size(); ++r)
    pnpdist::require(all[static_cast<std::size_t>(r)] == all[0], [&] {
      return "after step " + std::to_string(step) + " the weights of rank " + std::to_string(r) +
             " differ from rank 0's";
    });
}

// Loads --initial-weights into `net` after checking that the file was trained for the same network (steps,
// memories, width, initial primal) and geometry as this run: a mismatch is refused naming both (exit 2).
template <class Net>
void load_initial_weights(const std::string& path, const learned::LpdConfig& config, const ct::Geometry2D& geometry,
                          Net& net) {
  const std::string what = "--initial-weights " + path;
  const learned::LpdWeightsInfo info = learned::read_lpd_weights_info(path, what);
  const auto describe = [](const learned::LpdConfig& c) {
    return std::to_string(c.iterations) + " steps, memories " + std::to_string(c.primal_memory) + "/" +
           std::to_string(c.dual_memory) + ", width " + std::to_string(c.width) + ", initial primal " +
           learned::to_string(c.initial_primal);
  };
  const learned::LpdConfig& c = info.config;
  pnpdist::require(c.iterations == config.iterations && c.primal_memory == config.primal_memory &&
                       c.dual_memory == config.dual_memory && c.width == config.width &&
                       c.initial_primal == config.initial_primal,
                   [&] { return what + ": the file holds a network of " + describe(c) + ", this run trains one of " +
                                describe(config) + " (set --iterations, --primal-memory, --dual-memory, --width and "
                                "--initial-primal as the file was trained)"; });
  pnpdist::require(learned::same_geometry(info.training_geometry, geometry), [&] {
    return what + ": trained for " + learned::describe_geometry(info.training_geometry) + ", this run's geometry is " +
           learned::describe_geometry(geometry);
  });
  net.load(path);
}

// Mean PSNR of the network and of FBP (Ram-Lak, of the unscaled data) over test samples 0 .. count-1.
// Collective when the network's projections are (--view-blocks); rank 0 prints.
template <class Op>
void report_test(const Exec& exec, learned::LearnedPrimalDual<Op>& net, const learned::EllipseDataOptions& data,
                 const ct::Geometry2D& geometry, index_t count, bool root) {
  const auto& layer = net.projector();
  std::vector<float> truth(static_cast<std::size_t>(layer.image_size())), out(truth.size());
  std::vector<float> g(static_cast<std::size_t>(layer.sinogram_size()));
  pnpdist::Tensor<float, 2> image(layer.image_shape()), sinogram(layer.sinogram_shape());
  double lpd = 0, fbp = 0;
  for (index_t k = 0; k < count; ++k) {
    learned::ellipse_sample(exec, layer, data, learned::DataSplit::test, static_cast<std::uint64_t>(k), truth.data(),
                            g.data());
    net.forward(exec, 1, g.data(), out.data());
    lpd += learned::range_psnr<float>(layer.image_size(), out.data(), truth.data());
    for (index_t i = 0; i < sinogram.size(); ++i) sinogram.data()[i] = g[static_cast<std::size_t>(i)] / layer.scale();
    ct::fbp<float>(exec, geometry, sinogram.const_view(), image.view());
    fbp += learned::range_psnr<float>(layer.image_size(), image.data(), truth.data());
  }
  if (root)
    std::printf("test: %lld phantoms  LPD PSNR %.2f dB  FBP PSNR %.2f dB\n", static_cast<long long>(count),
                lpd / static_cast<double>(count), fbp / static_cast<double>(count));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pnpdist_examples;
  learned::LpdConfig config;
  learned::EllipseDataOptions data;
  pnpdist::nn::train::AdamOptions adam;
  index_t steps = 1000, batch = 1, size = 128, angles = 30, threads = 0, validation = 8, validate_every = 100;
  index_t checkpoint_every = 100, test = 0, seed = 0, data_seed = 0, stop_at = 0, first_sample = 0;
  index_t view_blocks = 0, physics_ranks = 0;
  double progress_timeout = 0;
  std::string beam = "parallel", output, checkpoint, initial_primal = "zero", initial_weights, conv_precision = "f32";
  OptionTable table(
      "train_learned_primal_dual: trains learned primal-dual (Adler & Oktem 2018) on random ellipse phantoms\n"
      "with a Joseph projector, on the CPU, on one process or data-parallel under mpirun (docs/learned.md)");
  table.integer("--steps", "optimizer steps (the cosine decay spans them)", steps, 1);
  table.integer("--batch", "phantoms per step (the global batch, split over the ranks)", batch, 1);
  table.number("--lr", "initial learning rate of Adam", adam.learning_rate, 1e-12, 1.0);
  table.number("--clip", "gradient-norm clipping (0 = none)", adam.clip_norm, 0.0);
  table.integer("--size", "image edge in pixels", size, 8);
  table.integer("--angles", "projection angles", angles, 1);
  table.choice("--beam", "beam geometry", beam, {"parallel", "fan"});
  table.number("--noise", "Gaussian noise relative to the mean absolute data", data.noise, 0.0);
  table.integer("--iterations", "unrolled primal-dual steps", config.iterations, 1);
  table.integer("--primal-memory", "primal memory channels", config.primal_memory, 2);
  table.integer("--dual-memory", "dual memory channels", config.dual_memory, 1);
  table.integer("--width", "channels of the hidden layers", config.width, 1);
  table.choice("--initial-primal",
               "the network's initial primal: zero (the paper's, the shipped weights') or the FBP (Ram-Lak) of\n"
               "the data in every primal channel",
               initial_primal, {"zero", "fbp"});
  table.integer("--seed", "seed of the initial weights", seed, 0);
  table.text("--initial-weights", "FILE",
             "start from these weights (written by this program for the same network, initial primal and\n"
             "geometry) instead of the seeded initialisation; Adam and the schedule start afresh",
             initial_weights);
  table.integer("--data-seed", "seed of the phantoms and the noise", data_seed, 0);
  table.integer("--first-sample",
                "index of the first training phantom (a run continuing with --initial-weights from a run of\n"
                "S steps of batch B takes fresh phantoms with S x B); validation and test sets are unchanged",
                first_sample, 0);
  table.integer("--view-blocks",
                "0: every rank holds the whole projector and the global batch is split over the ranks;\n"
                "K >= 1: the views are split into K blocks dealt round robin to the ranks of a group\n"
                "(K >= --physics-ranks), every rank of a group trains on the group's share of the batch\n"
                "and projects only its own blocks",
                view_blocks, 0);
  table.integer("--physics-ranks",
                "with --view-blocks: the ranks of a group sharing one projector (P, dividing the rank count;\n"
                "0 = all ranks, one group); the ranks / P groups split the global batch (divisible by the\n"
                "group count) and exchange their gradients as the data-parallel ranks do",
                physics_ranks, 0);
  table.choice("--conv-precision",
               "the convolutions' arithmetic: f32, or bf16 (mixed precision: inputs rounded to bfloat16, float\n"
               "accumulation; weights, Adam and the projector stay float; needs oneDNN, fast with AMX)",
               conv_precision, {"f32", "bf16"});
  table.integer("--threads", "OpenMP threads per rank (0 = default)", threads, 0);
  table.integer("--validation", "validation phantoms", validation, 1);
  table.integer("--validate-every", "steps between validations", validate_every, 1);
  table.text("--output", "FILE", "weights to write at the end (safetensors)", output);
  table.text("--checkpoint", "FILE", "training state, saved atomically and resumed from when present", checkpoint);
  table.integer("--checkpoint-every", "steps between checkpoints", checkpoint_every, 1);
  table.integer("--stop-at",
                "stop after this step, checkpoint written (0 = train all --steps); the same\n"
                "command without it resumes",
                stop_at, 0);
  table.integer("--test", "test phantoms for the final LPD vs FBP comparison (0 = none)", test, 0);
  table.number("--progress-timeout",
               "abort the run (exit 124, every rank) when a rank makes no progress for\n"
               "SECONDS (0 = off)",
               progress_timeout, 0.0, 1e9, "SECONDS");
  return run_example(argc, argv, "train_learned_primal_dual", table, progress_timeout, [&](const World& world) {
    pnpdist::require(stop_at == 0 || !checkpoint.empty(), "--stop-at needs --checkpoint (the state to resume from)");
    const bool root = world.rank() == 0;
    pnpdist::nn::train::set_train_conv_precision(
        pnpdist::nn::train::parse_conv_precision(conv_precision, "--conv-precision"));
    config.seed = static_cast<std::uint64_t>(seed);
    config.initial_primal = learned::parse_initial_primal(initial_primal, "--initial-primal");
    data.seed = static_cast<std::uint64_t>(data_seed);
    adam.total_steps = steps;
    const Exec exec = [&] {
      if constexpr (std::is_same_v<Exec, pnpdist::OpenMP>)
        return pnpdist::OpenMP{static_cast<int>(threads)};
      else
        return pnpdist::Serial{};
    }();
    const ct::Geometry2D geometry =
        learned::ellipse_geometry(size, angles, beam == "fan" ? ct::Beam::divergent : ct::Beam::parallel);
    pnpdist::require(physics_ranks == 0 || view_blocks > 0, [&] {
      return "--physics-ranks " + std::to_string(physics_ranks) + " needs --view-blocks (the blocks its ranks share)";
    });
    pnpdist::require(physics_ranks == 0 || world.size() % physics_ranks == 0, [&] {
      return "--physics-ranks " + std::to_string(physics_ranks) + " does not divide the " +
             std::to_string(world.size()) + " ranks into groups";
    });
    // The ranks sharing a projector (a group: consecutive world ranks) and the number of groups.
    const int group_size = physics_ranks == 0 ? world.size() : static_cast<int>(physics_ranks);
    const int groups = world.size() / group_size;
    pnpdist::require(view_blocks == 0 || view_blocks >= group_size, [&] {
      return "--view-blocks " + std::to_string(view_blocks) + ": fewer view blocks than ranks (" +
             std::to_string(group_size) + ") sharing a projector; every rank needs at least one block";
    });
    pnpdist::require(view_blocks == 0 || batch % groups == 0, [&] {
      return "--batch " + std::to_string(batch) + " is not divisible by the " + std::to_string(groups) +
             " groups of --physics-ranks " + std::to_string(group_size) + " (" + std::to_string(world.size()) +
             " ranks): every group takes an equal share of the global batch";
    });
    const int group = view_blocks > 0 ? world.rank() / group_size : 0;
    pnpdist::require(view_blocks <= angles, [&] {
      return "--view-blocks " + std::to_string(view_blocks) + ": more view blocks than angles (" +
             std::to_string(angles) + ")";
    });
    // The scale of the whole projector on every rank, as in the one-process run.
    const auto projector = ct::make_projector<float>(exec, geometry);
    const double scale = learned::inverse_operator_norm(projector);

    // Trains with the network's projector layer `layer`, its gradients exchanged over `comm`: the world for
    // the data-parallel run; with --view-blocks, where the layer's projections are collective over a group and
    // every rank of a group computes the same gradients, the ranks of this rank's place in every group (one
    // rank per group, ranked by group: each sample's gradient is gathered once, as from the data-parallel ranks).
    const auto train = [&](const auto& layer, auto comm) -> int {
      const bool distributed_views = view_blocks > 0;
      learned::LearnedPrimalDual net(layer, config,
                                     config.initial_primal == learned::InitialPrimal::fbp
                                         ? learned::fbp_start(exec, layer, geometry)
                                         : learned::PrimalStart<float>{});
      learned::LpdTrainer trainer(exec, net, data, adam, batch, std::move(comm));
      if (!initial_weights.empty()) {
        load_initial_weights(initial_weights, config, geometry, net);
        trainer.set_initial_weights(learned::parameters_fingerprint(net.parameters()));
      }
      trainer.set_first_training_sample(static_cast<std::uint64_t>(first_sample));
      double elapsed = 0;
      if (!checkpoint.empty() && pnpdist::checkpoint_exists(checkpoint)) {
        elapsed = trainer.resume(checkpoint);
        if (root)
          std::printf("resumed from %s at step %lld\n", checkpoint.c_str(),
                      static_cast<long long>(trainer.steps_done()));
      }
      if (root) {
        std::printf(
            "learned primal-dual: %lld parameters, %lld x %lld images, %lld angles, batch %lld, %d threads, "
            "initial primal %s\n",
            static_cast<long long>(net.parameters().size()), static_cast<long long>(size),
            static_cast<long long>(size), static_cast<long long>(angles), static_cast<long long>(batch),
            exec.concurrency(), initial_primal.c_str());
      }
      print_rank_layout(world, batch, view_blocks, group_size, trainer.first_sample(), trainer.local_batch());
      std::fflush(stdout);  // the set-up lines reach a log file before the first progress line
      const index_t last = stop_at > 0 ? std::min(stop_at, steps) : steps;
      double window_loss = 0, window_seconds = 0, compute = 0, exchange = 0, cpu = 0;
      index_t window = 0, taken = 0;
      while (trainer.steps_done() < last) {
        const auto start = std::chrono::steady_clock::now();
        const std::clock_t cpu_start = std::clock();
        window_loss += trainer.step();
        cpu += static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        window_seconds += seconds;
        elapsed += seconds;
        compute += trainer.last_step_timing().compute;
        exchange += trainer.last_step_timing().exchange;
        ++window;
        ++taken;
        const index_t t = trainer.steps_done();
        if (t % validate_every == 0 || t == steps) {
          const learned::LpdEvaluation v = trainer.evaluate(learned::DataSplit::validation, validation);
          if (root)
            std::printf("step %lld/%lld  loss %.4e  lr %.3e  %.3f s/step  validation loss %.4e  PSNR %.2f dB\n",
                        static_cast<long long>(t), static_cast<long long>(steps),
                        window_loss / static_cast<double>(window), trainer.optimizer().learning_rate(t),
                        window_seconds / static_cast<double>(window), v.loss, v.psnr);
          std::fflush(stdout);
          window_loss = window_seconds = 0;
          window = 0;
        }
        // With --view-blocks every rank of group 0 is its trainer's rank 0: only the world's rank 0 writes.
        if (!checkpoint.empty() && (t % checkpoint_every == 0 || t == last) && (root || !distributed_views))
          trainer.save(checkpoint, elapsed);
      }
      if (taken > 0) print_rank_timing(world, compute, exchange, cpu, taken);
      require_same_weights(world, learned::parameters_fingerprint(net.parameters()), trainer.steps_done());
      if (trainer.steps_done() < steps) {
        if (root)
          std::printf("stopped after step %lld of %lld; checkpoint: %s\n",
                      static_cast<long long>(trainer.steps_done()), static_cast<long long>(steps),
                      checkpoint.c_str());
        return 0;
      }
      if (root) std::printf("trained %lld steps in %.1f s\n", static_cast<long long>(steps), elapsed);
      if (root && !output.empty()) {
        std::map<std::string, std::string> metadata = {
            {learned::training_geometry_key, learned::geometry_to_json(geometry)},
            {learned::training_noise_key, learned::training_noise_text(data.noise)}};
        if (!initial_weights.empty()) metadata["pnpdist.lpd.initial_weights"] = initial_weights;
        if (first_sample != 0) metadata["pnpdist.lpd.first_training_sample"] = std::to_string(first_sample);
        if (pnpdist::nn::train::train_conv_precision() == pnpdist::nn::train::ConvPrecision::bf16)
          metadata["pnpdist.lpd.conv_precision"] = "bf16 (convolution inputs rounded to bfloat16, float accumulation)";
        net.save(output, metadata);
        std::printf("weights: %s\n", output.c_str());
      }
      // The test is collective over group 0 with --view-blocks (the projections are); otherwise rank 0 runs it
      // alone.
      if (test > 0 && (root || (distributed_views && group == 0))) report_test(exec, net, data, geometry, test, root);
      return 0;
    };

    if (view_blocks == 0) return train(learned::ProjectorLayer(projector, scale), world);
    using Projector = decltype(ct::make_projector<float>(exec, geometry));
    const std::vector<ct::Geometry2D> parts = ct::split_views(geometry, view_blocks);
    // The group's ranks deal the blocks; the ranks with the same place in every group exchange the gradients.
    const World group_comm = world.split(group, world.rank());
    const World across_groups = world.split(world.rank() % group_size, world.rank());
    const auto physics = pnpdist::distribute_physics(
        view_blocks, group_comm, pnpdist::Dealing::round_robin(), [&](std::span<const index_t> mine) {
          std::vector<Projector> ops;
          for (const index_t i : mine) ops.push_back(ct::make_projector<float>(exec, parts[static_cast<std::size_t>(i)]));
          return pnpdist::StackedPhysics<Projector>(std::move(ops));
        });
    return train(learned::ProjectorLayer(physics, scale), across_groups);
  });
}
