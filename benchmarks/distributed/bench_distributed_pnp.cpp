// One PnP iteration, distributed: z = x - gamma grad f(x) (DistributedPhysics: operators dealt round robin,
// one allreduce), x = D_sigma(z) (DistributedDenoiser: tiles dealt in contiguous blocks, one allreduce).
// A plain program, not a Google Benchmark, because it runs under mpirun:
//
//   bench_distributed_pnp [--size 512] [--operators 8] [--patch 128] [--overlap 16] [--max-batch 0]
//                         [--passes 4] [--threads 1] [--iterations 5]
//   mpirun -np 2 bench_distributed_pnp --threads 1
//
// What it measures (stand-ins, stated in the output): the physics is a stack of `operators` directional
// 9-tap blurs with zero boundary on a size x size image (operator i blurs along direction i mod 4:
// rows, columns, both diagonals), each matched exactly by its adjoint; the denoiser is a box filter applied
// `passes` times (receptive radius `passes` <= overlap). Neither is the CT projector or DRUNet: the numbers
// show how the distribution machinery splits and adds cost (time per phase, share of it spent inside
// collective calls, peak memory per rank), not the cost of the real tomography problem.
// Per rank and phase: wall time (median over iterations, after one warm-up), time inside collectives
// (allreduce/barrier, which includes waiting for slower ranks), peak bytes allocated through the library's
// allocator during the phase and the process's peak resident set. Output: one JSON object from rank 0.

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/core/config.hpp>
#include <pnpdist/distributed/distributed.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/reductions.hpp>
#include <pnpdist/tiling/tiling.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
  index_t size = 512, operators = 8, patch = 128, overlap = 16, max_batch = 0, passes = 4;
  int threads = 1, iterations = 5;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int a = 1; a + 1 < argc; a += 2) {
    const std::string key = argv[a];
    const long long v = std::atoll(argv[a + 1]);
    if (key == "--size")
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
    else if (key == "--threads")
      o.threads = static_cast<int>(v);
    else if (key == "--iterations")
      o.iterations = static_cast<int>(v);
    else
      throw invalid_argument("bench_distributed_pnp: unknown option " + key);
  }
  return o;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class Comm>
int run(const Comm& world, const Options& o) {
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

  Tensor<float, 4> x = zeros<float>(exec, shape);
  Tensor<float, 4> g(shape);
  Tensor<float, 4> z(shape);
  const float gamma = 0.5f, sigma = 0.01f;
  std::vector<double> grad_t, grad_c, den_t, den_c;
  std::size_t grad_peak = 0, den_peak = 0;
  auto& tracker = allocation_tracker<HostSpace>();
  for (int it = 0; it <= o.iterations; ++it) {  // iteration 0 is the warm-up
    world.barrier();
    tracker.reset_peak();
    std::size_t base = tracker.statistics().current_bytes;
    comm_seconds = 0;
    double t = now();
    physics.gradient(x.const_view(), g.view());
    const double gt = now() - t, gc = comm_seconds;
    grad_peak = std::max(grad_peak, tracker.statistics().peak_bytes - base);
    copy(exec, x.const_view(), z.view());
    axpy(exec, -gamma, g.const_view(), z.view());

    world.barrier();
    tracker.reset_peak();
    base = tracker.statistics().current_bytes;
    comm_seconds = 0;
    t = now();
    denoiser.denoise(z.const_view(), sigma, x.view());
    const double dt = now() - t, dc = comm_seconds;
    den_peak = std::max(den_peak, tracker.statistics().peak_bytes - base);
    if (it > 0) {
      grad_t.push_back(gt);
      grad_c.push_back(gc);
      den_t.push_back(dt);
      den_c.push_back(dc);
    }
  }
  // Gather every rank's figures on every rank (allgatherv of fixed-size records).
  const int ranks = world.size();
  constexpr index_t fields = 8;
  std::vector<double> mine{median(grad_t),
                           median(grad_c),
                           median(den_t),
                           median(den_c),
                           double(grad_peak),
                           double(den_peak),
                           double(peak_resident_bytes()),
                           double(denoiser.local_tiles(shape).size)};
  std::vector<double> all(static_cast<std::size_t>(fields * ranks));
  std::vector<index_t> counts(static_cast<std::size_t>(ranks), fields);
  world.allgatherv(View<const double, 1, HostSpace>(mine.data(), Extents<1>{fields}),
                   View<double, 1, HostSpace>(all.data(), Extents<1>{fields * ranks}), counts);
  if (world.rank() != 0) return 0;
  auto column = [&](int f) {
    std::string s = "[";
    for (int r = 0; r < ranks; ++r) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%.6g", r ? ", " : "", all[static_cast<std::size_t>(r * fields + f)]);
      s += buf;
    }
    return s + "]";
  };
  std::printf(
      "{\n  \"benchmark\": \"one PnP iteration: distributed gradient + distributed tiled denoise (stand-ins)\",\n"
      "  \"physics\": \"%lld directional 9-tap blurs (stand-in for CT), round-robin dealing\",\n"
      "  \"denoiser\": \"box filter x %lld (stand-in for DRUNet), patch %lld, overlap %lld, max_batch_size %lld\",\n"
      "  \"image\": [%lld, %lld], \"ranks\": %d, \"threads_per_rank\": %d, \"iterations\": %d,\n"
      "  \"compiler\": \"%s\", \"build_type\": \"%s\", \"git\": \"%s\",\n"
      "  \"gradient_seconds\": %s,\n  \"gradient_communication_seconds\": %s,\n"
      "  \"denoise_seconds\": %s,\n  \"denoise_communication_seconds\": %s,\n"
      "  \"gradient_peak_allocated_bytes\": %s,\n  \"denoise_peak_allocated_bytes\": %s,\n"
      "  \"peak_resident_bytes\": %s,\n  \"tiles_per_rank\": %s\n}\n",
      static_cast<long long>(o.operators), static_cast<long long>(o.passes), static_cast<long long>(o.patch),
      static_cast<long long>(o.overlap), static_cast<long long>(o.max_batch), static_cast<long long>(o.size),
      static_cast<long long>(o.size), ranks, o.threads, o.iterations, PNPDIST_COMPILER, PNPDIST_BUILD_TYPE,
      PNPDIST_GIT_HASH, column(0).c_str(), column(1).c_str(), column(2).c_str(), column(3).c_str(), column(4).c_str(),
      column(5).c_str(), column(6).c_str(), column(7).c_str());
  return 0;
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
