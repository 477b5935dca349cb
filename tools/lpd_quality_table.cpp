// Quality of learned primal-dual on held-out ellipse phantoms against FBP, TV and PnP-DRUNet (issue 17's
// quality benchmark; docs/learned.md, "Quality on held-out phantoms").
//
// The shipped LPDs (weights/lpd_ellipses_fbp.safetensors, lpd_ellipses.safetensors) were trained for
// ellipse_geometry(128, 30): 128 x 128 unit pixels, 30 parallel views over [0, pi), data g = s A x + noise of
// the scaled projector (s = 1 / ||A||, power method) with 5% Gaussian noise relative to the mean absolute data. Every method sees the same noisy
// data of the same phantoms (ellipse_sample, data seed 0): LPD the scaled data g, the classical methods the
// data of the unscaled projector, y = g / s, whose noise standard deviation sigma_n is estimated from the
// noisy data alone as 0.05 mean |y| (the known relative noise level; no method looks at the truth).
//
//   FBP        Ram-Lak and Hann filters (physics/ct/fbp.hpp).
//   TV         the minimiser of 1/2 ||A x - y||^2 + lambda TV(x), lambda = c sigma_n, by ADMM (PnP-ADMM with
//              the TV denoiser, i.e. Chambolle's algorithm, as the exact proximal map of lambda / rho TV; data
//              step by 10 warm-started CG iterations), penalty rho = 10, 100 iterations, 200 Chambolle
//              iterations per proximal map, from the Ram-Lak FBP, on one thread (its 128 x 128 kernels are too
//              small to gain from threads). On validation phantom 0 (c = 2) this gives the minimiser's PSNR
//              to 0.01 dB (31.98 dB; 300 iterations: 31.97 dB), where proximal gradient (step 0.99 / ||A||^2)
//              is still 0.1 dB short after 2000 iterations (31.90 dB).
//   PnP-DRUNet the CT example's default algorithm (examples/tomography_2d.cpp): PnP-HQS, 8 iterations of the
//              DPIR schedule (sigma from 49/255 down to sigma_end; data weight lambda (sigma_n / sigma_k)^2,
//              CG data step of 10 iterations), from zeros, with the gray DRUNet, seen through an intensity
//              window [-W, W] (priors/intensity_window.hpp: DRUNet denoises (x + W) / 2W with sigma / 2W; W = 0:
//              DRUNet as it is). The phantoms' values have both signs and a range (max - min) of about 0.5-2
//              (test phantoms 0-11: 0.53-2.07), where DRUNet was trained on [0, 1] images: the window is worth
//              6 dB on the validation phantoms.
//   LPD        one forward pass of the weights of --lpd (default: the shipped weights/lpd_ellipses_fbp.safetensors),
//              whose architecture is read from the file's tensor shapes and whose initial primal (zero or the
//              Ram-Lak FBP) from its metadata (learned/lpd_weights_info.hpp); weights trained for another geometry
//              than ellipse_geometry(128, 30) are refused.
//   LPD, self-ensemble (--self-ensemble 1): the mean over the 8 symmetries T of the square of T^-1 LPD(S_T g)
//              (learned/dihedral_ensemble.hpp: S_T, what T does to the sinogram, is found numerically); 8 passes.
//              Reported beside the plain LPD on the validation phantoms, and as its own row on the test phantoms.
//
// c (TV) and (W, sigma_end, data weight) (PnP-DRUNet) are chosen on the validation phantoms (validation split,
// indices 0 .. M-1; the grids and their mean PSNRs are printed); the table reports the test phantoms (test
// split, indices 0 .. N-1). PSNR and SSIM use each phantom's own range (max - min) as the data range
// (docs/learned.md). Times: wall seconds per reconstruction on the given threads.
//
//   cmake --build BUILD --target lpd_quality_table
//   OMP_WAIT_POLICY=passive BUILD/tests/learned/lpd_quality_table --test 32 --validation 8 --threads 2
//       --json lpd_quality.json
//
// (OMP_WAIT_POLICY=passive: on a machine busy with other work, spinning OpenMP threads slow every parallel
// region down many times.)
//
// --help lists the options (grids, iteration counts, the weights); they are parsed by the examples' OptionTable
// (examples/example_options.hpp): a bad value or an unknown option exits with status 2, naming it.
#include <pnpdist/backend/openmp.hpp>
#include <pnpdist/learned/lpd_reconstructor.hpp>
#include <pnpdist/learned/lpd_training.hpp>
#include <pnpdist/learned/lpd_weights_info.hpp>
#include <pnpdist/metrics/ssim.hpp>
#include <pnpdist/nn/nn.hpp>
#include <pnpdist/operators/operator_ref.hpp>
#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/physics/ct/fbp.hpp>
#include <pnpdist/physics/ct/projector.hpp>
#include <pnpdist/priors/intensity_window.hpp>
#include <pnpdist/priors/tv_denoiser.hpp>
#include <pnpdist/solvers/admm.hpp>
#include <pnpdist/solvers/half_quadratic_splitting.hpp>
#include <pnpdist/solvers/pnp_solver.hpp>

#include <nlohmann/json.hpp>

#include "example_options.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using pnpdist::index_t;
using pnpdist::Tensor;
namespace ct = pnpdist::ct;
namespace learned = pnpdist::learned;

#ifndef PNPDIST_WEIGHTS_DIR
#define PNPDIST_WEIGHTS_DIR "weights"
#endif

namespace {

using Exec = pnpdist::OpenMP;
using Projector = ct::JosephProjector2D<float, Exec>;
using SerialProjector = ct::JosephProjector2D<float, pnpdist::Serial>;
using Clock = std::chrono::steady_clock;

struct Options {
  index_t test = 32, validation = 8, threads = 2;
  std::string json = "lpd_quality.json";
  std::string weights_dir = PNPDIST_WEIGHTS_DIR;
  std::string lpd;  // empty: lpd_ellipses_fbp.safetensors in weights_dir
  std::string drunet = "drunet_gray.safetensors";
  index_t tv_iterations = 100, tv_inner = 200;
  double tv_penalty = 10;
  std::vector<double> tv_grid{2, 3, 4, 5, 6, 8};
  std::vector<double> hqs_sigma_grid{0.01, 0.02, 0.04, 0.06, 0.1, 0.15};
  std::vector<double> hqs_weight_grid{0.05, 0.1, 0.2, 0.4, 0.8, 1.6};
  std::vector<double> hqs_window_grid{0, 0.5, 1, 2};
  index_t hqs_iterations = 8;
  index_t self_ensemble = 0;
};

/// The options, registered in `table` (examples/example_options.hpp: --help, --options-json, exit 2 on bad input).
Options parse(int argc, char** argv) {
  Options o;
  pnpdist_examples::OptionTable table(
      "lpd_quality_table: learned primal-dual against FBP, TV and PnP-DRUNet on held-out ellipse phantoms of\n"
      "ellipse_geometry(128, 30), 5% noise; parameters tuned on the validation split, reported on the test split");
  table.integer("--test", "test phantoms (test split, indices 0 .. N-1)", o.test, 1);
  table.integer("--validation", "validation phantoms (validation split, 0 .. M-1)", o.validation, 1, 1000000, "M");
  table.integer("--threads", "OpenMP threads", o.threads, 1, 1024, "T");
  table.text("--json", "PATH", "the JSON output", o.json);
  table.text("--weights-dir", "DIR", "folder of the default LPD weights and of the DRUNet file", o.weights_dir);
  table.text("--lpd", "FILE", "LPD weights (architecture from the tensor shapes, initial primal from the metadata;\n"
             "trained for ellipse_geometry(128, 30)); none: lpd_ellipses_fbp.safetensors in --weights-dir", o.lpd);
  table.text("--drunet", "FILE", "DRUNet weights in --weights-dir", o.drunet);
  table.integer("--tv-iterations", "ADMM iterations of TV", o.tv_iterations, 1);
  table.integer("--tv-inner", "Chambolle iterations of each TV proximal map", o.tv_inner, 1);
  table.number("--tv-penalty", "ADMM penalty of TV (speed only: the same minimiser)", o.tv_penalty, 1e-6, 1e6, "RHO");
  table.number_list("--tv-grid", "c of the TV weight lambda = c sigma_n", o.tv_grid, 1e-6);
  table.integer("--hqs-iterations", "PnP-HQS iterations (the DPIR schedule's length)", o.hqs_iterations, 1);
  table.number_list("--hqs-sigma-grid", "sigma_end of PnP-HQS", o.hqs_sigma_grid, 1e-6);
  table.number_list("--hqs-weight-grid", "data weight lambda of PnP-HQS", o.hqs_weight_grid, 1e-6);
  table.number_list("--hqs-window-grid", "half-width W of DRUNet's intensity window [-W, W] (0: no window)",
                    o.hqs_window_grid, 0.0);
  table.integer("--self-ensemble", "1: also LPD averaged over the 8 symmetries of the square (8 passes)",
                o.self_ensemble, 0, 1, "0|1");
  table.parse(argc, argv);
  if (o.lpd.empty()) o.lpd = o.weights_dir + "/lpd_ellipses_fbp.safetensors";
  return o;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// One phantom with its data: the truth, the scaled data g (LPD's input), the unscaled data y = g / s and
/// sigma_n = 0.05 mean |y| (the classical methods' noise level).
struct Sample {
  std::string split;
  index_t index = 0;
  Tensor<float, 2> truth, g, y;
  double noise = 0, range = 1;
};

/// PSNR and SSIM of x against the sample's truth with the phantom's range as the data range.
struct Score {
  double psnr = 0, ssim = 0, seconds = 0;
};

Score score(const Exec& exec, const Sample& s, const Tensor<float, 2>& x, double seconds) {
  Score r;
  r.psnr = learned::range_psnr<float>(s.truth.size(), x.data(), s.truth.data());
  r.ssim = pnpdist::ssim(exec, x.const_view(), s.truth.const_view(), s.range);
  r.seconds = seconds;
  return r;
}

class Methods {
public:
  Methods(const Exec& exec, const Options& o)
      : exec_(exec),
        o_(o),
        geometry_(learned::ellipse_geometry(128, 30)),
        projector_(ct::make_projector<float>(exec, geometry_)),
        serial_projector_(ct::make_projector<float>(pnpdist::Serial{}, geometry_)),
        lpd_(exec, projector_, learned::inverse_operator_norm(projector_), geometry_,
             checked_lpd_weights(o, geometry_)),
        drunet_(load_drunet(exec, o.weights_dir + "/" + o.drunet), 0.0, 1.0) {}

  [[nodiscard]] const learned::LpdWeightsInfo& lpd_info() const { return lpd_.weights(); }

  [[nodiscard]] double scale() const { return layer().scale(); }
  [[nodiscard]] const ct::Geometry2D& geometry() const { return geometry_; }

  Sample sample(learned::DataSplit split, index_t index) const {
    Sample s;
    s.split = split == learned::DataSplit::test ? "test" : "validation";
    s.index = index;
    s.truth = Tensor<float, 2>(layer().image_shape());
    s.g = Tensor<float, 2>(layer().sinogram_shape());
    s.y = Tensor<float, 2>(layer().sinogram_shape());
    learned::ellipse_sample(exec_, layer(), learned::EllipseDataOptions{}, split, static_cast<std::uint64_t>(index),
                            s.truth.data(), s.g.data());
    double mean_abs = 0;
    for (index_t i = 0; i < s.g.size(); ++i) {
      s.y.data()[i] = s.g.data()[i] / layer().scale();
      mean_abs += std::abs(static_cast<double>(s.y.data()[i]));
    }
    s.noise = learned::EllipseDataOptions{}.noise * mean_abs / static_cast<double>(s.y.size());
    const auto [lo, hi] = std::minmax_element(s.truth.data(), s.truth.data() + s.truth.size());
    s.range = *hi > *lo ? static_cast<double>(*hi - *lo) : 1.0;
    return s;
  }

  Tensor<float, 2> fbp(const Sample& s, ct::Filter filter) const {
    Tensor<float, 2> x(layer().image_shape());
    ct::fbp<float>(exec_, geometry_, s.y.const_view(), x.view(), filter);
    return x;
  }

  /// argmin 1/2 ||A x - y||^2 + c sigma_n TV(x) by ADMM from the Ram-Lak FBP (one thread).
  Tensor<float, 2> tv(const Sample& s, double c) const {
    pnpdist::TVDenoiser<float, 4, pnpdist::Serial> prox(pnpdist::Serial{}, static_cast<int>(o_.tv_inner), 1.0f);
    pnpdist::ADMM admm;
    admm.penalty = o_.tv_penalty;
    admm.sigma = c * s.noise / o_.tv_penalty;  // the TV weight of the proximal map: lambda / rho
    pnpdist::PnPOptions options;
    options.max_iterations = o_.tv_iterations;
    options.record_data_fidelity = false;
    const Tensor<float, 2> x0 = fbp(s, ct::Filter::ram_lak);
    auto result = pnpdist::PnPSolver(prox, options, admm)
                      .solve(physics(serial_projector_, s), pnpdist::init::given(x0.const_view()));
    return std::move(result.x);
  }

  /// PnP-HQS with DRUNet through the window [-W, W] (W = 0: none; the DPIR schedule down to sigma_end, data weight
  /// lambda) from zeros.
  Tensor<float, 2> hqs(const Sample& s, double window, double sigma_end, double data_weight) {
    pnpdist::HalfQuadraticSplitting hqs;
    hqs.sigma_end = sigma_end;
    hqs.schedule_iterations = o_.hqs_iterations;
    hqs.noise_level = s.noise;
    hqs.data_weight = data_weight;
    pnpdist::PnPOptions options;
    options.max_iterations = o_.hqs_iterations;
    options.record_data_fidelity = false;
    if (window == 0)
      return pnpdist::PnPSolver(drunet_.base(), options, hqs).solve(physics(projector_, s), pnpdist::init::zeros).x;
    drunet_.set_window(-window, window);
    return pnpdist::PnPSolver(drunet_, options, hqs).solve(physics(projector_, s), pnpdist::init::zeros).x;
  }

  /// LPD of the sample's g, or its self-ensemble (the geometry's symmetries found on first use).
  Tensor<float, 2> lpd(const Sample& s, bool self_ensemble = false) {
    Tensor<float, 2> x(layer().image_shape());
    lpd_.reconstruct_scaled(exec_, 1, s.g.data(), x.data(), self_ensemble);
    return x;
  }

private:
  /// The weights of --lpd, refused unless trained for this table's geometry.
  static learned::LpdWeightsInfo checked_lpd_weights(const Options& o, const ct::Geometry2D& geometry) {
    learned::LpdWeightsInfo info = learned::read_lpd_weights_info(o.lpd, "--lpd " + o.lpd);
    pnpdist::require(learned::same_geometry(info.training_geometry, geometry), [&] {
      return "--lpd " + o.lpd + ": trained for " + learned::describe_geometry(info.training_geometry) +
             ", not for this table's ellipse_geometry(128, 30)";
    });
    return info;
  }

  [[nodiscard]] const learned::ProjectorLayer<Projector>& layer() const { return lpd_.layer(); }

  static pnpdist::nn::DRUNet<2, float, Exec> load_drunet(const Exec& exec, const std::string& path) {
    return pnpdist::nn::DRUNet<2, float, Exec>(
        pnpdist::nn::load_drunet_weights<float, 2>(path, pnpdist::nn::infer_drunet_config(path)), exec);
  }

  /// 1/2 ||A x - y||^2 with the unscaled projector (referenced, not copied) and the sample's y.
  template <class P>
  static pnpdist::StackedPhysics<pnpdist::OperatorRef<P>> physics(const P& projector, const Sample& s) {
    std::vector<pnpdist::OperatorRef<P>> one{pnpdist::operator_ref(projector)};
    std::vector<Tensor<float, 2>> measurement;
    measurement.push_back(pnpdist::clone(s.y.const_view()));
    return pnpdist::StackedPhysics<pnpdist::OperatorRef<P>>(std::move(one), std::move(measurement));
  }

  Exec exec_;
  Options o_;
  ct::Geometry2D geometry_;
  Projector projector_;
  SerialProjector serial_projector_;
  learned::LpdReconstructor<Projector> lpd_;
  pnpdist::IntensityWindowDenoiser<pnpdist::nn::DRUNet<2, float, Exec>> drunet_;
};

/// Runs `reconstruct` on every sample and returns the scores.
std::vector<Score> run_all(const Exec& exec, const std::vector<Sample>& samples,
                           const std::function<Tensor<float, 2>(const Sample&)>& reconstruct) {
  std::vector<Score> scores;
  for (const Sample& s : samples) {
    const auto start = Clock::now();
    const Tensor<float, 2> x = reconstruct(s);
    scores.push_back(score(exec, s, x, seconds_since(start)));
  }
  return scores;
}

double mean(const std::vector<Score>& scores, double Score::*field) {
  double sum = 0;
  for (const Score& s : scores) sum += s.*field;
  return sum / static_cast<double>(scores.size());
}

int run(const Options& o) {
  std::ofstream file(o.json);  // opened first: an unwritable path fails before any work
  if (!file) throw pnpdist::invalid_argument("--json: cannot write " + o.json);
  const Exec exec{static_cast<int>(o.threads)};
  Methods methods(exec, o);
  std::vector<Sample> validation, test;
  for (index_t k = 0; k < o.validation; ++k) validation.push_back(methods.sample(learned::DataSplit::validation, k));
  for (index_t k = 0; k < o.test; ++k) test.push_back(methods.sample(learned::DataSplit::test, k));
  std::printf("ellipse_geometry(128, 30), 5%% noise, data seed 0; s = 1/||A|| = %.6g; %lld validation phantoms "
              "(validation split 0..%lld), %lld test phantoms (test split 0..%lld); %lld threads\n",
              methods.scale(), static_cast<long long>(o.validation), static_cast<long long>(o.validation - 1),
              static_cast<long long>(o.test), static_cast<long long>(o.test - 1), static_cast<long long>(o.threads));
  nlohmann::ordered_json json;
  json["setup"] = {{"geometry", "ellipse_geometry(128, 30): 128 x 128 unit pixels, 30 parallel views over [0, pi), "
                                "183 detector columns"},
                   {"noise", "5% of the mean absolute data (ellipse_sample, data seed 0)"},
                   {"operator_scale", methods.scale()},
                   {"validation", {{"split", "validation"}, {"indices", o.validation}}},
                   {"test", {{"split", "test"}, {"indices", o.test}}},
                   {"threads", o.threads},
                   {"psnr", "10 log10(range^2 / MSE), range = max - min of each phantom; SSIM with the same range"}};

  // Tuning on the validation phantoms.
  std::printf("\nTV on the validation phantoms (lambda = c sigma_n; ADMM, rho %g, %lld iterations, %lld Chambolle "
              "iterations):\n\n| c | mean PSNR (dB) |\n|---|---|\n",
              o.tv_penalty, static_cast<long long>(o.tv_iterations), static_cast<long long>(o.tv_inner));
  nlohmann::ordered_json tv_grid = nlohmann::ordered_json::array();
  double best_c = o.tv_grid.front(), best_tv = -1e300;
  for (const double c : o.tv_grid) {
    const double value =
        mean(run_all(exec, validation, [&](const Sample& s) { return methods.tv(s, c); }), &Score::psnr);
    std::printf("| %g | %.2f |\n", c, value);
    std::fflush(stdout);
    tv_grid.push_back({{"c", c}, {"mean_psnr", value}});
    if (value > best_tv) best_tv = value, best_c = c;
  }
  nlohmann::ordered_json hqs_grid = nlohmann::ordered_json::array();
  double best_window = o.hqs_window_grid.front(), best_sigma = o.hqs_sigma_grid.front();
  double best_weight = o.hqs_weight_grid.front(), best_hqs = -1e300;
  for (const double window : o.hqs_window_grid) {
    char name[64] = "none";
    if (window != 0) std::snprintf(name, sizeof name, "[-%g, %g]", window, window);
    std::printf("\nPnP-DRUNet (HQS) on the validation phantoms, intensity window %s (mean PSNR, dB; rows sigma_end, "
                "columns data weight):\n\n| sigma_end \\ data weight |",
                name);
    for (const double w : o.hqs_weight_grid) std::printf(" %g |", w);
    std::printf("\n|---|");
    for (std::size_t i = 0; i < o.hqs_weight_grid.size(); ++i) std::printf("---|");
    std::printf("\n");
    for (const double sigma : o.hqs_sigma_grid) {
      std::printf("| %g |", sigma);
      for (const double w : o.hqs_weight_grid) {
        const double value = mean(
            run_all(exec, validation, [&](const Sample& s) { return methods.hqs(s, window, sigma, w); }), &Score::psnr);
        std::printf(" %.2f |", value);
        std::fflush(stdout);
        hqs_grid.push_back({{"window", window}, {"sigma_end", sigma}, {"data_weight", w}, {"mean_psnr", value}});
        if (value > best_hqs) best_hqs = value, best_window = window, best_sigma = sigma, best_weight = w;
      }
      std::printf("\n");
    }
  }
  std::printf("\nchosen: TV c = %g (validation %.2f dB); PnP-DRUNet window W = %g, sigma_end = %g, data weight = %g "
              "(validation %.2f dB)\n",
              best_c, best_tv, best_window, best_sigma, best_weight, best_hqs);
  json["tuning"] = {{"tv", {{"grid", tv_grid}, {"chosen_c", best_c}, {"validation_mean_psnr", best_tv}}},
                    {"pnp_drunet", {{"grid", hqs_grid},
                                    {"chosen_window", best_window},
                                    {"chosen_sigma_end", best_sigma},
                                    {"chosen_data_weight", best_weight},
                                    {"validation_mean_psnr", best_hqs}}}};
  if (o.self_ensemble != 0) {
    const double plain = mean(run_all(exec, validation, [&](const Sample& s) { return methods.lpd(s); }), &Score::psnr);
    const double ensembled =
        mean(run_all(exec, validation, [&](const Sample& s) { return methods.lpd(s, true); }), &Score::psnr);
    std::printf("\nLPD on the validation phantoms: %.2f dB; self-ensemble: %.2f dB (%+.2f dB)\n", plain, ensembled,
                ensembled - plain);
    json["tuning"]["lpd_self_ensemble"] = {{"validation_mean_psnr_lpd", plain},
                                           {"validation_mean_psnr_self_ensemble", ensembled}};
  }

  // The test phantoms.
  struct Method {
    std::string name;
    nlohmann::ordered_json parameters;
    std::function<Tensor<float, 2>(const Sample&)> reconstruct;
  };
  std::vector<Method> list{
      {"fbp_ram_lak", {{"filter", "ram_lak"}}, [&](const Sample& s) { return methods.fbp(s, ct::Filter::ram_lak); }},
      {"fbp_hann", {{"filter", "hann"}}, [&](const Sample& s) { return methods.fbp(s, ct::Filter::hann); }},
      {"tv",
       {{"algorithm", "ADMM with the TV proximal map (Chambolle), from FBP (Ram-Lak), one thread"},
        {"lambda", "c sigma_n"},
        {"c", best_c},
        {"penalty", o.tv_penalty},
        {"iterations", o.tv_iterations},
        {"chambolle_iterations", o.tv_inner}},
       [&](const Sample& s) { return methods.tv(s, best_c); }},
      {"pnp_drunet",
       {{"algorithm", "PnP-HQS, DPIR schedule from 49/255, from zeros"},
        {"weights", o.drunet},
        {"iterations", o.hqs_iterations},
        {"window", best_window == 0 ? nlohmann::ordered_json(nullptr)
                                    : nlohmann::ordered_json::array({-best_window, best_window})},
        {"sigma_end", best_sigma},
        {"data_weight", best_weight},
        {"noise_level", "sigma_n"}},
       [&](const Sample& s) { return methods.hqs(s, best_window, best_sigma, best_weight); }},
      {"lpd",
       {{"weights", o.lpd},
        {"iterations", methods.lpd_info().config.iterations},
        {"width", methods.lpd_info().config.width},
        {"initial_primal", learned::to_string(methods.lpd_info().config.initial_primal)}},
       [&](const Sample& s) { return methods.lpd(s); }}};
  const std::size_t lpd_row = list.size() - 1;
  if (o.self_ensemble != 0)
    list.push_back({"lpd_self_ensemble",
                    {{"weights", o.lpd}, {"transforms", "the 8 symmetries of the square"}},
                    [&](const Sample& s) { return methods.lpd(s, true); }});
  std::vector<std::vector<Score>> scores;
  nlohmann::ordered_json results = nlohmann::ordered_json::object();
  for (const Method& m : list) {
    scores.push_back(run_all(exec, test, m.reconstruct));
    const std::vector<Score>& sc = scores.back();
    nlohmann::ordered_json psnr = nlohmann::ordered_json::array(), ssim = psnr, seconds = psnr;
    for (const Score& s : sc) {
      psnr.push_back(s.psnr);
      ssim.push_back(s.ssim);
      seconds.push_back(s.seconds);
    }
    results[m.name] = {{"parameters", m.parameters},
                       {"mean_psnr", mean(sc, &Score::psnr)},
                       {"mean_ssim", mean(sc, &Score::ssim)},
                       {"mean_seconds", mean(sc, &Score::seconds)},
                       {"psnr", psnr},
                       {"ssim", ssim},
                       {"seconds", seconds}};
    std::fflush(stdout);
    std::fprintf(stderr, "test phantoms, %s: mean PSNR %.2f dB\n", m.name.c_str(), mean(sc, &Score::psnr));
  }
  json["methods"] = results;

  const double fbp_seconds = mean(scores[0], &Score::seconds), tv_psnr = mean(scores[2], &Score::psnr);
  std::printf("\nTest phantoms (test split 0..%lld), means:\n\n"
              "| method | PSNR (dB) | vs TV (dB) | SSIM | seconds per reconstruction | time / FBP (Ram-Lak) |\n"
              "|---|---|---|---|---|---|\n",
              static_cast<long long>(o.test - 1));
  for (std::size_t m = 0; m < list.size(); ++m) {
    const double p = mean(scores[m], &Score::psnr), t = mean(scores[m], &Score::seconds);
    std::printf("| %s | %.2f | %+.2f | %.3f | %.3g | %.3g |\n", list[m].name.c_str(), p, p - tv_psnr,
                mean(scores[m], &Score::ssim), t, t / fbp_seconds);
  }
  std::printf("\nPer test phantom, PSNR (dB) / SSIM:\n\n| phantom |");
  for (const Method& m : list) std::printf(" %s |", m.name.c_str());
  std::printf("\n|---|");
  for (std::size_t m = 0; m < list.size(); ++m) std::printf("---|");
  std::printf("\n");
  for (std::size_t k = 0; k < test.size(); ++k) {
    std::printf("| test %lld |", static_cast<long long>(test[k].index));
    for (std::size_t m = 0; m < list.size(); ++m) std::printf(" %.2f / %.3f |", scores[m][k].psnr, scores[m][k].ssim);
    std::printf("\n");
  }
  const double lpd_psnr = mean(scores[lpd_row], &Score::psnr);
  std::printf("\nLPD - TV = %+.2f dB (goal: >= +4 dB: %s)\n", lpd_psnr - tv_psnr,
              lpd_psnr >= tv_psnr + 4 ? "met" : "not met");
  json["lpd_minus_tv_db"] = lpd_psnr - tv_psnr;
  json["goal_lpd_ge_tv_plus_4db"] = lpd_psnr >= tv_psnr + 4;
  if (o.self_ensemble != 0) {
    const double ensembled = mean(scores.back(), &Score::psnr);
    std::printf("LPD self-ensemble - TV = %+.2f dB\n", ensembled - tv_psnr);
    json["lpd_self_ensemble_minus_tv_db"] = ensembled - tv_psnr;
  }
  file << json.dump(1) << "\n";
  if (!file) throw std::runtime_error("cannot write " + o.json);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const pnpdist::invalid_argument& e) {  // a bad option or combination: status 2, as the examples
    std::fprintf(stderr, "lpd_quality_table: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lpd_quality_table: %s\n", e.what());
    return 1;
  }
}
