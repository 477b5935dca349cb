#pragma once
/// \file
/// DRUNetBackward<T, Exec>: reverse-mode differentiation of the 2D DRUNet (nn/drunet.hpp) on the host, float
/// or double, Serial or OpenMP.
///
///     DRUNetBackward<double, Serial> net(load_drunet_weights<double, 2>(path, infer_drunet_config(path)));
///     auto tape = net.forward(x, sigma, y);           // y = DRUNet(x, sigma), activations kept in the tape
///     double d_sigma = net.backward(tape, dy, dx);    // dx = J_x^T dy; parameters().gradients() += J_w^T dy
///
/// The forward pass runs the operations of run_drunet_schedule (drunet_schedule.hpp), the inference
/// network's own order, with the training layers: the 3x3 convolutions through conv3_train_* (oneDNN for
/// float when the onednn component is linked, the loops otherwise; conv3_onednn.hpp), the 2x2 stride-2 and
/// transposed convolutions of conv2x2_train.hpp, ReLU and the sums of pointwise_train.hpp, the staging
/// (replicate padding to a multiple of 8, noise-level map, crop) of nn/padding.hpp and padding_train.hpp.
/// Where the schedule overwrites a buffer, the tape keeps a new tensor instead, so every intermediate value
/// stays available; the head, which the schedule evaluates twice (x1 is recomputed at the end rather than
/// stored), is differentiated at both uses.
///
/// Guarantees:
///   - forward's y is the inference DRUNet's output up to the order of the sums (the tests measure it);
///   - backward returns the exact vector-Jacobian product of forward in the input (dx, written), in sigma
///     (the noise-level map: the returned value is the derivative in sigma of the inner product of dy and y)
///     and, when `parameter_gradients` is true, in every parameter, accumulated (+=) into parameters().gradients() in
///     the store's layout (the PyTorch state_dict names m_head.weight, m_down1.0.res.0.weight, ..., m_tail.weight);
///   - with the loops (double always) results do not depend on the thread count;
///   - a tape holds its own activations, so several tapes may be alive; backward does not change them.
///
/// Memory: the tape stores one tensor per operation of the schedule (see tape_floats_per_pixel); backward
/// holds the gradients of the tensors still to be visited, releasing each when its producer is done.

#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/nn/drunet_schedule.hpp"
#include "pnpdist/nn/drunet_weights.hpp"
#include "pnpdist/nn/padding.hpp"
#include "pnpdist/nn/train/conv2x2_train.hpp"
#include "pnpdist/nn/train/conv3_onednn.hpp"
#include "pnpdist/nn/train/padding_train.hpp"
#include "pnpdist/nn/train/parameters.hpp"
#include "pnpdist/nn/train/pointwise_train.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::nn::train {

/// What one forward pass keeps for its backward pass.
template <class T>
struct DRUNetTape {
  /// One intermediate tensor (batch, channels, padded size >> scale).
  struct Tensor {
    index_t channels = 0;
    int scale = 0;
    std::vector<T> values;
  };
  /// One recorded operation: a convolution of layer `layer` from tensor `src` to `dst` (plus `prev` when
  /// the schedule sums into its destination, then ReLU when `relu`), or, with layer -1, dst = prev + src.
  struct Op {
    long layer = -1;
    int src = -1, dst = -1, prev = -1;
    bool relu = false;
  };

  PaddingShape padding;         ///< the image and padded sizes
  std::vector<Tensor> tensors;  ///< tensors[0]: the padded input with the noise-level map
  std::vector<Op> ops;
  int output = -1;  ///< the padded output tensor

  /// Bytes of the stored activations.
  [[nodiscard]] std::size_t bytes() const {
    std::size_t n = 0;
    for (const Tensor& t : tensors) n += t.values.size() * sizeof(T);
    return n;
  }
};

/// Floats (values of T) a tape stores per padded input pixel: the sum over the schedule's operations of
/// their output channels divided by 4^scale, plus the input's channels.
inline double tape_floats_per_pixel(const DRUNetConfig& config) {
  struct Counter {
    const DRUNetConfig& config;
    std::vector<LayerSpec> specs;
    double floats = 0;
    void conv(const ConvStep& s) {
      floats += static_cast<double>(specs[s.layer].out_channels) /
                static_cast<double>(index_t{1} << (2 * output_scale(specs[s.layer].kind, s.scale)));
    }
    void copy(Buffer, Buffer, int) {}
    void add(Buffer, Buffer, int scale) {
      floats += static_cast<double>(config.widths[static_cast<std::size_t>(scale)]) /
                static_cast<double>(index_t{1} << (2 * scale));
    }
  } counter{config, drunet_layers(config)};
  run_drunet_schedule(config, counter);
  return counter.floats + static_cast<double>(config.in_channels());
}

template <class T, class Exec>
class DRUNetBackward {
  static_assert(is_host_executor_v<Exec>, "DRUNetBackward runs on host executors");

public:
  using value_type = T;
  using ImageView = View<const T, 4, HostSpace>;
  using OutputView = View<T, 4, HostSpace>;

  /// The network with the given 2D weights; its parameters are copied into parameters() under the
  /// PyTorch names (weights, and biases when the configuration has them).
  explicit DRUNetBackward(const DRUNetWeights<T, 2>& weights, const Exec& exec = Exec{})
      : exec_(exec), config_(weights.config) {
    for (const LayerWeights<T>& l : weights.layers) {
      specs_.push_back(l.spec);
      const std::size_t w = store_.add(l.spec.name + ".weight", l.spec.weight_shape(2), l.weight);
      long b = -1;
      if (config_.bias) b = static_cast<long>(store_.add(l.spec.name + ".bias", {l.spec.out_channels}, l.bias));
      slots_.push_back({w, b});
    }
  }

  [[nodiscard]] const DRUNetConfig& config() const { return config_; }
  [[nodiscard]] Exec executor() const { return exec_; }
  /// The parameters (values read by forward, gradients accumulated by backward).
  [[nodiscard]] ParameterStore<T>& parameters() { return store_; }
  [[nodiscard]] const ParameterStore<T>& parameters() const { return store_; }

  /// y = DRUNet(x, sigma) for x, y of extents (N, image_channels, H, W), contiguous; returns the tape.
  DRUNetTape<T> forward(const ImageView& x, T sigma, const OutputView& y) const {
    require_same_extents(x, y, "DRUNetBackward::forward");
    check_image(x.extents(), "x");
    require<dimension_mismatch>(x.is_contiguous() && y.is_contiguous(),
                                "DRUNetBackward::forward: x and y must be "
                                "contiguous");
    DRUNetTape<T> tape;
    tape.padding = {
        x.extent(0), x.extent(1), x.extent(2), x.extent(3), round_up(x.extent(2), 8), round_up(x.extent(3), 8)};
    const PaddingShape& p = tape.padding;
    auto& input = new_tensor(tape, config_.in_channels(), 0);
    const Extents<4> padded{p.batch, config_.in_channels(), p.padded_height, p.padded_width};
    for_each(exec_, padded, PadWithNoiseMapKernel<T, 4, HostSpace>{x, sigma, OutputView(input.values.data(), padded)});
    Recorder recorder{*this, tape, {}};
    recorder.current.fill(-1);
    recorder.current[static_cast<std::size_t>(Buffer::input)] = 0;
    run_drunet_schedule(config_, recorder);
    tape.output = recorder.current[static_cast<std::size_t>(Buffer::output)];
    const auto& out = tape.tensors[static_cast<std::size_t>(tape.output)];
    const Extents<4> out_extents{p.batch, config_.image_channels, p.padded_height, p.padded_width};
    for_each(exec_, y.extents(), CropKernel<T, 4, HostSpace>{ImageView(out.values.data(), out_extents), y});
    return tape;
  }

  /// dx = J_x^T dy (written) for the forward pass recorded in `tape`, dy and dx of x's extents, contiguous;
  /// returns the derivative in sigma of the inner product of dy and y. With `parameter_gradients`, adds J_w^T dy
  /// to parameters().gradients().
  T backward(const DRUNetTape<T>& tape, const ImageView& dy, const OutputView& dx, bool parameter_gradients = true) {
    const PaddingShape& p = tape.padding;
    require<dimension_mismatch>(tape.output >= 0, "DRUNetBackward::backward: the tape holds no forward pass");
    const Extents<4> image{p.batch, p.channels, p.height, p.width};
    require<dimension_mismatch>(dy.extents() == image && dx.extents() == image, [&] {
      return "DRUNetBackward::backward: dy " + to_string(dy.extents()) + " and dx " + to_string(dx.extents()) +
             " must have the extents of the forward pass's x, " + to_string(image);
    });
    require<dimension_mismatch>(dy.is_contiguous() && dx.is_contiguous(),
                                "DRUNetBackward::backward: dy and dx must be contiguous");
    std::vector<std::vector<T>> grads(tape.tensors.size());
    auto grad = [&](int id) -> std::vector<T>& {
      auto& g = grads[static_cast<std::size_t>(id)];
      if (g.empty()) g.assign(tape.tensors[static_cast<std::size_t>(id)].values.size(), T(0));
      return g;
    };
    crop_backward(exec_,
                  PaddingShape{p.batch, config_.image_channels, p.height, p.width, p.padded_height, p.padded_width},
                  dy.data(), grad(tape.output).data());
    for (std::size_t k = tape.ops.size(); k-- > 0;) {
      const auto& op = tape.ops[k];
      std::vector<T> g = std::move(grads[static_cast<std::size_t>(op.dst)]);  // released after this step
      if (g.empty()) continue;                                                // nothing downstream depends on it
      const index_t size = static_cast<index_t>(g.size());
      if (op.relu) {
        std::vector<T> masked(g.size(), T(0));
        relu_backward(exec_, size, tape.tensors[static_cast<std::size_t>(op.dst)].values.data(), g.data(),
                      masked.data());
        g = std::move(masked);
      }
      if (op.prev >= 0) residual_add(exec_, size, g.data(), grad(op.prev).data());
      if (op.layer < 0) {
        residual_add(exec_, size, g.data(), grad(op.src).data());
        continue;
      }
      conv_backward(tape, op, g.data(), grad(op.src).data(), parameter_gradients);
    }
    T d_sigma = 0;
    for_each(exec_, dx.size(), [out = dx.data()](index_t i) { out[i] = T(0); });
    pad_with_noise_map_backward(exec_, p, grad(0).data(), dx.data(), &d_sigma);
    return d_sigma;
  }

private:
  struct Slot {
    std::size_t weight;
    long bias;
  };

  /// The schedule's operations (drunet_schedule.hpp) computed on new tape tensors.
  struct Recorder {
    const DRUNetBackward& net;
    DRUNetTape<T>& tape;
    std::array<int, 7> current;  // the tape tensor each buffer holds now

    int& at(Buffer b) { return current[static_cast<std::size_t>(b)]; }
    void conv(const ConvStep& step) {
      const LayerSpec& spec = net.specs_[step.layer];
      typename DRUNetTape<T>::Op op;
      op.layer = static_cast<long>(step.layer);
      op.src = at(step.src);
      op.prev = step.post.sum ? at(step.dst) : -1;
      op.relu = step.post.relu;
      op.dst = static_cast<int>(tape.tensors.size());
      net.new_tensor(tape, spec.out_channels, output_scale(spec.kind, step.scale));
      net.conv_forward(tape, op);
      auto& out = tape.tensors.back().values;
      const index_t size = static_cast<index_t>(out.size());
      if (op.prev >= 0)
        residual_add(net.exec_, size, tape.tensors[static_cast<std::size_t>(op.prev)].values.data(), out.data());
      if (op.relu) relu_forward(net.exec_, size, out.data(), out.data());
      at(step.dst) = op.dst;
      tape.ops.push_back(op);
    }
    void copy(Buffer dst, Buffer src, int) { at(dst) = at(src); }  // the tensor is shared, not copied
    void add(Buffer dst, Buffer src, int scale) {
      typename DRUNetTape<T>::Op op;
      op.prev = at(dst);
      op.src = at(src);
      op.dst = static_cast<int>(tape.tensors.size());
      auto& out = net.new_tensor(tape, net.config_.widths[static_cast<std::size_t>(scale)], scale).values;
      const auto& a = tape.tensors[static_cast<std::size_t>(op.prev)].values;
      const auto& b = tape.tensors[static_cast<std::size_t>(op.src)].values;
      for_each(net.exec_, static_cast<index_t>(out.size()),
               [o = out.data(), pa = a.data(), pb = b.data()](index_t i) { o[i] = pa[i] + pb[i]; });
      at(dst) = op.dst;
      tape.ops.push_back(op);
    }
  };

  void check_image(const Extents<4>& e, const char* name) const {
    require<dimension_mismatch>(e[0] > 0 && e[2] > 0 && e[3] > 0 && e[1] == config_.image_channels, [&] {
      return std::string("DRUNetBackward: ") + name + " extents " + to_string(e) + " must be (N, " +
             std::to_string(config_.image_channels) + ", H, W) with N, H, W positive";
    });
  }

  typename DRUNetTape<T>::Tensor& new_tensor(DRUNetTape<T>& tape, index_t channels, int scale) const {
    const PaddingShape& p = tape.padding;
    const index_t size = p.batch * channels * (p.padded_height >> scale) * (p.padded_width >> scale);
    tape.tensors.push_back({channels, scale, std::vector<T>(static_cast<std::size_t>(size))});
    return tape.tensors.back();
  }

  const T* weight(long layer) const { return store_.value(slots_[static_cast<std::size_t>(layer)].weight); }
  const T* bias(long layer) const {
    const long b = slots_[static_cast<std::size_t>(layer)].bias;
    return b < 0 ? nullptr : store_.value(static_cast<std::size_t>(b));
  }

  /// The shapes of op's convolution (its input's size at its scale).
  struct Shapes {
    ConvKind kind;
    Conv3Shape conv3;
    Conv2x2Shape conv2x2;
  };
  Shapes shapes(const DRUNetTape<T>& tape, const typename DRUNetTape<T>::Op& op) const {
    const LayerSpec& spec = specs_[static_cast<std::size_t>(op.layer)];
    const auto& in = tape.tensors[static_cast<std::size_t>(op.src)];
    const index_t h = tape.padding.padded_height >> in.scale, w = tape.padding.padded_width >> in.scale;
    const index_t n = tape.padding.batch;
    return {spec.kind, Conv3Shape{n, spec.in_channels, spec.out_channels, h, w},
            Conv2x2Shape{n, spec.in_channels, spec.out_channels, h, w}};
  }

  void conv_forward(DRUNetTape<T>& tape, const typename DRUNetTape<T>::Op& op) const {
    const Shapes s = shapes(tape, op);
    const T* in = tape.tensors[static_cast<std::size_t>(op.src)].values.data();
    T* out = tape.tensors[static_cast<std::size_t>(op.dst)].values.data();
    if (s.kind == ConvKind::conv3) conv3_train_forward(exec_, s.conv3, in, weight(op.layer), bias(op.layer), out);
    if (s.kind == ConvKind::down2) down2_forward(exec_, s.conv2x2, in, weight(op.layer), bias(op.layer), out);
    if (s.kind == ConvKind::up2) up2_forward(exec_, s.conv2x2, in, weight(op.layer), bias(op.layer), out);
  }

  /// d_in += conv^T(g); with parameter gradients, the layer's weight (and bias) gradients += .
  void conv_backward(const DRUNetTape<T>& tape, const typename DRUNetTape<T>::Op& op, const T* g, T* d_in,
                     bool parameter_gradients) {
    const Shapes s = shapes(tape, op);
    const Slot slot = slots_[static_cast<std::size_t>(op.layer)];
    const T* w = weight(op.layer);
    const T* in = tape.tensors[static_cast<std::size_t>(op.src)].values.data();
    T* dw = store_.gradient(slot.weight);
    T* db = slot.bias < 0 ? nullptr : store_.gradient(static_cast<std::size_t>(slot.bias));
    if (s.kind == ConvKind::conv3) {
      conv3_train_backward_data(exec_, s.conv3, g, w, d_in);
      if (parameter_gradients) conv3_train_backward_weights(exec_, s.conv3, in, g, dw, db);
    }
    if (s.kind == ConvKind::down2) {
      down2_backward_data(exec_, s.conv2x2, g, w, d_in);
      if (parameter_gradients) down2_backward_weights(exec_, s.conv2x2, in, g, dw, db);
    }
    if (s.kind == ConvKind::up2) {
      up2_backward_data(exec_, s.conv2x2, g, w, d_in);
      if (parameter_gradients) up2_backward_weights(exec_, s.conv2x2, in, g, dw, db);
    }
  }

  Exec exec_;
  DRUNetConfig config_;
  std::vector<LayerSpec> specs_;
  std::vector<Slot> slots_;
  ParameterStore<T> store_;
};

}  // namespace pnpdist::nn::train
