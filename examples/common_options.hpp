#pragma once
// The options every benchmark example accepts (the contract of the benchmark runner): CommonOptions<Dim>,
// their registration in an OptionTable (add_problem_options, add_common_options) and the checks across
// options (validate_common). See docs/examples.md.
#include <pnpdist/core/errors.hpp>
#include <pnpdist/core/types.hpp>

#include "example_options.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace pnpdist_examples {

using pnpdist::index_t;

/// The options every example accepts (the contract of the benchmark runner); Dim = 2 or 3 spatial axes of
/// the denoiser tiles.
template <std::size_t Dim>
struct CommonOptions {
  index_t size = 0;
  index_t operators = 8;
  double noise = 0.01;
  index_t iterations = 100;
  std::string algorithm = "pgd";
  std::string step = "auto";
  double step_factor = 0.99;
  double sigma = 0.01;
  double relaxation = 0;
  double damping = 0;
  double sigma_start = 49.0 / 255.0;
  index_t schedule_iterations = 0;
  double data_weight = 1.0;
  double penalty = 1.0;
  index_t cg_iterations = 10;
  double cg_tolerance = 1e-4;
  double tolerance = 0;
  double residual_tolerance = 0;
  std::string init = "zeros";
  std::string denoiser = "drunet";
  std::string weights;  // empty: the example's weights file found by find_weights (weights_lookup.hpp)
  index_t tv_iterations = 50;
  bool distribute_physics = false;
  bool distribute_denoiser = false;
  std::array<index_t, Dim> patch_size{};
  std::array<index_t, Dim> overlap{};
  index_t max_batch_size = 0;
  index_t threads = 0;
  index_t seed = 0;
  std::string output_dir = ".";
  std::string checkpoint;
  index_t checkpoint_every = 0;
  bool equivariant = false;
  std::vector<double> denoiser_window{0.0, 1.0};  // DRUNet sees [low, high] as [0, 1] (priors/intensity_window.hpp)
  std::string slice_axes;  // 3D: DRUNet on the volume's slices along these axes (d, h, w); none = inflated 3D
  double progress_timeout = 0;  // seconds without progress on a rank that abort the run (0 = off)

  /// 3D with DRUNet: whether the 2D network runs on slices (--slice-axes d, dhw, ...) rather than inflated.
  [[nodiscard]] bool on_slices() const { return !slice_axes.empty() && slice_axes != "none"; }
  bool quiet = false;

  /// The fixed step, or nothing for --step auto.
  [[nodiscard]] std::optional<double> fixed_step() const {
    if (step == "auto") return std::nullopt;
    const double value = parse_number("--step", step.c_str());
    if (!(value > 0)) throw pnpdist::invalid_argument("--step: '" + step + "' must be positive or auto");
    return value;
  }
};

/// Help texts of the options whose meaning depends on the example.
struct ProblemHelp {
  std::string size, operators, noise;
  std::string init_choices = "zeros|adjoint|pseudo_inverse";
};

/// Registers the problem-size options (--size, --operators, --noise) of `o`.
template <std::size_t Dim>
void add_problem_options(OptionTable& table, CommonOptions<Dim>& o, const ProblemHelp& help) {
  table.integer("--size", help.size, o.size, 8);
  table.integer("--operators", help.operators, o.operators, 1);
  table.number("--noise", help.noise, o.noise, 0.0);
}

template <std::size_t Dim>
void validate_common(const CommonOptions<Dim>& o, const OptionTable& table);

/// Registers the solver, prior, distribution and output options of `o` (after the example's own), and
/// validate_common as a check across options (run by table.parse()).
template <std::size_t Dim>
void add_common_options(OptionTable& table, CommonOptions<Dim>& o, const ProblemHelp& help,
                        const std::string& weights_name) {
  const std::string axes = Dim == 2 ? "P[,P]" : "P[,P,P]";
  table.integer("--iterations", "PnP iterations (at most, with --tolerance / --residual-tolerance)", o.iterations, 0);
  table.choice("--algorithm",
               "pgd: proximal gradient (x+ = D(x - step grad f)); hqs: half-quadratic splitting with the DPIR\n"
               "sigma schedule (--sigma-start down to --sigma); admm: PnP-ADMM (fixed --sigma, --penalty)",
               o.algorithm, {"pgd", "hqs", "admm"});
  table.add(
      "--step", "X|auto", "step size gamma; auto = F / ||A||^2, F = --step-factor (power method, 30 iterations)",
      [&o](const std::string& text) {
        o.step = text;
        (void)o.fixed_step();
      },
      [&o] { return o.step == "auto" ? OptionTable::Json("auto") : OptionTable::Json(*o.fixed_step()); },
      [&o] { return o.step; });
  table.number("--step-factor",
               "F of --step auto, in (0, 2): PGD converges for F < 2 when the denoiser is firmly nonexpansive\n"
               "(docs/solvers.md)",
               o.step_factor, 1e-6, 1.999, "F");
  table.number("--sigma", "noise level handed to the denoiser (pgd, admm); hqs: the last sigma of the schedule",
               o.sigma, 0.0);
  table.number("--relaxation",
               "pgd: lambda: x+ = (1-a) z + a D(z), a = gamma lambda / (1 + gamma lambda); 0 = x+ = D(z)", o.relaxation,
               0.0, 1e30, "L");
  table.number("--damping", "pgd: the damped denoiser x+ = a D(z) + (1-a) z with a in (0, 1]; 0 = off", o.damping, 0.0,
               1.0, "A");
  table.number("--sigma-start", "hqs: the first sigma of the schedule (DPIR: 49/255)", o.sigma_start, 0.0);
  table.integer("--schedule-iterations", "hqs: iterations over which sigma falls to --sigma (0 = --iterations)",
                o.schedule_iterations, 0);
  table.number("--data-weight", "hqs: lambda in the data step's weight lambda (noise / sigma_k)^2 (DPIR: 0.23)",
               o.data_weight, 0.0, 1e30, "L");
  table.number("--penalty", "admm: rho, the weight of the data step's quadratic term", o.penalty, 0.0, 1e30, "RHO");
  table.integer("--cg-iterations", "hqs, admm: conjugate-gradient iterations of the data step at most (CT)",
                o.cg_iterations, 1);
  table.number("--cg-tolerance", "hqs, admm: relative residual at which conjugate gradients stop", o.cg_tolerance, 0.0);
  table.number("--tolerance", "stop when ||x_k - x_k-1|| / ||x_k-1|| is below this (0 = unused)", o.tolerance, 0.0);
  table.number("--residual-tolerance",
               "stop when |f(x_k) - f(x_k-1)| / f(x_k-1) is below this (0 = unused; with --tolerance: both)",
               o.residual_tolerance, 0.0);
  std::vector<std::string> inits;
  {
    std::string part;
    for (const char c : help.init_choices + "|") {
      if (c == '|') {
        inits.push_back(part);
        part.clear();
      } else {
        part += c;
      }
    }
  }
  table.choice("--init", "initial iterate: zeros, A^T y, or the pseudo-inverse (see below)", o.init, inits);
  table.choice("--denoiser", "prior: DRUNet (see --weights) or total variation (Chambolle; needs no weights)",
               o.denoiser, {"drunet", "tv"});
  table.boolean("--equivariant",
                "1: average DRUNet over the 8 flips and quarter turns of the image plane (8 passes per denoising)",
                o.equivariant);
  table.number_list("--denoiser-window",
                    "LOW,HIGH: DRUNet sees the values [LOW, HIGH] as [0, 1], its training range, and the noise\n"
                    "level scaled alike (for images outside [0, 1], e.g. attenuation or values of both signs)",
                    o.denoiser_window, -std::numeric_limits<double>::max());
  if constexpr (Dim == 3)
    table.text("--slice-axes", "d|dhw|...|none",
               "DRUNet on the 2D slices perpendicular to these axes (d depth, h height, w width; several:\n"
               "averaged, e.g. dhw = tri-planar), with 2D weights; none = the 2D weights inflated to 3D",
               o.slice_axes);
  table.text("--weights", "PATH",
             "DRUNet safetensors file; none = " + weights_name +
                 " from $PNPDIST_WEIGHTS_DIR if set, else from\n"
                 "the installation's share/pnpdist/weights, else from the source tree's weights/ (not found: error)",
             o.weights);
  table.integer("--tv-iterations", "Chambolle iterations of the TV prior (weight = sigma)", o.tv_iterations, 1);
  table.boolean("--distribute-physics", "1: deal the operators round robin to the MPI ranks; 0: every rank holds all",
                o.distribute_physics);
  table.boolean("--distribute-denoiser", "1: deal the denoiser tiles to the ranks (needs --patch-size > 0)",
                o.distribute_denoiser);
  table.integer_list("--patch-size", axes, "tile core size per axis (0 = denoise the whole image)", o.patch_size);
  table.integer_list("--overlap", axes, "tile overlap per axis (context on each side of a core)", o.overlap);
  table.integer("--max-batch-size",
                Dim == 3 ? "tiles per denoiser batch; with --slice-axes and no tiles: slices per batch of the 2D\n"
                           "network (0 = all at once)"
                         : "tiles per denoiser batch (0 = all tiles of a rank at once)",
                o.max_batch_size, 0,
                std::numeric_limits<index_t>::max(), "B");
  table.integer("--threads", "OpenMP threads per rank (0 = all cores)", o.threads, 0, 4096, "T");
  table.integer("--seed", "noise seed (operator i draws from stream i of it)", o.seed, 0,
                std::numeric_limits<index_t>::max(), "S");
  table.text("--output-dir", "DIR", "where result.json and the PNG images go (created)", o.output_dir);
  table.text("--checkpoint", "PATH",
             "checkpoint file, resumed from when it exists (PATH.rank<r> per rank with several ranks)", o.checkpoint);
  table.integer("--checkpoint-every", "write the checkpoint every K iterations (0 = never)", o.checkpoint_every, 0,
                std::numeric_limits<index_t>::max(), "K");
  table.flag("--quiet", "no progress lines (default: every iteration on a terminal, every 5 s otherwise)", o.quiet);
  table.number("--progress-timeout",
               "abort the run (exit 124, every rank) when a rank makes no progress (an iteration, a collective\n"
               "call) for this many seconds, naming the rank; 0 = off",
               o.progress_timeout, 0.0, 1e9, "SECONDS");
  table.add_check([&o, &table] { validate_common(o, table); });
}

/// The options that only one or two of the PnP algorithms read: given with another --algorithm they would be
/// ignored, so they are refused.
struct AlgorithmOption {
  const char* name;
  std::vector<std::string> algorithms;
};
inline const std::vector<AlgorithmOption>& algorithm_options() {
  static const std::vector<AlgorithmOption> options{
      {"--step", {"pgd"}},           {"--step-factor", {"pgd"}},          {"--relaxation", {"pgd"}},
      {"--damping", {"pgd"}},        {"--sigma-start", {"hqs"}},          {"--schedule-iterations", {"hqs"}},
      {"--data-weight", {"hqs"}},    {"--penalty", {"admm"}},             {"--cg-iterations", {"hqs", "admm"}},
      {"--cg-tolerance", {"hqs", "admm"}}};
  return options;
}

/// Checks the combinations the table cannot check option by option; `table` has parsed the command line.
/// Registered by add_common_options: table.parse() runs it, so these refusals are option errors (exit 2).
template <std::size_t Dim>
void validate_common(const CommonOptions<Dim>& o, const OptionTable& table) {
  for (const AlgorithmOption& option : algorithm_options()) {
    const bool applies =
        std::find(option.algorithms.begin(), option.algorithms.end(), o.algorithm) != option.algorithms.end();
    pnpdist::require(applies || !table.given(option.name), [&] {
      std::string which;
      for (const std::string& a : option.algorithms) which += (which.empty() ? "" : " or ") + a;
      return std::string(option.name) + " applies to --algorithm " + which + " only, not to --algorithm " +
             o.algorithm + (table.given("--algorithm") ? std::string() : std::string(", the default")) +
             " (see --help)";
    });
  }
  const bool tiled = std::any_of(o.patch_size.begin(), o.patch_size.end(), [](index_t p) { return p > 0; });
  const bool whole = std::all_of(o.patch_size.begin(), o.patch_size.end(), [](index_t p) { return p == 0; });
  pnpdist::require(tiled == !whole, "--patch-size: give 0 (whole image) or a positive size on every axis");
  pnpdist::require(!o.distribute_denoiser || tiled,
                   "--distribute-denoiser 1 needs tiles: give --patch-size > 0 (for example 448 or 8,256,256)");
  for (std::size_t d = 0; d < Dim; ++d)
    pnpdist::require(!tiled || o.overlap[d] <= o.patch_size[d], [&] {
      return "--overlap " + std::to_string(o.overlap[d]) + " exceeds --patch-size " + std::to_string(o.patch_size[d]) +
             " on axis " + std::to_string(d);
    });
  pnpdist::require(o.checkpoint_every == 0 || !o.checkpoint.empty(), "--checkpoint-every needs --checkpoint PATH");
  pnpdist::require(o.denoiser_window.size() == 2 && o.denoiser_window[0] < o.denoiser_window[1], [&] {
    return "--denoiser-window takes LOW,HIGH with LOW < HIGH, got " + std::to_string(o.denoiser_window.size()) +
           " value(s)" +
           (o.denoiser_window.size() == 2 ? " " + number_text(o.denoiser_window[0]) + "," +
                                                number_text(o.denoiser_window[1])
                                          : std::string());
  });
  std::vector<const char*> drunet_only{"--weights", "--equivariant", "--denoiser-window"};
  if constexpr (Dim == 3) drunet_only.push_back("--slice-axes");
  for (const char* option : drunet_only)
    pnpdist::require(o.denoiser == "drunet" || !table.given(option), [&] {
      return std::string(option) + " applies to --denoiser drunet only, not to --denoiser " + o.denoiser;
    });
  pnpdist::require(o.denoiser == "tv" || !table.given("--tv-iterations"),
                   "--tv-iterations applies to --denoiser tv only (the PnP-TV baseline: --baseline-tv-iterations)");
  pnpdist::require(o.step == "auto" || !table.given("--step-factor"),
                   "--step-factor applies to --step auto only; give one of --step X and --step-factor F");
}

}  // namespace pnpdist_examples
