// Joseph projectors on the OpenMP executor (threads: OMP_NUM_THREADS, or --threads=N before the benchmark
// flags; the benchmarks of this module use 2):
//   - 2D parallel beam, the tomography benchmark: N x N image, 100 views over [0, pi), N detectors,
//     N = 512, 1024, 2048; forward (FP) and back projection (BP).
//   - 3D cone beam: n^3 volume, n views over 360 degrees, n x n detector, source-origin 500,
//     source-detector 1000, the volume filling the field of view; n = 128, 256.
// Counters: samples/s (rays x samples per ray of the dominant axis) and, for the forward projections, the
// relative RMS difference to the analytic line integrals of the Shepp-Logan phantom (rel_rms_analytic).
//
//   OMP_NUM_THREADS=2 bench_ct --benchmark_out=ct.json --benchmark_out_format=json

#include "benchmark_main.hpp"

#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/ct.hpp>

#include <cmath>
#include <numbers>
#include <string>

namespace {

using pnpdist::index_t;
using pnpdist::Tensor;
namespace ct = pnpdist::ct;
namespace phantom = pnpdist::phantom;

#if defined(PNPDIST_HAS_OPENMP)
using Exec = pnpdist::OpenMP;
#else
using Exec = pnpdist::Serial;
#endif

template <std::size_t R>
double relative_rms(const Tensor<float, R>& a, const Tensor<double, R>& b) {
  double num = 0, den = 0;
  for (index_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a.data()[i]) - b.data()[i];
    num += d * d;
    den += b.data()[i] * b.data()[i];
  }
  return std::sqrt(num / den);
}

ct::Geometry2D tomography_2d(index_t n) {
  return ct::parallel_beam_2d(ct::uniform_angles(100, 0, std::numbers::pi), {n, 1.0, 0.0}, {n, n, 1.0, 1.0});
}

ct::Geometry3D cone_3d(index_t n) {
  // Source-origin 500, source-detector 1000: magnification 2; the detector (n pixels of 2) sees the volume's
  // n voxels of 1 at the origin.
  return ct::cone_beam(ct::uniform_angles(n, 0, 2 * std::numbers::pi), {n, n, 2.0, 2.0, 0, 0}, 500.0, 500.0,
                       {n, n, n, 1.0, 1.0, 1.0});
}

void bm_parallel_2d(benchmark::State& state, bool forward) {
  const Exec exec{};
  const index_t n = state.range(0);
  const auto g = tomography_2d(n);
  const auto A = ct::make_projector<float>(exec, g);
  const double scale = phantom::fitted_scale(g.volume);
  const auto x = phantom::rasterize<float>(exec, phantom::shepp_logan_2d(), g.volume, scale, 2);
  Tensor<float, 2> y(A.range_shape()), z(A.domain_shape());
  A.apply(x.const_view(), y.view());
  if (forward)
    state.counters["rel_rms_analytic"] =
        relative_rms(y, phantom::analytic_projections(phantom::shepp_logan_2d(), scale, g));
  for (auto _ : state) {
    if (forward)
      A.apply(x.const_view(), y.view());
    else
      A.apply_adjoint(y.const_view(), z.view());
    benchmark::ClobberMemory();
  }
  const double samples = static_cast<double>(g.views() * g.detector_cols * n);
  state.counters["samples_per_s"] = benchmark::Counter(samples, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = exec.concurrency();
}

void bm_cone_3d(benchmark::State& state, bool forward) {
  const Exec exec{};
  const index_t n = state.range(0);
  const auto g = cone_3d(n);
  const auto A = ct::make_projector<float>(exec, g);
  const double scale = phantom::fitted_scale(g.volume);
  const auto x = phantom::rasterize<float>(exec, phantom::shepp_logan_3d(), g.volume, scale, 1);
  Tensor<float, 3> y(A.range_shape()), z(A.domain_shape());
  A.apply(x.const_view(), y.view());
  if (forward && n <= 128)
    state.counters["rel_rms_analytic"] =
        relative_rms(y, phantom::analytic_projections(phantom::shepp_logan_3d(), scale, g));
  for (auto _ : state) {
    if (forward)
      A.apply(x.const_view(), y.view());
    else
      A.apply_adjoint(y.const_view(), z.view());
    benchmark::ClobberMemory();
  }
  const double samples = static_cast<double>(g.views() * g.detector_rows * g.detector_cols * n);
  state.counters["samples_per_s"] = benchmark::Counter(samples, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = exec.concurrency();
}

void bm_parallel_2d_fp(benchmark::State& state) { bm_parallel_2d(state, true); }
void bm_parallel_2d_bp(benchmark::State& state) { bm_parallel_2d(state, false); }
void bm_cone_3d_fp(benchmark::State& state) { bm_cone_3d(state, true); }
void bm_cone_3d_bp(benchmark::State& state) { bm_cone_3d(state, false); }

// Wall time, and the CPU time of the whole process (all threads): on a shared machine the latter shows the
// work done when the wall time is inflated by other jobs.
BENCHMARK(bm_parallel_2d_fp)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK(bm_parallel_2d_bp)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK(bm_cone_3d_fp)->Arg(128)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(bm_cone_3d_bp)->Arg(128)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

}  // namespace

int main(int argc, char** argv) {
  pnpdist_bench::add_build_context();
  benchmark::AddCustomContext("threads", std::to_string(Exec{}.concurrency()));
  return pnpdist_bench::run_benchmarks(argc, argv);
}
