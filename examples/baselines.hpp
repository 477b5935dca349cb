#pragma once
// The classical baselines the benchmark examples compute beside PnP, on the same measurements
// (docs/examples.md, "Baselines"):
//
//   CT (tomography_2d, tomography_3d): FBP / FDK with the Ram-Lak and the Hann filter; SIRT and CGLS from
//       zeros, stopped by the discrepancy principle (the first iteration with ||A x - y|| <= tau * noise *
//       sqrt(M), M the number of measured values; at most --baseline-max-iterations); PnP-TV (the
//       proximal-gradient PnP step with the TV denoiser, step 0.99 / ||A||^2, TV weight gamma * lambda: proximal
//       gradient on 1/2 ||A x - y||^2 + lambda TV(x), written out here) from the Ram-Lak FBP / FDK.
//   Deblurring (highres_deblur): the closed-form Tikhonov (mu ||x||^2) and gradient-regularised (nu ||D x||^2,
//       Wiener-like) inverses of the stack of circular blurs, mu and nu chosen by generalised cross-validation
//       (--baseline-rule gcv, the default) or the discrepancy principle (||A x - y|| = tau * noise * sqrt(M));
//       PnP-TV from the Tikhonov solution.
//
// None of the rules looks at the truth: the iteration counts and regularisation weights follow from the
// noise level (--noise) alone; the TV weight lambda is a per-example default chosen on a validation problem
// that is not the reported one (docs/examples.md says which). Rank 0 computes the baselines on the whole
// problem (every operator, every measurement) while the other ranks wait; they are not part of the PnP
// timings: the examples move their program start by the time the baselines took.

#include "pnp_example_support.hpp"

#include <pnpdist/physics/blur/regularized_inverse.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace pnpdist_examples {

/// The baseline options (--baselines ...), registered by add_baseline_options.
struct BaselineOptions {
  bool enabled = true;
  double tau = 1.05;                 // discrepancy principle: ||A x - y|| <= tau * noise * sqrt(M)
  index_t max_iterations = 500;      // SIRT / CGLS
  double tv_weight = 0.01;           // lambda of PnP-TV (per example default, see main())
  index_t tv_iterations = 100;       // PnP-TV iterations
  index_t tv_inner_iterations = 50;  // Chambolle iterations of its TV denoiser
  std::string rule = "gcv";          // deblurring: how mu and nu are chosen (gcv or discrepancy)
};

inline void add_baseline_options(OptionTable& table, BaselineOptions& b, bool iterative) {
  table.boolean("--baselines", "1: compute the classical baselines beside PnP (result.json \"baselines\"); 0: skip",
                b.enabled);
  table.number("--baseline-tau", "discrepancy principle: stop / choose at ||A x - y|| = tau * noise * sqrt(M)", b.tau,
               0.1, 10.0, "TAU");
  if (iterative)
    table.integer("--baseline-max-iterations", "at most this many SIRT / CGLS iterations", b.max_iterations, 1);
  else
    table.choice("--baseline-rule",
                 "how the closed-form inverses choose their weight: generalised cross-validation or the\n"
                 "discrepancy principle (with --noise and --baseline-tau)",
                 b.rule, {"gcv", "discrepancy"});
  table.number("--baseline-tv-weight", "lambda of the PnP-TV baseline (1/2 ||A x - y||^2 + lambda TV(x))", b.tv_weight,
               0.0, 1e30, "L");
  table.integer("--baseline-tv-iterations", "iterations of the PnP-TV baseline", b.tv_iterations, 0);
}

/// One baseline's outcome (an entry of result.json's "baselines").
struct BaselineResult {
  std::string name;
  double psnr = std::numeric_limits<double>::quiet_NaN();
  double ssim = std::numeric_limits<double>::quiet_NaN();
  double seconds = 0;
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();
  std::string image;  // file name in the output directory
};

/// result.json's "baselines": {"name", "psnr", "ssim", "seconds", "image", "parameters"} per baseline.
inline nlohmann::ordered_json baselines_json(const std::vector<BaselineResult>& results) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const BaselineResult& r : results)
    out.push_back({{"name", r.name},
                   {"psnr", r.psnr},
                   {"ssim", r.ssim},
                   {"seconds", r.seconds},
                   {"image", r.image},
                   {"parameters", r.parameters}});
  return out;
}

/// Measures, saves (baseline_<name>.png) and collects the baselines of one run (rank 0).
template <std::size_t R>
class BaselineRecorder {
public:
  BaselineRecorder(const Exec& exec, std::optional<pnpdist::View<const float, R>> truth, double data_range,
                   std::string output_dir, bool quiet)
      : exec_(exec), truth_(truth), range_(data_range), dir_(std::move(output_dir)), quiet_(quiet) {}

  void add(const std::string& name, const pnpdist::View<const float, R>& x, double seconds,
           nlohmann::ordered_json parameters) {
    BaselineResult r;
    r.name = name;
    r.seconds = seconds;
    r.parameters = std::move(parameters);
    if (truth_) {
      pnpdist::IterationRecord record;
      pnpdist::observe::ground_truth(*truth_, range_).measure(exec_, record, x);
      r.psnr = record.psnr;
      r.ssim = record.ssim;
    }
    std::filesystem::create_directories(dir_);
    r.image = save_png(exec_, dir_, "baseline_" + name + ".png", x, 0.0, range_);
    if (!quiet_)
      std::printf("baseline %-16s PSNR %6.2f dB  SSIM %.3f  %7.2f s  %s\n", name.c_str(), r.psnr, r.ssim, seconds,
                  r.parameters.dump().c_str());
    std::fflush(stdout);
    results_.push_back(std::move(r));
  }

  [[nodiscard]] const std::vector<BaselineResult>& results() const { return results_; }
  [[nodiscard]] bool quiet() const { return quiet_; }

private:
  Exec exec_;
  std::optional<pnpdist::View<const float, R>> truth_;
  double range_;
  std::string dir_;
  bool quiet_;
  std::vector<BaselineResult> results_;
};

/// Runs compute() on rank 0 when the baselines are enabled (every rank waits for it), and returns the JSON
/// list for result.json (null when disabled) and the seconds spent, by which the caller moves its program
/// start (the baselines are not part of the setup or PnP timings).
struct BaselineRun {
  nlohmann::ordered_json json;
  double seconds = 0;
};

inline BaselineRun run_baselines(const World& world, bool enabled,
                                 const std::function<std::vector<BaselineResult>()>& compute) {
  BaselineRun run;
  if (!enabled) return run;
  const auto start = Clock::now();
  if (world.rank() == 0) run.json = baselines_json(compute());
  world.barrier();
  run.seconds = seconds_since(start);
  return run;
}

/// The stopping threshold of the discrepancy principle, tau * noise * sqrt(M) (0: no early stop).
inline double discrepancy_threshold(double tau, double noise, index_t measurements) {
  return tau * noise * std::sqrt(static_cast<double>(measurements));
}

inline nlohmann::ordered_json iterative_parameters(const BaselineOptions& b, double noise, double threshold,
                                                   index_t iterations, bool reached, double residual) {
  return {{"rule", "discrepancy"},
          {"tau", b.tau},
          {"noise", noise},
          {"threshold", threshold},
          {"residual", residual},
          {"iterations", iterations},
          {"max_iterations", b.max_iterations},
          {"stopped_by", reached ? "discrepancy" : "max_iterations"}};
}

/// PnP-TV on `physics` from x0: PnPSolver's proximal-gradient iteration x+ = TV(x - gamma grad f(x); gamma
/// lambda) with gamma = 0.99 / ||A||^2 (power method, solvers/step_size.hpp), the TV denoiser (Chambolle) on
/// images of rank PriorRank; progress lines labelled "baseline pnp_tv" unless `quiet`.
template <std::size_t PriorRank, std::size_t R, class Physics>
pnpdist::Tensor<float, R> pnp_tv(const Exec& exec, const Physics& physics, const pnpdist::Tensor<float, R>& x0,
                                 const BaselineOptions& b, double& step, bool quiet) {
  step = pnpdist::automatic_step(physics);
  pnpdist::TVDenoiser<float, PriorRank, Exec> tv(exec, static_cast<int>(b.tv_inner_iterations), 1.0f);
  pnpdist::ProximalGradient pgd;
  pgd.step = step;
  pgd.sigma = step * b.tv_weight;
  pnpdist::PnPOptions options;
  options.max_iterations = b.tv_iterations;
  options.record_data_fidelity = false;
  auto result = pnpdist::PnPSolver(tv, options, pgd)
                    .solve(physics, pnpdist::init::given(x0.const_view()),
                           pnpdist::observe::progress(!quiet).labelled("baseline pnp_tv"));
  return std::move(result.x);
}

inline nlohmann::ordered_json tv_parameters(const BaselineOptions& b, double step, const std::string& init) {
  return {{"lambda", b.tv_weight},
          {"step", step},
          {"denoiser_sigma", step * b.tv_weight},
          {"iterations", b.tv_iterations},
          {"chambolle_iterations", b.tv_inner_iterations},
          {"init", init}};
}

/// The CT baselines (2D or 3D) on the whole problem: one projector over every view of `geometry`, `y` every
/// measurement (its range shape), `reconstruct(filter)` the FBP / FDK of y. `fbp_name` is "fbp" or "fdk".
template <class Projector, std::size_t R, class Geometry, class Reconstruct>
std::vector<BaselineResult> ct_baselines(const Exec& exec, const Geometry& geometry,
                                         const pnpdist::Tensor<float, Projector::range_rank>& y, double noise,
                                         const BaselineOptions& b, const std::string& fbp_name,
                                         Reconstruct&& reconstruct, BaselineRecorder<R>& recorder) {
  namespace ct = pnpdist::ct;
  std::vector<Projector> one;
  one.emplace_back(exec, geometry);
  pnpdist::StackedPhysics<Projector> physics(std::move(one));
  const Projector& projector = physics.op(0);
  pnpdist::Tensor<float, R> ram_lak;
  for (const auto& [filter, name] : {std::pair{ct::Filter::ram_lak, "ram_lak"}, std::pair{ct::Filter::hann, "hann"}}) {
    const auto start = Clock::now();
    pnpdist::Tensor<float, R> x = reconstruct(filter);
    const double seconds = seconds_since(start);
    recorder.add(fbp_name + "_" + name, x.const_view(), seconds, nlohmann::ordered_json{{"filter", name}});
    if (filter == ct::Filter::ram_lak) ram_lak = std::move(x);
  }
  const double threshold = discrepancy_threshold(b.tau, noise, y.size());
  {
    const auto start = Clock::now();
    pnpdist::SirtOptions options;
    options.iterations = b.max_iterations;
    options.stop_residual = threshold;
    const auto result = pnpdist::sirt(projector, y.const_view(), options);
    const double seconds = seconds_since(start);
    recorder.add("sirt", result.x.const_view(), seconds,
                 iterative_parameters(b, noise, threshold, result.iterations, result.reached_stop_residual,
                                      result.residual_norms.back()));
  }
  {
    const auto start = Clock::now();
    pnpdist::CglsOptions options;
    options.iterations = b.max_iterations;
    options.stop_residual = threshold;
    const auto result = pnpdist::cgls(projector, y.const_view(), options);
    const double seconds = seconds_since(start);
    recorder.add("cgls", result.x.const_view(), seconds,
                 iterative_parameters(b, noise, threshold, result.iterations, result.reached_stop_residual,
                                      result.residual_norms.back()));
  }
  if (b.tv_iterations > 0) {
    const auto start = Clock::now();
    std::vector<pnpdist::Tensor<float, Projector::range_rank>> measurement;
    measurement.push_back(pnpdist::clone(y.const_view()));
    physics.set_measurements(std::move(measurement));
    double step = 0;
    const pnpdist::Tensor<float, R> x = pnp_tv<R + 2>(exec, physics, ram_lak, b, step, recorder.quiet());
    const double seconds = seconds_since(start);
    recorder.add("pnp_tv", x.const_view(), seconds, tv_parameters(b, step, fbp_name + "_ram_lak"));
  }
  return recorder.results();
}

/// The deblurring baselines on the whole stack of circular blurs (every blur with its measurement).
inline std::vector<BaselineResult> deblur_baselines(const Exec& exec,
                                                    const pnpdist::StackedPhysics<pnpdist::blur::FftBlur<Exec>>& stack,
                                                    double noise,
                                                    const std::optional<pnpdist::ClippedGaussianNoise>& clipping,
                                                    const BaselineOptions& b, BaselineRecorder<4>& recorder) {
  namespace blur = pnpdist::blur;
  const auto setup_start = Clock::now();
  const blur::FourierRegularizedInverse<Exec> inverse(stack);
  const double setup = seconds_since(setup_start);  // S and B: charged to both closed forms
  const double target = discrepancy_threshold(b.tau, noise, inverse.measurement_count());
  pnpdist::Tensor<float, 4> tikhonov(stack.domain_shape());
  for (const bool gradient : {false, true}) {
    const auto start = Clock::now();
    pnpdist::Tensor<float, 4> x(stack.domain_shape());
    blur::DiscrepancyChoice choice;
    std::string rule = b.rule;
    nlohmann::ordered_json gcv_figures = nlohmann::ordered_json::object();
    if (rule == "gcv") {
      const blur::GcvChoice gcv = blur::choose_by_gcv(inverse, gradient ? 0.0 : 1.0, gradient ? 1.0 : 0.0, x.view());
      choice = gcv;
      gcv_figures = {{"gcv", gcv.gcv}, {"trace", gcv.trace}};
    } else if (target > 0) {
      choice = blur::choose_by_discrepancy(inverse, gradient ? 0.0 : 1.0, gradient ? 1.0 : 0.0, target, x.view());
    } else {  // no noise: a small fixed weight
      rule = "fixed (noise 0)";
      choice.t = 1e-6;
      inverse.solve(gradient ? 0.0 : choice.t, gradient ? choice.t : 0.0, x.view());
      choice.residual = std::sqrt(inverse.residual_squared(x.const_view()));
    }
    const double seconds = setup + seconds_since(start);
    nlohmann::ordered_json parameters = {
        {"rule", rule}, {"tau", b.tau}, {"noise", noise}, {"target", target}, {gradient ? "nu" : "mu", choice.t},
        {"residual", choice.residual}};
    parameters.update(gcv_figures);
    parameters["solves"] = choice.evaluations;
    recorder.add(gradient ? "wiener_gradient" : "tikhonov", x.const_view(), seconds, std::move(parameters));
    if (!gradient) tikhonov = std::move(x);
  }
  if (b.tv_iterations > 0) {
    const auto start = Clock::now();
    double step = 0;
    const pnpdist::Tensor<float, 4> x =
        clipping ? pnp_tv<4>(exec, blur::ClippedBlurStack<Exec>(stack, *clipping), tikhonov, b, step, recorder.quiet())
                 : pnp_tv<4>(exec, blur::CircularBlurStack<Exec>(stack), tikhonov, b, step, recorder.quiet());
    const double seconds = seconds_since(start);
    recorder.add("pnp_tv", x.const_view(), seconds, tv_parameters(b, step, "tikhonov"));
  }
  return recorder.results();
}

}  // namespace pnpdist_examples
