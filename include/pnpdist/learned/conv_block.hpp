#pragma once
/// \file
/// ConvBlock: the update network of one learned primal-dual step (Adler & Oktem 2018): three 3x3
/// convolutions with biases, Cin -> width -> width -> Cout, each of the first two followed by a per-channel
/// PReLU. Its parameters live in a ParameterStore under PyTorch-style names (PREFIX: the block's name)
///     PREFIX.conv1.weight (width, Cin, 3, 3)   PREFIX.conv1.bias   PREFIX.prelu1.weight (width)
///     PREFIX.conv2.weight (width, width, 3, 3) PREFIX.conv2.bias   PREFIX.prelu2.weight (width)
///     PREFIX.conv3.weight (Cout, width, 3, 3)  PREFIX.conv3.bias
/// Initialisation: Xavier-uniform weights (bound sqrt(6 / ((Cin + Cout) 9))) from a Philox stream of
/// (seed, stream), zero biases, PReLU slopes `prelu_init`: the same seed gives the same network everywhere.
///
/// forward() keeps what backward() needs in a ConvBlockActivations (input, pre- and post-activations of the
/// two hidden layers); backward() accumulates the parameter gradients into the store and writes the
/// gradient of the input.
///
/// Layout: the input, the update and their gradients are NCHW. Where the convolutions run on oneDNN
/// (nn::train::conv3_train_uses_onednn) the hidden activations and their gradients are channels-last (NHWC):
/// oneDNN's convolutions then use them in place (float) or only convert them (bf16), and only the narrow
/// input and output are transposed; elsewhere (the loops, double) everything is NCHW. In bf16 precision the
/// PReLUs write their outputs (forward) and input gradients (backward) rounded to bfloat16, the operands the
/// convolutions read in place: the same arithmetic as converting float tensors at each convolution, without
/// the conversion passes, and half the memory for those tensors.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "pnpdist/core/bfloat16.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/philox.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/nn/train/conv3_onednn.hpp"
#include "pnpdist/nn/train/parameters.hpp"
#include "pnpdist/nn/train/pointwise_train.hpp"

namespace pnpdist::learned {

/// What a ConvBlock's backward pass needs from its forward pass (input N x Cin x H x W; the hidden layers
/// N x width x H x W, or N x H x W x width where ConvBlock keeps them channels-last; contiguous). In bf16
/// precision the post-activations are kept rounded to bfloat16 only (post1_rounded, post2_rounded; post1 and
/// post2 stay empty): the convolutions read nothing else.
template <class T>
struct ConvBlockActivations {
  std::vector<T> input, pre1, post1, pre2, post2;
  std::vector<bf16_bits> post1_rounded, post2_rounded;
};

/// Scratch of ConvBlock::backward, reused across calls.
template <class T>
struct ConvBlockScratch {
  std::vector<T> values;
  std::vector<bf16_bits> rounded;
};

template <class T>
class ConvBlock {
public:
  /// Adds the block's parameters to `store` (see the file comment). Throws invalid_argument for a
  /// non-positive channel count.
  ConvBlock(nn::train::ParameterStore<T>& store, const std::string& prefix, index_t in_channels, index_t width,
            index_t out_channels, std::uint64_t seed, std::uint64_t stream, double prelu_init)
      : cin_(in_channels), width_(width), cout_(out_channels) {
    require(in_channels > 0 && width > 0 && out_channels > 0, [&] {
      return "ConvBlock '" + prefix + "': channel counts must be positive, got " + std::to_string(in_channels) +
             " -> " + std::to_string(width) + " -> " + std::to_string(out_channels);
    });
    const PhiloxStream random{seed, stream};
    std::uint64_t block = 0;
    const auto conv = [&](const std::string& name, index_t cout, index_t cin) {
      const double bound = std::sqrt(6.0 / static_cast<double>(9 * (cin + cout)));
      std::vector<T> w(static_cast<std::size_t>(cout * cin * 9));
      for (T& v : w) v = static_cast<T>(bound * (2.0 * random.uniform2d(block++).v[0] - 1.0));
      weights_.push_back(store.add(prefix + "." + name + ".weight", {cout, cin, 3, 3}, w));
      biases_.push_back(
          store.add(prefix + "." + name + ".bias", {cout}, std::vector<T>(static_cast<std::size_t>(cout))));
    };
    const auto prelu = [&](const std::string& name) {
      slopes_.push_back(store.add(prefix + "." + name + ".weight", {width},
                                  std::vector<T>(static_cast<std::size_t>(width), static_cast<T>(prelu_init))));
    };
    conv("conv1", width, in_channels);
    prelu("prelu1");
    conv("conv2", width, width);
    prelu("prelu2");
    conv("conv3", out_channels, width);
  }

  [[nodiscard]] index_t in_channels() const { return cin_; }
  [[nodiscard]] index_t out_channels() const { return cout_; }

  /// update = block(a.input) for a batch of `batch` images of h x w; a.input must hold (batch, Cin, h, w).
  template <class Exec>
  void forward(const Exec& exec, const nn::train::ParameterStore<T>& store, index_t batch, index_t h, index_t w,
               ConvBlockActivations<T>& a, T* update) const {
    const index_t plane = h * w;
    require<dimension_mismatch>(static_cast<index_t>(a.input.size()) == batch * cin_ * plane, [&] {
      return "ConvBlock::forward: the input holds " + std::to_string(a.input.size()) + " values, expected " +
             std::to_string(batch * cin_ * plane) + " (batch x Cin x H x W)";
    });
    const auto hidden = static_cast<std::size_t>(batch * width_ * plane);
    const Layouts<Exec> l;
    for (auto* v : {&a.pre1, &a.pre2}) v->resize(hidden);
    for (auto* v : {&a.post1, &a.post2}) v->resize(l.rounded ? 0 : hidden);
    for (auto* v : {&a.post1_rounded, &a.post2_rounded}) v->resize(l.rounded ? hidden : 0);
    nn::train::conv3_train_forward(exec, {batch, cin_, width_, h, w}, a.input.data(), store.value(weights_[0]),
                                   store.value(biases_[0]), a.pre1.data(), l.first);
    const auto post1 = prelu_forward(exec, l, batch, plane, a.pre1.data(), store.value(slopes_[0]), a.post1,
                                     a.post1_rounded);
    nn::train::conv3_train_forward(exec, {batch, width_, width_, h, w}, post1, store.value(weights_[1]),
                                   store.value(biases_[1]), a.pre2.data(), l.middle);
    const auto post2 = prelu_forward(exec, l, batch, plane, a.pre2.data(), store.value(slopes_[1]), a.post2,
                                     a.post2_rounded);
    nn::train::conv3_train_forward(exec, {batch, width_, cout_, h, w}, post2, store.value(weights_[2]),
                                   store.value(biases_[2]), update, l.last);
  }

  /// From d_update (batch, Cout, h, w): adds the parameter gradients to `store`, writes d_input (batch, Cin,
  /// h, w). `work` is scratch (resized here). Call it after forward() on `a`, in the same precision.
  template <class Exec>
  void backward(const Exec& exec, nn::train::ParameterStore<T>& store, index_t batch, index_t h, index_t w,
                const ConvBlockActivations<T>& a, const T* d_update, T* d_input, ConvBlockScratch<T>& work) const {
    const index_t plane = h * w, hidden = batch * width_ * plane;
    const Layouts<Exec> l;
    require(a.post1_rounded.empty() != l.rounded, [] {
      return std::string("ConvBlock::backward: the convolution precision changed since forward()");
    });
    work.values.resize(static_cast<std::size_t>(l.rounded ? hidden : 2 * hidden));
    work.rounded.resize(static_cast<std::size_t>(l.rounded ? hidden : 0));
    T* d_post = work.values.data();
    using nn::train::Conv3Shape;
    using Input = nn::train::Conv3Input<T>;
    const Conv3Shape s3{batch, width_, cout_, h, w}, s2{batch, width_, width_, h, w}, s1{batch, cin_, width_, h, w};
    const Input post1 = l.rounded ? Input(a.post1_rounded.data()) : Input(a.post1.data());
    const Input post2 = l.rounded ? Input(a.post2_rounded.data()) : Input(a.post2.data());
    nn::train::conv3_train_backward_weights(exec, s3, post2, d_update, store.gradient(weights_[2]),
                                            store.gradient(biases_[2]), l.last);
    constexpr auto overwrite = nn::train::GradientWrite::overwrite;
    nn::train::conv3_train_backward_data(exec, s3, d_update, store.value(weights_[2]), d_post, l.last, overwrite);
    Input d_pre = prelu_backward(exec, l, batch, plane, a.pre2.data(), store.value(slopes_[1]), d_post, work,
                                 store.gradient(slopes_[1]));
    nn::train::conv3_train_backward_weights(exec, s2, post1, d_pre, store.gradient(weights_[1]),
                                            store.gradient(biases_[1]), l.middle);
    nn::train::conv3_train_backward_data(exec, s2, d_pre, store.value(weights_[1]), d_post, l.middle, overwrite);
    d_pre = prelu_backward(exec, l, batch, plane, a.pre1.data(), store.value(slopes_[0]), d_post, work,
                           store.gradient(slopes_[0]));
    nn::train::conv3_train_backward_weights(exec, s1, a.input.data(), d_pre, store.gradient(weights_[0]),
                                            store.gradient(biases_[0]), l.first);
    nn::train::conv3_train_backward_data(exec, s1, d_pre, store.value(weights_[0]), d_input, l.first, overwrite);
  }

private:
  /// The convolutions' layouts: the hidden activations channels-last where the convolutions run on oneDNN;
  /// `rounded` where they run in bf16, so that the hidden operands are kept rounded to bfloat16.
  template <class Exec>
  struct Layouts {
    static constexpr auto nchw = nn::train::ActivationLayout::nchw;
    bool channels_last = nn::train::conv3_train_uses_onednn<Exec, T>();
    bool rounded = channels_last && nn::train::train_conv_precision() == nn::train::ConvPrecision::bf16;
    nn::train::ActivationLayout hidden = channels_last ? nn::train::ActivationLayout::nhwc : nchw;
    nn::train::Conv3Layouts first{nchw, hidden}, middle{hidden, hidden}, last{hidden, nchw};
  };

  /// post = prelu(x) into `post`, or rounded into `rounded` (Layouts::rounded); returns the convolution operand.
  template <class Exec>
  nn::train::Conv3Input<T> prelu_forward(const Exec& exec, const Layouts<Exec>& l, index_t batch, index_t plane,
                                         const T* x, const T* alpha, std::vector<T>& post,
                                         std::vector<bf16_bits>& rounded) const {
    if constexpr (std::is_same_v<T, float>)
      if (l.rounded) {
        nn::train::prelu_forward_channels_last(exec, batch, width_, plane, x, alpha, rounded.data());
        return rounded.data();
      }
    if (l.channels_last)
      nn::train::prelu_forward_channels_last(exec, batch, width_, plane, x, alpha, post.data());
    else
      nn::train::prelu_forward(exec, batch, width_, plane, x, alpha, post.data());
    return post.data();
  }

  /// The gradient of the PReLU's input from dy = dL/d(post): written rounded into work.rounded (Layouts::rounded)
  /// or into the second half of work.values; adds the slope gradient. Returns the convolution operand.
  template <class Exec>
  nn::train::Conv3Input<T> prelu_backward(const Exec& exec, const Layouts<Exec>& l, index_t batch, index_t plane,
                                          const T* x, const T* alpha, const T* dy, ConvBlockScratch<T>& work,
                                          T* d_alpha) const {
    if constexpr (std::is_same_v<T, float>)
      if (l.rounded) {
        nn::train::prelu_backward_channels_last(exec, batch, width_, plane, x, alpha, dy, work.rounded.data(),
                                                d_alpha);
        return work.rounded.data();
      }
    T* dx = work.values.data() + batch * width_ * plane;
    std::fill(dx, dx + batch * width_ * plane, T(0));
    if (l.channels_last)
      nn::train::prelu_backward_channels_last(exec, batch, width_, plane, x, alpha, dy, dx, d_alpha);
    else
      nn::train::prelu_backward(exec, batch, width_, plane, x, alpha, dy, dx, d_alpha);
    return dx;
  }

  index_t cin_, width_, cout_;
  std::vector<std::size_t> weights_, biases_, slopes_;
};

}  // namespace pnpdist::learned
