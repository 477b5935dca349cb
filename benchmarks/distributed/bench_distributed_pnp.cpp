// One PnP iteration, distributed: z = x - gamma grad f(x) (DistributedPhysics: operators dealt round robin,
// one allreduce), x = D_sigma(z) (DistributedDenoiser: tiles dealt in contiguous blocks, one allreduce).
// A plain program, not a Google Benchmark, because it runs under mpirun:
//
//   bench_distributed_pnp [--problem ct|standin] [--threads 1] [--iterations 5] [--operators 8]
//                         [--patch 128] [--overlap 16] [--max-batch 0] [--step 1] [--sigma 0.05]
//     ct only:            [--size 256] [--views 100] [--bins 0 (= size)] [--noise 0.01] [--seed 0]
//                         [--widths 64,128,256,512] [--blocks 4]
//     standin only:       [--size 512] [--passes 4]
//   mpirun -np 2 bench_distributed_pnp --threads 1
//
// --problem ct (the default) is the 2D tomography problem at a CPU size: the modified Shepp-Logan phantom
// (size x size pixels over the unit square) projected in parallel beam over `views` angles uniform in
// [0, pi) onto `bins` detector bins, split into `operators` Joseph projectors of contiguous view blocks,
// dealt round robin to the ranks; each measurement gets Gaussian noise (sigma `noise`) from the stream
// numbered by the operator's global index, so the data do not depend on the number of ranks. The prior is
// a grayscale DRUNet (widths, blocks) with RANDOM weights (He normal, seed 0): no trained weights are used,
// which does not change the cost of a denoise. It runs tiled (patch, overlap) through the distributed
// denoiser on the (H, W) image viewed as 1 x 1 x H x W (a reshape, no copy).
// The step is a fixed `step` (default 1), not 0.99 / ||A||^2: the cost of an iteration does not depend on
// it. x starts at zero.
//
// --problem standin is the machinery-only variant: a stack of `operators` directional 9-tap blurs with zero
// boundary on a size x size image (operator i blurs along direction i mod 4: rows, columns, both
// diagonals), each matched exactly by its adjoint, and a box filter applied `passes` times as denoiser
// (receptive radius `passes` <= overlap). It shows how the distribution splits and adds cost, not the cost
// of the real problem.
//
// Per rank and phase: wall time (median over iterations, after one warm-up), time inside collectives
// (allreduce/barrier, which includes waiting for slower ranks), peak bytes allocated through the library's
// allocator during the phase and the process's peak resident set. Output: one JSON object from rank 0.

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/core/config.hpp>
#include <pnpdist/distributed/distributed.hpp>
#include <pnpdist/nn/drunet.hpp>
#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/reductions.hpp>
#include <pnpdist/tiling/tiling.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "tiling/box_filter_denoiser.hpp"

namespace {

using namespace pnpdist;

#if defined(PNPDIST_HAS_OPENMP)
using BenchExecutor = OpenMP;
BenchExecutor make_executor(int threads) { return OpenMP{threads}; }
#else
using BenchExecutor = Serial;
BenchExecutor make_executor(int) { return Serial{}; }
#endif

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

/// A communicator that adds the wall time spent in each collective call to `seconds`.
template <class Comm>
struct TimedCommunicator {
  Comm comm;
  double* seconds;

  [[nodiscard]] int rank() const { return comm.rank(); }
  [[nodiscard]] int size() const { return comm.size(); }
  template <class T, class Space>
  void allreduce_sum(const View<T, 1, Space>& b) const {
    const double t = now();
    comm.allreduce_sum(b);
    *seconds += now() - t;
  }
  [[nodiscard]] double allreduce_sum(double v) const {
    const double t = now();
    const double r = comm.allreduce_sum(v);
    *seconds += now() - t;
    return r;
  }
  template <class T, class Space>
  void allgatherv(const View<const T, 1, Space>& s, const View<T, 1, Space>& r, std::span<const index_t> c) const {
    const double t = now();
    comm.allgatherv(s, r, c);
    *seconds += now() - t;
  }
  template <class T, class Space>
  void broadcast(const View<T, 1, Space>& b, int root) const {
    const double t = now();
    comm.broadcast(b, root);
    *seconds += now() - t;
  }
  void barrier() const {
    const double t = now();
    comm.barrier();
    *seconds += now() - t;
  }
  [[noreturn]] void abort(int code) const { comm.abort(code); }
};

/// out(i, j) = sum_k w_k in(i + s (k - 4) di, j + s (k - 4) dj), zero outside; s = +1 forward, -1 adjoint.
struct DirectionalBlurKernel {
  View<const float, 2, HostSpace> in;
  View<float, 2, HostSpace> out;
  index_t di, dj, sign;
  float w[9];
  void operator()(index_t i, index_t j) const {
    float s = 0;
    for (index_t k = 0; k < 9; ++k) {
      const index_t ii = i + sign * (k - 4) * di;
      const index_t jj = j + sign * (k - 4) * dj;
      if (ii >= 0 && ii < in.extent(0) && jj >= 0 && jj < in.extent(1)) s += w[k] * in(ii, jj);
    }
    out(i, j) = s;
  }
};

/// Stand-in operator i: a 9-tap blur along direction i mod 4 on 1 x 1 x H x W images.
struct DirectionalBlur {
  using value_type = float;
  using executor_type = BenchExecutor;
  static constexpr std::size_t domain_rank = 4;
  static constexpr std::size_t range_rank = 4;
  BenchExecutor exec;
  Extents<4> shape;
  index_t di, dj;
  float w[9];

  DirectionalBlur(BenchExecutor e, index_t size, index_t i) : exec(e), shape{1, 1, size, size} {
    static constexpr index_t dirs[4][2] = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};
    di = dirs[i % 4][0];
    dj = dirs[i % 4][1];
    float total = 0;
    for (int k = 0; k < 9; ++k) total += (w[k] = 1.0f + static_cast<float>((k * 7 + i) % 5));
    for (float& v : w) v /= total;
  }
  [[nodiscard]] Extents<4> domain_shape() const { return shape; }
  [[nodiscard]] Extents<4> range_shape() const { return shape; }
  [[nodiscard]] BenchExecutor executor() const { return exec; }
  void run(const View<const float, 4, HostSpace>& x, const View<float, 4, HostSpace>& y, index_t sign) const {
    const Extents<2> e{shape[2], shape[3]};
    DirectionalBlurKernel k{reshape<2>(x, e), reshape<2>(y, e), di, dj, sign, {}};
    std::copy(std::begin(w), std::end(w), k.w);
    for_each(exec, e, k);
  }
  void apply(const View<const float, 4, HostSpace>& x, const View<float, 4, HostSpace>& y) const { run(x, y, 1); }
  void apply_adjoint(const View<const float, 4, HostSpace>& y, const View<float, 4, HostSpace>& x) const {
    run(y, x, -1);
  }
};

/// The operators a rank owns with their measurements: f = 1/2 sum ||A_i x - y_i||^2 over them, summed in
/// increasing operator order.
struct LocalBlurStack {
  using value_type = float;
  using executor_type = BenchExecutor;
  static constexpr std::size_t domain_rank = 4;
  BenchExecutor exec;
  Extents<4> shape;
  std::vector<DirectionalBlur> ops;
  std::vector<Tensor<float, 4>> ys;
  mutable Tensor<float, 4> residual, term;

  [[nodiscard]] Extents<4> domain_shape() const { return shape; }
  [[nodiscard]] BenchExecutor executor() const { return exec; }
  [[nodiscard]] double data_fidelity(const View<const float, 4, HostSpace>& x) const {
    double f = 0;
    for (std::size_t k = 0; k < ops.size(); ++k) {
      ops[k].apply(x, residual.view());
      axpy(exec, -1.0f, ys[k].const_view(), residual.view());
      f += 0.5 * squared_norm(exec, residual.const_view());
    }
    return f;
  }
  void gradient(const View<const float, 4, HostSpace>& x, const View<float, 4, HostSpace>& g) const {
    fill(exec, g, 0.0f);
    for (std::size_t k = 0; k < ops.size(); ++k) {
      ops[k].apply(x, residual.view());
      axpy(exec, -1.0f, ys[k].const_view(), residual.view());
      ops[k].apply_adjoint(residual.const_view(), term.view());
      axpy(exec, 1.0f, term.const_view(), g);
    }
  }
};

struct Options {
  std::string problem = "ct";
  index_t size = 0, operators = 8, patch = 128, overlap = 16, max_batch = 0, passes = 4;
  index_t views = 100, bins = 0, blocks = 4;
  std::array<index_t, 4> widths{64, 128, 256, 512};
  double noise = 0.01, step = 1.0, sigma = 0.05;
  std::uint64_t seed = 0;
  int threads = 1, iterations = 5;
};

std::array<index_t, 4> parse_widths(const std::string& text) {
  std::array<index_t, 4> w{};
  std::size_t pos = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const std::size_t comma = text.find(',', pos);
    require(k == 3 ? comma == std::string::npos : comma != std::string::npos,
            [&] { return "bench_distributed_pnp: --widths needs four comma-separated values, got '" + text + "'"; });
    w[k] = std::atoll(text.substr(pos, comma - pos).c_str());
    pos = comma + 1;
  }
  return w;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int a = 1; a < argc; a += 2) {
    const std::string key = argv[a];
    require(a + 1 < argc, [&] { return "bench_distributed_pnp: option " + key + " needs a value"; });
    const std::string text = argv[a + 1];
    const long long v = std::atoll(text.c_str());
    if (key == "--problem")
      o.problem = text;
    else if (key == "--size")
      o.size = v;
    else if (key == "--operators")
      o.operators = v;
    else if (key == "--patch")
      o.patch = v;
    else if (key == "--overlap")
      o.overlap = v;
    else if (key == "--max-batch")
      o.max_batch = v;
    else if (key == "--passes")
      o.passes = v;
    else if (key == "--views")
      o.views = v;
    else if (key == "--bins")
      o.bins = v;
    else if (key == "--blocks")
      o.blocks = v;
    else if (key == "--widths")
      o.widths = parse_widths(text);
    else if (key == "--noise")
      o.noise = std::atof(text.c_str());
    else if (key == "--step")
      o.step = std::atof(text.c_str());
    else if (key == "--sigma")
      o.sigma = std::atof(text.c_str());
    else if (key == "--seed")
      o.seed = static_cast<std::uint64_t>(v);
    else if (key == "--threads")
      o.threads = static_cast<int>(v);
    else if (key == "--iterations")
      o.iterations = static_cast<int>(v);
    else
      throw invalid_argument("bench_distributed_pnp: unknown option " + key);
  }
  require(o.problem == "ct" || o.problem == "standin",
          [&] { return "bench_distributed_pnp: --problem must be ct or standin, got '" + o.problem + "'"; });
  if (o.size == 0) o.size = o.problem == "ct" ? 256 : 512;
  if (o.bins == 0) o.bins = o.size;
  require(o.size >= 8 && o.operators >= 1 && o.iterations >= 1 && o.threads >= 1,
          "bench_distributed_pnp: --size >= 8, --operators >= 1, --iterations >= 1 and --threads >= 1 required");
  require(o.problem != "ct" || (o.views >= o.operators && o.bins >= 1), [&] {
    return "bench_distributed_pnp: --views " + std::to_string(o.views) + " must be >= --operators " +
           std::to_string(o.operators) + " and --bins >= 1";
  });
  return o;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Per-rank figures of the timed iterations (see the file comment), in the order of `field_names`.
constexpr index_t fields = 8;
constexpr const char* field_names[fields] = {"gradient_seconds",
                                             "gradient_communication_seconds",
                                             "denoise_seconds",
                                             "denoise_communication_seconds",
                                             "gradient_peak_allocated_bytes",
                                             "denoise_peak_allocated_bytes",
                                             "peak_resident_bytes",
                                             "tiles_per_rank"};

/// Runs 1 + iterations PnP iterations (the first a warm-up) from x = 0 on images of `shape` (the physics'
/// domain), the denoiser seeing them as `denoiser_shape` (same size, rank 4), and returns this rank's figures.
template <class Comm, class Physics, class Denoiser, std::size_t R>
std::vector<double> measure(const Comm& world, const BenchExecutor& exec, const Physics& physics, Denoiser& denoiser,
                            const Extents<R>& shape, const Extents<4>& denoiser_shape, double* comm_seconds,
                            const Options& o) {
  Tensor<float, R> x = zeros<float>(exec, shape);
  Tensor<float, R> g(shape);
  Tensor<float, R> z(shape);
  const float gamma = static_cast<float>(o.step), sigma = static_cast<float>(o.sigma);
  std::vector<double> grad_t, grad_c, den_t, den_c;
  std::size_t grad_peak = 0, den_peak = 0;
  auto& tracker = allocation_tracker<HostSpace>();
  for (int it = 0; it <= o.iterations; ++it) {  // iteration 0 is the warm-up
    world.barrier();
    tracker.reset_peak();
    std::size_t base = tracker.statistics().current_bytes;
    *comm_seconds = 0;
    double t = now();
    physics.gradient(x.const_view(), g.view());
    const double gt = now() - t, gc = *comm_seconds;
    grad_peak = std::max(grad_peak, tracker.statistics().peak_bytes - base);
    copy(exec, x.const_view(), z.view());
    axpy(exec, -gamma, g.const_view(), z.view());

    world.barrier();
    tracker.reset_peak();
    base = tracker.statistics().current_bytes;
    *comm_seconds = 0;
    t = now();
    denoiser.denoise(reshape<4>(z.const_view(), denoiser_shape), sigma, reshape<4>(x.view(), denoiser_shape));
    const double dt = now() - t, dc = *comm_seconds;
    den_peak = std::max(den_peak, tracker.statistics().peak_bytes - base);
    if (it > 0) {
      grad_t.push_back(gt);
      grad_c.push_back(gc);
      den_t.push_back(dt);
      den_c.push_back(dc);
    }
  }
  return {median(grad_t),
          median(grad_c),
          median(den_t),
          median(den_c),
          double(grad_peak),
          double(den_peak),
          double(peak_resident_bytes()),
          double(denoiser.local_tiles(denoiser_shape).size)};
}

/// Gathers every rank's figures and prints the JSON object on rank 0; `description` holds the leading
/// members (without braces), each line ending in ",\n".
template <class Comm>
int report(const Comm& world, const std::vector<double>& mine, const std::string& description) {
  const int ranks = world.size();
  std::vector<double> all(static_cast<std::size_t>(fields * ranks));
  std::vector<index_t> counts(static_cast<std::size_t>(ranks), fields);
  world.allgatherv(View<const double, 1, HostSpace>(mine.data(), Extents<1>{fields}),
                   View<double, 1, HostSpace>(all.data(), Extents<1>{fields * ranks}), counts);
  if (world.rank() != 0) return 0;
  std::string s = "{\n" + description;
  for (index_t f = 0; f < fields; ++f) {
    s += std::string("  \"") + field_names[f] + "\": [";
    for (int r = 0; r < ranks; ++r) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%.6g", r ? ", " : "", all[static_cast<std::size_t>(r * fields + f)]);
      s += buf;
    }
    s += f + 1 < fields ? "],\n" : "]\n}\n";
  }
  std::fputs(s.c_str(), stdout);
  return 0;
}

std::string formatted(const char* pattern, auto... args) {
  char buf[1024];
  std::snprintf(buf, sizeof buf, pattern, args...);
  return buf;
}

/// The members every problem shares.
std::string common_description(int ranks, const Options& o) {
  return formatted(
      "  \"ranks\": %d, \"threads_per_rank\": %d, \"iterations\": %d, \"step\": %g, \"sigma\": %g,\n"
      "  \"compiler\": \"%s\", \"build_type\": \"%s\", \"git\": \"%s\",\n",
      ranks, o.threads, o.iterations, o.step, o.sigma, PNPDIST_COMPILER, PNPDIST_BUILD_TYPE, PNPDIST_GIT_HASH);
}

template <class Comm>
int run_standin(const Comm& world, const Options& o) {
  const BenchExecutor exec = make_executor(o.threads);
  const Extents<4> shape{1, 1, o.size, o.size};
  Tensor<float, 4> truth(shape);
  fill_uniform(exec, truth.view(), 1, 0, 0.0f, 1.0f);

  double comm_seconds = 0;
  const TimedCommunicator<Comm> comm{world, &comm_seconds};
  const auto physics =
      distribute_physics(o.operators, comm, Dealing::round_robin(), [&](std::span<const index_t> mine) {
        LocalBlurStack local{exec, shape, {}, {}, Tensor<float, 4>(shape), Tensor<float, 4>(shape)};
        for (const index_t i : mine) {
          local.ops.emplace_back(exec, o.size, i);
          local.ys.emplace_back(shape);
          local.ops.back().apply(truth.const_view(), local.ys.back().view());
          add_gaussian_noise(exec, local.ys.back().view(), 0.01f, 0, static_cast<std::uint64_t>(i));
        }
        return local;
      });
  auto denoiser = distribute_denoiser(test::BoxFilterDenoiser<4, BenchExecutor>(o.passes, 1, exec),
                                      PatchTiler<2>(o.patch, o.overlap), comm, o.max_batch);
  const auto mine = measure(world, exec, physics, denoiser, shape, shape, &comm_seconds, o);
  const std::string description =
      "  \"benchmark\": \"one PnP iteration: distributed gradient + distributed tiled denoise (stand-ins)\",\n"
      "  \"problem\": \"standin\",\n" +
      formatted("  \"physics\": \"%lld directional 9-tap blurs (stand-in for CT), round-robin dealing\",\n",
                static_cast<long long>(o.operators)) +
      formatted(
          "  \"denoiser\": \"box filter x %lld (stand-in for DRUNet), patch %lld, overlap %lld, max_batch_size "
          "%lld\",\n",
          static_cast<long long>(o.passes), static_cast<long long>(o.patch), static_cast<long long>(o.overlap),
          static_cast<long long>(o.max_batch)) +
      formatted("  \"image\": [%lld, %lld],\n", static_cast<long long>(o.size), static_cast<long long>(o.size)) +
      common_description(world.size(), o);
  return report(world, mine, description);
}

template <class Comm>
int run_ct(const Comm& world, const Options& o) {
  namespace ct = pnpdist::ct;
  using Projector = ct::JosephProjector2D<float, BenchExecutor>;
  require(o.operators >= world.size(), [&] {
    return "bench_distributed_pnp: --operators " + std::to_string(o.operators) + " must be >= the number of ranks " +
           std::to_string(world.size()) + " (every rank needs an operator)";
  });
  const BenchExecutor exec = make_executor(o.threads);
  const double pixel = 1.0 / static_cast<double>(o.size);
  const ct::VolumeGeometry2D volume{o.size, o.size, pixel, pixel};
  const ct::Geometry2D geometry = ct::parallel_beam_2d(
      ct::uniform_angles(o.views, 0.0, std::numbers::pi),
      ct::Detector2D{o.bins, pixel * static_cast<double>(o.size) / static_cast<double>(o.bins), 0.0}, volume);
  const Tensor<float, 2> truth =
      phantom::rasterize<float>(exec, phantom::shepp_logan_2d(), volume, phantom::fitted_scale(volume));
  const std::vector<ct::Geometry2D> parts = ct::split_views(geometry, o.operators);

  double comm_seconds = 0;
  const TimedCommunicator<Comm> comm{world, &comm_seconds};
  const auto physics =
      distribute_physics(o.operators, comm, Dealing::round_robin(), [&](std::span<const index_t> mine) {
        std::vector<Projector> blocks;
        MeasurementSimulation simulation{o.noise, o.seed};
        for (const index_t i : mine) {
          blocks.emplace_back(exec, parts[static_cast<std::size_t>(i)]);
          simulation.streams.push_back(static_cast<std::uint64_t>(i));  // the global index: rank-independent data
        }
        StackedPhysics<Projector> local(std::move(blocks));
        local.simulate(truth.const_view(), simulation);
        return local;
      });

  nn::DRUNetConfig config;
  config.image_channels = 1;
  config.widths = o.widths;
  config.blocks = o.blocks;
  nn::DRUNet<2, float, BenchExecutor> drunet(nn::random_drunet_weights<float, 2>(config, 0), exec);
  auto denoiser = distribute_denoiser(std::move(drunet), PatchTiler<2>(o.patch, o.overlap), comm, o.max_batch);

  const Extents<2> shape = volume.shape();
  const auto mine = measure(world, exec, physics, denoiser, shape, Extents<4>{1, 1, o.size, o.size}, &comm_seconds, o);
  const std::string description =
      "  \"benchmark\": \"one PnP iteration: distributed gradient + distributed tiled denoise (2D CT, DRUNet)\",\n"
      "  \"problem\": \"ct\",\n" +
      formatted(
          "  \"physics\": \"Shepp-Logan, parallel beam, %lld views in [0, pi), %lld bins, %lld Joseph projectors "
          "of contiguous view blocks, round-robin dealing, noise %g (stream = global operator index)\",\n",
          static_cast<long long>(o.views), static_cast<long long>(o.bins), static_cast<long long>(o.operators),
          o.noise) +
      formatted(
          "  \"denoiser\": \"grayscale DRUNet widths (%lld, %lld, %lld, %lld), %lld blocks, RANDOM weights, "
          "patch %lld, overlap %lld, max_batch_size %lld\",\n",
          static_cast<long long>(o.widths[0]), static_cast<long long>(o.widths[1]), static_cast<long long>(o.widths[2]),
          static_cast<long long>(o.widths[3]), static_cast<long long>(o.blocks), static_cast<long long>(o.patch),
          static_cast<long long>(o.overlap), static_cast<long long>(o.max_batch)) +
      formatted("  \"image\": [%lld, %lld], \"engine\": \"%s\",\n", static_cast<long long>(o.size),
                static_cast<long long>(o.size), nn::DRUNet<2, float, BenchExecutor>::engine_type::name) +
      common_description(world.size(), o);
  return report(world, mine, description);
}

template <class Comm>
int run(const Comm& world, const Options& o) {
  return o.problem == "ct" ? run_ct(world, o) : run_standin(world, o);
}

}  // namespace

int main(int argc, char** argv) {
#if defined(PNPDIST_HAS_MPI)
  pnpdist::mpi::Environment environment(argc, argv);
  const auto world = environment.world();
#else
  const pnpdist::SelfCommunicator world;
#endif
  return pnpdist::run_on_all_ranks(world, [&] { return run(world, parse(argc, argv)); });
}
