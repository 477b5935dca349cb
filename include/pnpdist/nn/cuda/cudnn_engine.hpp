#pragma once
/// \file
/// CudnnEngine<Dim, Exec>: DRUNet's forward pass on the CUDA executor with cuDNN convolutions (the
/// pnpdist::cudnn component, PNPDIST_HAS_CUDNN), float only, through cuDNN's legacy convolution API
/// (cudnn_cnn.h; present, though marked deprecated, in cuDNN 9).
///
/// - Layout: plain N x C x (D x) H x W, the memory plan of drunet_schedule.hpp held by a ReferenceEngine
///   without weights (its buffers, input, crop, copy and residual add are reused as they are); only the
///   convolutions differ.
/// - conv3 and conv_down2 are cudnnConvolutionForward / cudnnConvolutionBiasActivationForward (ReLU
///   fused); conv_up2 is cudnnConvolutionBackwardData of the stride-2 2x2 convolution whose filter is the
///   ConvTranspose weight (Cin, Cout, 2, 2[, 2]) read as (K, C, R, S), i.e. its exact adjoint. The residual
///   sum is cuDNN's blending factor (y = conv(x) + 1 * y), biases are added with cudnnAddTensor where the
///   fused call does not take them. Post-op order is that of layers.hpp: relu(conv + bias + previous).
/// - plan() chooses, for every convolution of the schedule, the first algorithm of cuDNN's heuristic
///   ranking that is deterministic (so a pass gives the same bits every time on one GPU and cuDNN
///   version), and sizes one workspace for all of them; both are kept until the size changes.
/// - Math: float FMA only (no TF32) unless allow_tf32 is given to the constructor.
/// - The cudnnHandle is bound to the executor's stream: every call is asynchronous in that stream, like
///   the library's own kernels.
/// - Errors: every cuDNN call goes through PNPDIST_CUDNN_CHECK, which throws cuda_error naming the call
///   and cudnnGetErrorString's text. Tensors beyond cuDNN's 32-bit element counts throw invalid_argument.
///
/// Without the component (or without pnpdist::cuda) the class exists, and constructing it throws
/// pnpdist::not_compiled.

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <map>
#include <source_location>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pnpdist/backend/cuda/cuda_executor.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/nn/drunet_schedule.hpp"
#include "pnpdist/nn/drunet_weights.hpp"
#include "pnpdist/nn/layers.hpp"
#include "pnpdist/nn/reference_engine.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

#if defined(PNPDIST_HAS_CUDNN) && defined(PNPDIST_HAS_CUDA)
#include <cuda_runtime.h>
#include <cudnn.h>

#include "pnpdist/core/cuda_check.hpp"
#endif

namespace pnpdist::nn {

#if defined(PNPDIST_HAS_CUDNN) && defined(PNPDIST_HAS_CUDA)

namespace cudnn_detail {

/// Throws cuda_error naming the call and cuDNN's description of the status.
inline void check_cudnn(cudnnStatus_t status, const char* call,
                        std::source_location where = std::source_location::current()) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  throw cuda_error(std::string(call) + " failed: " + cudnnGetErrorString(status), where);
}

}  // namespace cudnn_detail

/// Evaluates a cuDNN call and throws pnpdist::cuda_error when it does not return CUDNN_STATUS_SUCCESS.
#define PNPDIST_CUDNN_CHECK(call) ::pnpdist::nn::cudnn_detail::check_cudnn((call), #call)

namespace cudnn_detail {

/// Owns one cuDNN object (handle or descriptor): created on construction, destroyed once, move-only.
template <class Handle, cudnnStatus_t (*Create)(Handle*), cudnnStatus_t (*Destroy)(Handle)>
class Unique {
public:
  Unique() { PNPDIST_CUDNN_CHECK(Create(&handle_)); }
  ~Unique() {
    if (handle_ != nullptr) (void)Destroy(handle_);
  }
  Unique(Unique&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Unique& operator=(Unique&& other) noexcept {
    if (this != &other) {
      if (handle_ != nullptr) (void)Destroy(handle_);
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Unique(const Unique&) = delete;
  Unique& operator=(const Unique&) = delete;
  [[nodiscard]] Handle get() const { return handle_; }

private:
  Handle handle_ = nullptr;
};

using HandleObject = Unique<cudnnHandle_t, cudnnCreate, cudnnDestroy>;
using TensorDescriptor = Unique<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDescriptor = Unique<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    Unique<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;
using ActivationDescriptor =
    Unique<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor, cudnnDestroyActivationDescriptor>;

/// `dims` as cuDNN's ints; throws invalid_argument when a dimension or the element count exceeds them.
inline std::vector<int> int_dims(const std::vector<index_t>& dims, const char* what) {
  std::vector<int> result;
  index_t count = 1;
  for (index_t d : dims) {
    count *= d;
    result.push_back(static_cast<int>(d));
  }
  require(count <= std::numeric_limits<int>::max(), [&] {
    return std::string("CudnnEngine: ") + what + " has " + std::to_string(count) +
           " elements, more than cuDNN's 32-bit limit (use a smaller batch or tile the input)";
  });
  return result;
}

/// A float tensor descriptor of packed N x C x spatial extents.
inline TensorDescriptor tensor_descriptor(const std::vector<index_t>& dims, const char* what) {
  TensorDescriptor desc;
  const std::vector<int> d = int_dims(dims, what);
  PNPDIST_CUDNN_CHECK(cudnnSetTensorNdDescriptorEx(desc.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                   static_cast<int>(d.size()), d.data()));
  return desc;
}

/// The cross-correlation of a layer kind: pad 1 stride 1 for conv3, pad 0 stride 2 for the 2x2 kinds
/// (conv_up2 is the backward-data pass of that stride-2 convolution).
inline ConvolutionDescriptor convolution_descriptor(ConvKind kind, std::size_t dim, cudnnMathType_t math) {
  ConvolutionDescriptor desc;
  const std::vector<int> pad(dim, kind == ConvKind::conv3 ? 1 : 0), stride(dim, kind == ConvKind::conv3 ? 1 : 2),
      dilation(dim, 1);
  PNPDIST_CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(desc.get(), static_cast<int>(dim), pad.data(), stride.data(),
                                                      dilation.data(), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  PNPDIST_CUDNN_CHECK(cudnnSetConvolutionMathType(desc.get(), math));
  return desc;
}

/// Whether an algorithm of math type `math` may run: without TF32 only non-tensor-op kernels.
inline bool math_allowed(cudnnMathType_t math, bool allow_tf32) {
  return allow_tf32 || math == CUDNN_DEFAULT_MATH || math == CUDNN_FMA_MATH;
}

/// The math type a convolution descriptor gets for a chosen algorithm: the algorithm's own with TF32,
/// float FMA only otherwise (CUDNN_DEFAULT_MATH would permit TF32 on sm_80 and newer).
inline cudnnMathType_t chosen_math(cudnnMathType_t algorithm_math, bool allow_tf32) {
  return allow_tf32 ? algorithm_math : CUDNN_FMA_MATH;
}

}  // namespace cudnn_detail

template <std::size_t Dim, class Exec = Cuda>
class CudnnEngine {
  static_assert(std::is_same_v<Exec, Cuda>, "CudnnEngine runs on the Cuda executor");

public:
  using memory_space = CudaSpace;
  static constexpr std::size_t rank = Dim + 2;
  static constexpr const char* name = "cudnn";

  /// Copies the weights to the device and creates the cuDNN handle (bound to exec.stream) and the filter
  /// descriptors. Throws dimension_mismatch when the weights do not fit their configuration, cuda_error
  /// when cuDNN cannot start (no device).
  CudnnEngine(const Exec& exec, const DRUNetWeights<float, Dim>& weights, bool allow_tf32 = false)
      : exec_(exec), config_(weights.config), memory_(exec, layout_of(weights)), allow_tf32_(allow_tf32) {
    const std::vector<LayerSpec> expected = drunet_layers(config_);
    require<dimension_mismatch>(weights.layers.size() == expected.size(), [&] {
      return "CudnnEngine: " + std::to_string(weights.layers.size()) + " layers of weights, the configuration has " +
             std::to_string(expected.size());
    });
    PNPDIST_CUDNN_CHECK(cudnnSetStream(handle_.get(), static_cast<cudaStream_t>(exec_.stream)));
    PNPDIST_CUDNN_CHECK(cudnnSetActivationDescriptor(relu_.get(), CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));
    index_t widest = 0;
    for (const LayerWeights<float>& l : weights.layers) {
      const LayerSpec& spec = l.spec;
      require<dimension_mismatch>(
          static_cast<index_t>(l.weight.size()) == spec.weight_count(Dim) &&
              (l.bias.empty() || static_cast<index_t>(l.bias.size()) == spec.out_channels),
          [&] {
            return "CudnnEngine: layer " + spec.name + " has " + std::to_string(l.weight.size()) + " weights and " +
                   std::to_string(l.bias.size()) + " biases, expected " + std::to_string(spec.weight_count(Dim)) +
                   " and 0 or " + std::to_string(spec.out_channels);
          });
      widest = std::max(widest, spec.out_channels);
      specs_.push_back(spec);
      weights_.push_back(to_device(l.weight));
      biases_.push_back(to_device(l.bias));
      filters_.emplace_back();
      const std::vector<int> shape = cudnn_detail::int_dims(spec.weight_shape(Dim), "a weight tensor");
      PNPDIST_CUDNN_CHECK(cudnnSetFilterNdDescriptor(filters_.back().get(), CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                                     static_cast<int>(shape.size()), shape.data()));
      std::vector<index_t> bias_dims(rank, 1);
      bias_dims[1] = spec.out_channels;
      bias_descs_.push_back(cudnn_detail::tensor_descriptor(bias_dims, "a bias"));
    }
    // cudnnConvolutionBiasActivationForward needs a bias: zeros for layers without one.
    zero_bias_ = Tensor<float, 1, CudaSpace>(Extents<1>{widest});
    PNPDIST_CUDA_CHECK(cudaMemset(zero_bias_.data(), 0, zero_bias_.bytes()));
  }

  /// Allocates the buffers (the plan of drunet_schedule.hpp) for n inputs of padded spatial extents
  /// `spatial` (multiples of 8), chooses every convolution's algorithm and sizes the workspace.
  void plan(index_t n, const std::array<index_t, Dim>& spatial) {
    if (n == n_ && spatial == spatial_) return;
    memory_.plan(n, spatial);
    n_ = n;
    spatial_ = spatial;
    steps_.clear();
    workspace_ = Tensor<float, 1, CudaSpace>();
    Planner planner{*this};
    try {
      run_drunet_schedule(config_, planner);
    } catch (...) {
      n_ = -1;  // no half-made plan is reused
      steps_.clear();
      throw;
    }
    std::size_t bytes = 0;
    for (const auto& entry : steps_) bytes = std::max(bytes, entry.second.workspace_bytes);
    workspace_ =
        Tensor<float, 1, CudaSpace>(Extents<1>{static_cast<index_t>((bytes + sizeof(float) - 1) / sizeof(float))});
  }

  /// The padded input (N, in_channels, spatial...), to be filled before run().
  [[nodiscard]] View<float, rank, CudaSpace> input() { return memory_.input(); }

  /// One forward pass from input() to the output, queued in the executor's stream.
  void run() { run_drunet_schedule(config_, *this); }

  /// Copies the top-left corner of the output into y (N, image_channels, extents <= padded).
  void crop_output(const View<float, rank, CudaSpace>& y) { memory_.crop_output(y); }

  /// Bytes of activation buffers and cuDNN workspace the plan holds (weights not included).
  [[nodiscard]] std::size_t planned_bytes() const { return memory_.planned_bytes() + workspace_.bytes(); }

  /// "layer (sum, relu): algorithm" for every planned convolution (cuDNN's enum values).
  [[nodiscard]] std::vector<std::string> algorithms() const {
    std::vector<std::string> names;
    for (const auto& [key, step] : steps_)
      names.push_back(specs_[std::get<0>(key)].name + (std::get<1>(key) ? " +sum" : "") +
                      (std::get<2>(key) ? " +relu" : "") + ": " +
                      (specs_[std::get<0>(key)].kind == ConvKind::up2 ? "bwd-data algo " : "fwd algo ") +
                      std::to_string(step.algorithm));
    return names;
  }

  // Schedule operations (see drunet_schedule.hpp).
  void conv(const ConvStep& step) {
    const auto it = steps_.find(key(step));
    require(it != steps_.end(), "CudnnEngine: run() before plan()");
    const Step& s = it->second;
    const LayerSpec& spec = specs_[step.layer];
    const float* in = memory_.view(step.src, step.scale).data();
    float* out = memory_.view(step.dst, output_scale(spec.kind, step.scale)).data();
    const float* w = weights_[step.layer].data();
    const bool has_bias = biases_[step.layer].size() > 0;
    const float one = 1.0f, zero = 0.0f;
    const float* beta = step.post.sum ? &one : &zero;
    void* ws = workspace_.data();
    const std::size_t ws_bytes = workspace_.bytes();
    if (spec.kind == ConvKind::up2) {
      PNPDIST_CUDNN_CHECK(cudnnConvolutionBackwardData(
          handle_.get(), &one, filters_[step.layer].get(), w, s.src.get(), in, s.conv.get(),
          static_cast<cudnnConvolutionBwdDataAlgo_t>(s.algorithm), ws, ws_bytes, beta, s.dst.get(), out));
      add_bias(step.layer, s, out);
      if (step.post.relu)
        PNPDIST_CUDNN_CHECK(
            cudnnActivationForward(handle_.get(), relu_.get(), &one, s.dst.get(), out, &zero, s.dst.get(), out));
      return;
    }
    const auto algo = static_cast<cudnnConvolutionFwdAlgo_t>(s.algorithm);
    if (step.post.relu) {
      // y = relu(conv(x) + alpha2 * y + bias); alpha2 = 0 does not read y (cuDNN's blending convention).
      PNPDIST_CUDNN_CHECK(cudnnConvolutionBiasActivationForward(
          handle_.get(), &one, s.src.get(), in, filters_[step.layer].get(), w, s.conv.get(), algo, ws, ws_bytes, beta,
          s.dst.get(), out, bias_descs_[step.layer].get(), has_bias ? biases_[step.layer].data() : zero_bias_.data(),
          relu_.get(), s.dst.get(), out));
      return;
    }
    PNPDIST_CUDNN_CHECK(cudnnConvolutionForward(handle_.get(), &one, s.src.get(), in, filters_[step.layer].get(), w,
                                                s.conv.get(), algo, ws, ws_bytes, beta, s.dst.get(), out));
    add_bias(step.layer, s, out);
  }
  void copy(Buffer dst, Buffer src, int scale) { memory_.copy(dst, src, scale); }
  void add(Buffer dst, Buffer src, int scale) { memory_.add(dst, src, scale); }

private:
  /// One planned convolution: descriptors, algorithm (a cudnnConvolutionFwdAlgo_t or, for conv_up2, a
  /// cudnnConvolutionBwdDataAlgo_t) and its workspace.
  struct Step {
    cudnn_detail::TensorDescriptor src, dst;
    cudnn_detail::ConvolutionDescriptor conv;
    int algorithm = 0;
    std::size_t workspace_bytes = 0;
  };
  using Key = std::tuple<std::size_t, bool, bool>;

  /// The schedule's operations at plan time: prepares each convolution, moves no data.
  struct Planner {
    CudnnEngine& engine;
    void conv(const ConvStep& step) { engine.prepare(step); }
    void copy(Buffer, Buffer, int) {}
    void add(Buffer, Buffer, int) {}
  };

  static Key key(const ConvStep& step) { return {step.layer, step.post.sum, step.post.relu}; }

  /// The weights' configuration and layer list without their values (the memory plan needs no more).
  static DRUNetWeights<float, Dim> layout_of(const DRUNetWeights<float, Dim>& weights) {
    DRUNetWeights<float, Dim> layout{weights.config, {}};
    for (const LayerWeights<float>& l : weights.layers) layout.layers.push_back({l.spec, {}, {}});
    return layout;
  }

  static Tensor<float, 1, CudaSpace> to_device(const std::vector<float>& values) {
    const Extents<1> extents{static_cast<index_t>(values.size())};
    Tensor<float, 1, CudaSpace> t(extents);
    if (!values.empty()) deep_copy(t.view(), View<const float, 1, HostSpace>(values.data(), extents));
    return t;
  }

  std::vector<index_t> dims(Buffer b, int scale) const {
    std::vector<index_t> d{n_, buffer_channels(config_, b, scale)};
    for (std::size_t i = 0; i < Dim; ++i) d.push_back(spatial_[i] >> scale);
    return d;
  }

  void prepare(const ConvStep& step) {
    if (steps_.count(key(step)) > 0) return;
    const LayerSpec& spec = specs_[step.layer];
    Step s{cudnn_detail::tensor_descriptor(dims(step.src, step.scale), "a convolution input"),
           cudnn_detail::tensor_descriptor(dims(step.dst, output_scale(spec.kind, step.scale)), "a convolution output"),
           cudnn_detail::convolution_descriptor(spec.kind, Dim, allow_tf32_ ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH), 0,
           0};
    const cudnnFilterDescriptor_t filter = filters_[step.layer].get();
    int count = 0, returned = 0;
    bool found = false;
    cudnnMathType_t math = CUDNN_FMA_MATH;
    if (spec.kind == ConvKind::up2) {
      // Backward data of the forward convolution from the output's space (C = Cout) to the input's (K = Cin).
      PNPDIST_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle_.get(), &count));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<std::size_t>(count));
      PNPDIST_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle_.get(), filter, s.src.get(), s.conv.get(),
                                                                      s.dst.get(), count, &returned, perf.data()));
      for (int i = 0; i < returned && !found; ++i) {
        const auto& p = perf[static_cast<std::size_t>(i)];
        if (p.status != CUDNN_STATUS_SUCCESS || p.determinism != CUDNN_DETERMINISTIC ||
            !cudnn_detail::math_allowed(p.mathType, allow_tf32_))
          continue;
        found = true;
        s.algorithm = static_cast<int>(p.algo);
        math = cudnn_detail::chosen_math(p.mathType, allow_tf32_);
      }
      if (found) {
        PNPDIST_CUDNN_CHECK(cudnnSetConvolutionMathType(s.conv.get(), math));
        PNPDIST_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(
            handle_.get(), filter, s.src.get(), s.conv.get(), s.dst.get(),
            static_cast<cudnnConvolutionBwdDataAlgo_t>(s.algorithm), &s.workspace_bytes));
      }
    } else {
      PNPDIST_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(handle_.get(), &count));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<std::size_t>(count));
      PNPDIST_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle_.get(), s.src.get(), filter, s.conv.get(),
                                                                 s.dst.get(), count, &returned, perf.data()));
      for (int i = 0; i < returned && !found; ++i) {
        const auto& p = perf[static_cast<std::size_t>(i)];
        if (p.status != CUDNN_STATUS_SUCCESS || p.determinism != CUDNN_DETERMINISTIC ||
            !cudnn_detail::math_allowed(p.mathType, allow_tf32_))
          continue;
        found = true;
        s.algorithm = static_cast<int>(p.algo);
        math = cudnn_detail::chosen_math(p.mathType, allow_tf32_);
      }
      if (found) {
        PNPDIST_CUDNN_CHECK(cudnnSetConvolutionMathType(s.conv.get(), math));
        PNPDIST_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(
            handle_.get(), s.src.get(), filter, s.conv.get(), s.dst.get(),
            static_cast<cudnnConvolutionFwdAlgo_t>(s.algorithm), &s.workspace_bytes));
      }
    }
    if (!found)
      throw cuda_error("CudnnEngine: cuDNN offers no deterministic algorithm for layer " + spec.name + " (" +
                       std::to_string(returned) + " candidates)");
    steps_.emplace(key(step), std::move(s));
  }

  /// y += bias (broadcast over batch and space) when the layer has one.
  void add_bias(std::size_t layer, const Step& s, float* out) {
    if (biases_[layer].size() == 0) return;
    const float one = 1.0f;
    PNPDIST_CUDNN_CHECK(
        cudnnAddTensor(handle_.get(), &one, bias_descs_[layer].get(), biases_[layer].data(), &one, s.dst.get(), out));
  }

  Exec exec_;
  DRUNetConfig config_;
  ReferenceEngine<float, Dim, Exec> memory_;  // the buffers of the plan; its weights are empty
  bool allow_tf32_;
  cudnn_detail::HandleObject handle_;
  cudnn_detail::ActivationDescriptor relu_;
  std::vector<LayerSpec> specs_;
  std::vector<Tensor<float, 1, CudaSpace>> weights_, biases_;
  std::vector<cudnn_detail::FilterDescriptor> filters_;
  std::vector<cudnn_detail::TensorDescriptor> bias_descs_;
  Tensor<float, 1, CudaSpace> zero_bias_;
  index_t n_ = -1;
  std::array<index_t, Dim> spatial_{};
  std::map<Key, Step> steps_;
  Tensor<float, 1, CudaSpace> workspace_;
};

#else

/// Without the pnpdist::cudnn component: constructing the engine throws not_compiled.
template <std::size_t Dim, class Exec = Cuda>
class CudnnEngine {
public:
  using memory_space = CudaSpace;
  static constexpr std::size_t rank = Dim + 2;
  static constexpr const char* name = "cudnn";
  template <class W>
  CudnnEngine(const Exec&, const W&, bool = false) {
    throw not_compiled("CudnnEngine used, but this build has no cuDNN (link the pnpdist::cudnn component)");
  }
  void plan(index_t, const std::array<index_t, Dim>&) {}
  [[nodiscard]] View<float, rank, CudaSpace> input() { return {}; }
  void run() {}
  void crop_output(const View<float, rank, CudaSpace>&) {}
  [[nodiscard]] std::size_t planned_bytes() const { return 0; }
};

#endif

}  // namespace pnpdist::nn
