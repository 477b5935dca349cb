// tomography_2d: the 2D tomography benchmark. PnP reconstruction of the modified Shepp-Logan phantom
// (size x size pixels over the unit square) from a parallel-beam sinogram: `angles` views uniform in [0, 180)
// degrees onto `size` detector bins, split into `operators` Joseph projectors of contiguous view blocks
// (split_views: 100 views in 8 operators are 13,13,13,13,12,12,12,12), Gaussian noise on each block from its
// own stream. The prior is the grayscale DRUNet (or TV), whole, tiled or with its tiles dealt to the MPI ranks;
// the operators are replicated on every rank or dealt round robin.
//
//   tomography_2d --size 256 --output-dir out
//   mpirun -np 2 tomography_2d --size 256 --distribute-physics 1 --distribute-denoiser 1 --patch-size 128
//       --overlap 16 --threads 1 --output-dir out
//
// Writes result.json (docs/examples.md) and truth.png, measurement.png (the sinogram, views x bins),
// initial.png and reconstruction.png into --output-dir.
//
// --method lpd reconstructs with learned primal-dual instead (examples/lpd_method.hpp, docs/learned.md), on one
// process or under mpirun with --distribute-physics 1 (the view blocks dealt to the ranks), refusing a geometry other than the weights' training geometry unless --accept-geometry-mismatch 1.
// At the shipped weights' training setup (128 x 128 unit pixels, 30 views, 183 bins, an ellipse test phantom,
// 5% relative noise):
//
//   tomography_2d --method lpd --geometry ellipse --size 128 --angles 30 --phantom ellipses --phantom-index 0
//       --noise 0.05 --relative-noise 1 --output-dir out

#include "baselines.hpp"
#include "lpd_method.hpp"
#include "measurement_export.hpp"
#include "pnp_example_support.hpp"
#include "truth_file.hpp"

#include <numbers>

namespace {

namespace ct = pnpdist::ct;
using namespace pnpdist_examples;
using Projector = ct::JosephProjector2D<float, Exec>;

struct Options : CommonOptions<2> {
  index_t angles = 100;
  std::string truth_file;  // --truth: instead of the phantom
  BaselineOptions baselines;
  std::string method = "pnp";
  std::string geometry = "benchmark";  // or ellipse: learned::ellipse_geometry (unit pixels, wider detector)
  std::string phantom = "shepp_logan";
  index_t phantom_index = 0;           // of the ellipse phantoms' test split
  bool relative_noise = false;         // --noise relative to the mean absolute noiseless sinogram
  bool accept_geometry_mismatch = false;
  bool lpd_self_ensemble = false;      // --method lpd: the mean over the 8 symmetries of the square
};

// Found by find_weights (weights_lookup.hpp).
const std::string default_weights = "drunet_gray.safetensors";
const std::string default_lpd_weights = "lpd_ellipses_fbp.safetensors";

// The checks across this example's own options (registered with the table: option errors, exit 2). --method lpd
// reads none of the PnP options: given, they are refused rather than ignored (those a runner grid always passes
// only when they ask for something LPD does not do); this check runs before validate_common, so a PnP option
// is refused as such.
void validate_tomography_2d_options(const Options& o, const OptionTable& table) {
  pnpdist::require(o.phantom == "ellipses" || !table.given("--phantom-index"),
                   "--phantom-index applies to --phantom ellipses only");
  pnpdist::require(o.truth_file.empty() || !table.given("--phantom"), "give one of --truth and --phantom");
  if (o.method != "lpd") {
    pnpdist::require(!table.given("--accept-geometry-mismatch"),
                     "--accept-geometry-mismatch applies to --method lpd only");
    pnpdist::require(!table.given("--lpd-self-ensemble"), "--lpd-self-ensemble applies to --method lpd only");
    return;
  }
  static const std::vector<std::string> pnp_only{
      "--algorithm", "--iterations", "--sigma", "--denoiser", "--equivariant", "--tv-iterations", "--tolerance",
      "--residual-tolerance", "--checkpoint", "--checkpoint-every"};
  for (const std::string& name : pnp_only)
    pnpdist::require(!table.given(name), [&] { return name + " applies to --method pnp only, not to --method lpd"; });
  for (const AlgorithmOption& option : algorithm_options())
    pnpdist::require(!table.given(option.name),
                     [&] { return std::string(option.name) + " applies to --method pnp only, not to --method lpd"; });
  pnpdist::require(o.init == "zeros", "--init applies to --method pnp only (the network's initial primal is fixed by "
                                      "its weights)");
  pnpdist::require(!o.distribute_denoiser && o.patch_size[0] == 0,
                   "--method lpd runs the network on the whole image on every rank: --distribute-denoiser 0, "
                   "--patch-size 0");
}

int run(const World& world, Options& o, const OptionTable& table) {
  const auto start = Clock::now();
  const bool lpd = o.method == "lpd";
  if (lpd) {
    if (world.size() != 1 && !o.distribute_physics) {  // an option error: exit 2 on every rank, reported once
      if (world.rank() == 0)
        std::fprintf(stderr, "tomography_2d: --method lpd on %d ranks needs --distribute-physics 1 (the view blocks "
                     "dealt to the ranks; otherwise every rank would repeat the whole reconstruction)\n", world.size());
      return 2;
    }
    o.weights = find_weights(default_lpd_weights, o.weights, "the learned primal-dual weights", " (--method lpd)");
  } else {
    resolve_weights(o, default_weights);
  }
  pnpdist::require(o.operators <= o.angles, [&] {
    return "--operators " + std::to_string(o.operators) + " exceeds --angles " + std::to_string(o.angles) +
           " (every operator needs a view)";
  });
  const Exec exec = make_executor(o.threads);
  prepare_output_dir(world, o);
  std::optional<pnpdist::Tensor<float, 2>> given_truth;
  if (!o.truth_file.empty()) given_truth = read_truth_2d(o.truth_file, o.size, table.given("--size"));
  const OperatorShare share = share_operators(o.distribute_physics, world, o.operators);

  // The benchmark's unit square (pixels and bins of 1/size, `size` bins) or the learned primal-dual training
  // data's geometry (unit pixels, ceil(sqrt(2) size) + 1 bins).
  const double pixel = 1.0 / static_cast<double>(o.size);
  const ct::Geometry2D geometry =
      o.geometry == "ellipse"
          ? pnpdist::learned::ellipse_geometry(o.size, o.angles)
          : ct::parallel_beam_2d(ct::uniform_angles(o.angles, 0.0, std::numbers::pi),
                                 ct::Detector2D{o.size, pixel, 0.0}, ct::VolumeGeometry2D{o.size, o.size, pixel, pixel});
  const ct::VolumeGeometry2D volume = geometry.volume;
  std::optional<LpdWeights> lpd_weights;
  LpdRunCheck run_check;
  if (lpd) {
    lpd_weights = read_lpd_weights(o.weights);
    try {
      run_check = check_lpd_geometry(*lpd_weights, geometry, o.accept_geometry_mismatch);
      if (o.lpd_self_ensemble) check_lpd_self_ensemble(geometry);
    } catch (const pnpdist::invalid_argument& e) {  // LpdGeometryMismatch, or a geometry without the symmetries
      std::fprintf(stderr, "tomography_2d: %s\n", error_message(e).c_str());
      return 2;
    }
  }
  {
    const double pixels = static_cast<double>(o.size) * static_cast<double>(o.size);
    const double sinogram = static_cast<double>(o.angles) * static_cast<double>(geometry.detector_cols);
    MemoryEstimate estimate;
    estimate.add_floats("images (truth, iterate, initial, gradient)", 4 * pixels);
    estimate.add_floats("sinograms (this rank's measurements, the whole sinogram)",
                        sinogram * static_cast<double>(share.mine.size()) / static_cast<double>(o.operators) +
                            sinogram);
    const std::string what = "tomography_2d --size " + std::to_string(o.size) + " --angles " + std::to_string(o.angles);
    if (lpd) {
      add_lpd_activations(estimate, lpd_weights->config, pixels, sinogram);
      require_fits(what, estimate, available_memory(), "Reduce --size or --angles.");
    } else {
      require_memory(what, o, estimate, {o.size, o.size});
    }
  }

  const bool ellipses = o.truth_file.empty() && o.phantom == "ellipses";
  const pnpdist::Tensor<float, 2> truth =
      given_truth ? std::move(*given_truth)
      : ellipses  ? pnpdist::phantom::rasterize<float>(
                       exec,
                       pnpdist::learned::random_ellipses(pnpdist::learned::EllipseDataOptions{},
                                                         pnpdist::learned::DataSplit::test,
                                                         static_cast<std::uint64_t>(o.phantom_index)),
                       volume, pnpdist::phantom::fitted_scale(volume), 2)
                  : pnpdist::phantom::rasterize<float>(exec, pnpdist::phantom::shepp_logan_2d(), volume,
                                                       pnpdist::phantom::fitted_scale(volume));
  // PSNR range: the truth's maximum (--truth), the ellipse phantom's max - min (as in training), 1 (Shepp-Logan).
  const double data_range =
      given_truth ? std::max(1e-6, static_cast<double>(pnpdist::max_value(exec, truth.const_view())))
      : ellipses  ? std::max(1e-6, static_cast<double>(pnpdist::max_value(exec, truth.const_view())) -
                                       static_cast<double>(pnpdist::min_value(exec, truth.const_view())))
                  : 1.0;
  // The noise's standard deviation: --noise, or --noise times the mean absolute noiseless sinogram. LPD compares
  // the relative level with its training noise.
  double noise = o.noise;
  if (o.relative_noise || lpd) {
    const Projector whole(exec, geometry);
    pnpdist::Tensor<float, 2> clean(geometry.sinogram_shape());
    whole.apply(truth.const_view(), clean.view());
    double mean_abs = 0;
    for (index_t i = 0; i < clean.size(); ++i) mean_abs += std::abs(static_cast<double>(clean.data()[i]));
    mean_abs /= static_cast<double>(clean.size());
    if (o.relative_noise) noise = o.noise * mean_abs;
    if (lpd)
      check_lpd_noise(*lpd_weights, o.relative_noise ? o.noise : noise / std::max(mean_abs, 1e-300), run_check,
                      world.rank() == 0);
  }

  // This rank's projectors (all of them, or its round-robin share) and their noisy measurements.
  const std::vector<ct::Geometry2D> parts = ct::split_views(geometry, o.operators);
  std::vector<Projector> blocks;
  for (const index_t i : share.mine) blocks.emplace_back(exec, parts[static_cast<std::size_t>(i)]);
  pnpdist::StackedPhysics<Projector> local(std::move(blocks));
  local.simulate(truth.const_view(), simulation_of(share, noise, o.seed));
  export_measurements(world, share, local, truth.const_view());

  // The whole sinogram (views x bins) for the picture: each rank writes its blocks, one sum over the ranks.
  std::vector<index_t> first_view(parts.size(), 0);
  for (std::size_t i = 1; i < parts.size(); ++i) first_view[i] = first_view[i - 1] + parts[i - 1].views();
  pnpdist::Tensor<float, 2> sinogram = pnpdist::zeros<float>(exec, geometry.sinogram_shape());
  for (std::size_t k = 0; k < share.mine.size(); ++k) {
    const auto& y = local.measurement(k);
    pnpdist::copy(
        exec, y.const_view(),
        pnpdist::subview(sinogram.view(), pnpdist::Extents<2>{first_view[static_cast<std::size_t>(share.mine[k])], 0},
                         y.extents()));
  }
  if (share.distributed) sum_over_ranks(world, sinogram);

  // Pseudo-inverse: FBP (Ram-Lak) is a sum over views, so the full FBP is the sum over blocks of each block's
  // FBP weighted by its share of the views.
  const auto fbp = [&] {
    pnpdist::Tensor<float, 2> x = pnpdist::zeros<float>(exec, volume.shape());
    pnpdist::Tensor<float, 2> part(volume.shape());
    for (std::size_t k = 0; k < share.mine.size(); ++k) {
      const ct::Geometry2D& g = parts[static_cast<std::size_t>(share.mine[k])];
      ct::fbp<float>(exec, g, local.measurement(k).const_view(), part.view(), ct::Filter::ram_lak);
      pnpdist::axpy(exec, static_cast<float>(static_cast<double>(g.views()) / static_cast<double>(o.angles)),
                    part.const_view(), x.view());
    }
    return x;
  };
  const pnpdist::Tensor<float, 2> x0 = initial_iterate(o, world, share, exec, local, fbp);

  // The classical baselines on the whole sinogram (rank 0; not part of the PnP timings).
  const BaselineRun baselines = run_baselines(world, o.baselines.enabled, [&] {
    BaselineRecorder<2> recorder(exec, truth.const_view(), data_range, o.output_dir, o.quiet);
    return ct_baselines<Projector, 2>(
        exec, geometry, sinogram, noise, o.baselines, "fbp",
        [&](ct::Filter filter) {
          pnpdist::Tensor<float, 2> x(volume.shape());
          ct::fbp<float>(exec, geometry, sinogram.const_view(), x.view(), filter);
          return x;
        },
        recorder);
  });

  Problem<2> problem;
  problem.example = "tomography_2d";
  problem.description =
      (!o.truth_file.empty() ? "truth " + o.truth_file + " "
       : ellipses            ? "ellipse test phantom " + std::to_string(o.phantom_index) + " "
                             : std::string("Shepp-Logan ")) +
      std::to_string(o.size) + "x" + std::to_string(o.size) + (o.geometry == "ellipse" ? " unit pixels" : "") +
      ", parallel beam, " + std::to_string(o.angles) + " angles in [0, 180) in " + std::to_string(o.operators) +
      " operators, " + std::to_string(geometry.detector_cols) + " bins, noise " + number_text(noise) +
      (o.relative_noise ? " (" + number_text(o.noise) + " of the mean absolute sinogram)" : std::string());
  problem.truth = truth.const_view();
  problem.data_range = data_range;
  problem.noise_level = noise;
  problem.baselines = baselines.json;
  problem.channels = 1;
  problem.extra = {{"shape", {o.size, o.size}}, {"sinogram_shape", {o.angles, geometry.detector_cols}}};
  if (world.rank() == 0) {
    const double peak = pnpdist::max_value(exec, sinogram.const_view());
    problem.measurement_png = save_png(exec, o.output_dir, "measurement.png", sinogram.const_view(), 0.0, peak);
  }

  const auto program_start =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(baselines.seconds));
  if (lpd)
    return run_lpd(world, exec, o, table, problem, *lpd_weights, run_check, o.lpd_self_ensemble, geometry, sinogram,
                   share, std::move(local), program_start);
  return run_pnp_on_share(world, exec, o, table, problem, share, std::move(local), x0, program_start);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.size = 2048;
  o.operators = 8;
  o.noise = 0.01;
  // The default algorithm: PnP-HQS with the DPIR schedule, parameters chosen on validation images
  // (docs/quality.md, configs/tomography_2d_cpu.yaml); the full-size benchmark config names its PnP-PGD setup.
  o.algorithm = "hqs";
  o.iterations = 8;
  o.sigma = 0.06;
  o.data_weight = 0.2;
  const ProblemHelp help{"image side in pixels, also the number of detector bins",
                         "projectors: contiguous blocks of views (angle blocks)",
                         "standard deviation of the Gaussian noise on the sinogram (line integrals over the unit\n"
                         "square of a phantom with values in [0, 1])",
                         "zeros|adjoint|pseudo_inverse"};
  OptionTable table(
      "tomography_2d: PnP reconstruction of the Shepp-Logan phantom from a parallel-beam sinogram (the 2D\n"
      "tomography benchmark). Defaults: the benchmark's full size (on 2 CPU cores use --size 256) and the\n"
      "recommended algorithm, PnP-HQS with 8 iterations of the DPIR schedule (sigma 49/255 down to 0.06, data\n"
      "weight 0.2), chosen on validation images (docs/quality.md). The benchmark's PnP-PGD: --algorithm pgd\n"
      "--iterations 100 --sigma 0.01 (configs/tomography_2d.yaml).\n"
      "\n"
      "  tomography_2d [options]            one process\n"
      "  mpirun -np N tomography_2d [options]",
      "--init pseudo_inverse is filtered back projection (Ram-Lak). Output: result.json, truth.png,\n"
      "measurement.png (sinogram), initial.png, reconstruction.png and baseline_<name>.png in --output-dir.\n"
      "Baselines (--baselines 1): FBP (Ram-Lak, Hann), SIRT and CGLS stopped by the discrepancy principle,\n"
      "PnP-TV (docs/examples.md). --method lpd: learned primal-dual instead of PnP (under mpirun with\n"
      "--distribute-physics 1: the view blocks dealt to the ranks), at its weights' training geometry (the shipped weights: --geometry ellipse --size 128 --angles 30; docs/learned.md).");
  table.choice("--method",
               "pnp: the PnP solve; lpd: learned primal-dual (docs/learned.md) with --weights naming its weights\n"
               "(default " + default_lpd_weights + ", found like the DRUNet weights)",
               o.method, {"pnp", "lpd"});
  add_problem_options(table, o, help);
  table.integer("--angles", "projection angles, uniform in [0, 180) degrees", o.angles, 1);
  table.choice("--geometry",
               "benchmark: the unit square (pixels and --size bins of 1/size); ellipse: unit pixels and\n"
               "ceil(sqrt(2) size) + 1 bins of 1 (the LPD training data's geometry, learned/ellipse_data.hpp)",
               o.geometry, {"benchmark", "ellipse"});
  table.choice("--phantom", "the ground truth: the modified Shepp-Logan phantom or a random ellipse phantom of the\n"
               "LPD data's test split (learned/ellipse_data.hpp, data seed 0)", o.phantom, {"shepp_logan", "ellipses"});
  table.integer("--phantom-index", "which ellipse test phantom (--phantom ellipses)", o.phantom_index, 0);
  table.boolean("--relative-noise",
                "1: --noise is relative to the mean absolute noiseless sinogram (LPD's training data: 0.05)",
                o.relative_noise);
  table.boolean("--accept-geometry-mismatch",
                "1: run --method lpd on a geometry other than its weights' training geometry (a warning, recorded\n"
                "in result.json); 0: refuse (exit 2)",
                o.accept_geometry_mismatch);
  table.boolean("--lpd-self-ensemble",
                "1: --method lpd averages the network over the 8 symmetries of the square image (8 passes; the\n"
                "geometry must map onto itself under them: refused with exit 2 otherwise; docs/learned.md)",
                o.lpd_self_ensemble);
  table.text("--truth", "PATH",
             "ground truth instead of the phantom: a square gray PNG or 2-D .npy, values as given\n"
             "(phantom-like: [0, 1]); --size is taken from it",
             o.truth_file);
  table.add_check([&] { validate_tomography_2d_options(o, table); });
  add_common_options(table, o, help, default_weights);
  o.baselines.tv_weight = 0.001;  // chosen on a validation phantom (docs/examples.md)
  add_baseline_options(table, o.baselines, true);
  add_measurement_export_option(table);
  return run_example(argc, argv, "tomography_2d", table, o.progress_timeout,
                     [&](const World& world) { return run(world, o, table); });
}
