// highres_deblur: the high-resolution colour deblurring benchmark. A colour photograph, resized (antialiased
// bicubic) so that its larger side is S = --size, is blurred by `operators` circular FFT blurs with
// anisotropic Gaussian PSFs of standard deviations (0.01 S, 0.005 S) pixels rotated by angles
// linspace(0, 180, operators) degrees (139 x 139 kernels at S = 2048); each blurred image gets Gaussian noise
// from its own stream and is clamped to [0, 1]. PnP with the colour DRUNet (or TV) reconstructs the image.
//
// Physics: with --distribute-physics 0 every rank holds all blurs fused into one CircularBlurStack (the
// normal operator sum_i A_i^T A_i is circulant: one forward and one inverse FFT per gradient, whatever the
// number of blurs); with --distribute-physics 1 the blurs (FftBlur) are dealt round robin to the ranks and
// each rank's StackedPhysics is wrapped in a DistributedPhysics (its gradient summed by one allreduce).
//
//   highres_deblur --size 512 --output-dir out
//   mpirun -np 2 highres_deblur --size 512 --distribute-physics 1 --distribute-denoiser 1 --patch-size 256
//       --overlap 32 --threads 1 --output-dir out
//
// Writes result.json (docs/examples.md) and truth.png, measurement.png (the first blurred image),
// initial.png and reconstruction.png into --output-dir.

#include "baselines.hpp"
#include "measurement_export.hpp"
#include "pnp_example_support.hpp"

namespace {

namespace blur = pnpdist::blur;
using namespace pnpdist_examples;
using Blur = blur::FftBlur<Exec>;

/// The default photograph: Debian package lomiri-wallpapers-16.04, "Dragonfly" by Bolly, CC-BY-SA-4.0.
const std::string default_image = "/usr/share/backgrounds/Dragonfly_by_Bolly.jpg";
// The colour DRUNet fine-tuned through this benchmark's PnP-HQS (docs/model_card.md); found by find_weights
// (weights_lookup.hpp). The general colour denoiser is drunet_color.safetensors (--weights).
const std::string default_weights = "drunet_color_deblur.safetensors";

struct Options : CommonOptions<2> {
  std::string image = default_image;
  std::string data_model = "auto";  // --data-model: clipped | gaussian | auto (clipped with the fused blurs)
  BaselineOptions baselines;
};

/// The data model a run uses: --data-model, with auto = clipped for the fused blurs and gaussian for blurs
/// dealt to the ranks (the clipped model is implemented for the fused blurs only).
std::string resolved_data_model(const Options& o) {
  if (o.data_model == "auto") return o.distribute_physics ? "gaussian" : "clipped";
  pnpdist::require(o.data_model == "gaussian" || !o.distribute_physics,
                   "--data-model clipped is implemented for the fused blurs only (--distribute-physics 0); with "
                   "--distribute-physics 1 use --data-model gaussian or auto");
  return o.data_model;
}

/// linspace(0, 180, count) in degrees (both ends included; count = 1 gives 0).
double blur_angle(index_t i, index_t count) {
  return count > 1 ? 180.0 * static_cast<double>(i) / static_cast<double>(count - 1) : 0.0;
}

/// The photograph as a 1 x 3 x H x W image in [0, 1], its larger side resized to `size`; `before_resize(H, W)`
/// is called with the final size before the resized image is allocated.
template <class BeforeResize>
pnpdist::Tensor<float, 4> load_image(const Exec& exec, const std::string& path, index_t size,
                                     BeforeResize&& before_resize) {
  if (!std::filesystem::exists(path))
    throw pnpdist::io_error("--image: '" + path + "' does not exist" +
                            (path == default_image ? " (install the Debian package lomiri-wallpapers-16.04, see "
                                                     "scripts/install_dependencies.sh, or pass --image PATH)"
                                                   : ""));
  const pnpdist::Tensor<float, 3> original = pnpdist::read_image(path);
  pnpdist::require(original.extent(0) == 1 || original.extent(0) == 3, [&] {
    return "--image " + path + ": " + std::to_string(original.extent(0)) + " channels, expected 1 or 3";
  });
  const pnpdist::Extents<2> hw = pnpdist::larger_side_size(original.extent(1), original.extent(2), size);
  before_resize(hw[0], hw[1]);
  pnpdist::Tensor<float, 3> resized = pnpdist::resize_bicubic(exec, original.const_view(), hw[0], hw[1]);
  pnpdist::clamp(exec, resized.view(), 0.0f, 1.0f);  // bicubic overshoot
  pnpdist::Tensor<float, 4> image(pnpdist::Extents<4>{1, 3, hw[0], hw[1]});
  for (index_t c = 0; c < 3; ++c) {
    const index_t source = resized.extent(0) == 3 ? c : 0;  // a gray photograph is repeated on every channel
    pnpdist::copy(
        exec,
        pnpdist::subview(resized.const_view(), pnpdist::Extents<3>{source, 0, 0}, pnpdist::Extents<3>{1, hw[0], hw[1]}),
        pnpdist::reshape(
            pnpdist::subview(image.view(), pnpdist::Extents<4>{0, c, 0, 0}, pnpdist::Extents<4>{1, 1, hw[0], hw[1]}),
            pnpdist::Extents<3>{1, hw[0], hw[1]}));
  }
  return image;
}

int run(const World& world, Options& o, const OptionTable& table) {
  const auto start = Clock::now();
  resolve_weights(o, default_weights);
  const std::string data_model = resolved_data_model(o);
  // The simulated measurements are clamped to [0, 1] after the noise (simulation_of below).
  const std::optional<pnpdist::ClippedGaussianNoise> clipping =
      data_model == "clipped" ? std::optional<pnpdist::ClippedGaussianNoise>({o.noise, 0.0, 1.0}) : std::nullopt;
  const Exec exec = make_executor(o.threads);
  prepare_output_dir(world, o);

  const OperatorShare share = share_operators(o.distribute_physics, world, o.operators);
  const pnpdist::Tensor<float, 4> truth = load_image(exec, o.image, o.size, [&](index_t h, index_t w) {
    const double pixels = static_cast<double>(h) * static_cast<double>(w);
    MemoryEstimate estimate;
    estimate.add_floats("images (truth, iterate, initial, gradient; 3 channels)", 4 * 3 * pixels);
    estimate.add_floats("this rank's blurred measurements", 3 * pixels * static_cast<double>(share.mine.size()));
    require_memory("highres_deblur --size " + std::to_string(o.size) + " (" + std::to_string(h) + " x " +
                       std::to_string(w) + ")",
                   o, estimate, {h, w});
  });
  const pnpdist::ImageShape shape = truth.extents();
  const double s = static_cast<double>(o.size);

  std::vector<Blur> blurs;
  index_t kernel_side = 0;
  for (const index_t i : share.mine) {
    const pnpdist::Tensor<float, 2> psf = blur::gaussian_psf<float>(0.01 * s, 0.005 * s, blur_angle(i, o.operators));
    kernel_side = psf.extent(0);
    blurs.emplace_back(exec, psf.const_view(), shape);
  }
  std::optional<pnpdist::StackedPhysics<Blur>> stack(std::in_place, std::move(blurs));
  auto& local = *stack;
  local.simulate(truth.const_view(), simulation_of(share, o.noise, o.seed, /*clamp to [0, 1]*/ true));
  export_measurements(world, share, local, truth.const_view());

  const auto no_pseudo_inverse = []() -> pnpdist::Tensor<float, 4> {
    throw pnpdist::invalid_argument("highres_deblur: --init pseudo_inverse is not available (use zeros or adjoint)");
  };
  const pnpdist::Tensor<float, 4> x0 = initial_iterate(o, world, share, exec, local, no_pseudo_inverse);

  // The classical baselines on every blur (rank 0; not part of the PnP timings). With the blurs dealt to the
  // ranks, rank 0 builds all of them and simulates their measurements again (the same noise streams).
  const BaselineRun baselines = run_baselines(world, o.baselines.enabled, [&] {
    BaselineRecorder<4> recorder(exec, truth.const_view(), 1.0, o.output_dir, o.quiet);
    if (!share.distributed) return deblur_baselines(exec, local, o.noise, clipping, o.baselines, recorder);
    const OperatorShare all = share_operators(false, world, o.operators);
    std::vector<Blur> every;
    for (const index_t i : all.mine)
      every.emplace_back(exec, blur::gaussian_psf<float>(0.01 * s, 0.005 * s, blur_angle(i, o.operators)).const_view(),
                         shape);
    pnpdist::StackedPhysics<Blur> full(std::move(every));
    full.simulate(truth.const_view(), simulation_of(all, o.noise, o.seed, /*clamp to [0, 1]*/ true));
    return deblur_baselines(exec, full, o.noise, clipping, o.baselines, recorder);
  });

  Problem<4> problem;
  problem.example = "highres_deblur";
  problem.description = std::filesystem::path(o.image).filename().string() + " " + std::to_string(shape[2]) + "x" +
                        std::to_string(shape[3]) + " colour, " + std::to_string(o.operators) +
                        " circular Gaussian blurs sigma (" + number_text(0.01 * s) + ", " + number_text(0.005 * s) +
                        ") px, " + std::to_string(kernel_side) + "x" + std::to_string(kernel_side) +
                        " kernels, noise " + number_text(o.noise) + ", clamped to [0, 1]; data model " + data_model;
  problem.truth = truth.const_view();
  problem.data_range = 1.0;
  problem.baselines = baselines.json;
  problem.noise_level = o.noise;
  problem.channels = 3;
  problem.extra = {{"image", o.image},
                   {"shape", {index_t{1}, index_t{3}, shape[2], shape[3]}},
                   {"kernel_size", kernel_side},
                   {"data_model", data_model}};
  if (world.rank() == 0)  // rank 0 holds blur 0 whether the blurs are dealt round robin or replicated
    problem.measurement_png = save_png(exec, o.output_dir, "measurement.png", local.measurement(0).const_view(), 0, 1);

  const auto pnp_start = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(baselines.seconds));  // baselines not counted
  if (share.distributed)
    return run_pnp(world, exec, o, table, problem, distributed(world, share, std::move(local)), x0, pnp_start);
  if (clipping) {  // re-imputes the clipped samples from the blurs and measurements at every step
    const blur::ClippedBlurStack<Exec> clipped(local, *clipping);
    return run_pnp(world, exec, o, table, problem, clipped, x0, pnp_start);
  }
  const blur::CircularBlurStack<Exec> fused(local);
  stack.reset();  // the fused form holds all it needs: free the blurs, their buffers and measurements
  return run_pnp(world, exec, o, table, problem, fused, x0, pnp_start);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.size = 2048;
  o.operators = 8;
  o.noise = 0.1;
  // The default algorithm: PnP-HQS with the DPIR schedule, parameters chosen on validation photographs
  // (docs/quality.md, configs/highres_color_image_cpu.yaml); the full-size benchmark config names its PnP-PGD
  // setup (step 0.1, sigma 0.005, 10 iterations).
  o.algorithm = "hqs";
  o.iterations = 8;
  o.sigma = 0.02;
  o.data_weight = 0.2;
  o.step = "0.1";
  const ProblemHelp help{
      "larger side of the image after the bicubic resize, in pixels; the PSF standard\n"
      "deviations are (0.01, 0.005) x size",
      "blurs: Gaussian PSFs rotated by linspace(0, 180, K) degrees",
      "standard deviation of the Gaussian noise on each blurred image (values in [0, 1])", "zeros|adjoint"};
  OptionTable table(
      "highres_deblur: PnP deblurring of a colour photograph blurred by several anisotropic Gaussian blurs (the\n"
      "high-resolution colour image benchmark). Defaults: the benchmark's full size (2048 px; on 2 CPU cores\n"
      "use --size 256 to 512) and the recommended algorithm, PnP-HQS with 8 iterations of the DPIR schedule\n"
      "(sigma 49/255 down to 0.02, data weight 0.2), chosen on validation photographs (docs/quality.md). The\n"
      "benchmark's PnP-PGD: --algorithm pgd --iterations 10 --step 0.1 --sigma 0.005\n"
      "(configs/highres_color_image.yaml).\n"
      "\n"
      "  highres_deblur [options]            one process\n"
      "  mpirun -np N highres_deblur [options]",
      "Default image: " + default_image +
          "\n(Debian package lomiri-wallpapers-16.04; photograph \"Dragonfly\" by Bolly, 2018, licence CC-BY-SA-4.0).\n"
          "Output: result.json, truth.png, measurement.png (blur 0), initial.png, reconstruction.png,\n"
          "baseline_<name>.png in --output-dir. Baselines (--baselines 1): Tikhonov and gradient-regularised\n"
          "(Wiener-like) closed-form inverses with the weight set by the discrepancy principle, PnP-TV\n"
          "(docs/examples.md).");
  table.text("--image", "PATH", "colour (or gray) PNG, JPEG or float32 .npy (C x H x W) image", o.image);
  table.choice("--data-model",
               "the data fidelity of the PnP solve and of PnP-TV: clipped = the measurements are clamped to [0, 1]\n"
               "after the noise (samples at 0 or 1 read as 'at or beyond', physics/clipped_gaussian.hpp); gaussian =\n"
               "1/2 ||A x - y||^2 (DeepInv's model); auto = clipped with the fused blurs, gaussian with\n"
               "--distribute-physics 1 (clipped is not implemented there)",
               o.data_model, {"auto", "clipped", "gaussian"});
  add_problem_options(table, o, help);
  add_common_options(table, o, help, default_weights);
  o.baselines.tv_weight = 0.025;  // chosen on a validation photograph (docs/examples.md)
  add_baseline_options(table, o.baselines, false);
  add_measurement_export_option(table);
  return run_example(argc, argv, "highres_deblur", table, o.progress_timeout,
                     [&](const World& world) { return run(world, o, table); });
}
