#pragma once
/// \file
/// The layers of DRUNet on N x C x H x W (Dim = 2) or N x C x D x H x W (Dim = 3) tensors, as plain direct
/// loops: one PNPDIST_HOST_DEVICE functor per layer, each computing one output element, launched through
/// for_each on any executor (Serial, OpenMP, Cuda). They are the reference the oneDNN engine is tested
/// against, the host engine where oneDNN is absent, and the library's own kernels on CUDA.
///
///   conv3       3x3 (3x3x3) convolution, stride 1, zero padding 1        weight (Cout, Cin, 3, 3[, 3])
///   conv_down2  2x2 (2x2x2) convolution, stride 2, no padding            weight (Cout, Cin, 2, 2[, 2])
///   conv_up2    2x2 (2x2x2) transposed convolution, stride 2             weight (Cin, Cout, 2, 2[, 2])
///
/// Weights are in the layouts of PyTorch's Conv2d/Conv3d and ConvTranspose2d/3d, contiguous, in the
/// memory space of the executor. bias is optional (nullptr: none). Post-ops run in the order
/// result = conv + bias; if (sum) result += out (the value out held before); if (relu) result = max(result, 0),
/// so a residual block's second convolution accumulates into the tensor holding its input. Every output
/// element is written by exactly one iteration and reads only its own previous value, and its sum runs in
/// a fixed order in T: results do not depend on the thread count (executors agree up to the compiler's
/// floating-point contraction choices).

#include <cstddef>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/backend/launch_cost.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::nn {

/// The operations fused after a convolution (see the file comment for their order).
struct PostOps {
  bool sum = false;   ///< add the previous contents of the output
  bool relu = false;  ///< max(., 0) last
};

/// The three convolution kinds of DRUNet.
enum class ConvKind { conv3, down2, up2 };

/// Kernel extent along each spatial dimension.
PNPDIST_HOST_DEVICE constexpr index_t kernel_extent(ConvKind kind) { return kind == ConvKind::conv3 ? 3 : 2; }

namespace detail {

template <class T>
PNPDIST_HOST_DEVICE T apply_post_ops(T acc, T previous, PostOps post) {
  if (post.sum) acc += previous;
  if (post.relu) acc = acc > T(0) ? acc : T(0);
  return acc;
}

/// The LaunchCost of a convolution launch over `out` (launch_cost.hpp) taking `samples` multiply-adds: it
/// reads the input, the C_out x C_in x taps weights, the bias (C_out, when given) and `out` when post.sum
/// adds to it, and writes `out`.
template <class T, class In, class Out>
LaunchCost convolution_cost(const In& in, const Out& out, index_t taps, bool bias, PostOps post, std::uint64_t samples) {
  const index_t cout = out.extent(1), weights = cout * in.extent(1) * taps;
  LaunchCost cost;
  cost.samples = samples;
  cost.bytes_read = bytes_of<T>(product(in.extents()) + weights + (bias ? cout : 0) + (post.sum ? product(out.extents()) : 0));
  cost.bytes_written = bytes_of<T>(product(out.extents()));
  return cost;
}

}  // namespace detail

/// One output element of a 3x3 (3x3x3) convolution with zero padding 1 (see the file comment).
template <class T, std::size_t Dim, class Space>
struct Conv3Kernel {
  static constexpr std::size_t rank = Dim + 2;
  View<const T, rank, Space> in;
  const T* weight;
  const T* bias;
  View<T, rank, Space> out;
  PostOps post;

  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(index_t n, index_t co, I... s) const {
    static_assert(sizeof...(I) == Dim);
    const index_t p[Dim] = {static_cast<index_t>(s)...};
    const index_t cin = in.extent(1);
    constexpr index_t taps = Dim == 2 ? 9 : 27;
    T acc = bias ? bias[co] : T(0);
    for (index_t ci = 0; ci < cin; ++ci) {
      const T* w = weight + (co * cin + ci) * taps;
      const T* x = in.data() + n * in.stride(0) + ci * in.stride(1);
      for (index_t k = 0; k < taps; ++k) {
        index_t rest = k, offset = 0;
        bool inside = true;
        for (std::size_t d = Dim; d-- > 0;) {
          const index_t q = p[d] + rest % 3 - 1;
          rest /= 3;
          inside = inside && q >= 0 && q < in.extent(d + 2);
          offset += q * in.stride(d + 2);
        }
        if (inside) acc += w[k] * x[offset];
      }
    }
    index_t o = n * out.stride(0) + co * out.stride(1);
    for (std::size_t d = 0; d < Dim; ++d) o += p[d] * out.stride(d + 2);
    out.data()[o] = detail::apply_post_ops(acc, post.sum ? out.data()[o] : T(0), post);
  }

  /// The cost of the launch over `out` (launch_cost.hpp): samples are the multiply-adds of the taps inside
  /// the image, N x C_out x C_in x prod_d (3 n_d - 2) (an axis of n samples has 3 n - 2 (sample, tap)
  /// pairs inside).
  [[nodiscard]] LaunchCost launch_cost(index_t /*iterations*/) const {
    std::uint64_t pairs = 1;
    for (std::size_t d = 0; d < Dim; ++d) pairs *= static_cast<std::uint64_t>(3 * in.extent(d + 2) - 2);
    return detail::convolution_cost<T>(in, out, Dim == 2 ? 9 : 27, bias != nullptr, post,
                                       static_cast<std::uint64_t>(in.extent(0) * out.extent(1) * in.extent(1)) * pairs);
  }
};

/// One output element of a 2x2 (2x2x2) stride-2 convolution.
template <class T, std::size_t Dim, class Space>
struct Down2Kernel {
  static constexpr std::size_t rank = Dim + 2;
  View<const T, rank, Space> in;
  const T* weight;
  const T* bias;
  View<T, rank, Space> out;
  PostOps post;

  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(index_t n, index_t co, I... s) const {
    static_assert(sizeof...(I) == Dim);
    const index_t p[Dim] = {static_cast<index_t>(s)...};
    const index_t cin = in.extent(1);
    constexpr index_t taps = Dim == 2 ? 4 : 8;
    T acc = bias ? bias[co] : T(0);
    for (index_t ci = 0; ci < cin; ++ci) {
      const T* w = weight + (co * cin + ci) * taps;
      const T* x = in.data() + n * in.stride(0) + ci * in.stride(1);
      for (index_t k = 0; k < taps; ++k) {
        index_t rest = k, offset = 0;
        for (std::size_t d = Dim; d-- > 0;) {
          offset += (2 * p[d] + rest % 2) * in.stride(d + 2);
          rest /= 2;
        }
        acc += w[k] * x[offset];
      }
    }
    index_t o = n * out.stride(0) + co * out.stride(1);
    for (std::size_t d = 0; d < Dim; ++d) o += p[d] * out.stride(d + 2);
    out.data()[o] = detail::apply_post_ops(acc, post.sum ? out.data()[o] : T(0), post);
  }
  /// The cost of the launch over `out`: C_in x taps multiply-adds per output element (all taps inside).
  [[nodiscard]] LaunchCost launch_cost(index_t /*iterations*/) const {
    constexpr index_t taps = Dim == 2 ? 4 : 8;
    return detail::convolution_cost<T>(in, out, taps, bias != nullptr, post,
                                       static_cast<std::uint64_t>(product(out.extents()) * in.extent(1) * taps));
  }
};

/// One output element of a 2x2 (2x2x2) stride-2 transposed convolution: out(n, co, p) =
/// sum_ci weight(ci, co, p mod 2) in(n, ci, p / 2).
template <class T, std::size_t Dim, class Space>
struct Up2Kernel {
  static constexpr std::size_t rank = Dim + 2;
  View<const T, rank, Space> in;
  const T* weight;
  const T* bias;
  View<T, rank, Space> out;
  PostOps post;

  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(index_t n, index_t co, I... s) const {
    static_assert(sizeof...(I) == Dim);
    const index_t p[Dim] = {static_cast<index_t>(s)...};
    const index_t cin = in.extent(1);
    const index_t cout = out.extent(1);
    constexpr index_t taps = Dim == 2 ? 4 : 8;
    index_t k = 0, offset = n * in.stride(0);
    for (std::size_t d = 0; d < Dim; ++d) {
      k = 2 * k + p[d] % 2;
      offset += (p[d] / 2) * in.stride(d + 2);
    }
    T acc = bias ? bias[co] : T(0);
    for (index_t ci = 0; ci < cin; ++ci)
      acc += weight[(ci * cout + co) * taps + k] * in.data()[offset + ci * in.stride(1)];
    index_t o = n * out.stride(0) + co * out.stride(1);
    for (std::size_t d = 0; d < Dim; ++d) o += p[d] * out.stride(d + 2);
    out.data()[o] = detail::apply_post_ops(acc, post.sum ? out.data()[o] : T(0), post);
  }
  /// The cost of the launch over `out`: C_in multiply-adds per output element (one tap of each input
  /// channel).
  [[nodiscard]] LaunchCost launch_cost(index_t /*iterations*/) const {
    return detail::convolution_cost<T>(in, out, Dim == 2 ? 4 : 8, bias != nullptr, post,
                                       static_cast<std::uint64_t>(product(out.extents()) * in.extent(1)));
  }
};

namespace detail {

template <std::size_t Rank, class In, class Out>
inline void check_conv_shapes(ConvKind kind, const In& in, const Out& out) {
  static_assert(Rank == 4 || Rank == 5, "convolutions take N x C x H x W or N x C x D x H x W tensors");
  bool ok = in.extent(0) == out.extent(0);
  for (std::size_t d = 2; d < Rank; ++d) {
    if (kind == ConvKind::conv3) ok = ok && in.extent(d) == out.extent(d);
    if (kind == ConvKind::down2) ok = ok && in.extent(d) == 2 * out.extent(d);
    if (kind == ConvKind::up2) ok = ok && 2 * in.extent(d) == out.extent(d);
  }
  require<dimension_mismatch>(ok, [&] {
    const char* name = kind == ConvKind::conv3 ? "conv3" : kind == ConvKind::down2 ? "conv_down2" : "conv_up2";
    return std::string(name) + ": input extents " + to_string(in.extents()) + " and output extents " +
           to_string(out.extents()) +
           " do not fit (conv3 keeps the spatial size, conv_down2 halves it, conv_up2 doubles it)";
  });
}

}  // namespace detail

/// out = post(conv3(in)); weight (Cout, Cin, 3, 3[, 3]) with Cin = in.extent(1), Cout = out.extent(1).
template <class Exec, class T, std::size_t Rank>
inline void conv3(const Exec& exec, const View<const T, Rank, typename Exec::memory_space>& in, const T* weight,
                  const T* bias, const View<T, Rank, typename Exec::memory_space>& out, PostOps post = {}) {
  detail::check_conv_shapes<Rank>(ConvKind::conv3, in, out);
  for_each(exec, out.extents(), Conv3Kernel<T, Rank - 2, typename Exec::memory_space>{in, weight, bias, out, post});
}

/// out = post(stride-2 2x2 conv(in)); weight (Cout, Cin, 2, 2[, 2]); every input extent is twice the output's.
template <class Exec, class T, std::size_t Rank>
inline void conv_down2(const Exec& exec, const View<const T, Rank, typename Exec::memory_space>& in, const T* weight,
                       const T* bias, const View<T, Rank, typename Exec::memory_space>& out, PostOps post = {}) {
  detail::check_conv_shapes<Rank>(ConvKind::down2, in, out);
  for_each(exec, out.extents(), Down2Kernel<T, Rank - 2, typename Exec::memory_space>{in, weight, bias, out, post});
}

/// out = post(stride-2 2x2 transposed conv(in)); weight (Cin, Cout, 2, 2[, 2]); output extents twice the input's.
template <class Exec, class T, std::size_t Rank>
inline void conv_up2(const Exec& exec, const View<const T, Rank, typename Exec::memory_space>& in, const T* weight,
                     const T* bias, const View<T, Rank, typename Exec::memory_space>& out, PostOps post = {}) {
  detail::check_conv_shapes<Rank>(ConvKind::up2, in, out);
  for_each(exec, out.extents(), Up2Kernel<T, Rank - 2, typename Exec::memory_space>{in, weight, bias, out, post});
}

/// Dispatch on the kind.
template <class Exec, class T, std::size_t Rank>
inline void convolution(const Exec& exec, ConvKind kind, const View<const T, Rank, typename Exec::memory_space>& in,
                        const T* weight, const T* bias, const View<T, Rank, typename Exec::memory_space>& out,
                        PostOps post = {}) {
  if (kind == ConvKind::conv3) conv3(exec, in, weight, bias, out, post);
  if (kind == ConvKind::down2) conv_down2(exec, in, weight, bias, out, post);
  if (kind == ConvKind::up2) conv_up2(exec, in, weight, bias, out, post);
}

/// x = max(x, 0) element by element.
template <class T>
struct ReluKernel {
  T* x;
  PNPDIST_HOST_DEVICE void operator()(index_t i) const { x[i] = x[i] > T(0) ? x[i] : T(0); }
};

/// dst += src element by element.
template <class T>
struct AddKernel {
  T* dst;
  const T* src;
  PNPDIST_HOST_DEVICE void operator()(index_t i) const { dst[i] += src[i]; }
};

/// In-place ReLU of a contiguous tensor.
template <class Exec, class T, std::size_t Rank>
inline void relu(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x) {
  require<dimension_mismatch>(x.is_contiguous(), "relu needs a contiguous view");
  for_each(exec, x.size(), ReluKernel<T>{x.data()});
}

/// Residual addition dst += src of two contiguous tensors of the same extents.
template <class Exec, class T, std::size_t Rank>
inline void add_residual(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& dst,
                         const View<const T, Rank, typename Exec::memory_space>& src) {
  require_same_extents(dst, src, "add_residual");
  require<dimension_mismatch>(dst.is_contiguous() && src.is_contiguous(), "add_residual needs contiguous views");
  for_each(exec, dst.size(), AddKernel<T>{dst.data(), src.data()});
}

}  // namespace pnpdist::nn
