#pragma once
/// \file
/// OneDnnEngine<Dim, Exec>: DRUNet's forward pass on the host with oneDNN convolutions (the
/// pnpdist::onednn component, PNPDIST_HAS_ONEDNN), float only.
///
/// - One channel-blocked activation layout (nChw16c / nCdhw16c on AVX-512 machines, 8c otherwise) through
///   the whole network: only the padded input is plain N x C x spatial (read directly by the head
///   convolution) and the output is cropped straight from the blocked layout; no reorder between layers.
/// - ReLU and the residual sum are fused into the convolutions as post-ops (dst = relu(conv + dst)).
/// - The memory plan of drunet_schedule.hpp: two work buffers for the largest scale reused at every
///   scale, the skip tensors x2..x4, the input and output; planned_bytes() reports it. Weights are kept
///   only in the layout the convolutions want (reordered once per planned shape).
/// - Threads: oneDNN runs on the OpenMP runtime; each call sets the team size to exec.concurrency()
///   (1 for Serial) when the pnpdist::openmp component is linked, and leaves it to OMP_NUM_THREADS otherwise.
///
/// onednn_convolution() runs one layer on plain tensors, through the same primitives (for the tests).
/// Without the component the class exists, and constructing it throws pnpdist::not_compiled.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/nn/drunet_schedule.hpp"
#include "pnpdist/nn/drunet_weights.hpp"
#include "pnpdist/nn/layers.hpp"
#include "pnpdist/nn/padding.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

#if defined(PNPDIST_HAS_ONEDNN)
#include <oneapi/dnnl/dnnl.hpp>
#if defined(PNPDIST_HAS_OPENMP)
#include <omp.h>
#endif
#endif

namespace pnpdist::nn {

#if defined(PNPDIST_HAS_ONEDNN)

namespace onednn_detail {

/// The process's CPU engine.
inline const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

/// Channel block of the activation layout: 16 with AVX-512, 8 otherwise.
inline index_t channel_block() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return (isa == dnnl::cpu_isa::avx512_core || isa == dnnl::cpu_isa::avx512_core_vnni ||
          isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx)
             ? 16
             : 8;
}

template <std::size_t Dim>
inline dnnl::memory::format_tag plain_tag() {
  return Dim == 2 ? dnnl::memory::format_tag::nchw : dnnl::memory::format_tag::ncdhw;
}
template <std::size_t Dim>
inline dnnl::memory::format_tag blocked_tag() {
  if (channel_block() == 16) return Dim == 2 ? dnnl::memory::format_tag::nChw16c : dnnl::memory::format_tag::nCdhw16c;
  return Dim == 2 ? dnnl::memory::format_tag::nChw8c : dnnl::memory::format_tag::nCdhw8c;
}
/// PyTorch's weight layouts: (out, in, k...) and, for transposed convolutions, (in, out, k...).
template <std::size_t Dim>
inline dnnl::memory::format_tag weight_tag(ConvKind kind) {
  if (kind == ConvKind::up2) return Dim == 2 ? dnnl::memory::format_tag::iohw : dnnl::memory::format_tag::iodhw;
  return Dim == 2 ? dnnl::memory::format_tag::oihw : dnnl::memory::format_tag::oidhw;
}

template <std::size_t Dim>
inline dnnl::memory::desc activation_desc(index_t n, index_t c, const std::array<index_t, Dim>& spatial, bool blocked) {
  dnnl::memory::dims dims{n, c};
  for (index_t e : spatial) dims.push_back(e);
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, blocked ? blocked_tag<Dim>() : plain_tag<Dim>());
}

template <std::size_t Dim>
inline dnnl::memory::dims weight_dims(const LayerSpec& spec) {
  dnnl::memory::dims dims{spec.out_channels, spec.in_channels};  // oneDNN's logical order, both kinds
  for (std::size_t d = 0; d < Dim; ++d) dims.push_back(kernel_extent(spec.kind));
  return dims;
}

/// A convolution primitive of a layer with the given source and destination descriptors.
struct ConvPrimitive {
  dnnl::primitive primitive;
  dnnl::memory::desc weights_desc;
  dnnl::memory::desc scratchpad_desc;
  std::string implementation;
};

template <std::size_t Dim>
inline ConvPrimitive make_conv(const LayerSpec& spec, bool bias, const dnnl::memory::desc& src,
                               const dnnl::memory::desc& dst, PostOps post) {
  using dnnl::memory;
  const memory::desc weights(weight_dims<Dim>(spec), memory::data_type::f32, memory::format_tag::any);
  const memory::desc bias_desc({spec.out_channels}, memory::data_type::f32, memory::format_tag::x);
  const index_t stride = spec.kind == ConvKind::conv3 ? 1 : 2;
  const index_t pad = spec.kind == ConvKind::conv3 ? 1 : 0;
  const memory::dims strides(Dim, stride), padding(Dim, pad);
  dnnl::post_ops ops;
  if (post.sum) ops.append_sum(1.0f);
  if (post.relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto& engine = cpu_engine();
  if (spec.kind == ConvKind::up2) {
    const auto desc = bias ? dnnl::deconvolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                               dnnl::algorithm::deconvolution_direct, src, weights,
                                                               bias_desc, dst, strides, padding, padding)
                           : dnnl::deconvolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                               dnnl::algorithm::deconvolution_direct, src, weights, dst,
                                                               strides, padding, padding);
    const dnnl::deconvolution_forward::primitive_desc pd(desc, attr, engine);
    return {dnnl::deconvolution_forward(pd), pd.weights_desc(), pd.scratchpad_desc(), pd.impl_info_str()};
  }
  const auto desc =
      bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                             src, weights, bias_desc, dst, strides, padding, padding)
           : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                             src, weights, dst, strides, padding, padding);
  const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
  return {dnnl::convolution_forward(pd), pd.weights_desc(), pd.scratchpad_desc(), pd.impl_info_str()};
}

/// Sets the OpenMP team size oneDNN uses for the lifetime of the object, then restores it.
class ThreadScope {
public:
  explicit ThreadScope([[maybe_unused]] int threads) {
#if defined(PNPDIST_HAS_OPENMP)
    previous_ = omp_get_max_threads();
    omp_set_num_threads(threads > 0 ? threads : previous_);
#endif
  }
  ~ThreadScope() {
#if defined(PNPDIST_HAS_OPENMP)
    omp_set_num_threads(previous_);
#endif
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

private:
  [[maybe_unused]] int previous_ = 0;
};

/// `source` itself when it has descriptor `desc`, otherwise a new memory holding its contents in that layout.
inline dnnl::memory reordered(dnnl::memory source, const dnnl::memory::desc& desc, dnnl::stream& stream) {
  if (source.get_desc() == desc) return source;
  dnnl::memory target(desc, cpu_engine());
  dnnl::reorder(source, target).execute(stream, source, target);
  stream.wait();
  return target;
}

/// A new memory of descriptor `desc` holding a copy of `values` (desc.get_size() bytes).
inline dnnl::memory plain_memory(const dnnl::memory::desc& desc, const float* values) {
  dnnl::memory m(desc, cpu_engine());
  std::memcpy(m.get_data_handle(), values, desc.get_size());
  return m;
}

}  // namespace onednn_detail

/// One layer through oneDNN on plain contiguous host tensors: out = post(conv(in)), with the weight
/// layouts of layers.hpp. With `blocked`, source and destination pass through the engine's blocked
/// layout (reorders around the convolution), as inside the network. Returns the implementation name.
template <std::size_t Rank>
inline std::string onednn_convolution(int threads, ConvKind kind, const View<const float, Rank, HostSpace>& in,
                                      const float* weight, const float* bias, const View<float, Rank, HostSpace>& out,
                                      PostOps post, bool blocked) {
  constexpr std::size_t Dim = Rank - 2;
  using dnnl::memory;
  detail::check_conv_shapes<Rank>(kind, in, out);
  require<dimension_mismatch>(in.is_contiguous() && out.is_contiguous(), "onednn_convolution needs contiguous views");
  onednn_detail::ThreadScope scope(threads);
  const LayerSpec spec{"layer", kind, in.extent(1), out.extent(1)};
  std::array<index_t, Dim> in_spatial{}, out_spatial{};
  for (std::size_t d = 0; d < Dim; ++d) {
    in_spatial[d] = in.extent(d + 2);
    out_spatial[d] = out.extent(d + 2);
  }
  const auto plain_in = onednn_detail::activation_desc<Dim>(in.extent(0), in.extent(1), in_spatial, false);
  const auto plain_out = onednn_detail::activation_desc<Dim>(out.extent(0), out.extent(1), out_spatial, false);
  const auto src_desc =
      blocked ? onednn_detail::activation_desc<Dim>(in.extent(0), in.extent(1), in_spatial, true) : plain_in;
  const auto dst_desc =
      blocked ? onednn_detail::activation_desc<Dim>(out.extent(0), out.extent(1), out_spatial, true) : plain_out;
  const auto conv = onednn_detail::make_conv<Dim>(spec, bias != nullptr, src_desc, dst_desc, post);
  dnnl::stream stream(onednn_detail::cpu_engine());
  const memory user_weights = onednn_detail::plain_memory(
      memory::desc(onednn_detail::weight_dims<Dim>(spec), memory::data_type::f32, onednn_detail::weight_tag<Dim>(kind)),
      weight);
  memory weights = onednn_detail::reordered(user_weights, conv.weights_desc, stream);
  memory src_user(plain_in, onednn_detail::cpu_engine(), const_cast<float*>(in.data()));
  memory dst_user(plain_out, onednn_detail::cpu_engine(), out.data());
  memory src = onednn_detail::reordered(src_user, src_desc, stream);
  memory dst = onednn_detail::reordered(dst_user, dst_desc, stream);  // its contents matter for the sum post-op
  memory scratch(conv.scratchpad_desc, onednn_detail::cpu_engine());
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, scratch}};
  if (bias)
    args.emplace(DNNL_ARG_BIAS,
                 onednn_detail::plain_memory(
                     memory::desc({spec.out_channels}, memory::data_type::f32, memory::format_tag::x), bias));
  conv.primitive.execute(stream, args);
  if (blocked) dnnl::reorder(dst, dst_user).execute(stream, dst, dst_user);
  stream.wait();
  return conv.implementation;
}

template <std::size_t Dim, class Exec>
class OneDnnEngine {
  static_assert(is_host_executor_v<Exec>, "OneDnnEngine runs on host executors");

public:
  using memory_space = HostSpace;
  static constexpr std::size_t rank = Dim + 2;
  static constexpr const char* name = "onednn";

  /// Keeps the weights in oneDNN memories (plain layout until the first plan).
  OneDnnEngine(const Exec& exec, const DRUNetWeights<float, Dim>& weights)
      : exec_(exec),
        config_(weights.config),
        stream_(onednn_detail::cpu_engine()),
        block_(onednn_detail::channel_block()) {
    using dnnl::memory;
    for (const LayerWeights<float>& l : weights.layers) {
      specs_.push_back(l.spec);
      weights_.push_back(
          onednn_detail::plain_memory(memory::desc(onednn_detail::weight_dims<Dim>(l.spec), memory::data_type::f32,
                                                   onednn_detail::weight_tag<Dim>(l.spec.kind)),
                                      l.weight.data()));
      biases_.push_back(
          l.bias.empty()
              ? memory()
              : onednn_detail::plain_memory(
                    memory::desc({l.spec.out_channels}, memory::data_type::f32, memory::format_tag::x), l.bias.data()));
    }
  }

  void plan(index_t n, const std::array<index_t, Dim>& spatial) {
    if (n == n_ && spatial == spatial_) return;
    n_ = n;
    spatial_ = spatial;
    primitives_.clear();
    std::size_t work = 0;
    for (int s = 0; s < 4; ++s) work = std::max(work, desc(Buffer::a, s).get_size());
    work = std::max(work, desc(Buffer::output, 0).get_size());  // Buffer::output aliases A (drunet_schedule.hpp)
    allocate(Buffer::a, work);
    allocate(Buffer::b, work);
    allocate(Buffer::skip2, desc(Buffer::skip2, 1).get_size());
    allocate(Buffer::skip3, desc(Buffer::skip3, 2).get_size());
    allocate(Buffer::skip4, desc(Buffer::skip4, 3).get_size());
    allocate(Buffer::input, desc(Buffer::input, 0).get_size());
  }

  [[nodiscard]] View<float, rank, HostSpace> input() {
    Extents<rank> extents{};
    extents[0] = n_;
    extents[1] = config_.in_channels();
    for (std::size_t d = 0; d < Dim; ++d) extents[d + 2] = spatial_[d];
    return View<float, rank, HostSpace>(buffer(Buffer::input), extents);
  }

  void run() {
    onednn_detail::ThreadScope scope(exec_.concurrency());
    run_drunet_schedule(config_, *this);
    stream_.wait();
  }

  void crop_output(const View<float, rank, HostSpace>& y) {
    Extents<Dim> spatial{};
    for (std::size_t d = 0; d < Dim; ++d) spatial[d] = spatial_[d];
    for_each(exec_, y.extents(),
             BlockedCropKernel<float, rank, HostSpace>{buffer(Buffer::output), round_up(config_.image_channels, block_),
                                                       block_, spatial, y});
  }

  [[nodiscard]] std::size_t planned_bytes() const {
    std::size_t bytes = scratch_.bytes();
    for (const auto& b : buffers_) bytes += b.bytes();
    return bytes;
  }

  /// "layer: implementation" for every primitive created so far (to check that no reference kernel runs).
  [[nodiscard]] std::vector<std::string> implementations() const {
    std::vector<std::string> names;
    for (const auto& [key, p] : primitives_)
      names.push_back(specs_[std::get<0>(key)].name + ": " + p.conv.implementation);
    return names;
  }

  // Schedule operations (see drunet_schedule.hpp).
  void conv(const ConvStep& step) {
    const LayerSpec& spec = specs_[step.layer];
    const int out_scale = output_scale(spec.kind, step.scale);
    const auto key = std::make_tuple(step.layer, step.post.sum, step.post.relu);
    auto it = primitives_.find(key);
    if (it == primitives_.end()) {
      Prepared p;
      p.conv = onednn_detail::make_conv<Dim>(spec, biases_[step.layer].get(true) != nullptr, desc(step.src, step.scale),
                                             desc(step.dst, out_scale), step.post);
      weights_[step.layer] = onednn_detail::reordered(weights_[step.layer], p.conv.weights_desc, stream_);
      p.weights = weights_[step.layer];
      if (p.conv.scratchpad_desc.get_size() > scratch_.bytes())
        scratch_ = Tensor<float, 1, HostSpace>(
            Extents<1>{static_cast<index_t>(p.conv.scratchpad_desc.get_size() / sizeof(float) + 1)});
      it = primitives_.emplace(key, std::move(p)).first;
    }
    const Prepared& p = it->second;
    const auto& engine = onednn_detail::cpu_engine();
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, dnnl::memory(desc(step.src, step.scale), engine, buffer(step.src))},
        {DNNL_ARG_WEIGHTS, p.weights},
        {DNNL_ARG_DST, dnnl::memory(desc(step.dst, out_scale), engine, buffer(step.dst))},
        {DNNL_ARG_SCRATCHPAD, dnnl::memory(p.conv.scratchpad_desc, engine, scratch_.data())}};
    if (biases_[step.layer].get(true) != nullptr) args.emplace(DNNL_ARG_BIAS, biases_[step.layer]);
    p.conv.primitive.execute(stream_, args);
  }
  void copy(Buffer dst, Buffer src, int scale) {
    const index_t n = static_cast<index_t>(desc(dst, scale).get_size() / sizeof(float));
    pnpdist::copy(exec_, View<const float, 1, HostSpace>(buffer(src), Extents<1>{n}),
                  View<float, 1, HostSpace>(buffer(dst), Extents<1>{n}));
  }
  void add(Buffer dst, Buffer src, int scale) {
    const index_t n = static_cast<index_t>(desc(dst, scale).get_size() / sizeof(float));
    add_residual(exec_, View<float, 1, HostSpace>(buffer(dst), Extents<1>{n}),
                 View<const float, 1, HostSpace>(buffer(src), Extents<1>{n}));
  }

private:
  struct Prepared {
    onednn_detail::ConvPrimitive conv;
    dnnl::memory weights;
  };

  [[nodiscard]] dnnl::memory::desc desc(Buffer b, int scale) const {
    std::array<index_t, Dim> spatial{};
    for (std::size_t d = 0; d < Dim; ++d) spatial[d] = spatial_[d] >> scale;
    return onednn_detail::activation_desc<Dim>(n_, buffer_channels(config_, b, scale), spatial, b != Buffer::input);
  }
  float* buffer(Buffer b) { return buffers_[static_cast<std::size_t>(b == Buffer::output ? Buffer::a : b)].data(); }
  void allocate(Buffer b, std::size_t bytes) {
    auto& t = buffers_[static_cast<std::size_t>(b)];
    t = Tensor<float, 1, HostSpace>();  // release before allocating
    t = Tensor<float, 1, HostSpace>(Extents<1>{static_cast<index_t>(bytes / sizeof(float))});
  }

  Exec exec_;
  DRUNetConfig config_;
  dnnl::stream stream_;
  index_t block_;
  std::vector<LayerSpec> specs_;
  std::vector<dnnl::memory> weights_, biases_;
  index_t n_ = -1;
  std::array<index_t, Dim> spatial_{};
  std::array<Tensor<float, 1, HostSpace>, 7> buffers_;
  Tensor<float, 1, HostSpace> scratch_;
  std::map<std::tuple<std::size_t, bool, bool>, Prepared> primitives_;
};

#else

/// Without the pnpdist::onednn component: constructing the engine throws not_compiled.
template <std::size_t Dim, class Exec>
class OneDnnEngine {
public:
  using memory_space = HostSpace;
  static constexpr std::size_t rank = Dim + 2;
  static constexpr const char* name = "onednn";
  template <class W>
  OneDnnEngine(const Exec&, const W&) {
    throw not_compiled("OneDnnEngine used, but this build has no oneDNN (link the pnpdist::onednn component)");
  }
  void plan(index_t, const std::array<index_t, Dim>&) {}
  [[nodiscard]] View<float, rank, HostSpace> input() { return {}; }
  void run() {}
  void crop_output(const View<float, rank, HostSpace>&) {}
  [[nodiscard]] std::size_t planned_bytes() const { return 0; }
};

#endif

}  // namespace pnpdist::nn
