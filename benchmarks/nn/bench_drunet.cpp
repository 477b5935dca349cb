// Full-size colour DRUNet (widths 64..512, 4 blocks, 32.6M parameters, random weights) forward pass on
// one N=1 image of H x W, on the OpenMP executor with the default host engine (oneDNN when built), one
// timed pass.
// Arguments: H, W, threads, warm-up (0: the timed pass is the first one, as a single call of an
// application would be; 1: one untimed pass before). Counters: GFLOP/s (2 x 2,117,568 MACs per padded pixel), peak
// resident memory of the process (VmHWM: run one size per process for a figure comparable with PyTorch's, e.g.
// --benchmark_filter='/1024/1024/'), the planned activation bytes and the engine.
//
//   bench_drunet --benchmark_filter='bm_drunet/h:1024/w:1024/threads:2/warmup:0' --benchmark_out=drunet.json
//   --benchmark_out_format=json /usr/bin/python3 tools/bench_drunet_torch.py --size 1024 1024 --threads 2 --no-warmup

#include <benchmark/benchmark.h>

#include "benchmark_main.hpp"

#include <pnpdist/backend/resident_memory.hpp>
#include <pnpdist/core/config.hpp>
#include <pnpdist/nn/nn.hpp>
#include <pnpdist/tensor/random.hpp>

#include <string>

namespace {

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

void bm_drunet(benchmark::State& state) {
  const index_t h = state.range(0), w = state.range(1);
  const pnpdist::OpenMP exec{static_cast<int>(state.range(2))};
  const pnpdist::nn::DRUNetConfig config{};
  pnpdist::nn::DRUNet<2, float, pnpdist::OpenMP> net(pnpdist::nn::random_drunet_weights<float, 2>(config, 1), exec);
  Tensor<float, 4> x(Extents<4>{1, 3, h, w}), y(Extents<4>{1, 3, h, w});
  pnpdist::fill_uniform(exec, x.view(), 1, 0, 0.0f, 1.0f);
  if (state.range(3) != 0)
    net.denoise(x.const_view(), 25.0f / 255.0f, y.view());  // warm-up: plans, creates primitives, reorders weights
  for (auto _ : state) {
    net.denoise(x.const_view(), 25.0f / 255.0f, y.view());
    benchmark::ClobberMemory();
  }
  const double padded = static_cast<double>(pnpdist::nn::round_up(h, 8) * pnpdist::nn::round_up(w, 8));
  const double flops = 2.0 * pnpdist::nn::drunet_macs_per_pixel(config) * padded;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["peak_rss_bytes"] = static_cast<double>(pnpdist::peak_resident_bytes());
  state.counters["planned_bytes"] = static_cast<double>(net.planned_bytes());
  state.counters["threads"] = exec.concurrency();
  state.SetLabel(decltype(net)::engine_type::name);
}

BENCHMARK(bm_drunet)
    ->ArgNames({"h", "w", "threads", "warmup"})
    ->ArgsProduct({{512}, {512}, {2}, {0, 1}})
    ->ArgsProduct({{1024}, {1024}, {2}, {0, 1}})
    ->ArgsProduct({{1366}, {2048}, {2}, {0, 1}})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  pnpdist_bench::add_build_context();
  return pnpdist_bench::run_benchmarks(argc, argv);
}
