// Per-layer times of the 3x3 training convolution (nn/train/conv3_train.hpp loops against the oneDNN
// primitives of nn/train/conv3_onednn.hpp, plain NCHW/OIHW and blocked layouts), measured in the same run:
//   bench_conv3_train [--threads T] [--size S] [--channels C] [--batch N] [--repeats R]
// Prints one line per pass and path: the median time of R calls (after one warm-up call) and the oneDNN
// implementation name. Built on request: cmake --build BUILD --target bench_conv3_train
#include <pnpdist/backend/openmp.hpp>
#include <pnpdist/nn/train/conv3_onednn.hpp>
#include <pnpdist/nn/train/conv3_train.hpp>

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
using namespace pnpdist::nn::train;

int main(int argc, char** argv) {
  int threads = 1, repeats = 9;
  index_t size = 128, channels = 32, batch = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const long value = std::strtol(argv[i + 1], nullptr, 10);
    if (key == "--threads")
      threads = static_cast<int>(value);
    else if (key == "--size")
      size = value;
    else if (key == "--channels")
      channels = value;
    else if (key == "--batch")
      batch = value;
    else if (key == "--repeats")
      repeats = static_cast<int>(value);
    else {
      std::fprintf(stderr, "bench_conv3_train: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (threads < 1 || repeats < 1 || size < 1 || channels < 1 || batch < 1) {
    std::fprintf(stderr, "bench_conv3_train: threads, repeats, size, channels and batch must be positive\n");
    return 2;
  }
  const Conv3Shape s{batch, channels, channels, size, size};
  const auto n_act = static_cast<std::size_t>(batch * channels * size * size);
  std::vector<float> x(n_act), g(n_act), y(n_act), dx(n_act), w(static_cast<std::size_t>(channels * channels * 9)),
      dw(w.size()), b(static_cast<std::size_t>(channels)), db(b.size());
  for (std::size_t i = 0; i < n_act; ++i) {
    x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
    g[i] = static_cast<float>((i * 104729) % 1000) / 1000.0f - 0.5f;
  }
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>((i * 31) % 100) / 1000.0f - 0.05f;
  const OpenMP exec{threads};
  std::printf("conv3 %ld -> %ld, %ld x %ld, batch %ld, %d threads, median of %d\n", static_cast<long>(channels),
              static_cast<long>(channels), static_cast<long>(size), static_cast<long>(size), static_cast<long>(batch),
              threads, repeats);
  const auto report = [&](const char* pass, const char* path, double seconds, const std::string& impl) {
    std::printf("%-17s %-15s %9.3f ms  %s\n", pass, path, 1e3 * seconds, impl.c_str());
  };
  report("forward", "loops",
         median_seconds(repeats, [&] { conv3_forward(exec, s, x.data(), w.data(), b.data(), y.data()); }), "");
  report("backward-data", "loops",
         median_seconds(repeats, [&] { conv3_backward_data(exec, s, g.data(), w.data(), dx.data()); }), "");
  report("backward-weights", "loops",
         median_seconds(repeats, [&] { conv3_backward_weights(exec, s, x.data(), g.data(), dw.data(), db.data()); }),
         "");
#if defined(PNPDIST_HAS_ONEDNN)
  for (const bool blocked : {false, true}) {
    const char* path = blocked ? "onednn-blocked" : "onednn-plain";
    std::string impl;
    report(
        "forward", path,
        median_seconds(
            repeats, [&] { impl = onednn_conv3_forward(threads, s, x.data(), w.data(), b.data(), y.data(), blocked); }),
        impl);
    report("backward-data", path,
           median_seconds(
               repeats, [&] { impl = onednn_conv3_backward_data(threads, s, g.data(), w.data(), dx.data(), blocked); }),
           impl);
    report("backward-weights", path,
           median_seconds(repeats,
                          [&] {
                            impl = onednn_conv3_backward_weights(threads, s, x.data(), g.data(), dw.data(), db.data(),
                                                                 blocked);
                          }),
           impl);
  }
#else
  std::printf("built without the oneDNN component: loops only\n");
#endif
  return 0;
}
