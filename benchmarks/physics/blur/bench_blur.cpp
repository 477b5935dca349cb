// Blur benchmarks (threads: OMP_NUM_THREADS; FFTW uses the same number).
//
//   bm_stack_gradient/fused          grad of 1/2 sum_i ||A_i x - y_i||^2 for the high-resolution benchmark's
//                                    8 circular blurs (sigma (20.48, 10.24), 139 x 139 PSFs, angles
//                                    linspace(0, 180, 8)) on a 1 x 3 x 1366 x 2048 image, through the combined
//                                    normal operator (CircularBlurStack: 2 FFTs per gradient)
//   bm_stack_gradient/per_operator   the same gradient operator by operator (StackedPhysics: 4 FFTs per blur)
//   bm_direct_blur/N, bm_fft_blur/N  one blur of a 1 x 3 x N x N image by a 15 x 15 PSF (sigma (2, 1))
//
// With PNPDIST_BLUR_BENCH_DATA=DIR (written by tools/bench_blur_torch.py --out DIR), x and the measurements
// are read from DIR/x.npy and DIR/y_<i>.npy; the fused gradient is written to DIR/grad_pnpdist.npy and,
// when DIR/grad_torch.npy (and DIR/grad_double.npy, a float64 reference) exist, the relative differences
// are reported in the context.
// Without it, x is uniform and the measurements are simulated (noise 0.1, seed 0, clamped to [0, 1]).
//
//   OMP_NUM_THREADS=2 bench_blur --benchmark_out=blur.json --benchmark_out_format=json

#include <benchmark/benchmark.h>

#include "benchmark_main.hpp"

#include <pnpdist/core/config.hpp>
#include <pnpdist/io/npy.hpp>
#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/physics/blur/blur.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;
using Exec = pnpdist::OpenMP;
using Blur = pnpdist::blur::FftBlur<Exec>;

constexpr index_t bench_height = 1366;
constexpr index_t bench_width = 2048;
constexpr index_t bench_blurs = 8;

const char* data_dir() { return std::getenv("PNPDIST_BLUR_BENCH_DATA"); }

struct StackProblem {
  Exec exec{};
  Extents<4> shape{1, 3, bench_height, bench_width};
  Tensor<float, 4> x{shape};
  std::unique_ptr<pnpdist::StackedPhysics<Blur>> physics;
  std::unique_ptr<pnpdist::blur::CircularBlurStack<Exec>> fused;

  StackProblem() {
    std::vector<Blur> ops;
    for (index_t i = 0; i < bench_blurs; ++i) {
      const double angle = 180.0 * static_cast<double>(i) / static_cast<double>(bench_blurs - 1);
      const auto psf = pnpdist::blur::gaussian_psf<float>(0.01 * bench_width, 0.005 * bench_width, angle);
      ops.emplace_back(exec, psf.const_view(), shape);
    }
    physics = std::make_unique<pnpdist::StackedPhysics<Blur>>(std::move(ops));
    if (const char* dir = data_dir()) {
      x = pnpdist::read_npy<float, 4>(std::string(dir) + "/x.npy");
      std::vector<Tensor<float, 4>> ys;
      for (index_t i = 0; i < bench_blurs; ++i)
        ys.push_back(pnpdist::read_npy<float, 4>(std::string(dir) + "/y_" + std::to_string(i) + ".npy"));
      physics->set_measurements(std::move(ys));
    } else {
      Tensor<float, 4> truth(shape);
      pnpdist::fill_uniform(exec, truth.view(), 1, 0, 0.0f, 1.0f);
      physics->simulate(truth.const_view(), {.noise_sigma = 0.1, .seed = 0, .first_stream = 0, .clamp = true});
      pnpdist::fill_uniform(exec, x.view(), 2, 0, 0.0f, 1.0f);
    }
    fused = std::make_unique<pnpdist::blur::CircularBlurStack<Exec>>(*physics);
  }
};

StackProblem& stack_problem() {
  static StackProblem problem;
  return problem;
}

double relative_max_difference(const Tensor<float, 4>& a, const Tensor<float, 4>& b) {
  double diff = 0, scale = 0;
  for (index_t i = 0; i < b.size(); ++i) {
    diff = std::max(diff, std::abs(double(a.data()[i]) - double(b.data()[i])));
    scale = std::max(scale, std::abs(double(b.data()[i])));
  }
  return diff / scale;
}

std::string scientific(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2e", v);
  return text;
}

double relative_norm_difference(const Tensor<float, 4>& a, const Tensor<float, 4>& b) {
  double diff = 0, scale = 0;
  for (index_t i = 0; i < b.size(); ++i) {
    const double d = double(a.data()[i]) - double(b.data()[i]);
    diff += d * d;
    scale += double(b.data()[i]) * double(b.data()[i]);
  }
  return std::sqrt(diff / scale);
}

void bm_stack_gradient_fused(benchmark::State& state) {
  StackProblem& p = stack_problem();
  Tensor<float, 4> g(p.shape);
  for (auto _ : state) {
    p.fused->gradient(p.x.const_view(), g.view());
    benchmark::ClobberMemory();
  }
  state.counters["threads"] = p.exec.concurrency();
  state.counters["blurs"] = bench_blurs;
}

void bm_stack_gradient_per_operator(benchmark::State& state) {
  StackProblem& p = stack_problem();
  Tensor<float, 4> g(p.shape);
  for (auto _ : state) {
    p.physics->gradient(p.x.const_view(), g.view());
    benchmark::ClobberMemory();
  }
  state.counters["threads"] = p.exec.concurrency();
  state.counters["blurs"] = bench_blurs;
}

template <bool UseFft>
void bm_blur(benchmark::State& state) {
  const Exec exec{};
  const index_t n = state.range(0);
  const Extents<4> shape{1, 3, n, n};
  const auto psf = pnpdist::blur::gaussian_psf<float>(2.0, 1.0, 30.0);
  Tensor<float, 4> x(shape), y(shape);
  pnpdist::fill_uniform(exec, x.view(), 3, 0, 0.0f, 1.0f);
  if constexpr (UseFft) {
    const Blur op(exec, psf.const_view(), shape);
    op.apply(x.const_view(), y.view());  // plans and work buffer
    for (auto _ : state) {
      op.apply(x.const_view(), y.view());
      benchmark::ClobberMemory();
    }
  } else {
    const pnpdist::blur::DirectBlur<float, Exec> op(exec, psf.const_view(), shape, pnpdist::blur::Boundary::circular);
    for (auto _ : state) {
      op.apply(x.const_view(), y.view());
      benchmark::ClobberMemory();
    }
  }
  state.counters["threads"] = exec.concurrency();
  state.counters["psf_side"] = static_cast<double>(psf.extent(0));
  state.SetItemsProcessed(state.iterations() * product(shape));
}

BENCHMARK(bm_stack_gradient_fused)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(bm_stack_gradient_per_operator)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(bm_blur<false>)
    ->Name("bm_direct_blur")
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(bm_blur<true>)
    ->Name("bm_fft_blur")
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

/// Fused vs per-operator (and vs PyTorch when its gradient is in the data directory), as context entries:
/// max |a - b| / max |b| ("max_rel") and ||a - b|| / ||b|| ("norm_rel").
void add_agreement_context() {
  StackProblem& p = stack_problem();
  Tensor<float, 4> fused(p.shape), per_operator(p.shape);
  p.fused->gradient(p.x.const_view(), fused.view());
  p.physics->gradient(p.x.const_view(), per_operator.view());
  benchmark::AddCustomContext("fused_vs_per_operator_max_rel_diff",
                              scientific(relative_max_difference(fused, per_operator)));
  if (const char* dir = data_dir()) {
    pnpdist::write_npy(std::string(dir) + "/grad_pnpdist.npy", fused.const_view());
    // The float64 reference of tools/bench_blur_torch.py --double-reference, read as float.
    const std::string double_path = std::string(dir) + "/grad_double.npy";
    if (std::FILE* f = std::fopen(double_path.c_str(), "rb")) {
      std::fclose(f);
      const auto exact = pnpdist::read_npy<float, 4>(double_path);
      benchmark::AddCustomContext("fused_vs_double_max_rel_diff", scientific(relative_max_difference(fused, exact)));
      benchmark::AddCustomContext("per_operator_vs_double_max_rel_diff",
                                  scientific(relative_max_difference(per_operator, exact)));
    }
    const std::string torch_path = std::string(dir) + "/grad_torch.npy";
    if (std::FILE* f = std::fopen(torch_path.c_str(), "rb")) {
      std::fclose(f);
      const auto torch_grad = pnpdist::read_npy<float, 4>(torch_path);
      benchmark::AddCustomContext("fused_vs_torch_max_rel_diff",
                                  scientific(relative_max_difference(fused, torch_grad)));
      benchmark::AddCustomContext("fused_vs_torch_norm_rel_diff",
                                  scientific(relative_norm_difference(fused, torch_grad)));
      benchmark::AddCustomContext("per_operator_vs_torch_max_rel_diff",
                                  scientific(relative_max_difference(per_operator, torch_grad)));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  pnpdist_bench::add_build_context();
  benchmark::AddCustomContext("openmp_threads", std::to_string(pnpdist::OpenMP{}.concurrency()));
  benchmark::AddCustomContext("stack_image", "1 x 3 x " + std::to_string(bench_height) + " x " +
                                                 std::to_string(bench_width) + ", " + std::to_string(bench_blurs) +
                                                 " blurs, 139 x 139 PSFs");
  // The agreement check builds the 8-blur problem (FFTW planning included): skipped when a filter leaves
  // out the stack benchmarks.
  bool wants_stack = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--benchmark_filter=", 0) == 0 && arg.find("stack") == std::string::npos) wants_stack = false;
  }
  if (wants_stack) add_agreement_context();
  return pnpdist_bench::run_benchmarks(argc, argv);
}
