#pragma once
/// \file
/// The 3x3 training convolution of conv3_train.hpp (stride 1, zero padding 1, bias; tensors N x C x H x W,
/// weights (Cout, Cin, 3, 3) as PyTorch, all contiguous) through oneDNN primitives, and the dispatch the
/// training layers use.
///
/// - onednn_conv3_forward / _backward_data / _backward_weights: dnnl::convolution_forward (forward_training,
///   with bias), convolution_backward_data and convolution_backward_weights (with the bias gradient), float
///   only. Primitive descriptors and primitives are created once per (shape, layout) and cached for the
///   process; each call allocates its scratchpad, so calls from several threads are safe. Same contract as
///   the loops: forward writes `out`, the backward passes accumulate (+=) into their outputs (oneDNN writes
///   a temporary, which is added). With `blocked` (the default), the primitives choose their layouts
///   (format any: channel-blocked, jit:avx512_core on AVX-512) and the plain tensors are reordered around
///   each call; otherwise they run on NCHW / OIHW directly (gemm:jit). Blocked with its reorders is 3 to 5
///   times faster for 32 -> 32 channels at 128 x 128 (docs/learned.md, tools/bench_conv3_train.cpp). Channels-last
///   operands (Conv3Layouts) run on channels-last primitives, except backward-weights below AVX-512, which runs
///   channel-blocked with reorders (faster there: backward_weights_on_channels_last); Conv3Layouts::primitive
///   forces either.
/// - Threads: the OpenMP team size is the executor's concurrency() for the call (ThreadScope of
///   onednn_engine.hpp; 1 for Serial).
/// - Results equal the loops up to float round-off (another summation order); unlike the loops they may
///   depend on the thread count (oneDNN may split the weight-gradient sums over threads).
///
/// conv3_train_forward / _backward_data / _backward_weights: the oneDNN path for float on host executors
/// when the pnpdist::onednn component is linked (PNPDIST_HAS_ONEDNN), the loops of conv3_train.hpp
/// otherwise (double always: oneDNN has no f64 convolution). Setting the environment variable
/// PNPDIST_TRAIN_CONV=loops selects the loops in every case (for comparisons); any other value is refused.
///
/// Mixed precision: set_train_conv_precision(ConvPrecision::bf16) makes the oneDNN path round each
/// convolution's inputs (activations, weights, output gradients) to bfloat16 (round to nearest even) and
/// accumulate the products in float; outputs and gradients are written in float. The weights, the optimiser
/// state and everything outside the convolutions stay float. The result equals the float convolution of the
/// bf16-rounded inputs up to float round-off. On CPUs with AMX (oneDNN's avx512_core_amx_bf16 kernels) a
/// 32 -> 32 convolution at 128 x 128 runs 3-11 times faster than in float (docs/learned.md). The setting is
/// process-wide, like PyTorch's float32 matmul precision; double and the loops ignore it. In bf16 an
/// activation operand (in, d_out) may also be given already rounded to bfloat16 (Conv3Input): it is then read
/// in place, with no conversion pass, and the result is the same as for its float values.
///
/// Layouts and operands: conv3_layouts.hpp.

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/core/bfloat16.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/nn/onednn_engine.hpp"
#include "pnpdist/nn/train/conv3_layouts.hpp"
#include "pnpdist/nn/train/conv3_train.hpp"

namespace pnpdist::nn::train {

/// True unless the environment variable PNPDIST_TRAIN_CONV is "loops" (read once); other values throw
/// invalid_argument naming the variable and the accepted values.
inline bool train_conv_onednn_allowed() {
  static const bool allowed = [] {
    const char* v = std::getenv("PNPDIST_TRAIN_CONV");
    if (!v || std::strcmp(v, "") == 0 || std::strcmp(v, "onednn") == 0) return true;
    require(std::strcmp(v, "loops") == 0,
            [&] { return std::string("PNPDIST_TRAIN_CONV must be 'loops' or 'onednn' (or unset), got '") + v + "'"; });
    return false;
  }();
  return allowed;
}

/// The arithmetic of the oneDNN training convolutions (see the file comment).
enum class ConvPrecision { f32, bf16 };

namespace onednn_train_detail {
inline std::atomic<ConvPrecision>& precision_setting() {
  static std::atomic<ConvPrecision> precision{ConvPrecision::f32};
  return precision;
}
}  // namespace onednn_train_detail

/// The precision the float training convolutions use now (f32 unless set).
inline ConvPrecision train_conv_precision() { return onednn_train_detail::precision_setting().load(); }

/// "f32" or "bf16".
inline const char* to_string(ConvPrecision precision) { return precision == ConvPrecision::bf16 ? "bf16" : "f32"; }

/// Parses "f32" or "bf16"; anything else throws invalid_argument naming `what` and the accepted values.
inline ConvPrecision parse_conv_precision(const std::string& text, const std::string& what) {
  if (text == "f32") return ConvPrecision::f32;
  require(text == "bf16", [&] { return what + " must be 'f32' or 'bf16', got '" + text + "'"; });
  return ConvPrecision::bf16;
}

#if defined(PNPDIST_HAS_ONEDNN)

namespace onednn_train_detail {

enum class Pass { forward, backward_data, backward_weights };

/// One cached primitive with the layouts it runs on.
struct Conv3Primitive {
  dnnl::primitive primitive;
  dnnl::memory::desc src, weights, dst, scratchpad;  // forward: in/weight/out; data: d_in/weight/d_out;
                                                     // weights: in/d_weight/d_out
  std::string implementation;
};

/// The primitive of one pass. In bf16 the inputs of the pass are bf16 and its output float: forward
/// (src, weights) -> dst, backward-data (diff_dst, weights) -> diff_src, backward-weights (src, diff_dst) ->
/// diff_weights; the hint is then the all-bf16 forward, which oneDNN's bf16 backward passes expect.
inline Conv3Primitive make(const Conv3Shape& s, Pass pass, bool blocked, ConvPrecision precision,
                           bool channels_last) {
  using dnnl::memory;
  const auto f32 = memory::data_type::f32;
  const auto low = precision == ConvPrecision::bf16 ? memory::data_type::bf16 : f32;
  const auto act_tag = channels_last ? memory::format_tag::nhwc
                       : blocked     ? memory::format_tag::any
                                     : memory::format_tag::nchw;
  const auto w_tag = blocked ? memory::format_tag::any : memory::format_tag::oihw;
  const memory::dims src_dims{s.batch, s.in_channels, s.height, s.width};
  const memory::dims dst_dims{s.batch, s.out_channels, s.height, s.width};
  const memory::dims weight_dims{s.out_channels, s.in_channels, 3, 3};
  const memory::desc src(src_dims, low, act_tag), dst(dst_dims, low, act_tag), weights(weight_dims, low, w_tag);
  const memory::desc bias({s.out_channels}, f32, memory::format_tag::x);
  const memory::dims strides{1, 1}, padding{1, 1};
  const auto algo = dnnl::algorithm::convolution_direct;
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto& engine = onednn_detail::cpu_engine();
  const dnnl::convolution_forward::desc hint(dnnl::prop_kind::forward_training, algo, src, weights, bias, dst,
                                             strides, padding, padding);
  const dnnl::convolution_forward::primitive_desc fpd(hint, attr, engine);
  if (pass == Pass::forward) {
    const dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, algo, src, weights, bias,
                                             memory::desc(dst_dims, f32, act_tag), strides, padding, padding);
    const dnnl::convolution_forward::primitive_desc pd(fd, attr, engine);
    return {dnnl::convolution_forward(pd), pd.src_desc(),     pd.weights_desc(), pd.dst_desc(),
            pd.scratchpad_desc(),          pd.impl_info_str()};
  }
  if (pass == Pass::backward_data) {
    const dnnl::convolution_backward_data::desc d(algo, memory::desc(src_dims, f32, act_tag), weights, dst, strides,
                                                  padding, padding);
    const dnnl::convolution_backward_data::primitive_desc pd(d, attr, engine, fpd);
    return {dnnl::convolution_backward_data(pd),
            pd.diff_src_desc(),
            pd.weights_desc(),
            pd.diff_dst_desc(),
            pd.scratchpad_desc(),
            pd.impl_info_str()};
  }
  const dnnl::convolution_backward_weights::desc d(algo, src, memory::desc(weight_dims, f32, w_tag), bias, dst, strides,
                                                   padding, padding);
  const dnnl::convolution_backward_weights::primitive_desc pd(d, attr, engine, fpd);
  return {dnnl::convolution_backward_weights(pd),
          pd.src_desc(),
          pd.diff_weights_desc(),
          pd.diff_dst_desc(),
          pd.scratchpad_desc(),
          pd.impl_info_str()};
}

/// Whether a backward-weights pass of channels-last operands runs its primitive on channels-last memory. On
/// AVX-512 it does (oneDNN's avx512_core channels-last kernels). Below AVX-512, oneDNN 2.6's channels-last
/// backward-weights kernel (jit:avx2) is slower than its channel-blocked one with the reorders in and out:
/// per call, 32 -> 32 channels at 128 x 128, 6.6 -> 5.0 ms; at 30 x 183, 2.2 -> 1.6 ms; 32 -> 5 at 128 x 128,
/// 1.8 -> 1.4 ms (CPU time, one thread, AMD Zen 3), while its forward and backward-data passes are as fast or
/// faster on channels-last memory, which they keep (tools/bench_conv3_train.cpp compares both).
inline bool backward_weights_on_channels_last() {
  static const bool avx512 = [] {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto avx512_core = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
    return (isa & avx512_core) == avx512_core;  // the ISAs are nested bit sets
  }();
  return avx512;
}

/// Whether the primitive of `pass` runs on channels-last memory (make()'s channels_last).
inline bool primitive_on_channels_last(Pass pass, bool blocked, const Conv3Layouts& layouts) {
  if (!layouts.channels_last()) return false;
  if (!blocked) return true;  // plain NHWC
  switch (layouts.primitive) {
    case PrimitiveLayout::channels_last: return true;
    case PrimitiveLayout::blocked: return false;
    case PrimitiveLayout::automatic: break;
  }
  return pass != Pass::backward_weights || backward_weights_on_channels_last();
}

/// The process-wide cache: one primitive per (shape, pass, layout choice, precision), created on first use.
/// A bf16 primitive oneDNN cannot create (a CPU without AVX-512) throws invalid_argument saying so.
inline const Conv3Primitive& cached(const Conv3Shape& s, Pass pass, bool blocked, ConvPrecision precision,
                                    bool channels_last) {
  using Key = std::tuple<index_t, index_t, index_t, index_t, index_t, int, bool, int, bool>;
  static std::mutex mutex;
  static std::map<Key, Conv3Primitive> cache;
  const Key key{s.batch, s.in_channels, s.out_channels, s.height, s.width, static_cast<int>(pass), blocked,
                static_cast<int>(precision), channels_last};
  const std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) {
    try {
      it = cache.emplace(key, make(s, pass, blocked, precision, channels_last)).first;
    } catch (const dnnl::error& e) {
      if (precision != ConvPrecision::bf16) throw;
      throw invalid_argument(std::string("bf16 training convolutions are not available on this CPU (oneDNN: ") +
                             e.what() + "); use f32");
    }
  }
  return it->second;
}

/// Plain tensors of one call and the layouts the primitive wants: inputs are reordered in, outputs (when
/// the primitive's layout differs) are written to a temporary and reordered out by finish().
class Bound {
public:
  explicit Bound(dnnl::stream& stream) : stream_(stream) {}

  dnnl::memory input(const dnnl::memory::desc& plain, const dnnl::memory::desc& wanted, const float* data) {
    dnnl::memory user(plain, onednn_detail::cpu_engine(), const_cast<float*>(data));
    return onednn_detail::reordered(user, wanted, stream_);
  }
  /// An activation operand, described by `plain` (plain_activation of the operand: f32 or bf16).
  dnnl::memory input(const dnnl::memory::desc& plain, const dnnl::memory::desc& wanted, Conv3Input<float> operand) {
    if (!operand.rounded) return input(plain, wanted, operand.values);
    require(wanted.data_type() == dnnl::memory::data_type::bf16, [] {
      return std::string("an operand rounded to bfloat16 was given to a convolution in f32 precision "
                         "(set_train_conv_precision(ConvPrecision::bf16) first)");
    });
    dnnl::memory user(plain, onednn_detail::cpu_engine(), const_cast<bf16_bits*>(operand.rounded));
    return onednn_detail::reordered(user, wanted, stream_);
  }
  dnnl::memory output(const dnnl::memory::desc& plain, const dnnl::memory::desc& wanted, float* data) {
    dnnl::memory user(plain, onednn_detail::cpu_engine(), data);
    if (wanted == plain) return user;
    dnnl::memory inner(wanted, onednn_detail::cpu_engine());
    outputs_.push_back({inner, user});
    return inner;
  }
  void finish() {
    stream_.wait();
    for (auto& [inner, user] : outputs_) dnnl::reorder(inner, user).execute(stream_, inner, user);
    stream_.wait();
  }

private:
  dnnl::stream& stream_;
  std::vector<std::pair<dnnl::memory, dnnl::memory>> outputs_;
};

inline dnnl::memory::desc plain_activation(index_t n, index_t c, const Conv3Shape& s, ActivationLayout layout,
                                           dnnl::memory::data_type type = dnnl::memory::data_type::f32) {
  return {{n, c, s.height, s.width},
          type,
          layout == ActivationLayout::nhwc ? dnnl::memory::format_tag::nhwc : dnnl::memory::format_tag::nchw};
}
/// The plain descriptor of an operand: f32, or bf16 for a rounded one.
inline dnnl::memory::desc plain_activation(index_t n, index_t c, const Conv3Shape& s, ActivationLayout layout,
                                           const Conv3Input<float>& operand) {
  return plain_activation(n, c, s, layout,
                          operand.rounded ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32);
}
inline dnnl::memory::desc plain_weights(const Conv3Shape& s) {
  return {{s.out_channels, s.in_channels, 3, 3}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::oihw};
}

}  // namespace onednn_train_detail

/// out = conv3(in) + bias through oneDNN (bias may be nullptr: zero). Returns the implementation name.
inline std::string onednn_conv3_forward(int threads, const Conv3Shape& s, Conv3Input<float> in, const float* weight,
                                        const float* bias, float* out, bool blocked = true,
                                        ConvPrecision precision = ConvPrecision::f32, Conv3Layouts layouts = {}) {
  namespace d = onednn_train_detail;
  detail::require_conv3_shape(s, "onednn_conv3_forward");
  onednn_detail::ThreadScope scope(threads);
  const auto& p = d::cached(s, d::Pass::forward, blocked, precision,
                            d::primitive_on_channels_last(d::Pass::forward, blocked, layouts));
  dnnl::stream stream(onednn_detail::cpu_engine());
  d::Bound bound(stream);
  std::vector<float> zeros;
  if (!bias) zeros.assign(static_cast<std::size_t>(s.out_channels), 0.0f);
  dnnl::memory bias_mem({{s.out_channels}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::x},
                        onednn_detail::cpu_engine(), const_cast<float*>(bias ? bias : zeros.data()));
  dnnl::memory scratch(p.scratchpad, onednn_detail::cpu_engine());
  p.primitive.execute(stream,
                      {{DNNL_ARG_SRC, bound.input(d::plain_activation(s.batch, s.in_channels, s, layouts.in, in), p.src, in)},
                       {DNNL_ARG_WEIGHTS, bound.input(d::plain_weights(s), p.weights, weight)},
                       {DNNL_ARG_BIAS, bias_mem},
                       {DNNL_ARG_DST,
                        bound.output(d::plain_activation(s.batch, s.out_channels, s, layouts.out), p.dst, out)},
                       {DNNL_ARG_SCRATCHPAD, scratch}});
  bound.finish();
  return p.implementation;
}

/// d_in += conv3^T(d_out) (or d_in = conv3^T(d_out) with GradientWrite::overwrite) through oneDNN. Returns the
/// implementation name.
inline std::string onednn_conv3_backward_data(int threads, const Conv3Shape& s, Conv3Input<float> d_out,
                                              const float* weight,
                                              float* d_in, bool blocked = true,
                                              ConvPrecision precision = ConvPrecision::f32, Conv3Layouts layouts = {},
                                              GradientWrite write = GradientWrite::accumulate) {
  namespace d = onednn_train_detail;
  detail::require_conv3_shape(s, "onednn_conv3_backward_data");
  onednn_detail::ThreadScope scope(threads);
  const auto& p = d::cached(s, d::Pass::backward_data, blocked, precision,
                            d::primitive_on_channels_last(d::Pass::backward_data, blocked, layouts));
  const index_t size = s.batch * s.in_channels * s.plane();
  const bool accumulate = write == GradientWrite::accumulate;
  std::vector<float> result(accumulate ? static_cast<std::size_t>(size) : 0);
  dnnl::stream stream(onednn_detail::cpu_engine());
  d::Bound bound(stream);
  dnnl::memory scratch(p.scratchpad, onednn_detail::cpu_engine());
  p.primitive.execute(
      stream,
      {{DNNL_ARG_DIFF_DST, bound.input(d::plain_activation(s.batch, s.out_channels, s, layouts.out, d_out), p.dst, d_out)},
       {DNNL_ARG_WEIGHTS, bound.input(d::plain_weights(s), p.weights, weight)},
       {DNNL_ARG_DIFF_SRC,
        bound.output(d::plain_activation(s.batch, s.in_channels, s, layouts.in), p.src,
                     accumulate ? result.data() : d_in)},
       {DNNL_ARG_SCRATCHPAD, scratch}});
  bound.finish();
  if (accumulate)
    for (index_t i = 0; i < size; ++i) d_in[i] += result[static_cast<std::size_t>(i)];
  return p.implementation;
}

/// d_weight += dL/dweight, d_bias += dL/dbias (d_bias may be nullptr) through oneDNN. Returns the
/// implementation name.
inline std::string onednn_conv3_backward_weights(int threads, const Conv3Shape& s, Conv3Input<float> in,
                                                 Conv3Input<float> d_out,
                                                 float* d_weight, float* d_bias, bool blocked = true,
                                                 ConvPrecision precision = ConvPrecision::f32,
                                                 Conv3Layouts layouts = {}) {
  namespace d = onednn_train_detail;
  detail::require_conv3_shape(s, "onednn_conv3_backward_weights");
  onednn_detail::ThreadScope scope(threads);
  const auto& p = d::cached(s, d::Pass::backward_weights, blocked, precision,
                            d::primitive_on_channels_last(d::Pass::backward_weights, blocked, layouts));
  std::vector<float> dw(static_cast<std::size_t>(s.out_channels * s.in_channels * 9));
  std::vector<float> db(static_cast<std::size_t>(s.out_channels));
  dnnl::stream stream(onednn_detail::cpu_engine());
  d::Bound bound(stream);
  dnnl::memory bias_mem({{s.out_channels}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::x},
                        onednn_detail::cpu_engine(), db.data());
  dnnl::memory scratch(p.scratchpad, onednn_detail::cpu_engine());
  p.primitive.execute(stream,
                      {{DNNL_ARG_SRC, bound.input(d::plain_activation(s.batch, s.in_channels, s, layouts.in, in), p.src, in)},
                       {DNNL_ARG_DIFF_DST,
                        bound.input(d::plain_activation(s.batch, s.out_channels, s, layouts.out, d_out), p.dst, d_out)},
                       {DNNL_ARG_DIFF_WEIGHTS, bound.output(d::plain_weights(s), p.weights, dw.data())},
                       {DNNL_ARG_DIFF_BIAS, bias_mem},
                       {DNNL_ARG_SCRATCHPAD, scratch}});
  bound.finish();
  for (std::size_t i = 0; i < dw.size(); ++i) d_weight[i] += dw[i];
  if (d_bias)
    for (std::size_t i = 0; i < db.size(); ++i) d_bias[i] += db[i];
  return p.implementation;
}

#endif  // PNPDIST_HAS_ONEDNN

/// True when conv3_train_* can take the oneDNN path for this executor and value type: the pnpdist::onednn
/// component is linked, T is float and the executor runs on the host. The dispatchers below test it with
/// `if constexpr`, so the oneDNN calls are only instantiated where they exist.
template <class Exec, class T>
inline constexpr bool conv3_onednn_capable =
#if defined(PNPDIST_HAS_ONEDNN)
    std::is_same_v<T, float> && is_host_executor_v<Exec>;
#else
    false;
#endif

/// True when conv3_train_* take the oneDNN path for this executor and value type (capable, and
/// PNPDIST_TRAIN_CONV does not select the loops).
template <class Exec, class T>
inline bool conv3_train_uses_onednn() {
  return conv3_onednn_capable<Exec, T> && train_conv_onednn_allowed();
}

/// Sets the precision of the float training convolutions for the process (see the file comment). bf16 is
/// refused (invalid_argument) when the float convolutions do not run through oneDNN: the pnpdist::onednn
/// component is not linked, or PNPDIST_TRAIN_CONV=loops. Whether the CPU runs bf16 natively is reported by
/// the first convolution (it throws where oneDNN has no bf16 kernel at all).
inline void set_train_conv_precision(ConvPrecision precision) {
  if (precision == ConvPrecision::bf16) {
#if defined(PNPDIST_HAS_ONEDNN)
    require(train_conv_onednn_allowed(), [] {
      return std::string("bf16 training convolutions run through oneDNN, but PNPDIST_TRAIN_CONV=loops selects the loops");
    });
#else
    throw invalid_argument("bf16 training convolutions need the oneDNN component (pnpdist::onednn), not linked here");
#endif
  }
  onednn_train_detail::precision_setting().store(precision);
}

namespace detail {
/// The loops take NCHW only.
inline void require_nchw_for_loops(const Conv3Layouts& layouts, const char* what) {
  require(!layouts.channels_last(), [&] {
    return std::string(what) + ": channels-last layouts need the oneDNN path (conv3_train_uses_onednn), which is " +
           "not taken here";
  });
}
/// The values of an operand for the loops, which take no rounded operands.
template <class T>
inline const T* loop_operand(const Conv3Input<T>& operand, const char* what) {
  require(!operand.rounded, [&] {
    return std::string(what) + ": operands rounded to bfloat16 need the oneDNN path in bf16 precision, which is " +
           "not taken here";
  });
  return operand.values;
}
}  // namespace detail

/// conv3_forward (conv3_train.hpp) through oneDNN or the loops (see the file comment). Activation operands
/// (in, d_out) may be rounded to bfloat16 on the oneDNN path in bf16 precision (Conv3Input).
template <class Exec, class T>
inline void conv3_train_forward(const Exec& exec, const Conv3Shape& s, Conv3InputOf<T> in, const T* weight,
                                const T* bias, T* out, Conv3Layouts layouts = {}) {
  if constexpr (conv3_onednn_capable<Exec, T>)
    if (train_conv_onednn_allowed()) {
      onednn_conv3_forward(exec.concurrency(), s, in, weight, bias, out, true, train_conv_precision(), layouts);
      return;
    }
  detail::require_nchw_for_loops(layouts, "conv3_train_forward");
  conv3_forward(exec, s, detail::loop_operand(in, "conv3_train_forward"), weight, bias, out);
}

/// conv3_backward_data (conv3_train.hpp) through oneDNN or the loops; with GradientWrite::overwrite d_in is
/// replaced instead of added to.
template <class Exec, class T>
inline void conv3_train_backward_data(const Exec& exec, const Conv3Shape& s, Conv3InputOf<T> d_out, const T* weight,
                                      T* d_in, Conv3Layouts layouts = {},
                                      GradientWrite write = GradientWrite::accumulate) {
  if constexpr (conv3_onednn_capable<Exec, T>)
    if (train_conv_onednn_allowed()) {
      onednn_conv3_backward_data(exec.concurrency(), s, d_out, weight, d_in, true, train_conv_precision(), layouts,
                                 write);
      return;
    }
  detail::require_nchw_for_loops(layouts, "conv3_train_backward_data");
  if (write == GradientWrite::overwrite) std::fill(d_in, d_in + s.batch * s.in_channels * s.plane(), T(0));
  conv3_backward_data(exec, s, detail::loop_operand(d_out, "conv3_train_backward_data"), weight, d_in);
}

/// conv3_backward_weights (conv3_train.hpp) through oneDNN or the loops.
template <class Exec, class T>
inline void conv3_train_backward_weights(const Exec& exec, const Conv3Shape& s, Conv3InputOf<T> in,
                                         Conv3InputOf<T> d_out, T* d_weight, T* d_bias, Conv3Layouts layouts = {}) {
  if constexpr (conv3_onednn_capable<Exec, T>)
    if (train_conv_onednn_allowed()) {
      onednn_conv3_backward_weights(exec.concurrency(), s, in, d_out, d_weight, d_bias, true, train_conv_precision(),
                                    layouts);
      return;
    }
  detail::require_nchw_for_loops(layouts, "conv3_train_backward_weights");
  conv3_backward_weights(exec, s, detail::loop_operand(in, "conv3_train_backward_weights"),
                         detail::loop_operand(d_out, "conv3_train_backward_weights"), d_weight, d_bias);
}

}  // namespace pnpdist::nn::train
