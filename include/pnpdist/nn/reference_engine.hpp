#pragma once
/// \file
/// ReferenceEngine: DRUNet's forward pass with the direct-loop layers of layers.hpp, on any executor
/// (Serial, OpenMP, Cuda), in plain N x C x (D x) H x W layout, with the memory plan of
/// drunet_schedule.hpp. The oracle of the tests, the host engine where oneDNN is absent, and the CUDA
/// engine where cuDNN is absent.

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/nn/drunet_schedule.hpp"
#include "pnpdist/nn/drunet_weights.hpp"
#include "pnpdist/nn/layers.hpp"
#include "pnpdist/nn/padding.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist::nn {

template <class T, std::size_t Dim, class Exec>
class ReferenceEngine {
public:
  using memory_space = typename Exec::memory_space;
  static constexpr std::size_t rank = Dim + 2;
  static constexpr const char* name = "reference";

  /// Copies the weights into the executor's memory space.
  ReferenceEngine(const Exec& exec, const DRUNetWeights<T, Dim>& weights) : exec_(exec), config_(weights.config) {
    for (const LayerWeights<T>& l : weights.layers) {
      specs_.push_back(l.spec);
      weights_.push_back(to_space(l.weight));
      biases_.push_back(to_space(l.bias));
    }
  }

  /// Allocates the buffers for a batch of n inputs of padded spatial extents `spatial` (multiples of 8).
  void plan(index_t n, const std::array<index_t, Dim>& spatial) {
    if (n == n_ && spatial == spatial_) return;
    n_ = n;
    spatial_ = spatial;
    index_t pixels = 1;
    for (index_t e : spatial) pixels *= e;
    index_t work = config_.image_channels * pixels;  // A also holds the output
    for (int s = 0; s < 4; ++s)
      work =
          std::max(work, config_.widths[static_cast<std::size_t>(s)] * (pixels >> (Dim * static_cast<std::size_t>(s))));
    auto allocate = [&](Buffer b, index_t elements) {
      buffers_[static_cast<std::size_t>(b)] = Tensor<T, 1, memory_space>(Extents<1>{n * elements});
    };
    for (Buffer b : {Buffer::a, Buffer::b}) allocate(b, work);
    allocate(Buffer::skip2, config_.widths[1] * (pixels >> Dim));
    allocate(Buffer::skip3, config_.widths[2] * (pixels >> (2 * Dim)));
    allocate(Buffer::skip4, config_.widths[3] * (pixels >> (3 * Dim)));
    allocate(Buffer::input, config_.in_channels() * pixels);
    // Buffer::output aliases A (see drunet_schedule.hpp).
  }

  /// The padded input (N, in_channels, spatial...), to be filled before run().
  [[nodiscard]] View<T, rank, memory_space> input() { return view(Buffer::input, 0); }

  /// One forward pass from input() to the output.
  void run() { run_drunet_schedule(config_, *this); }

  /// Copies the top-left corner of the output into y (N, image_channels, extents <= padded).
  void crop_output(const View<T, rank, memory_space>& y) {
    for_each(exec_, y.extents(),
             CropKernel<T, rank, memory_space>{View<const T, rank, memory_space>(view(Buffer::output, 0)), y});
  }

  /// Bytes of activation buffers the plan holds (input and output included).
  [[nodiscard]] std::size_t planned_bytes() const {
    std::size_t bytes = 0;
    for (const auto& b : buffers_) bytes += b.bytes();
    return bytes;
  }

  // Schedule operations (see drunet_schedule.hpp).
  void conv(const ConvStep& step) {
    const LayerSpec& spec = specs_[step.layer];
    const int out_scale = output_scale(spec.kind, step.scale);
    const View<const T, rank, memory_space> in = view(step.src, step.scale);
    const T* bias = biases_[step.layer].size() > 0 ? biases_[step.layer].data() : nullptr;
    convolution(exec_, spec.kind, in, weights_[step.layer].data(), bias, view(step.dst, out_scale), step.post);
  }
  void copy(Buffer dst, Buffer src, int scale) {
    pnpdist::copy(exec_, View<const T, rank, memory_space>(view(src, scale)), view(dst, scale));
  }
  void add(Buffer dst, Buffer src, int scale) {
    add_residual(exec_, view(dst, scale), View<const T, rank, memory_space>(view(src, scale)));
  }

  /// Buffer b seen as an N x C x spatial tensor at `scale`.
  [[nodiscard]] View<T, rank, memory_space> view(Buffer b, int scale) {
    Extents<rank> extents{};
    extents[0] = n_;
    extents[1] = buffer_channels(config_, b, scale);
    for (std::size_t d = 0; d < Dim; ++d) extents[d + 2] = spatial_[d] >> scale;
    const Buffer storage = b == Buffer::output ? Buffer::a : b;
    return View<T, rank, memory_space>(buffers_[static_cast<std::size_t>(storage)].data(), extents);
  }

private:
  Tensor<T, 1, memory_space> to_space(const std::vector<T>& values) {
    Tensor<T, 1, memory_space> t(Extents<1>{static_cast<index_t>(values.size())});
    if (!values.empty())
      deep_copy(t.view(), View<const T, 1, HostSpace>(values.data(), Extents<1>{static_cast<index_t>(values.size())}));
    return t;
  }

  Exec exec_;
  DRUNetConfig config_;
  std::vector<LayerSpec> specs_;
  std::vector<Tensor<T, 1, memory_space>> weights_, biases_;
  index_t n_ = -1;
  std::array<index_t, Dim> spatial_{};
  std::array<Tensor<T, 1, memory_space>, 7> buffers_;
};

}  // namespace pnpdist::nn
