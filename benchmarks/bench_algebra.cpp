// Memory-bound tensor algebra: axpby (y = a x + b y) and dot (<x, y>, accumulated in double) on float
// vectors of 2^12 .. 2^26 elements, for the serial and OpenMP executors, next to a STREAM-like copy that
// measures what the machine's memory delivers in the same run. Throughput is reported as bytes/s with the
// STREAM convention: axpby moves 12 bytes per element (read x, read y, write y), dot 8, copy 8.
//
//   bench_algebra --benchmark_out=algebra.json --benchmark_out_format=json

#include <benchmark/benchmark.h>

#include <pnpdist/core/config.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/reductions.hpp>

#include <cstring>
#include <string>

namespace {

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

constexpr index_t min_size = index_t{1} << 12;
constexpr index_t max_size = index_t{1} << 26;

template <class Exec>
Exec make_executor() {
  return Exec{};
}

template <class Exec>
void bm_axpby(benchmark::State& state) {
  const auto exec = make_executor<Exec>();
  const index_t n = state.range(0);
  Tensor<float, 1> x(Extents<1>{n}), y(Extents<1>{n});
  pnpdist::fill(exec, x.view(), 1.0f);
  pnpdist::fill(exec, y.view(), 2.0f);
  for (auto _ : state) {
    pnpdist::axpby(exec, 0.5f, x.const_view(), 0.25f, y.view());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 12);
  state.counters["threads"] = exec.concurrency();
}

template <class Exec>
void bm_dot(benchmark::State& state) {
  const auto exec = make_executor<Exec>();
  const index_t n = state.range(0);
  Tensor<float, 1> x(Extents<1>{n}), y(Extents<1>{n});
  pnpdist::fill(exec, x.view(), 1.0f);
  pnpdist::fill(exec, y.view(), 2.0f);
  for (auto _ : state) benchmark::DoNotOptimize(pnpdist::dot(exec, x.view(), y.view()));
  state.SetBytesProcessed(state.iterations() * n * 8);
  state.counters["threads"] = exec.concurrency();
}

template <class Exec>
void bm_copy(benchmark::State& state) {
  const auto exec = make_executor<Exec>();
  const index_t n = state.range(0);
  Tensor<float, 1> x(Extents<1>{n}), y(Extents<1>{n});
  pnpdist::fill(exec, x.view(), 1.0f);
  pnpdist::fill(exec, y.view(), 0.0f);
  for (auto _ : state) {
    pnpdist::copy(exec, x.const_view(), y.view());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 8);
  state.counters["threads"] = exec.concurrency();
}

// The reference: one thread's std::memcpy (glibc, non-temporal stores for large sizes).
void bm_memcpy_reference(benchmark::State& state) {
  const index_t n = state.range(0);
  Tensor<float, 1> x(Extents<1>{n}), y(Extents<1>{n});
  std::memset(x.data(), 0, x.bytes());
  std::memset(y.data(), 0, y.bytes());
  for (auto _ : state) {
    std::memcpy(y.data(), x.data(), x.bytes());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 8);
  state.counters["threads"] = 1;
}

#define PNPDIST_SIZES RangeMultiplier(4)->Range(min_size, max_size)->UseRealTime()

BENCHMARK(bm_memcpy_reference)->PNPDIST_SIZES;
BENCHMARK(bm_copy<pnpdist::Serial>)->PNPDIST_SIZES;
BENCHMARK(bm_axpby<pnpdist::Serial>)->PNPDIST_SIZES;
BENCHMARK(bm_dot<pnpdist::Serial>)->PNPDIST_SIZES;
#if defined(PNPDIST_HAS_OPENMP)
BENCHMARK(bm_copy<pnpdist::OpenMP>)->PNPDIST_SIZES;
BENCHMARK(bm_axpby<pnpdist::OpenMP>)->PNPDIST_SIZES;
BENCHMARK(bm_dot<pnpdist::OpenMP>)->PNPDIST_SIZES;
#endif

}  // namespace

int main(int argc, char** argv) {
  std::string features;
  for (const auto& f : pnpdist::compiled_features())
    if (f.compiled) features += (features.empty() ? "" : ",") + std::string(f.name);
  benchmark::AddCustomContext("pnpdist_backends", "serial" + (features.empty() ? "" : "," + features));
#if defined(PNPDIST_HAS_OPENMP)
  benchmark::AddCustomContext("openmp_threads", std::to_string(pnpdist::OpenMP{}.concurrency()));
#endif
  benchmark::AddCustomContext("compiler", PNPDIST_COMPILER);
  benchmark::AddCustomContext("build_type", PNPDIST_BUILD_TYPE);
  benchmark::AddCustomContext("git_hash", PNPDIST_GIT_HASH);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
