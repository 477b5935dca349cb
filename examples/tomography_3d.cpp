// tomography_3d: the 3D cone-beam tomography benchmark. PnP reconstruction of a walnut-like phantom
// (phantoms/walnut.hpp; size^3 voxels filling the unit cube) from `projections` cone-beam projections over
// 360 degrees, split into `operators` Joseph projectors of contiguous view blocks (50 projections in 2
// operators of 25). The geometry is a list of per-view vectors (ASTRA cone_vec: source, detector centre, u,
// v): by default a circular orbit with the source at 2 and the detector at 2 volume sides from the centre
// (magnification 2) and a detector of ceil(1.5 size)^2 pixels of 2 / size; with --vectors-file the views of a
// 12-column file (the format of published cone-beam data sets), and with --projections-file real projections
// (views x rows x cols float32 .npy, no ground truth: PSNR is null). The prior is the grayscale DRUNet applied
// to the 2D slices along chosen axes (default --slice-axes dhw: tri-planar, 16 slices per batch), or with its
// 2D weights inflated to 3D (--slice-axes none, the full-size benchmark's prior, on tiles), or TV. The default
// algorithm is PnP-HQS from the FDK reconstruction (docs/quality.md); the benchmark's relaxed PnP-PGD is
// --algorithm pgd --iterations 40 --sigma 0.03 --slice-axes none --patch-size 8,256,256 --overlap 2,16,16
// --max-batch-size 10 (configs/tomography_3d.yaml).
//
//   tomography_3d --size 64 --output-dir out
//   mpirun -np 2 tomography_3d --size 64 --distribute-physics 1 --threads 1 --output-dir out
//
// Writes result.json (docs/examples.md), geometry.txt (the views as a 12-column vector file) and truth.png,
// measurement.png (projection 0), initial.png and reconstruction.png (central slices) into --output-dir.

#include "baselines.hpp"
#include "pnp_example_support.hpp"
#include "scan_dataset.hpp"
#include "truth_file.hpp"

#include <numbers>

namespace {

namespace ct = pnpdist::ct;
using namespace pnpdist_examples;
using Projector = ct::JosephProjector3D<float, Exec>;

const std::string default_weights = "drunet_gray.safetensors";  // found by find_weights (weights_lookup.hpp)

struct Options : CommonOptions<3> {
  index_t projections = 50;
  index_t detector = 0;
  double voxel_size = 0;
  std::string projections_file;
  std::string vectors_file;
  std::string truth_file;  // --truth: instead of the phantom
  index_t phantom_seed = 0;
  BaselineOptions baselines;
  DatasetOptions dataset;  // --dataset DIR: a raw scan directory (scan_dataset.hpp)
};

/// The geometry: the default circular orbit, or the views of --vectors-file (detector from the projections
/// file when given).
ct::Geometry3D make_geometry(const Options& o, const std::optional<pnpdist::Extents<3>>& measured) {
  const double voxel = o.voxel_size > 0 ? o.voxel_size : 1.0 / static_cast<double>(o.size);
  const ct::VolumeGeometry3D volume{o.size, o.size, o.size, voxel, voxel, voxel};
  const index_t side = o.detector > 0 ? o.detector : (3 * o.size + 1) / 2;
  if (!o.vectors_file.empty()) {
    const index_t rows = measured ? (*measured)[1] : side;
    const index_t cols = measured ? (*measured)[2] : side;
    ct::Geometry3D g = ct::read_vector_file(o.vectors_file, ct::Beam::divergent, volume, rows, cols);
    pnpdist::require(!measured || g.views() == (*measured)[0], [&] {
      return "--vectors-file " + o.vectors_file + " holds " + std::to_string(g.views()) +
             " views, --projections-file " + o.projections_file + " " + std::to_string((*measured)[0]);
    });
    return g;
  }
  const double extent = static_cast<double>(o.size) * voxel;  // the volume's side
  const double pixel = 2.0 * extent / static_cast<double>(o.size);
  return ct::cone_beam(ct::uniform_angles(o.projections, 0.0, 2.0 * std::numbers::pi),
                       ct::Detector3D{side, side, pixel, pixel, 0.0, 0.0}, 2.0 * extent, 2.0 * extent, volume);
}

int run(const World& world, Options& o, const OptionTable& table) {
  const auto start = Clock::now();
  resolve_weights(o, default_weights);
  pnpdist::require(o.projections_file.empty() || !o.vectors_file.empty(),
                   "--projections-file needs --vectors-file (the geometry of the projections)");
  pnpdist::require(o.truth_file.empty() || o.projections_file.empty(),
                   "--truth and --projections-file exclude each other (real projections have no ground truth)");
  const Exec exec = make_executor(o.threads);
  prepare_output_dir(world, o);
  std::optional<pnpdist::Tensor<float, 3>> given_truth;
  if (!o.truth_file.empty()) given_truth = read_truth_3d(o.truth_file, o.size, table.given("--size"));

  // Real projections (every rank reads the file and keeps the views of its operators).
  std::optional<pnpdist::Tensor<float, 3>> data;
  if (!o.projections_file.empty()) data = pnpdist::read_npy<float, 3>(o.projections_file);
  std::optional<ScanDataset> scan;  // a raw scan directory: read, preprocessed and centred
  if (!o.dataset.dir.empty()) {
    pnpdist::require(o.projections_file.empty() && o.vectors_file.empty() && o.truth_file.empty(),
                     "--dataset excludes --projections-file, --vectors-file and --truth");
    const double voxel = o.voxel_size > 0 ? o.voxel_size : 1.0 / static_cast<double>(o.size);
    scan = load_scan_dataset(exec, o.dataset, {o.size, o.size, o.size, voxel, voxel, voxel}, o.quiet || world.rank() != 0);
    data = std::move(scan->projections);
  }
  const ct::Geometry3D geometry =
      scan ? scan->geometry : make_geometry(o, data ? std::optional(data->extents()) : std::nullopt);
  pnpdist::require(o.operators <= geometry.views(), [&] {
    return "--operators " + std::to_string(o.operators) + " exceeds the " + std::to_string(geometry.views()) +
           " projections";
  });
  const OperatorShare share = share_operators(o.distribute_physics, world, o.operators);
  {
    const double voxels = static_cast<double>(geometry.volume.slices) * static_cast<double>(geometry.volume.rows) *
                          static_cast<double>(geometry.volume.cols);
    const auto p = geometry.projection_shape();
    const double projections = static_cast<double>(p[0]) * static_cast<double>(p[1]) * static_cast<double>(p[2]);
    const bool has_truth = given_truth || !data;
    MemoryEstimate estimate;
    estimate.add_floats(has_truth ? "volumes (truth, iterate, initial, gradient)" : "volumes (iterate, initial, gradient)",
                        (has_truth ? 4 : 3) * voxels);
    estimate.add_floats("this rank's projections",
                        projections * static_cast<double>(share.mine.size()) / static_cast<double>(o.operators));
    // The smallest denoiser call: the volume (or its tiles) for the inflated network; on slices without
    // tiles, a batch of --max-batch-size slices (all of an axis when 0).
    const bool slices_untiled = o.on_slices() && o.patch_size[0] == 0;
    const index_t slices_per_call = o.max_batch_size > 0 ? std::min(o.max_batch_size, o.size) : o.size;
    const std::vector<index_t> denoised =
        !o.on_slices()  ? std::vector<index_t>{o.size, o.size, o.size}
        : slices_untiled ? std::vector<index_t>{slices_per_call * o.size, o.size}
                         : std::vector<index_t>{o.size, o.size};
    require_memory("tomography_3d --size " + std::to_string(o.size) + " (" + std::to_string(p[0]) + " projections of " +
                       std::to_string(p[1]) + " x " + std::to_string(p[2]) + ")",
                   o, estimate, denoised);
  }
  std::optional<pnpdist::Tensor<float, 3>> truth;
  double data_range = 1.0;
  if (given_truth) {
    truth = std::move(*given_truth);
    data_range = std::max(1e-6, static_cast<double>(pnpdist::max_value(exec, truth->const_view())));
  } else if (!data) {
    const auto shapes = pnpdist::phantom::walnut(o.phantom_seed);
    truth = pnpdist::phantom::rasterize<float>(exec, shapes, geometry.volume,
                                               pnpdist::phantom::fitted_scale(geometry.volume));
    data_range = pnpdist::max_value(exec, truth->const_view());
  }

  const std::vector<ct::Geometry3D> parts = ct::split_views(geometry, o.operators);
  std::vector<Projector> blocks;
  for (const index_t i : share.mine) blocks.emplace_back(exec, parts[static_cast<std::size_t>(i)]);
  pnpdist::StackedPhysics<Projector> local(std::move(blocks));
  if (data) {
    std::vector<pnpdist::Tensor<float, 3>> measurements;
    std::vector<index_t> first_view(parts.size(), 0);
    for (std::size_t i = 1; i < parts.size(); ++i) first_view[i] = first_view[i - 1] + parts[i - 1].views();
    for (const index_t i : share.mine) {
      const auto& g = parts[static_cast<std::size_t>(i)];
      measurements.push_back(pnpdist::clone(
          pnpdist::subview(data->const_view(), pnpdist::Extents<3>{first_view[static_cast<std::size_t>(i)], 0, 0},
                           g.projection_shape())));
    }
    local.set_measurements(std::move(measurements));
    data.reset();
  } else {
    local.simulate(truth->const_view(), simulation_of(share, o.noise, o.seed));
  }

  // Pseudo-inverse: FDK (Ram-Lak), a sum over views: each block's FDK weighted by its share of the views.
  const auto fdk = [&] {
    pnpdist::Tensor<float, 3> x = pnpdist::zeros<float>(exec, geometry.volume.shape());
    pnpdist::Tensor<float, 3> part(geometry.volume.shape());
    for (std::size_t k = 0; k < share.mine.size(); ++k) {
      const ct::Geometry3D& g = parts[static_cast<std::size_t>(share.mine[k])];
      ct::fdk<float>(exec, g, local.measurement(k).const_view(), part.view(), ct::Filter::ram_lak);
      pnpdist::axpy(exec, static_cast<float>(static_cast<double>(g.views()) / static_cast<double>(geometry.views())),
                    part.const_view(), x.view());
    }
    return x;
  };
  const pnpdist::Tensor<float, 3> x0 = initial_iterate(o, world, share, exec, local, fdk);
  if (!truth) data_range = std::max(1e-6, static_cast<double>(pnpdist::max_value(exec, x0.const_view())));

  // The classical baselines on all projections (rank 0; not part of the PnP timings). With the operators
  // dealt to the ranks the projections are first assembled on every rank (one sum: each rank writes its blocks).
  std::optional<pnpdist::Tensor<float, 3>> projections;
  if (o.baselines.enabled) {
    std::vector<index_t> first_view(parts.size(), 0);
    for (std::size_t i = 1; i < parts.size(); ++i) first_view[i] = first_view[i - 1] + parts[i - 1].views();
    projections = pnpdist::zeros<float>(exec, geometry.projection_shape());
    for (std::size_t k = 0; k < share.mine.size(); ++k) {
      const auto& y = local.measurement(k);
      pnpdist::copy(exec, y.const_view(),
                    pnpdist::subview(projections->view(),
                                     pnpdist::Extents<3>{first_view[static_cast<std::size_t>(share.mine[k])], 0, 0},
                                     y.extents()));
    }
    if (share.distributed) sum_over_ranks(world, *projections);
  }
  const BaselineRun baselines = run_baselines(world, o.baselines.enabled, [&] {
    BaselineRecorder<3> recorder(
        exec, truth ? std::optional<pnpdist::View<const float, 3>>(truth->const_view()) : std::nullopt, data_range,
        o.output_dir, o.quiet);
    return ct_baselines<Projector, 3>(
        exec, geometry, *projections, o.noise, o.baselines, "fdk",
        [&](ct::Filter filter) {
          pnpdist::Tensor<float, 3> x(geometry.volume.shape());
          ct::fdk<float>(exec, geometry, projections->const_view(), x.view(), filter);
          return x;
        },
        recorder);
  });
  projections.reset();

  Problem<3> problem;
  problem.example = "tomography_3d";
  problem.description =
      (!o.truth_file.empty() ? "truth " + o.truth_file + " "
       : truth               ? "walnut-like phantom (seed " + std::to_string(o.phantom_seed) + ") "
       : scan                ? scan->description
                             : "projections " + o.projections_file + ", ") + std::to_string(o.size) + "^3, " +
      "cone beam, " + std::to_string(geometry.views()) + " projections in " + std::to_string(o.operators) +
      " operators, detector " + std::to_string(geometry.detector_rows) + "x" + std::to_string(geometry.detector_cols) +
      (scan                   ? ", the scan's vectors"
       : o.vectors_file.empty() ? ", circular orbit as per-view vectors"
                                : ", vectors " + o.vectors_file) +
      (truth ? ", noise " + number_text(o.noise) : "");
  if (truth) problem.truth = truth->const_view();
  if (scan)  // the reconstruction as a float32 TIFF stack and .npy (rank 0)
    problem.save_volume = [&](pnpdist::View<const float, 3> x) { write_volume(o.output_dir, "reconstruction", x); };
  problem.data_range = data_range;
  problem.baselines = baselines.json;
  problem.noise_level = o.noise;
  problem.channels = 1;
  problem.extra = {{"shape", {o.size, o.size, o.size}},
                   {"projection_shape", {geometry.views(), geometry.detector_rows, geometry.detector_cols}},
                   {"geometry", "geometry.txt"}};
  if (world.rank() == 0) {  // rank 0 holds operator 0, whose first view is projection 0
    const auto& y = local.measurement(0);
    const auto first = pnpdist::subview(y.const_view(), pnpdist::Extents<3>{0, 0, 0},
                                        pnpdist::Extents<3>{1, y.extent(1), y.extent(2)});
    const auto plane = pnpdist::reshape(first, pnpdist::Extents<2>{y.extent(1), y.extent(2)});
    problem.measurement_png =
        save_png(exec, o.output_dir, "measurement.png", plane, 0.0, pnpdist::max_value(exec, plane));
    ct::write_vector_file((std::filesystem::path(o.output_dir) / "geometry.txt").string(), geometry);
  }

  return run_pnp_on_share(world, exec, o, table, problem, share, std::move(local), x0,
                          start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(baselines.seconds)));
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.size = 512;
  o.operators = 2;
  o.noise = 0.01;
  // The default algorithm and prior: PnP-HQS (8 iterations of the DPIR schedule, sigma 49/255 down to 0.05,
  // data weight 0.3) from FDK with the 2D DRUNet on the volume's slices along all three axes (tri-planar), 16
  // slices per batch; parameters chosen on validation volumes (docs/quality.md). The full-size benchmark
  // config names its relaxed PnP-PGD with the inflated 3D network on tiles.
  o.algorithm = "hqs";
  o.iterations = 8;
  o.sigma = 0.05;
  o.data_weight = 0.3;
  o.slice_axes = "dhw";
  o.max_batch_size = 16;
  o.relaxation = 10;
  o.init = "pseudo_inverse";
  const ProblemHelp help{"volume edge in voxels (the volume is size^3)", "projectors: contiguous blocks of projections",
                         "standard deviation of the Gaussian noise on the projections (line integrals over the\n"
                         "unit cube of a phantom with values in [0, 1.5])",
                         "zeros|adjoint|pseudo_inverse"};
  OptionTable table(
      "tomography_3d: PnP cone-beam reconstruction of a walnut-like phantom with a 3D DRUNet (the 3D tomography\n"
      "benchmark). Defaults: the benchmark's scale (512^3, the size of the real walnut reconstructions) and the\n"
      "recommended algorithm, PnP-HQS (8 iterations of the DPIR schedule, sigma 49/255 down to 0.05, data\n"
      "weight 0.3) from FDK with the 2D DRUNet on the slices along all three axes (--slice-axes dhw), chosen\n"
      "on validation volumes (docs/quality.md). The benchmark's relaxed PnP-PGD with the inflated 3D network:\n"
      "--algorithm pgd --iterations 40 --sigma 0.03 --slice-axes none --patch-size 8,256,256 --overlap\n"
      "2,16,16 --max-batch-size 10 (configs/tomography_3d.yaml). On a 2-core, 24 GB machine --size 64 fits\n"
      "well, --size 128 takes about 8 times as long per iteration.\n"
      "\n"
      "  tomography_3d [options]            one process\n"
      "  mpirun -np N tomography_3d [options]",
      "--init pseudo_inverse is FDK (Ram-Lak). Real data: --projections-file P.npy (views x rows x cols,\n"
      "float32 line integrals) with --vectors-file V.txt (one 12-number cone_vec row per view) and --voxel-size\n"
      "in the units of the vectors. Output: result.json, geometry.txt, truth.png, measurement.png (projection 0),\n"
      "initial.png, reconstruction.png, baseline_<name>.png (central slices) in --output-dir. Baselines\n"
      "(--baselines 1): FDK (Ram-Lak, Hann), SIRT and CGLS stopped by the discrepancy principle, PnP-TV\n"
      "(docs/examples.md). Raw scans: --dataset DIR (TIFF projections, darks, flats, vectors; the\n"
      "centre of rotation estimated; writes reconstruction.tif and reconstruction.npy; docs/scanner_data.md).");
  add_problem_options(table, o, help);
  table.integer("--projections", "cone-beam projections over 360 degrees (generated geometry)", o.projections, 1);
  table.integer("--detector", "detector rows = columns of the generated geometry (0 = ceil(1.5 size))", o.detector, 0);
  table.number("--voxel-size", "voxel side in world units (0 = 1 / size: the unit cube)", o.voxel_size, 0.0);
  table.text("--projections-file", "PATH", "real projections, views x rows x cols float32 .npy", o.projections_file);
  table.text("--vectors-file", "PATH", "per-view geometry, 12 columns (ASTRA cone_vec)", o.vectors_file);
  table.text("--truth", "PATH",
             "ground truth instead of the phantom: a cubic 3-D .npy, values as given (phantom-like:\n"
             "[0, 1.5]); --size is taken from it",
             o.truth_file);
  table.integer("--phantom-seed", "seed of the walnut-like phantom's texture ellipsoids (0 = the benchmark's)",
                o.phantom_seed, 0);
  add_common_options(table, o, help, default_weights);
  o.baselines.tv_weight = 0.001;  // chosen on a validation phantom (docs/examples.md)
  o.baselines.max_iterations = 200;
  add_baseline_options(table, o.baselines, true);
  add_dataset_options(table, o.dataset);
  return run_example(argc, argv, "tomography_3d", table, o.progress_timeout,
                     [&](const World& world) { return run(world, o, table); });
}
