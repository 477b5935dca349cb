// pnpdist_gpu_model: the roofline predictions of docs/gpu_model.md, printed from the launch records of the
// CUDA emulation. For one PnP-PGD iteration of each full-size benchmark (configs/tomography_2d.yaml,
// tomography_3d.yaml, highres_color_image.yaml) it records, in count-only mode (nothing runs), the launches
// of the data step and of the denoiser with the bytes and samples each kernel declares
// (backend/launch_cost.hpp), turns them into seconds with the device figures and efficiency factors below,
// and prints Markdown tables: per kernel class, and per iteration for 1, 8 and 32 GPUs. Every number it
// prints is a prediction, not a measurement. Regenerate the tables of docs/gpu_model.md with
//
//     build/<dir>/tests/cuda_emulation/pnpdist_gpu_model
//
// (about 25 s and 3.5 GB of memory in Release). Every assumption is a named constant here and is
// printed with the tables.

#include <cuda_runtime.h>

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/nn/drunet.hpp>
#include <pnpdist/nn/reference_engine.hpp>
#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/physics/blur/fft_blur.hpp>
#include <pnpdist/physics/blur/psf.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/solvers/proximal_gradient.hpp>
#include <pnpdist/tensor/tensor.hpp>
#include <pnpdist/tiling/tiled_denoiser.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace emu = pnpdist_cuda_emulator;
namespace ct = pnpdist::ct;
namespace nn = pnpdist::nn;
using pnpdist::Cuda;
using pnpdist::CudaSpace;
using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

// ---- Assumptions (all printed) ----------------------------------------------------------------------------

/// One GPU's figures (vendor data sheets, dense rates) and its interconnect as NCCL would see it.
struct Device {
  const char* name;
  double hbm;          ///< bytes/s
  double fp32;         ///< flop/s on the CUDA cores
  double tensor;       ///< flop/s of the tensor cores for the convolutions (TF32; V100: none, FP32)
  const char* tensor_kind;
  double intra_node;   ///< allreduce bus bandwidth within a node of 8 GPUs, bytes/s
  double inter_node;   ///< allreduce bus bandwidth across nodes, per GPU, bytes/s
};

const Device devices[] = {
    // H100 SXM: HBM3 3.35 TB/s, FP32 67 TFLOP/s, TF32 495 TFLOP/s dense; NVLink 4 (NCCL allreduce bus
    // bandwidth about 360 GB/s in a node), one 400 Gb/s NDR InfiniBand NIC per GPU (about 40 GB/s).
    {"H100 SXM", 3.35e12, 67e12, 495e12, "TF32", 360e9, 40e9},
    // H200 SXM: the H100's compute with HBM3e 4.8 TB/s; the same interconnect.
    {"H200 SXM", 4.8e12, 67e12, 495e12, "TF32", 360e9, 40e9},
    // V100 SXM2 (DGX-1, the published DeepInv figures): HBM2 900 GB/s, FP32 15.7 TFLOP/s, no TF32 (PyTorch
    // runs FP32 convolutions on the CUDA cores); NVLink 2 hybrid cube mesh (allreduce about 130 GB/s), four
    // 100 Gb/s EDR InfiniBand NICs per node of 8 (about 6 GB/s per GPU).
    {"V100 SXM2", 0.9e12, 15.7e12, 15.7e12, "FP32", 130e9, 6e9},
};

constexpr double memory_efficiency = 0.8;  ///< share of HBM bandwidth a streaming kernel reaches
constexpr double fp32_efficiency = 0.5;    ///< share of the FP32 rate of the CT and FFT kernels (irregular access)
constexpr double conv_efficiency = 0.6;    ///< share of the tensor (V100: FP32) rate of cuDNN's convolutions
constexpr double launch_seconds = 3e-6;    ///< per launch, not hidden behind running kernels
constexpr double allreduce_latency = 30e-6;  ///< per allreduce, on top of its bandwidth term
constexpr int gpus_per_node = 8;

/// Flops per declared sample, and per declared search and candidate check (the gather), by kernel (the
/// definitions are in launch_cost.hpp).
struct KernelClass {
  const char* fragment;  ///< of the record's functor or signature
  const char* name;
  double flops_per_sample;
  enum Unit { fp32, tensor, memory } unit;
  const char* why;
  double flops_per_search = 0;
  double flops_per_check = 0;
};

const KernelClass classes[] = {
    {"JosephForwardRays<float, pnpdist::ct::JosephGrid2D>", "Joseph FP 2D (per ray)", 4, KernelClass::fp32,
     "a tap: half of a linear interpolation (8 flops: position, fraction, 1 - f, two multiply-adds)"},
    {"JosephForward3D", "Joseph FP 3D (4 x 4 ray patches)", 5, KernelClass::fp32,
     "a tap: a quarter of a bilinear interpolation (20 flops)"},
    {"JosephGatherAdjoint<float, pnpdist::ct::JosephGrid2D", "Joseph BP 2D (voxel gather)", 2, KernelClass::fp32,
     "a term: one multiply-add; a search (per pixel, view and axis: the map's three forms, two corners, four "
     "divisions, the margin) 36; a candidate check (position, bounds, floor, the two weights) 8",
     36, 8},
    {"JosephGatherAdjoint<float, pnpdist::ct::JosephGrid3D", "Joseph BP 3D (voxel gather)", 2, KernelClass::fp32,
     "a term: one multiply-add; a search (per voxel, view and axis: the forms, four corners, eight divisions, "
     "the margin) 80; a candidate check (two positions, bounds, floors, the four bilinear weights) 20",
     80, 20},
    {"JosephBlockRays", "Joseph ray set-up (BP)", 60, KernelClass::fp32, "a ray set-up: about 60 flops, in double precision (counted at the FP32 rate)"},
    {"SwapLastAxesElements", "transpose", 0, KernelClass::memory, "a copied element"},
    {"Conv3Kernel", "DRUNet 3x3 convolutions", 2, KernelClass::tensor, "a multiply-add"},
    {"Down2Kernel", "DRUNet stride-2 convolutions", 2, KernelClass::tensor, "a multiply-add"},
    {"Up2Kernel", "DRUNet transposed convolutions", 2, KernelClass::tensor, "a multiply-add"},
    {"SpectrumMultiplyKernel", "FFT spectrum multiply", 6, KernelClass::fp32, "a complex product"},
    {"cufftExec", "cuFFT R2C / C2R", 2.5, KernelClass::fp32, "points x log2(points): 2.5 flops"},
    {"GatherTilesKernel", "tile gather", 0, KernelClass::memory, "a copied sample"},
    {"ScatterCoresKernel", "tile scatter", 0, KernelClass::memory, "a copied sample"},
};

const KernelClass* class_of(const emu::LaunchRecord& r) {
  for (const KernelClass& k : classes)
    if (r.functor.find(k.fragment) != std::string::npos || r.signature.find(k.fragment) != std::string::npos) return &k;
  return nullptr;
}

/// The roofline time of one record on `d`: max(flops / rate, bytes / bandwidth), efficiencies applied.
double roofline_seconds(const emu::LaunchRecord& r, const KernelClass& k, const Device& d) {
  const double flops = k.flops_per_sample * static_cast<double>(r.samples) +
                       k.flops_per_search * static_cast<double>(r.searches) +
                       k.flops_per_check * static_cast<double>(r.checks);
  const double rate = k.unit == KernelClass::tensor ? d.tensor * conv_efficiency : d.fp32 * fp32_efficiency;
  const double bytes = static_cast<double>(r.bytes_read + r.bytes_written);
  return std::max(flops / rate, bytes / (d.hbm * memory_efficiency));
}

// ---- Recording --------------------------------------------------------------------------------------------

/// The launches of `run`, recorded in count-only mode.
std::vector<emu::LaunchRecord> record(const std::function<void()>& run) {
  const emu::RecordLaunches recording(emu::Recording::count_only);
  run();
  return recording.records();
}

/// Totals of a phase's records (a phase: the data step, one denoiser window, the tile gather and scatter).
struct Phase {
  std::vector<emu::LaunchRecord> records;
  double scale = 1;  ///< how many times the recorded work is done (windows of one DRUNet call)

  [[nodiscard]] double seconds(const Device& d) const {
    double t = 0;
    for (const auto& r : records)
      if (const KernelClass* k = class_of(r)) t += roofline_seconds(r, *k, d);
    return t * scale;
  }
  [[nodiscard]] double launches() const {
    double n = 0;
    for (const auto& r : records) n += r.library_call ? 0 : 1;
    return n * scale;
  }
  [[nodiscard]] double undeclared() const {
    double n = 0;
    for (const auto& r : records) n += (!r.library_call && class_of(r) == nullptr) ? 1 : 0;
    return n * scale;
  }
};

/// A full-size benchmark's iteration: the data step of K operators, the denoiser on T tiles.
struct Benchmark {
  std::string name;
  index_t operators = 1;
  index_t tiles = 1;
  double image_bytes = 0;  ///< one allreduce of the image (float)
  Phase data;              ///< all K operators and the step's element-wise kernels
  Phase denoiser_1gpu;     ///< the denoiser as one GPU runs it
  Phase window;            ///< DRUNet on one tile window
  Phase tiling;            ///< the tile gather and scatter of all tiles
  index_t tile_batch = 0;  ///< max_batch_size of the benchmark's configuration (0: all local tiles)
  index_t drunet_launches = 0;
};

/// A stand-in denoiser for the data step's census (its prior is recorded separately).
template <std::size_t Rank>
struct CopyDenoiser {
  using value_type = float;
  using executor_type = Cuda;
  static constexpr std::size_t rank = Rank;
  [[nodiscard]] Cuda executor() const { return {}; }
  void denoise(const pnpdist::View<const float, Rank, CudaSpace>& x, float, const pnpdist::View<float, Rank, CudaSpace>& y) {
    pnpdist::copy(Cuda{}, x, y);
  }
};

/// The data step of PGD on `physics` (domain rank R), with the copy standing in for the prior.
template <class Physics, std::size_t DenoiserRank>
Phase data_step(const Physics& physics) {
  CopyDenoiser<DenoiserRank> prior;
  pnpdist::ProximalGradient pgd;
  pgd.step = 1e-6;
  using Stepper = typename pnpdist::ProximalGradient::template Stepper<Physics, CopyDenoiser<DenoiserRank>>;
  Stepper stepper(pgd, physics, prior, std::pair<double, double>{0.0, 1.0});
  constexpr std::size_t R = Physics::domain_rank;
  Tensor<float, R, CudaSpace> x(physics.domain_shape()), next(physics.domain_shape());
  stepper.start(x.const_view());
  pnpdist::IterationRecord rec;
  return Phase{record([&] { stepper.data_step(1, x.const_view(), rec); })};
}

template <std::size_t Dim>
Phase drunet_window(index_t channels, const Extents<Dim + 2>& window) {
  nn::DRUNetConfig config;
  config.image_channels = channels;
  const auto weights = nn::random_drunet_weights<float, Dim>(config, 1);
  nn::DRUNet<Dim, float, Cuda, nn::ReferenceEngine<float, Dim, Cuda>> net(weights, Cuda{});
  Tensor<float, Dim + 2, CudaSpace> x(window), y(window);
  (void)record([&] { net.denoise(x.const_view(), 0.05f, y.view()); });  // plans the buffers
  return Phase{record([&] { net.denoise(x.const_view(), 0.05f, y.view()); })};
}

/// The tile gather and scatter of a tiled denoiser over `shape` (DRUNet's size multiple 8).
template <std::size_t Dim>
Phase tile_copies(const Extents<Dim + 2>& shape, const pnpdist::PatchTiler<Dim>& tiler, index_t batch, index_t& tiles,
                  Extents<Dim + 2>& window) {
  struct Multiple8 : CopyDenoiser<Dim + 2> {
    [[nodiscard]] index_t size_multiple() const { return 8; }
  };
  auto prior = pnpdist::tiled(Multiple8{}, tiler, batch);
  const pnpdist::TileGrid<Dim> grid = prior.grid(shape);
  tiles = grid.size();
  window[0] = 1;
  window[1] = shape[1];
  for (std::size_t d = 0; d < Dim; ++d) window[d + 2] = grid.tile_extents()[d];
  Tensor<float, Dim + 2, CudaSpace> x(shape), y(shape);
  (void)record([&] { prior.denoise(x.const_view(), 0.05f, y.view()); });
  Phase p{record([&] { prior.denoise(x.const_view(), 0.05f, y.view()); })};
  std::erase_if(p.records, [](const emu::LaunchRecord& r) { return class_of(r) == nullptr; });  // the copies
  return p;
}

Benchmark tomography_2d() {
  Benchmark b;
  b.name = "2D CT: 2048^2, parallel beam, 100 views in 8 operators, gray DRUNet, tiles 448 / 32";
  const auto geometry =
      ct::parallel_beam_2d(ct::uniform_angles(100, 0, std::numbers::pi), {2048, 1.0, 0.0}, {2048, 2048, 1.0, 1.0});
  using Projector = ct::JosephProjector2D<float, Cuda>;
  std::vector<Projector> ops;
  std::vector<Tensor<float, 2, CudaSpace>> measurements;
  for (const auto& part : ct::split_views(geometry, 8)) {
    ops.push_back(ct::make_projector<float>(Cuda{}, part));
    measurements.emplace_back(ops.back().range_shape());
  }
  b.operators = 8;
  const pnpdist::StackedPhysics<Projector> physics(std::move(ops), std::move(measurements));
  b.data = data_step<pnpdist::StackedPhysics<Projector>, 4>(physics);
  Extents<4> window{};
  b.tiling = tile_copies<2>(Extents<4>{1, 1, 2048, 2048}, pnpdist::PatchTiler<2>(448, 32), 0, b.tiles, window);
  b.window = drunet_window<2>(1, window);  // 512^2
  b.denoiser_1gpu = b.window;
  b.denoiser_1gpu.scale = 16;  // untiled 2048^2 on one GPU: 16 windows of 512^2 of work
  b.image_bytes = 4.0 * 2048 * 2048;
  return b;
}

Benchmark tomography_3d() {
  Benchmark b;
  b.name = "3D CT: 512^3, cone beam, 50 views in 2 operators, gray 3D DRUNet, tiles 8 x 256^2 / 2 x 16^2, batch 4";
  const auto geometry = ct::cone_beam(ct::uniform_angles(50, 0, 2 * std::numbers::pi), {512, 512, 2.0, 2.0, 0, 0},
                                      500.0, 500.0, {512, 512, 512, 1.0, 1.0, 1.0});
  using Projector = ct::JosephProjector3D<float, Cuda>;
  std::vector<Projector> ops;
  std::vector<Tensor<float, 3, CudaSpace>> measurements;
  for (const auto& part : ct::split_views(geometry, 2)) {
    ops.push_back(ct::make_projector<float>(Cuda{}, part));
    measurements.emplace_back(ops.back().range_shape());
  }
  b.operators = 2;
  const pnpdist::StackedPhysics<Projector> physics(std::move(ops), std::move(measurements));
  b.data = data_step<pnpdist::StackedPhysics<Projector>, 5>(physics);
  Extents<5> window{};
  b.tile_batch = 4;
  b.tiling = tile_copies<3>(Extents<5>{1, 1, 512, 512, 512}, pnpdist::PatchTiler<3>({8, 256, 256}, {2, 16, 16}), 4,
                            b.tiles, window);
  b.window = drunet_window<3>(1, window);
  b.denoiser_1gpu = b.window;
  b.denoiser_1gpu.scale = static_cast<double>(b.tiles);  // the configuration tiles on one GPU too
  b.image_bytes = 4.0 * 512 * 512 * 512;
  return b;
}

Benchmark deblurring() {
  Benchmark b;
  b.name = "deblurring: 3 x 2048^2, 8 FFT blurs (139 x 139 PSFs), colour DRUNet, tiles 448 / 32";
  const pnpdist::ImageShape shape{1, 3, 2048, 2048};
  using Blur = pnpdist::blur::FftBlur<Cuda>;
  std::vector<Blur> ops;
  std::vector<Tensor<float, 4, CudaSpace>> measurements;
  for (index_t i = 0; i < 8; ++i) {
    const auto psf = pnpdist::blur::gaussian_psf<float>(20.48, 10.24, 180.0 * static_cast<double>(i) / 7.0);
    ops.emplace_back(Cuda{}, psf.const_view(), shape);
    measurements.emplace_back(shape);
  }
  b.operators = 8;
  const pnpdist::StackedPhysics<Blur> physics(std::move(ops), std::move(measurements));
  b.data = data_step<pnpdist::StackedPhysics<Blur>, 4>(physics);
  Extents<4> window{};
  b.tiling = tile_copies<2>(Extents<4>{1, 3, 2048, 2048}, pnpdist::PatchTiler<2>(448, 32), 0, b.tiles, window);
  b.window = drunet_window<2>(3, window);
  b.denoiser_1gpu = b.window;
  b.denoiser_1gpu.scale = 16;  // untiled 2048^2 on one GPU (as DeepInv): 16 windows of 512^2 of work
  b.image_bytes = 4.0 * 3 * 2048 * 2048;
  return b;
}

// ---- Prediction -------------------------------------------------------------------------------------------

/// A ring allreduce of `bytes` over p GPUs: 2 (p - 1) / p x bytes over the slowest link, plus latency.
double allreduce_seconds(double bytes, int p, const Device& d) {
  if (p == 1) return 0;
  const double bandwidth = p <= gpus_per_node ? d.intra_node : d.inter_node;
  return 2.0 * (p - 1) / p * bytes / bandwidth + allreduce_latency;
}

struct Prediction {
  double physics, denoiser, communication, launches, total;
};

/// One iteration on p GPUs: operators and tiles dealt in contiguous blocks (the busiest rank sets the
/// time), the data step's element-wise kernels on every rank, two allreduces of the image (the gradient
/// sum over the operators, the reassembly of the denoised tiles).
Prediction predict(const Benchmark& b, int p, const Device& d) {
  Prediction r{};
  const double op_share = std::ceil(static_cast<double>(b.operators) / p) / static_cast<double>(b.operators);
  r.physics = b.data.seconds(d) * op_share;
  double launches = b.data.launches() * op_share;
  if (p == 1) {
    r.denoiser = b.denoiser_1gpu.seconds(d);
    launches += b.denoiser_1gpu.launches() / b.denoiser_1gpu.scale;  // one call
  } else {
    const double local = std::ceil(static_cast<double>(b.tiles) / p);
    const double batches = b.tile_batch == 0 ? 1 : std::ceil(local / static_cast<double>(b.tile_batch));
    r.denoiser = b.window.seconds(d) * local + b.tiling.seconds(d) * local / static_cast<double>(b.tiles);
    launches += batches * (b.window.launches() + 2);
  }
  r.communication = 2 * allreduce_seconds(b.image_bytes, p, d);
  r.launches = launches * launch_seconds;
  r.total = r.physics + r.denoiser + r.communication + r.launches;
  return r;
}

std::string seconds_text(double s) {
  char text[32];
  if (s >= 1)
    std::snprintf(text, sizeof text, "%.2f s", s);
  else if (s >= 1e-3)
    std::snprintf(text, sizeof text, "%.1f ms", s * 1e3);
  else
    std::snprintf(text, sizeof text, "%.0f us", s * 1e6);
  return text;
}

/// Per kernel class of a benchmark: launches, samples, bytes and the roofline seconds on each device.
void print_kernels(const Benchmark& b) {
  std::printf("\n#### %s: kernels of one iteration (one GPU, tiled denoiser)\n\n", b.name.c_str());
  std::printf("| Kernel | Launches | Samples | GB moved | Flops / sample |");
  for (const Device& d : devices) std::printf(" %s |", d.name);
  std::printf("\n|---|---:|---:|---:|---:|");
  for (std::size_t i = 0; i < std::size(devices); ++i) std::printf("---:|");
  std::printf("\n");
  const std::pair<const Phase*, double> phases[] = {
      {&b.data, 1.0}, {&b.window, static_cast<double>(b.tiles)}, {&b.tiling, 1.0}};
  std::string searches_text;
  for (const KernelClass& k : classes) {
    double launches = 0, samples = 0, bytes = 0, flops = 0, searches = 0, checks = 0;
    double seconds[std::size(devices)] = {};
    for (const auto& [phase, times] : phases)
      for (const auto& r : phase->records)
        if (class_of(r) == &k) {
          launches += times;
          samples += times * static_cast<double>(r.samples);
          searches += times * static_cast<double>(r.searches);
          checks += times * static_cast<double>(r.checks);
          flops += times * (k.flops_per_sample * static_cast<double>(r.samples) +
                            k.flops_per_search * static_cast<double>(r.searches) +
                            k.flops_per_check * static_cast<double>(r.checks));
          bytes += times * static_cast<double>(r.bytes_read + r.bytes_written);
          for (std::size_t i = 0; i < std::size(devices); ++i) seconds[i] += times * roofline_seconds(r, k, devices[i]);
        }
    if (launches == 0) continue;
    if (searches > 0) {
      char line[256];
      std::snprintf(line, sizeof line, "- %s: %.3g candidate searches, %.2f candidate rays checked and %.2f terms per search\n",
                    k.name, searches, checks / searches, samples / searches);
      searches_text += line;
    }
    std::printf("| %s | %.0f | %.3g | %.3g | %.3g |", k.name, launches, samples, bytes / 1e9,
                samples > 0 ? flops / samples : k.flops_per_sample);
    for (std::size_t i = 0; i < std::size(devices); ++i) std::printf(" %s |", seconds_text(seconds[i]).c_str());
    std::printf("\n");
  }
  double undeclared = 0;
  for (const auto& [phase, times] : phases)
    for (const auto& r : phase->records) undeclared += (!r.library_call && class_of(r) == nullptr) ? times : 0;
  std::printf("| other kernels (element-wise, padding, additions, reductions: no declared cost, launch time only) | "
              "%.0f | | | |",
              undeclared);
  for (std::size_t i = 0; i < std::size(devices); ++i) std::printf(" %s |", seconds_text(undeclared * launch_seconds).c_str());
  std::printf("\n");
  if (!searches_text.empty()) std::printf("\n%s", searches_text.c_str());
}

void print_predictions(const std::vector<Benchmark>& benchmarks) {
  std::printf("\n#### Predicted seconds per PnP-PGD iteration (PREDICTIONS, not measurements)\n\n");
  std::printf("| Benchmark | GPU | 1 GPU | 8 GPUs | 32 GPUs | speed-up at 32 | 32 GPUs: physics / denoiser / "
              "allreduces / launches |\n|---|---|---:|---:|---:|---:|---|\n");
  for (const Benchmark& b : benchmarks)
    for (const Device& d : devices) {
      const Prediction one = predict(b, 1, d), eight = predict(b, 8, d), many = predict(b, 32, d);
      std::printf("| %s | %s | %s | %s | %s | %.1fx | %s / %s / %s / %s |\n", b.name.substr(0, b.name.find(':')).c_str(),
                  d.name, seconds_text(one.total).c_str(), seconds_text(eight.total).c_str(),
                  seconds_text(many.total).c_str(), one.total / many.total, seconds_text(many.physics).c_str(),
                  seconds_text(many.denoiser).c_str(), seconds_text(many.communication).c_str(),
                  seconds_text(many.launches).c_str());
    }
}

void print_assumptions() {
  std::printf("\n#### Assumptions\n\n");
  for (const Device& d : devices)
    std::printf("- %s: HBM %.2f TB/s, FP32 %.1f TFLOP/s, convolutions on %s at %.1f TFLOP/s; allreduce bus "
                "bandwidth %.0f GB/s in a node of %d, %.0f GB/s per GPU across nodes.\n",
                d.name, d.hbm / 1e12, d.fp32 / 1e12, d.tensor_kind, d.tensor / 1e12, d.intra_node / 1e9, gpus_per_node,
                d.inter_node / 1e9);
  std::printf("- Efficiencies: streaming kernels reach %.0f%% of HBM bandwidth, the CT and FFT kernels %.0f%% of "
              "the FP32 rate, cuDNN's convolutions %.0f%% of the tensor (V100: FP32) rate; a kernel's time is "
              "max(flops / rate, bytes / bandwidth) with its declared bytes (each array once: caches hold the rest).\n",
              100 * memory_efficiency, 100 * fp32_efficiency, 100 * conv_efficiency);
  std::printf("- %.0f us per launch not hidden; %.0f us per allreduce on top of 2 (p - 1) / p x bytes / bus bandwidth; "
              "two allreduces of the image per iteration on more than one GPU.\n",
              launch_seconds * 1e6, allreduce_latency * 1e6);
  std::printf("- Operators and tiles are dealt in contiguous blocks; the busiest GPU sets the time (8 operators: one "
              "per GPU at 8 and 32 GPUs; 25 or 256 tiles).\n");
  std::printf("- One GPU runs DRUNet untiled on the 2048^2 benchmarks (16 windows of 512^2 of work), tiled in 3D.\n");
  std::printf("- Flops per declared sample (the tables' Flops / sample column adds the gather's searches and "
              "checks, per term):\n");
  for (const KernelClass& k : classes) std::printf("  - %s: %g (%s)\n", k.name, k.flops_per_sample, k.why);
}

}  // namespace

int main() {
  std::vector<Benchmark> benchmarks;
  benchmarks.push_back(tomography_2d());
  benchmarks.push_back(tomography_3d());
  benchmarks.push_back(deblurring());
  print_predictions(benchmarks);
  for (const Benchmark& b : benchmarks) print_kernels(b);
  print_assumptions();
  // Every kernel of the data steps and tile windows either declares its cost or is one of the element-wise
  // kind; a hot kernel without a declared cost would make the model silently optimistic.
  for (const Benchmark& b : benchmarks)
    for (const Phase* phase : {&b.data, &b.window, &b.tiling})
      for (const auto& r : phase->records)
        if (class_of(r) != nullptr && !r.cost_declared) {
          std::fprintf(stderr, "pnpdist_gpu_model: %s declares no cost\n", r.functor.c_str());
          return 1;
        }
  return 0;
}
