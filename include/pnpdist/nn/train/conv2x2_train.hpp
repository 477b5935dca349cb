#pragma once
/// \file
/// DRUNet's two resampling convolutions as training layers on the host (float or double, Serial or OpenMP),
/// without padding, tensors N x C x H x W and weights contiguous:
///
///   down2  2x2 convolution, stride 2        weight (Cout, Cin, 2, 2) (PyTorch Conv2d)
///          out(n, co, y, x) = bias[co] + sum_ci,ky,kx w(co, ci, ky, kx) in(n, ci, 2y + ky, 2x + kx)
///   up2    2x2 transposed convolution, stride 2   weight (Cin, Cout, 2, 2) (PyTorch ConvTranspose2d)
///          out(n, co, 2y + ky, 2x + kx) = bias[co] + sum_ci w(ci, co, ky, kx) in(n, ci, y, x)
///
/// Each with forward, backward-data and backward-weights (bias gradient optional). up2 is the transpose of
/// down2 with the same weight array read as (Cin_up, Cout_up) = (Cout_down, Cin_down), so its passes are
/// down2's passes with the roles exchanged: up2 forward = down2 backward-data, up2 backward-data = down2
/// forward, up2 backward-weights = down2 backward-weights with input and output gradient swapped.
/// Guarantees (as conv3_train.hpp): forwards write their output and equal nn::conv_down2 / nn::conv_up2 of
/// layers.hpp up to the order of the sums; backward passes accumulate (+=) the exact transpose in the input
/// and the exact gradient in (weight, bias); every output element is summed in a fixed order by one
/// iteration, so results do not depend on the thread count.

#include <string>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist::nn::train {

/// Shapes of one 2x2 stride-2 call: batch, input / output channels and the INPUT's image size (down2: even,
/// the output is half of it; up2: the output is twice it).
struct Conv2x2Shape {
  index_t batch = 0, in_channels = 0, out_channels = 0, height = 0, width = 0;
};

namespace detail {

inline void require_conv2x2_shape(const Conv2x2Shape& s, bool down, const char* what) {
  const bool positive = s.batch > 0 && s.in_channels > 0 && s.out_channels > 0 && s.height > 0 && s.width > 0;
  require(positive && (!down || (s.height % 2 == 0 && s.width % 2 == 0)), [&] {
    return std::string(what) + ": batch, channels and image size must be positive" +
           (down ? " and the image size even" : "") + ", got N=" + std::to_string(s.batch) +
           " Cin=" + std::to_string(s.in_channels) + " Cout=" + std::to_string(s.out_channels) +
           " H=" + std::to_string(s.height) + " W=" + std::to_string(s.width);
  });
}

/// out (+)= down2(in) (+ bias) per output plane; `accumulate` adds to out instead of writing it.
template <class Exec, class T>
inline void down2_apply(const Exec& exec, const Conv2x2Shape& s, const T* in, const T* weight, const T* bias, T* out,
                        bool accumulate) {
  const index_t h = s.height / 2, w = s.width / 2, fine = s.height * s.width, coarse = h * w;
  for_each(with_iteration_cost(exec, 4 * s.in_channels * coarse), s.batch * s.out_channels, [=](index_t i) {
    const index_t n = i / s.out_channels, co = i % s.out_channels;
    T* o = out + i * coarse;
    const T b = bias ? bias[co] : T(0);
    if (!accumulate)
      for (index_t p = 0; p < coarse; ++p) o[p] = b;
    else if (bias)
      for (index_t p = 0; p < coarse; ++p) o[p] += b;
    for (index_t ci = 0; ci < s.in_channels; ++ci) {
      const T* k = weight + (co * s.in_channels + ci) * 4;
      const T* x = in + (n * s.in_channels + ci) * fine;
      for (index_t y = 0; y < h; ++y) {
        const T* r0 = x + 2 * y * s.width;
        const T* r1 = r0 + s.width;
        T* d = o + y * w;
        for (index_t c = 0; c < w; ++c)
          d[c] += k[0] * r0[2 * c] + k[1] * r0[2 * c + 1] + k[2] * r1[2 * c] + k[3] * r1[2 * c + 1];
      }
    }
  });
}

/// d_in += down2^T(d_out) per input plane (without bias).
template <class Exec, class T>
inline void down2_transpose_add(const Exec& exec, const Conv2x2Shape& s, const T* d_out, const T* weight, T* d_in) {
  const index_t h = s.height / 2, w = s.width / 2, fine = s.height * s.width, coarse = h * w;
  for_each(with_iteration_cost(exec, 4 * s.out_channels * coarse), s.batch * s.in_channels, [=](index_t i) {
    const index_t n = i / s.in_channels, ci = i % s.in_channels;
    T* dx = d_in + i * fine;
    for (index_t co = 0; co < s.out_channels; ++co) {
      const T* k = weight + (co * s.in_channels + ci) * 4;
      const T* g = d_out + (n * s.out_channels + co) * coarse;
      for (index_t y = 0; y < h; ++y) {
        T* r0 = dx + 2 * y * s.width;
        T* r1 = r0 + s.width;
        const T* gy = g + y * w;
        for (index_t c = 0; c < w; ++c) {
          r0[2 * c] += k[0] * gy[c];
          r0[2 * c + 1] += k[1] * gy[c];
          r1[2 * c] += k[2] * gy[c];
          r1[2 * c + 1] += k[3] * gy[c];
        }
      }
    }
  });
}

/// d_weight(co, ci, ky, kx) += sum over n, y, x of d_out(n, co, y, x) in(n, ci, 2y + ky, 2x + kx).
template <class Exec, class T>
inline void down2_weight_gradient(const Exec& exec, const Conv2x2Shape& s, const T* in, const T* d_out, T* d_weight) {
  const index_t h = s.height / 2, w = s.width / 2, fine = s.height * s.width, coarse = h * w;
  for_each(with_iteration_cost(exec, 4 * s.batch * coarse), s.out_channels * s.in_channels, [=](index_t i) {
    const index_t co = i / s.in_channels, ci = i % s.in_channels;
    T sums[4] = {};
    for (index_t n = 0; n < s.batch; ++n) {
      const T* x = in + (n * s.in_channels + ci) * fine;
      const T* g = d_out + (n * s.out_channels + co) * coarse;
      for (index_t y = 0; y < h; ++y) {
        const T* r0 = x + 2 * y * s.width;
        const T* r1 = r0 + s.width;
        const T* gy = g + y * w;
        T row[4] = {};
        for (index_t c = 0; c < w; ++c) {
          row[0] += gy[c] * r0[2 * c];
          row[1] += gy[c] * r0[2 * c + 1];
          row[2] += gy[c] * r1[2 * c];
          row[3] += gy[c] * r1[2 * c + 1];
        }
        for (int k = 0; k < 4; ++k) sums[k] += row[k];
      }
    }
    for (int k = 0; k < 4; ++k) d_weight[i * 4 + k] += sums[k];
  });
}

/// d_bias[c] += sum over the batch and the plane of g(n, c, .).
template <class Exec, class T>
inline void channel_sums_add(const Exec& exec, index_t batch, index_t channels, index_t plane, const T* g, T* d_bias) {
  for_each(with_iteration_cost(exec, batch * plane), channels, [=](index_t c) {
    T sum = 0;
    for (index_t n = 0; n < batch; ++n) {
      const T* p = g + (n * channels + c) * plane;
      T row = 0;
      for (index_t q = 0; q < plane; ++q) row += p[q];
      sum += row;
    }
    d_bias[c] += sum;
  });
}

/// The down2 shape whose transpose is the up2 call of shape s.
inline Conv2x2Shape transposed_down2(const Conv2x2Shape& s) {
  return {s.batch, s.out_channels, s.in_channels, 2 * s.height, 2 * s.width};
}

}  // namespace detail

/// down2 forward: out = down2(in) + bias (bias may be nullptr). in (N, Cin, H, W), out (N, Cout, H/2, W/2).
template <class Exec, class T>
inline void down2_forward(const Exec& exec, const Conv2x2Shape& s, const T* in, const T* weight, const T* bias,
                          T* out) {
  detail::require_conv2x2_shape(s, true, "down2_forward");
  detail::down2_apply(exec, s, in, weight, bias, out, false);
}

/// down2 backward-data: d_in += down2^T(d_out).
template <class Exec, class T>
inline void down2_backward_data(const Exec& exec, const Conv2x2Shape& s, const T* d_out, const T* weight, T* d_in) {
  detail::require_conv2x2_shape(s, true, "down2_backward_data");
  detail::down2_transpose_add(exec, s, d_out, weight, d_in);
}

/// down2 backward-weights: d_weight += dL/dweight, d_bias += dL/dbias (d_bias may be nullptr).
template <class Exec, class T>
inline void down2_backward_weights(const Exec& exec, const Conv2x2Shape& s, const T* in, const T* d_out, T* d_weight,
                                   T* d_bias) {
  detail::require_conv2x2_shape(s, true, "down2_backward_weights");
  detail::down2_weight_gradient(exec, s, in, d_out, d_weight);
  if (d_bias) detail::channel_sums_add(exec, s.batch, s.out_channels, s.height / 2 * (s.width / 2), d_out, d_bias);
}

/// up2 forward: out = up2(in) + bias (bias may be nullptr). in (N, Cin, H, W), out (N, Cout, 2H, 2W).
template <class Exec, class T>
inline void up2_forward(const Exec& exec, const Conv2x2Shape& s, const T* in, const T* weight, const T* bias, T* out) {
  detail::require_conv2x2_shape(s, false, "up2_forward");
  const index_t plane = 4 * s.height * s.width;
  for_each(with_iteration_cost(exec, plane), s.batch * s.out_channels, [=](index_t i) {
    const T b = bias ? bias[i % s.out_channels] : T(0);
    for (index_t p = 0; p < plane; ++p) out[i * plane + p] = b;
  });
  detail::down2_transpose_add(exec, detail::transposed_down2(s), in, weight, out);
}

/// up2 backward-data: d_in += up2^T(d_out) (a down2 of d_out).
template <class Exec, class T>
inline void up2_backward_data(const Exec& exec, const Conv2x2Shape& s, const T* d_out, const T* weight, T* d_in) {
  detail::require_conv2x2_shape(s, false, "up2_backward_data");
  detail::down2_apply(exec, detail::transposed_down2(s), d_out, weight, static_cast<const T*>(nullptr), d_in, true);
}

/// up2 backward-weights: d_weight += dL/dweight, d_bias += dL/dbias (d_bias may be nullptr).
template <class Exec, class T>
inline void up2_backward_weights(const Exec& exec, const Conv2x2Shape& s, const T* in, const T* d_out, T* d_weight,
                                 T* d_bias) {
  detail::require_conv2x2_shape(s, false, "up2_backward_weights");
  detail::down2_weight_gradient(exec, detail::transposed_down2(s), d_out, in, d_weight);
  if (d_bias) detail::channel_sums_add(exec, s.batch, s.out_channels, 4 * s.height * s.width, d_out, d_bias);
}

}  // namespace pnpdist::nn::train
