#pragma once
/// \file
/// The point-wise training layers on host N x C x (plane) tensors, contiguous, float or double, with their
/// backward passes: per-channel PReLU, channel concatenation (as copies of channel blocks) and the residual
/// sum, and ReLU. Backward passes accumulate (+=) into input gradients, so a tensor read by several layers receives
/// the sum of their gradients. Each output element is written by one iteration in a fixed order: results do
/// not depend on the thread count.
///
///   prelu      y = x for x > 0, alpha[c] x otherwise;  dx += dy * (x > 0 ? 1 : alpha[c]),
///              dalpha[c] += sum over the batch and the plane of dy * min(x, 0)
///              (also on channels-last tensors (batch, plane, channels): prelu_*_channels_last, which can
///              also write y or dx rounded to bfloat16 for bf16 convolutions)
///   channels   dst[:, offset : offset + Csrc] = src (concatenation);  backward: dsrc += ddst[:, offset : ...]
///   residual   y += x;  backward: dx += dy
///   relu       y = max(x, 0);  dx += dy where y > 0 (from the output: y > 0 exactly where x > 0)

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/bfloat16.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist::nn::train {

/// A block of channels: `count` channels starting at `offset` of a tensor of `total` channels.
struct ChannelBlock {
  index_t offset = 0, count = 0, total = 0;
};

/// y = prelu(x) with one slope per channel; x, y (batch, channels, plane), y may alias x.
template <class Exec, class T>
inline void prelu_forward(const Exec& exec, index_t batch, index_t channels, index_t plane, const T* x, const T* alpha,
                          T* y) {
  for_each(with_iteration_cost(exec, plane), batch * channels, [=](index_t i) {
    const T a = alpha[i % channels];
    const T* xi = x + i * plane;
    T* yi = y + i * plane;
    for (index_t p = 0; p < plane; ++p) yi[p] = xi[p] > T(0) ? xi[p] : a * xi[p];
  });
}

/// dx += dy * prelu'(x); d_alpha[c] += sum of dy * min(x, 0) over the batch and the plane of channel c. The plane
/// sum runs in prelu_lanes interleaved partial sums (element p goes to partial p mod prelu_lanes, the partials
/// are added in order at the end), so that it vectorizes; the order is fixed, independent of the thread count.
inline constexpr index_t prelu_lanes = 16;

template <class Exec, class T>
inline void prelu_backward(const Exec& exec, index_t batch, index_t channels, index_t plane, const T* x, const T* alpha,
                           const T* dy, T* dx, T* d_alpha) {
  for_each(with_iteration_cost(exec, batch * plane), channels, [=](index_t c) {
    const T a = alpha[c];
    T slope_gradient = 0;
    for (index_t n = 0; n < batch; ++n) {
      const index_t base = (n * channels + c) * plane;
      const T* PNPDIST_RESTRICT xr = x + base;
      const T* PNPDIST_RESTRICT dyr = dy + base;
      T* PNPDIST_RESTRICT dxr = dx + base;
      T partial[prelu_lanes] = {};
      index_t p = 0;
      for (; p + prelu_lanes <= plane; p += prelu_lanes)
        for (index_t l = 0; l < prelu_lanes; ++l) {
          const T v = xr[p + l], g = dyr[p + l];
          dxr[p + l] += v > T(0) ? g : a * g;
          partial[l] += v > T(0) ? T(0) : g * v;
        }
      for (index_t l = 0; p < plane; ++p, ++l) {
        const T v = xr[p], g = dyr[p];
        dxr[p] += v > T(0) ? g : a * g;
        partial[l] += v > T(0) ? T(0) : g * v;
      }
      T row = 0;
      for (index_t l = 0; l < prelu_lanes; ++l) row += partial[l];
      slope_gradient += row;
    }
    d_alpha[c] += slope_gradient;
  });
}

namespace detail {
/// The unsigned integer of a float's or double's size.
template <class T>
using float_bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

/// All ones where v > 0, zero elsewhere (zeros of either sign, negatives, NaNs), from integer comparisons of the
/// bits (positive finite values and +infinity lie in (0, bits of +infinity]): unlike a float comparison inside a
/// select, they let the compiler vectorize the PReLU loops without masked loads (GCC under -ftrapping-math keeps
/// a branch around a float select whose arm multiplies, which AVX2 cannot vectorize).
template <class T>
inline float_bits<T> positive_mask(T v) {
  using Signed = std::make_signed_t<float_bits<T>>;
  const auto bits = std::bit_cast<Signed>(v);
  const auto infinity = std::bit_cast<Signed>(std::numeric_limits<T>::infinity());
  return static_cast<bool>((bits > 0) & (bits <= infinity)) ? ~float_bits<T>(0) : float_bits<T>(0);
}

/// v where mask is all ones, +0 where it is zero.
template <class T>
inline T keep_where(T v, float_bits<T> mask) {
  return std::bit_cast<T>(std::bit_cast<float_bits<T>>(v) & mask);
}

/// v as an element of type Out: itself, or rounded to bfloat16.
template <class Out, class T>
inline Out stored(T v) {
  if constexpr (std::is_same_v<Out, bf16_bits>)
    return round_to_bf16(static_cast<float>(v));
  else
    return v;
}
}  // namespace detail

/// Positions per parallel chunk (and per partial sum of the slope gradient) of the channels-last PReLU.
inline constexpr index_t prelu_chunk_positions = 1024;

/// prelu_forward on channels-last tensors (batch, plane, channels); y must not overlap x or alpha (so that the
/// channel loop vectorizes). The same values, computed as keep(x > 0) + alpha * keep(x <= 0) with bit masks
/// (equal to prelu_forward's except for the sign of a zero result, and NaN for an infinite slope); with Out =
/// bf16_bits, y holds them rounded to bfloat16 (round_to_bf16, core/bfloat16.hpp), as a bf16 convolution reads them.
template <class Exec, class T, class Out>
  requires(std::is_same_v<Out, T> || std::is_same_v<Out, bf16_bits>)
inline void prelu_forward_channels_last(const Exec& exec, index_t batch, index_t channels, index_t plane, const T* x,
                                        const T* alpha, Out* y) {
  const index_t positions = batch * plane;
  const index_t chunks = (positions + prelu_chunk_positions - 1) / prelu_chunk_positions;
  for_each(with_iteration_cost(exec, prelu_chunk_positions * channels), chunks, [=](index_t k) {
    const T* PNPDIST_RESTRICT slope = alpha;
    const index_t end = std::min(positions, (k + 1) * prelu_chunk_positions);
    for (index_t i = k * prelu_chunk_positions; i < end; ++i) {
      const T* PNPDIST_RESTRICT xi = x + i * channels;
      Out* PNPDIST_RESTRICT yi = y + i * channels;
      for (index_t c = 0; c < channels; ++c) {
        const T v = xi[c];
        const auto positive = detail::positive_mask(v);
        yi[c] = detail::stored<Out>(detail::keep_where(v, positive) + slope[c] * detail::keep_where(v, ~positive));
      }
    }
  });
}

/// prelu_backward on channels-last tensors (batch, plane, channels): dx the same values (as the forward, with bit
/// masks: a zero may differ in sign). d_alpha[c]: each
/// image's plane is summed in chunks of prelu_chunk_positions positions, the chunks added in order to the
/// image's sum, the images' sums in order: a fixed order, independent of the thread count, and per image as in
/// prelu_backward, so a batch split over data-parallel ranks sums the same way (it differs from
/// prelu_backward's result by float round-off only). With DOut = bf16_bits, dx is written (not accumulated):
/// dx = round_to_bf16(dy * prelu'(x)), the output gradient a bf16 convolution's backward passes read.
template <class Exec, class T, class DOut>
  requires(std::is_same_v<DOut, T> || std::is_same_v<DOut, bf16_bits>)
inline void prelu_backward_channels_last(const Exec& exec, index_t batch, index_t channels, index_t plane, const T* x,
                                         const T* alpha, const T* dy, DOut* dx, T* d_alpha) {
  const index_t per_image = (plane + prelu_chunk_positions - 1) / prelu_chunk_positions;
  std::vector<T> partial(static_cast<std::size_t>(batch * per_image * channels), T(0));
  T* sums = partial.data();
  for_each(with_iteration_cost(exec, prelu_chunk_positions * channels), batch * per_image, [=](index_t k) {
    const T* PNPDIST_RESTRICT slope = alpha;
    T* PNPDIST_RESTRICT chunk_sum = sums + k * channels;
    const index_t n = k / per_image, first = (k % per_image) * prelu_chunk_positions;
    const index_t end = std::min(plane, first + prelu_chunk_positions);
    for (index_t i = n * plane + first; i < n * plane + end; ++i) {
      const T* PNPDIST_RESTRICT xi = x + i * channels;
      const T* PNPDIST_RESTRICT gi = dy + i * channels;
      DOut* PNPDIST_RESTRICT di = dx + i * channels;
      for (index_t c = 0; c < channels; ++c) {
        const T v = xi[c], g = gi[c];
        const auto positive = detail::positive_mask(v);
        const T g_negative = detail::keep_where(g, ~positive);  // dy where x <= 0, +0 elsewhere
        // Written as (dx + kept) + alpha g_negative, so that a contracted multiply-add rounds as prelu_backward's.
        if constexpr (std::is_same_v<DOut, T>)
          di[c] = (di[c] + detail::keep_where(g, positive)) + slope[c] * g_negative;
        else
          di[c] = round_to_bf16(detail::keep_where(g, positive) + slope[c] * g_negative);
        chunk_sum[c] += g_negative * detail::keep_where(v, ~positive);
      }
    }
  });
  for (index_t c = 0; c < channels; ++c) {
    T slope_gradient = 0;
    for (index_t n = 0; n < batch; ++n) {
      T image = 0;
      for (index_t k = 0; k < per_image; ++k) image += sums[(n * per_image + k) * channels + c];
      slope_gradient += image;
    }
    d_alpha[c] += slope_gradient;
  }
}

namespace detail {

inline void require_block(const ChannelBlock& b, index_t src_channels, const char* what) {
  require<dimension_mismatch>(b.count == src_channels && b.offset >= 0 && b.offset + b.count <= b.total, [&] {
    return std::string(what) + ": channels [" + std::to_string(b.offset) + ", " + std::to_string(b.offset + b.count) +
           ") of " + std::to_string(b.total) + " do not hold the " + std::to_string(src_channels) + " source channels";
  });
}

}  // namespace detail

/// Concatenation forward: dst[:, block] = src, src (batch, block.count, plane), dst (batch, block.total, plane).
template <class Exec, class T>
inline void copy_channels(const Exec& exec, index_t batch, index_t plane, const T* src, index_t src_channels, T* dst,
                          const ChannelBlock& block) {
  detail::require_block(block, src_channels, "copy_channels");
  for_each(with_iteration_cost(exec, plane), batch * block.count, [=](index_t i) {
    const index_t n = i / block.count, c = i % block.count;
    const T* s = src + i * plane;
    T* d = dst + (n * block.total + block.offset + c) * plane;
    for (index_t p = 0; p < plane; ++p) d[p] = s[p];
  });
}

/// Concatenation backward: d_src += d_dst[:, block].
template <class Exec, class T>
inline void add_channels(const Exec& exec, index_t batch, index_t plane, const T* d_dst, const ChannelBlock& block,
                         T* d_src, index_t src_channels) {
  detail::require_block(block, src_channels, "add_channels");
  for_each(with_iteration_cost(exec, plane), batch * block.count, [=](index_t i) {
    const index_t n = i / block.count, c = i % block.count;
    const T* s = d_dst + (n * block.total + block.offset + c) * plane;
    T* d = d_src + i * plane;
    for (index_t p = 0; p < plane; ++p) d[p] += s[p];
  });
}

/// Residual sum y += x over `size` elements (its backward is the same call on the gradients: dx += dy).
template <class Exec, class T>
inline void residual_add(const Exec& exec, index_t size, const T* x, T* y) {
  for_each(exec, size, [=](index_t i) { y[i] += x[i]; });
}

/// y = max(x, 0) over `size` elements; y may alias x.
template <class Exec, class T>
inline void relu_forward(const Exec& exec, index_t size, const T* x, T* y) {
  for_each(exec, size, [=](index_t i) { y[i] = x[i] > T(0) ? x[i] : T(0); });
}

/// dx += dy where y > 0, from the ReLU's output y (its input need not be kept). At x = 0 the gradient is
/// taken as 0, as PyTorch does.
template <class Exec, class T>
inline void relu_backward(const Exec& exec, index_t size, const T* y, const T* dy, T* dx) {
  for_each(exec, size, [=](index_t i) { dx[i] += y[i] > T(0) ? dy[i] : T(0); });
}

}  // namespace pnpdist::nn::train
