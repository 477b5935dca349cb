// Per-layer times of the 3x3 training convolution (nn/train/conv3_train.hpp loops against the oneDNN
// primitives of nn/train/conv3_onednn.hpp: plain NCHW/OIHW and blocked layouts; channels-last (NHWC) operands,
// as the learned primal-dual's update blocks hold them, with the primitive as dispatched, on channels-last
// memory and on blocked memory), measured in the same run:
//   bench_conv3_train [--threads T] [--size S | --height H --width W] [--channels C | --in-channels CI
//                     --out-channels CO] [--batch N] [--repeats R]
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
  index_t height = 128, width = 128, in_channels = 32, out_channels = 32, batch = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const long value = std::strtol(argv[i + 1], nullptr, 10);
    if (key == "--threads")
      threads = static_cast<int>(value);
    else if (key == "--size")
      height = width = value;
    else if (key == "--height")
      height = value;
    else if (key == "--width")
      width = value;
    else if (key == "--channels")
      in_channels = out_channels = value;
    else if (key == "--in-channels")
      in_channels = value;
    else if (key == "--out-channels")
      out_channels = value;
    else if (key == "--batch")
      batch = value;
    else if (key == "--repeats")
      repeats = static_cast<int>(value);
    else {
      std::fprintf(stderr, "bench_conv3_train: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (threads < 1 || repeats < 1 || height < 1 || width < 1 || in_channels < 1 || out_channels < 1 || batch < 1) {
    std::fprintf(stderr, "bench_conv3_train: threads, repeats, sizes, channels and batch must be positive\n");
    return 2;
  }
  const Conv3Shape s{batch, in_channels, out_channels, height, width};
  const auto n_in = static_cast<std::size_t>(batch * in_channels * height * width);
  const auto n_out = static_cast<std::size_t>(batch * out_channels * height * width);
  std::vector<float> x(n_in), dx(n_in), g(n_out), y(n_out), w(static_cast<std::size_t>(out_channels * in_channels * 9)),
      dw(w.size()), b(static_cast<std::size_t>(out_channels)), db(b.size());
  for (std::size_t i = 0; i < n_in; ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
  for (std::size_t i = 0; i < n_out; ++i) g[i] = static_cast<float>((i * 104729) % 1000) / 1000.0f - 0.5f;
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>((i * 31) % 100) / 1000.0f - 0.05f;
  const OpenMP exec{threads};
  std::printf("conv3 %ld -> %ld, %ld x %ld, batch %ld, %d threads, median of %d\n", static_cast<long>(in_channels),
              static_cast<long>(out_channels), static_cast<long>(height), static_cast<long>(width),
              static_cast<long>(batch), threads, repeats);
  const auto report = [&](const char* pass, const char* path, double seconds, const std::string& impl) {
    std::printf("%-17s %-16s %9.3f ms  %s\n", pass, path, 1e3 * seconds, impl.c_str());
  };
  report("forward", "loops",
         median_seconds(repeats, [&] { conv3_forward(exec, s, x.data(), w.data(), b.data(), y.data()); }), "");
  report("backward-data", "loops",
         median_seconds(repeats, [&] { conv3_backward_data(exec, s, g.data(), w.data(), dx.data()); }), "");
  report("backward-weights", "loops",
         median_seconds(repeats, [&] { conv3_backward_weights(exec, s, x.data(), g.data(), dw.data(), db.data()); }),
         "");
#if defined(PNPDIST_HAS_ONEDNN)
  const auto onednn_passes = [&](const char* path, bool blocked, Conv3Layouts layouts) {
    std::string impl;
    report(
        "forward", path,
        median_seconds(repeats,
                       [&] {
                         impl = onednn_conv3_forward(threads, s, x.data(), w.data(), b.data(), y.data(), blocked,
                                                     ConvPrecision::f32, layouts);
                       }),
        impl);
    report("backward-data", path,
           median_seconds(repeats,
                          [&] {
                            impl = onednn_conv3_backward_data(threads, s, g.data(), w.data(), dx.data(), blocked,
                                                              ConvPrecision::f32, layouts);
                          }),
           impl);
    report("backward-weights", path,
           median_seconds(repeats,
                          [&] {
                            impl = onednn_conv3_backward_weights(threads, s, x.data(), g.data(), dw.data(), db.data(),
                                                                 blocked, ConvPrecision::f32, layouts);
                          }),
           impl);
  };
  onednn_passes("onednn-plain", false, {});
  onednn_passes("onednn-blocked", true, {});
  // Channels-last operands (the values are the same numbers read as NHWC: only the times matter here).
  const auto nhwc = ActivationLayout::nhwc;
  onednn_passes("nhwc-dispatched", true, {nhwc, nhwc, PrimitiveLayout::automatic});
  onednn_passes("nhwc-on-nhwc", true, {nhwc, nhwc, PrimitiveLayout::channels_last});
  onednn_passes("nhwc-on-blocked", true, {nhwc, nhwc, PrimitiveLayout::blocked});
#else
  std::printf("built without the oneDNN component: loops only\n");
#endif
  return 0;
}
