// Peak memory of DRUNet with and without tiling: one denoise of a C x H x W image (default: colour,
// 2048 x 1366, the highres_color_image size) by the full-width DRUNet (64, 128, 256, 512; 4 blocks) with
// random weights (memory does not depend on the weights), either untiled or through TiledDenoiser. Run one
// configuration per process, so that the process's peak resident set belongs to it:
//
//   bench_tiling_memory --untiled [--threads 2] [--height 2048] [--width 1366]
//   bench_tiling_memory --patch 448 --overlap 32 --max-batch 1 [--threads 2]
//
// Prints one JSON object: peak resident set of the process (VmHWM) before and after the denoise, peak
// bytes allocated through the library's host allocator during the denoise, the network's planned
// activation bytes (DRUNet::planned_bytes), and the wall time of the denoise.

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/nn/drunet.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tiling/tiling.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace pnpdist;

#if defined(PNPDIST_HAS_OPENMP)
using Exec = OpenMP;
#else
using Exec = Serial;
#endif

int main(int argc, char** argv) {
  bool untiled = false;
  index_t height = 2048, width = 1366, channels = 3, patch = 448, overlap = 32, max_batch = 1;
  int threads = 2;
  for (int a = 1; a < argc; ++a) {
    const std::string key = argv[a];
    if (key == "--untiled") {
      untiled = true;
      continue;
    }
    if (a + 1 >= argc) return std::fprintf(stderr, "missing value for %s\n", key.c_str()), 2;
    const long long v = std::atoll(argv[++a]);
    if (key == "--height")
      height = v;
    else if (key == "--width")
      width = v;
    else if (key == "--channels")
      channels = v;
    else if (key == "--patch")
      patch = v;
    else if (key == "--overlap")
      overlap = v;
    else if (key == "--max-batch")
      max_batch = v;
    else if (key == "--threads")
      threads = static_cast<int>(v);
    else
      return std::fprintf(stderr, "unknown option %s\n", key.c_str()), 2;
  }
  Exec exec{};
#if defined(PNPDIST_HAS_OPENMP)
  exec = OpenMP{threads};
#endif
  nn::DRUNetConfig config;
  config.image_channels = channels;
  const auto weights = nn::random_drunet_weights<float, 2>(config, 0);
  const Extents<4> shape{1, channels, height, width};
  Tensor<float, 4> x(shape);
  Tensor<float, 4> y(shape);
  fill_uniform(exec, x.view(), 1, 0, 0.0f, 1.0f);
  fill(exec, y.view(), 0.0f);

  auto& tracker = allocation_tracker<HostSpace>();
  const std::size_t resident_before = peak_resident_bytes();
  tracker.reset_peak();
  const std::size_t allocated_before = tracker.statistics().current_bytes;
  const auto start = std::chrono::steady_clock::now();
  std::size_t planned = 0;
  index_t tiles = 1;
  if (untiled) {
    nn::DRUNet<2, float, Exec> net(weights, exec);
    net.denoise(x.const_view(), 0.01f, y.view());
    planned = net.planned_bytes();
  } else {
    auto net = tiled(nn::DRUNet<2, float, Exec>(weights, exec), PatchTiler<2>(patch, overlap), max_batch);
    net.denoise(x.const_view(), 0.01f, y.view());
    planned = net.denoiser().planned_bytes();
    tiles = net.grid(shape).size();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "{\"image\": [%lld, %lld, %lld], \"tiled\": %s, \"patch\": %lld, \"overlap\": %lld, \"max_batch_size\": %lld, "
      "\"tiles\": %lld, \"threads\": %d,\n \"peak_resident_bytes_before\": %zu, \"peak_resident_bytes_after\": %zu, "
      "\"peak_allocated_bytes_during_denoise\": %zu, \"drunet_planned_bytes\": %zu, \"seconds\": %.3f}\n",
      static_cast<long long>(channels), static_cast<long long>(height), static_cast<long long>(width),
      untiled ? "false" : "true", static_cast<long long>(patch), static_cast<long long>(overlap),
      static_cast<long long>(max_batch), static_cast<long long>(tiles), threads, resident_before, peak_resident_bytes(),
      tracker.statistics().peak_bytes - allocated_before, planned, seconds);
  return 0;
}
