#pragma once
// What the three benchmark examples (highres_deblur, tomography_2d, tomography_3d) share:
//
//   CommonOptions<Dim> / add_common_options   the options of every example (common_options.hpp)
//   run_example(argc, argv, name, table,       MPI (when built) or one process, --help before MPI starts,
//               progress_timeout, body)        option errors reported once, exceptions abort every rank, a
//                                              rank without progress for --progress-timeout s aborts them too
//                                              (run_example.hpp, with World and error_message)
//   OperatorShare / share_operators            which operators this rank builds: all of them, or its
//                                              round-robin share when --distribute-physics 1
//   with_denoiser<Dim>(...)                    the prior chosen at run time (DRUNet or TV; whole, tiled or
//                                              distributed), handed to a generic continuation
//   run_pnp(...)                               the PnP solve with observers, every rank's records gathered to
//                                              rank 0 (iteration_records.hpp), result.json and the PNG
//                                              images (example_images.hpp) written by rank 0
//   run_pnp_on_share(...)                      run_pnp on this rank's operators, distributed or not
//
// Each example assembles its physics at compile time and calls run_pnp once per physics type it can build
// (replicated or distributed). All option combinations are instantiated at compile time; the choice among
// them is a run-time branch.

#include <pnpdist/pnp.hpp>

#include <nlohmann/json.hpp>

#include "common_options.hpp"
#include "example_images.hpp"
#include "example_options.hpp"
#include "iteration_records.hpp"
#include "memory_budget.hpp"
#include "run_example.hpp"
#include "weights_lookup.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace pnpdist_examples {

using pnpdist::index_t;

#if defined(PNPDIST_HAS_OPENMP)
using Exec = pnpdist::OpenMP;
inline Exec make_executor(index_t threads) { return Exec{static_cast<int>(threads)}; }
#else
using Exec = pnpdist::Serial;
inline Exec make_executor(index_t) { return Exec{}; }
#endif

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Which operators this rank builds: all of them (replicated physics), or its round-robin share.
struct OperatorShare {
  pnpdist::Assignment assignment;
  std::vector<index_t> mine;  // increasing
  bool distributed = false;
};

inline OperatorShare share_operators(bool distribute, const World& world, index_t count) {
  if (!distribute) {
    std::vector<index_t> all(static_cast<std::size_t>(count));
    std::iota(all.begin(), all.end(), index_t{0});
    return {pnpdist::Assignment(std::vector<int>(static_cast<std::size_t>(count), 0), 1), std::move(all), false};
  }
  pnpdist::require(count >= world.size(), [&] {
    return "--distribute-physics 1: " + std::to_string(count) + " operators for " + std::to_string(world.size()) +
           " ranks; every rank needs at least one operator";
  });
  pnpdist::Assignment assignment = pnpdist::Dealing::round_robin().deal(count, world.size());
  std::vector<index_t> mine = assignment.items_of(world.rank());
  return {std::move(assignment), std::move(mine), true};
}

/// The measurement simulation of this rank's operators: noise `sigma`, operator i from stream i of
/// `seed` (the data do not depend on the number of ranks).
inline pnpdist::MeasurementSimulation simulation_of(const OperatorShare& share, double sigma, index_t seed,
                                                    bool clamp01 = false) {
  pnpdist::MeasurementSimulation s{sigma, static_cast<std::uint64_t>(seed)};
  for (const index_t i : share.mine) s.streams.push_back(static_cast<std::uint64_t>(i));
  s.clamp = clamp01;
  return s;
}

/// The rank's local physics wrapped as a DistributedPhysics over `world` (--distribute-physics 1).
template <class Local>
auto distributed(const World& world, const OperatorShare& share, Local local) {
  return pnpdist::DistributedPhysics<Local, World>(world, share.assignment, std::move(local));
}

/// Sum over the ranks of a host tensor, in place (the parts of a sum over operators computed by each rank).
template <std::size_t Rank>
void sum_over_ranks(const World& world, pnpdist::Tensor<float, Rank>& x) {
  world.allreduce_sum(pnpdist::flat_view(x.view()));
}

/// The initial iterate chosen by --init, identical on every rank: zeros; A^T y = -grad f(0) over the
/// rank's operators `local`; or pseudo_inverse(), this rank's part of a sum over operators. The parts are
/// summed over the ranks when the operators are dealt to them.
template <std::size_t Dim, class Local, class PseudoInverse>
pnpdist::Tensor<float, Local::domain_rank> initial_iterate(const CommonOptions<Dim>& o, const World& world,
                                                           const OperatorShare& share, const Exec& exec,
                                                           const Local& local, PseudoInverse&& pseudo_inverse) {
  constexpr std::size_t R = Local::domain_rank;
  pnpdist::Tensor<float, R> x0 = pnpdist::zeros<float>(exec, local.domain_shape());
  if (o.init == "zeros") return x0;
  if (o.init == "adjoint") {
    pnpdist::Tensor<float, R> zero = pnpdist::zeros<float>(exec, local.domain_shape());
    local.gradient(zero.const_view(), x0.view());
    pnpdist::scale(exec, -1.0f, x0.view());
  } else {
    x0 = pseudo_inverse();
  }
  if (share.distributed) sum_over_ranks(world, x0);
  return x0;
}

// ---- The prior ---------------------------------------------------------------------------------------

/// What the prior turned out to be (for result.json and the log).
struct DenoiserInfo {
  std::string kind;     // "drunet" or "tv"
  std::string weights;  // the safetensors file (drunet)
  std::string config;   // the DRUNet architecture
};

/// Resolves --weights once, before anything reads it: with the DRUNet prior, o.weights becomes the file
/// find_weights chose (the explicit flag, $PNPDIST_WEIGHTS_DIR, the installation, the source tree), so the
/// memory check, the prior and result.json all see the same file; not found is an error.
template <std::size_t Dim>
void resolve_weights(CommonOptions<Dim>& o, const std::string& weights_name) {
  if (o.denoiser == "drunet") o.weights = find_weights(weights_name, o.weights);
}

/// Builds the prior chosen by the options on images of `channels` channels and calls fn(prior, info) with
/// it: DRUNet<Dim> (weights' architecture read from the file o.weights, resolved by resolve_weights; 2D
/// weights are inflated for Dim = 3; seen through --denoiser-window) or TVDenoiser; then whole, tiled (PatchTiler, --max-batch-size) or
/// distributed over `world`'s ranks.
template <std::size_t Dim, class Fn>
void with_denoiser(const CommonOptions<Dim>& o, const World& world, const Exec& exec, index_t channels, Fn&& fn) {
  DenoiserInfo info;
  const std::string weights = o.denoiser == "drunet" ? o.weights : std::string();
  pnpdist::require(o.denoiser != "drunet" || !weights.empty(), "internal: --weights was not resolved (resolve_weights)");
  const auto wrap = [&](auto base) {
    pnpdist::Extents<Dim> patch{}, overlap{};
    for (std::size_t d = 0; d < Dim; ++d) {
      patch[d] = o.patch_size[d];
      overlap[d] = o.overlap[d];
    }
    if (o.distribute_denoiser) {
      auto prior = pnpdist::distribute_denoiser(std::move(base), pnpdist::PatchTiler<Dim>(patch, overlap), world,
                                                o.max_batch_size);
      fn(prior, info);
    } else if (patch[0] > 0) {
      auto prior = pnpdist::tiled(std::move(base), pnpdist::PatchTiler<Dim>(patch, overlap), o.max_batch_size);
      fn(prior, info);
    } else {
      fn(base, info);
    }
  };
  if (!weights.empty()) {
    const pnpdist::nn::DRUNetConfig config = pnpdist::nn::infer_drunet_config(weights);
    pnpdist::require(config.image_channels == channels, [&] {
      return "--weights " + weights + ": the network takes " + std::to_string(config.image_channels) +
             " channel(s), this example's images have " + std::to_string(channels);
    });
    info.kind = "drunet";
    info.weights = weights;
    info.config = pnpdist::nn::describe(config) + (o.equivariant ? ", equivariant (8 symmetries)" : "");
    const double low = o.denoiser_window[0], high = o.denoiser_window[1];
    if (low != 0.0 || high != 1.0)
      info.config += ", intensity window [" + number_text(low) + ", " + number_text(high) + "]";
    if constexpr (Dim == 3) {
      if (o.on_slices()) {
        const pnpdist::SliceAxes axes = pnpdist::SliceAxes::parse(o.slice_axes);
        // Without tiles, --max-batch-size bounds the slices per call of the 2D network (memory).
        const bool tiled = o.patch_size[0] > 0;
        const index_t max_slices = tiled ? 0 : o.max_batch_size;
        info.config += ", 2D on the slices along " + axes.letters() +
                       (max_slices > 0 ? " in batches of " + std::to_string(max_slices) + " slices" : "");
        wrap(pnpdist::slice_denoiser(
            pnpdist::intensity_window(
                pnpdist::equivariant(pnpdist::nn::DRUNet<2, float, Exec>(
                                         pnpdist::nn::load_drunet_weights<float, 2>(weights, config), exec),
                                     o.equivariant),
                low, high),
            axes, max_slices));
        return;
      }
    }
    // The window [0, 1] (the default) maps every value to itself exactly: the run is the unwrapped one's.
    wrap(pnpdist::intensity_window(
        pnpdist::equivariant(
            pnpdist::nn::DRUNet<Dim, float, Exec>(pnpdist::nn::load_drunet_weights<float, Dim>(weights, config), exec),
            o.equivariant),
        low, high));
  } else {
    info.kind = "tv";
    wrap(pnpdist::TVDenoiser<float, Dim + 2, Exec>(exec, static_cast<int>(o.tv_iterations), 1.0f));
  }
}

// ---- The run ----------------------------------------------------------------------------------------------

/// What run_pnp needs besides the physics and the options.
template <std::size_t R>
struct Problem {
  const char* example = "";
  std::string description;                             // one line for the log and result.json
  std::optional<pnpdist::View<const float, R>> truth;  // none for real data
  double data_range = 1.0;                             // PSNR/SSIM range and display range of the images
  index_t channels = 1;                                // of the denoiser's images
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // members added to result.json's "problem"
  std::string measurement_png;       // written by the example (rank 0), empty if none
  nlohmann::ordered_json baselines;  // result.json's "baselines" list (examples/baselines.hpp), null: none
  double noise_level = 0.01;    // of the measurements: HQS's data-step weight (noise / sigma_k)^2
  std::function<void(pnpdist::View<const float, R>)> save_volume;  // if set: called by rank 0 with the result
};

/// result.json of a run (schema pnpdist.run/1), in its key order: result_json_head gives schema .. init; the
/// method adds records and final; result_json_tail writes the images (rank 0) and adds images, baselines and
/// problem; the method adds denoiser and its own keys; write_result_json writes the file.
template <std::size_t R>
nlohmann::ordered_json result_json_head(const Problem<R>& problem, const char* method, const OptionTable& table,
                                        const World& world, const Exec& exec, double setup_seconds,
                                        const std::string& init_method, const pnpdist::IterationRecord& initial) {
  nlohmann::ordered_json json = {{"schema", "pnpdist.run/1"},
                                 {"example", problem.example},
                                 {"method", method},
                                 {"options", table.options_json()},
                                 {"ranks", world.size()},
                                 {"threads_per_rank", exec.concurrency()},
                                 {"setup_seconds", setup_seconds}};
  json["init"] = {{"method", init_method},
                  {"psnr", initial.psnr},
                  {"ssim", initial.ssim},
                  {"data_fidelity", initial.data_fidelity}};
  return json;
}

/// Writes truth, reconstruction and initial PNGs into `output_dir` (created if needed) and adds the images,
/// baselines and problem members to `json`.
template <std::size_t R>
void result_json_tail(nlohmann::ordered_json& json, const Exec& exec, const std::string& output_dir,
                      const Problem<R>& problem, const pnpdist::View<const float, R>& x,
                      const pnpdist::View<const float, R>& x0) {
  std::filesystem::create_directories(output_dir);
  const double low = 0, high = problem.data_range;
  nlohmann::ordered_json images = nlohmann::ordered_json::object();
  if (problem.truth) images["truth"] = save_png(exec, output_dir, "truth.png", *problem.truth, low, high);
  if (!problem.measurement_png.empty()) images["measurement"] = problem.measurement_png;
  images["reconstruction"] = save_png(exec, output_dir, "reconstruction.png", x, low, high);
  images["initial"] = save_png(exec, output_dir, "initial.png", x0, low, high);
  json["images"] = std::move(images);
  if (!problem.baselines.is_null()) json["baselines"] = problem.baselines;
  json["problem"] = {{"description", problem.description}, {"data_range", problem.data_range}};
  json["problem"].update(problem.extra);
}

/// Writes `json` as output_dir/result.json; returns the path. Throws io_error when it cannot be written.
inline std::string write_result_json(const std::string& output_dir, const nlohmann::ordered_json& json) {
  const std::string path = (std::filesystem::path(output_dir) / "result.json").string();
  std::ofstream out(path);
  out << json.dump(2) << '\n';
  out.close();
  if (!out) throw pnpdist::io_error("cannot write " + path);
  return path;
}

/// The checkpoint file of this rank: PATH when the solver can tell the ranks apart itself (a distributed
/// physics or denoiser: it appends .rank<r>) or there is one rank, PATH.rank<r> otherwise.
template <std::size_t Dim>
std::string checkpoint_path(const CommonOptions<Dim>& o, const World& world, bool solver_sees_ranks) {
  if (o.checkpoint.empty() || world.size() == 1 || solver_sees_ranks) return o.checkpoint;
  return o.checkpoint + ".rank" + std::to_string(world.rank());
}

/// The options that decide the iterates (the problem, the data, the prior, the algorithm) as compact JSON: the
/// checkpoint's fingerprint, so that a checkpoint is resumed only by the same problem. Left out: what only
/// says how long, where, how fast or what else to run (iterations, stopping tolerances, output, checkpoint
/// settings, threads, batching, rank layout, baselines, progress lines, progress timeout).
inline std::string problem_fingerprint(const OptionTable& table) {
  static const std::vector<std::string> neutral{
      "--iterations",      "--tolerance",      "--residual-tolerance", "--output-dir", "--checkpoint",
      "--checkpoint-every", "--quiet",         "--threads",            "--max-batch-size", "--distribute-physics",
      "--distribute-denoiser", "--save-measurements", "--progress-timeout"};
  return table.options_json([](const std::string& name) {
    return name.rfind("--baseline", 0) != 0 && std::find(neutral.begin(), neutral.end(), name) == neutral.end();
  }).dump();
}

/// Calls fn(algorithm) with the PnP algorithm chosen by --algorithm and its parameters (every algorithm is
/// instantiated; the choice is a run-time branch). `noise_level` is the measurements' noise (HQS's data weight).
template <std::size_t Dim, class Fn>
void with_algorithm(const CommonOptions<Dim>& o, double noise_level, Fn&& fn) {
  const pnpdist::DataProximalOptions data_step{o.cg_iterations, o.cg_tolerance};
  if (o.algorithm == "hqs") {
    pnpdist::HalfQuadraticSplitting hqs;
    hqs.sigma_start = o.sigma_start;
    hqs.sigma_end = o.sigma;
    hqs.schedule_iterations = o.schedule_iterations > 0 ? o.schedule_iterations : std::max<index_t>(o.iterations, 1);
    pnpdist::require(noise_level > 0,
                     "--algorithm hqs needs a positive --noise: the data step's weight is lambda (noise / sigma_k)^2");
    hqs.noise_level = noise_level;
    hqs.data_weight = o.data_weight;
    hqs.data_step = data_step;
    fn(hqs);
  } else if (o.algorithm == "admm") {
    pnpdist::ADMM admm;
    admm.sigma = o.sigma;
    admm.penalty = o.penalty;
    admm.data_step = data_step;
    fn(admm);
  } else {
    pnpdist::ProximalGradient pgd;
    pgd.step = o.fixed_step();
    pgd.step_factor = o.step_factor;
    pgd.sigma = o.sigma;
    if (o.relaxation > 0) pgd.relaxation = o.relaxation;
    if (o.damping > 0) pgd.damping = o.damping;
    fn(pgd);
  }
}

/// The PnP run of an example: builds the prior, solves on `physics` from x0 (the initial iterate every rank
/// computed the same), gathers every rank's records and writes result.json and the images (rank 0).
template <std::size_t Dim, std::size_t R, class Physics>
int run_pnp(const World& world, const Exec& exec, const CommonOptions<Dim>& o, const OptionTable& table,
            const Problem<R>& problem, const Physics& physics, const pnpdist::Tensor<float, R>& x0,
            Clock::time_point program_start) {
  const bool root = world.rank() == 0;
  int status = 0;
  with_denoiser<Dim>(
      o, world, exec, problem.channels, [&](auto& prior, const DenoiserInfo& info) {
        using Prior = std::remove_cvref_t<decltype(prior)>;
        constexpr bool prior_has_ranks = requires(const Prior& p) { p.communicator(); };
        constexpr bool physics_has_ranks = requires(const Physics& p) { p.communicator(); };

        pnpdist::PnPOptions options;
        options.max_iterations = o.iterations;
        options.stagnation_tolerance = o.tolerance;
        options.residual_tolerance = o.residual_tolerance;
        options.checkpoint_path = checkpoint_path(o, world, prior_has_ranks || physics_has_ranks);
        options.checkpoint_every = o.checkpoint_every;
        options.checkpoint_fingerprint = problem_fingerprint(table);
        with_algorithm(o, problem.noise_level, [&](const auto& algorithm) {
          using Algorithm = std::remove_cvref_t<decltype(algorithm)>;
          pnpdist::PnPSolver<Prior, Algorithm> solver(prior, options, algorithm);

          if (root && !o.quiet)
            std::printf("%s: %s\n%s: prior %s%s%s, %d rank(s) x %d thread(s), %s\n", problem.example,
                        problem.description.c_str(), problem.example, info.kind.c_str(),
                        info.kind == "drunet" ? (" (" + info.weights + ", " + info.config + ")").c_str() : "",
                        o.distribute_denoiser ? ", tiles dealt to the ranks" : (o.patch_size[0] > 0 ? ", tiled" : ""),
                        world.size(), exec.concurrency(),
                        o.distribute_physics ? "operators dealt to the ranks" : "operators on every rank");
          std::fflush(stdout);

          // The initial iterate's figures, measured here so that a resumed run reports them too.
          pnpdist::IterationRecord initial;
          initial.data_fidelity = physics.data_fidelity(x0.const_view());
          if (problem.truth)
            pnpdist::observe::ground_truth(*problem.truth, problem.data_range).measure(exec, initial, x0.const_view());

          const std::size_t peak_before_solve = pnpdist::peak_resident_bytes();
          const double setup_seconds = seconds_since(program_start);
          const auto solve_start = Clock::now();
          auto progress = pnpdist::observe::progress(root && !o.quiet);
          auto result = problem.truth
                            ? solver.solve(physics, pnpdist::init::given(x0),
                                           pnpdist::observe::ground_truth(*problem.truth, problem.data_range), progress)
                            : solver.solve(physics, pnpdist::init::given(x0), progress);
          const double solve_seconds = seconds_since(solve_start);

          const auto all = gather_records(world, result.records);
          double peak = static_cast<double>(peak_before_solve);
          for (const auto& rank_records : all)
            for (const auto& values : rank_records) peak = std::max({peak, values[9], values[10]});
          peak = std::max(peak, static_cast<double>(pnpdist::peak_resident_bytes()));
          // The largest peak of any rank: one value per rank, gathered.
          std::vector<double> peaks(static_cast<std::size_t>(world.size()), 0.0);
          peaks[static_cast<std::size_t>(world.rank())] = peak;
          world.allreduce_sum(pnpdist::View<double, 1>(peaks.data(), pnpdist::Extents<1>{world.size()}));
          peak = *std::max_element(peaks.begin(), peaks.end());
          if (!root) return;

          const double final_psnr = result.records.empty() ? initial.psnr : result.records.back().psnr;
          const double final_ssim = result.records.empty() ? initial.ssim : result.records.back().ssim;
          nlohmann::ordered_json json = result_json_head(problem, "pnp", table, world, exec,
                                                         setup_seconds + result.setup_seconds, o.init, initial);
          json["records"] = records_json(all);
          json["final"] = {
              {"psnr", final_psnr},
              {"ssim", final_ssim},
              {"iterations", result.iterations},
              {"total_seconds", result.records.empty() ? solve_seconds : result.records.back().wall_seconds},
              {"peak_rss_bytes", static_cast<long long>(peak)},
              {"step", result.step},
              {"squared_norm", result.squared_norm},
              {"resumed_from", result.resumed_from}};
          result_json_tail(json, exec, o.output_dir, problem, result.x.const_view(), x0.const_view());
          if (problem.save_volume) problem.save_volume(result.x.const_view());
          json["denoiser"] = {
              {"kind", info.kind}, {"weights", info.weights}, {"config", info.config}, {"executor", Exec::name}};
          const std::string path = write_result_json(o.output_dir, json);
          if (!o.quiet)
            std::printf("%s: PSNR %.2f dB -> %.2f dB after %lld iterations in %.2f s (setup %.2f s); %s\n",
                        problem.example, initial.psnr, final_psnr, static_cast<long long>(result.iterations),
                        result.records.empty() ? 0.0 : result.records.back().wall_seconds,
                        setup_seconds + result.setup_seconds, path.c_str());
          status = 0;
        });
      });
  return status;
}

/// run_pnp on this rank's stack of operators `local`: wrapped in DistributedPhysics when the operators are
/// dealt to the ranks (share.distributed), as it is otherwise.
template <std::size_t Dim, std::size_t R, class Local>
int run_pnp_on_share(const World& world, const Exec& exec, const CommonOptions<Dim>& o, const OptionTable& table,
                     const Problem<R>& problem, const OperatorShare& share, Local local,
                     const pnpdist::Tensor<float, R>& x0, Clock::time_point program_start) {
  if (share.distributed)
    return run_pnp(world, exec, o, table, problem, distributed(world, share, std::move(local)), x0, program_start);
  return run_pnp(world, exec, o, table, problem, local, x0, program_start);
}

/// Refuses a run that cannot fit before it allocates (memory_budget.hpp): `estimate` holds the example's own
/// arrays per process; DRUNet's activations for its smallest call on an image of `denoised` spatial extents
/// (the tiles of --patch-size/--overlap/--max-batch-size when they have the same number of axes) are added
/// when the prior is DRUNet (its widths read from o.weights, resolved by resolve_weights).
template <std::size_t Dim>
void require_memory(const std::string& what, const CommonOptions<Dim>& o, MemoryEstimate estimate,
                    const std::vector<index_t>& denoised) {
  if (o.denoiser == "drunet") {
    const pnpdist::nn::DRUNetConfig config = pnpdist::nn::infer_drunet_config(o.weights);
    std::vector<index_t> patch, overlap;
    if (denoised.size() == Dim) {
      patch.assign(o.patch_size.begin(), o.patch_size.end());
      overlap.assign(o.overlap.begin(), o.overlap.end());
    }
    add_drunet_activations(estimate, config, denoised.size(),
                           denoiser_call_pixels(denoised, patch, overlap, o.max_batch_size));
  }
  require_fits(what, estimate, available_memory(),
               "Reduce --size, tile the denoiser (--patch-size, --max-batch-size) or deal the operators to more "
               "ranks (--distribute-physics 1).");
}

/// The output directory exists (rank 0 creates it) before anything is written into it.
template <std::size_t Dim>
void prepare_output_dir(const World& world, const CommonOptions<Dim>& o) {
  if (world.rank() == 0) std::filesystem::create_directories(o.output_dir);
}

}  // namespace pnpdist_examples
