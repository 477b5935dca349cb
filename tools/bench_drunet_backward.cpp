// Time of DRUNet's backward pass (nn/train/drunet_backward.hpp) against the inference forward pass, in the same
// run, float:
//   bench_drunet_backward [--weights FILE] [--threads T] [--size S] [--repeats R]
// Prints the median of R calls (after one warm-up call) of: the inference DRUNet (default engine), the
// recording forward pass, the backward pass in the input only, and in the input and every parameter, with the
// tape's bytes. Built on request: cmake --build BUILD --target bench_drunet_backward
#include <pnpdist/backend/openmp.hpp>
#include <pnpdist/nn/drunet.hpp>
#include <pnpdist/nn/train/drunet_backward.hpp>
#include <pnpdist/tensor/random.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "median_seconds.hpp"

using namespace pnpdist;

int main(int argc, char** argv) {
  std::string path = "weights/drunet_gray.safetensors";
  int threads = 1, repeats = 5;
  index_t size = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--weights")
      path = argv[i + 1];
    else if (key == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (key == "--size")
      size = std::atol(argv[i + 1]);
    else if (key == "--repeats")
      repeats = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  const auto config = nn::infer_drunet_config(path);
  const auto weights = nn::load_drunet_weights<float, 2>(path, config);
  const OpenMP exec{threads};
  const Extents<4> e{1, config.image_channels, size, size};
  std::vector<float> x(static_cast<std::size_t>(product(e))), y(x.size()), dy(x.size()), dx(x.size());
  fill_uniform(Serial{}, View<float, 1, HostSpace>(x.data(), Extents<1>{product(e)}), 1, 0, 0.0f, 1.0f);
  fill_uniform(Serial{}, View<float, 1, HostSpace>(dy.data(), Extents<1>{product(e)}), 1, 1, -1.0f, 1.0f);
  const View<const float, 4, HostSpace> xv(x.data(), e), dyv(dy.data(), e);
  const View<float, 4, HostSpace> yv(y.data(), e), dxv(dx.data(), e);

  nn::DRUNet<2, float, OpenMP> inference(weights, exec);
  nn::train::DRUNetBackward<float, OpenMP> net(weights, exec);
  const float sigma = 0.05f;
  const double t_inference = median_seconds(repeats, [&] { inference.denoise(xv, sigma, yv); });
  const double t_forward = median_seconds(repeats, [&] { net.forward(xv, sigma, yv); });
  const auto tape = net.forward(xv, sigma, yv);
  const double t_input = median_seconds(repeats, [&] { net.backward(tape, dyv, dxv, false); });
  const double t_all = median_seconds(repeats, [&] { net.backward(tape, dyv, dxv, true); });
  std::printf("%s, %ld x %ld, %d thread(s), %s convolutions (median of %d)\n", path.c_str(), static_cast<long>(size),
              static_cast<long>(size), threads,
              nn::train::conv3_train_uses_onednn<OpenMP, float>() ? "oneDNN 3x3" : "loop 3x3", repeats);
  std::printf("inference forward        %8.3f s\n", t_inference);
  std::printf("recording forward        %8.3f s  (%.2fx inference)\n", t_forward, t_forward / t_inference);
  std::printf("backward, input only     %8.3f s  (%.2fx inference)\n", t_input, t_input / t_inference);
  std::printf("backward, + parameters   %8.3f s  (%.2fx inference)\n", t_all, t_all / t_inference);
  std::printf("forward + backward (all) %8.3f s  (%.2fx inference)\n", t_forward + t_all,
              (t_forward + t_all) / t_inference);
  std::printf("tape %.1f MB (%.1f floats per pixel); inference activations %.1f MB\n",
              static_cast<double>(tape.bytes()) / 1e6, nn::train::tape_floats_per_pixel(config),
              static_cast<double>(inference.planned_bytes()) / 1e6);
  return 0;
}
