// Memory-bound tensor algebra: axpby (y = a x + b y) and dot (<x, y>, accumulated in double) on float
// vectors of 2^12 .. 2^26 elements, for the serial and OpenMP executors, next to a STREAM-like copy that
// measures what the machine's memory delivers in the same run. Throughput is reported as bytes/s with the
// STREAM convention: axpby moves 12 bytes per element (read x, read y, write y), dot 8, copy 8.
//
//   bench_algebra --benchmark_out=algebra.json --benchmark_out_format=json

#include <benchmark/benchmark.h>

#include "benchmark_main.hpp"

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

// Two float vectors of state.range(0) elements, first-touched by the executor's threads (so pages land
// where the threads that use them run), and the bookkeeping every benchmark reports.
template <class Exec>
struct VectorPair {
  Exec exec{};
  index_t n;
  Tensor<float, 1> x, y;

  explicit VectorPair(const benchmark::State& state)
      : n(state.range(0)), x(Extents<1>{state.range(0)}), y(Extents<1>{state.range(0)}) {
    pnpdist::fill(exec, x.view(), 1.0f);
    pnpdist::fill(exec, y.view(), 2.0f);
  }
  // Throughput counted as `bytes_per_element` per element and iteration (STREAM convention).
  void report(benchmark::State& state, index_t bytes_per_element) const {
    state.SetBytesProcessed(state.iterations() * n * bytes_per_element);
    state.counters["threads"] = exec.concurrency();
  }
};

template <class Exec>
void bm_axpby(benchmark::State& state) {
  VectorPair<Exec> v(state);
  for (auto _ : state) {
    pnpdist::axpby(v.exec, 0.5f, v.x.const_view(), 0.25f, v.y.view());
    benchmark::ClobberMemory();
  }
  v.report(state, 12);
}

template <class Exec>
void bm_dot(benchmark::State& state) {
  VectorPair<Exec> v(state);
  for (auto _ : state) benchmark::DoNotOptimize(pnpdist::dot(v.exec, v.x.view(), v.y.view()));
  v.report(state, 8);
}

template <class Exec>
void bm_copy(benchmark::State& state) {
  VectorPair<Exec> v(state);
  for (auto _ : state) {
    pnpdist::copy(v.exec, v.x.const_view(), v.y.view());
    benchmark::ClobberMemory();
  }
  v.report(state, 8);
}

// The reference: one thread's std::memcpy (glibc, non-temporal stores for large sizes).
void bm_memcpy_reference(benchmark::State& state) {
  VectorPair<pnpdist::Serial> v(state);
  for (auto _ : state) {
    std::memcpy(v.y.data(), v.x.data(), v.x.bytes());
    benchmark::ClobberMemory();
  }
  v.report(state, 8);
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
  pnpdist_bench::add_build_context();
#if defined(PNPDIST_HAS_OPENMP)
  benchmark::AddCustomContext("openmp_threads", std::to_string(pnpdist::OpenMP{}.concurrency()));
#endif
  return pnpdist_bench::run_benchmarks(argc, argv);
}
