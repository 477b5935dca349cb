#pragma once
/// \file
/// The 3x3 convolution (stride 1, zero padding 1, bias) of 2D N x C x H x W tensors as a training layer on
/// the host: forward, backward-data and backward-weights, in float or double, on a host executor (Serial or
/// OpenMP). Weights are in PyTorch's Conv2d layout (Cout, Cin, 3, 3), contiguous; tensors contiguous.
///
/// Tap (ky, kx) of weight (co, ci) pairs pixel (y, x) of output plane co with pixel (y + ky - 1, x + kx - 1)
/// of input plane ci (outside the image: zero). Forward and backward-data run a 3x3 stencil per plane pair,
/// row by row (backward-data with the flipped kernel); backward-weights sums the 9 shifted products of a
/// plane pair in one sweep, in 16 lanes per row. These loops vectorise without reassociation. Guarantees:
///   - conv3_forward equals nn::conv3 (layers.hpp, the reference) up to the order of the sums;
///   - conv3_backward_data is its exact transpose in x, conv3_backward_weights the exact gradient in
///     (weight, bias), both accumulated (+=) into the outputs, so gradients of layers shared by several
///     calls add up;
///   - each output element is summed in a fixed order by one iteration: results do not depend on the
///     thread count.
/// These loops are the oracle of the oneDNN path (conv3_onednn.hpp), which the training layers take for
/// float when the oneDNN component is linked; double always runs here.

#include <cstddef>
#include <string>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::nn::train {

/// Shapes of one 3x3 convolution call: batch, input / output channels, image size.
struct Conv3Shape {
  index_t batch = 0, in_channels = 0, out_channels = 0, height = 0, width = 0;

  [[nodiscard]] index_t plane() const { return height * width; }
};

namespace detail {

/// dst(y, x) += sum over the 9 taps of k[3 ky + kx] src(y + ky - 1, x + kx - 1) (zero outside): one pass
/// per ky over each row, the three kx summed before dst is updated (in the fixed order kx = 0, 1, 2).
template <class T>
inline void stencil_3x3(const T* k, const T* src, T* dst, index_t h, index_t w) {
  for (index_t y = 0; y < h; ++y) {
    T* d = dst + y * w;
    for (index_t ky = 0; ky < 3; ++ky) {
      const index_t sy = y + ky - 1;
      if (sy < 0 || sy >= h) continue;
      const T* r = src + sy * w;
      const T k0 = k[3 * ky], k1 = k[3 * ky + 1], k2 = k[3 * ky + 2];
      if (w == 1) {
        d[0] += k1 * r[0];
        continue;
      }
      d[0] += k1 * r[0] + k2 * r[1];
      for (index_t x = 1; x < w - 1; ++x) d[x] += k0 * r[x - 1] + k1 * r[x] + k2 * r[x + 1];
      d[w - 1] += k0 * r[w - 2] + k1 * r[w - 1];
    }
  }
}

/// sum over (y, x) of a(y, x) * b(y + dy, x + dx), both pixels inside the plane. Summed in 16 lanes (x mod 16
/// within each row, then the lanes and the rows in order), so the compiler can vectorise it without
/// reassociating: the result is the same on every machine with the same instruction set.
template <class T>
inline T shifted_dot(const T* a, const T* b, index_t h, index_t w, index_t dy, index_t dx) {
  constexpr index_t lanes = 16;
  const index_t y0 = dy < 0 ? -dy : 0, y1 = dy > 0 ? h - dy : h;
  const index_t x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? w - dx : w;
  T partial[lanes] = {};
  T tail = 0;
  for (index_t y = y0; y < y1; ++y) {
    const T* p = a + y * w;
    const T* q = b + (y + dy) * w + dx;
    index_t x = x0;
    for (; x + lanes <= x1; x += lanes)
      for (index_t l = 0; l < lanes; ++l) partial[l] += p[x + l] * q[x + l];
    for (; x < x1; ++x) tail += p[x] * q[x];
  }
  T sum = tail;
  for (index_t l = 0; l < lanes; ++l) sum += partial[l];
  return sum;
}

/// out[3 ky + kx] += shifted_dot(a, b, h, w, ky - 1, kx - 1) for the 9 taps, reading each row of `a` once
/// per ky (the three kx share it). Same lane scheme as shifted_dot; images narrower than 3 use it directly.
template <class T>
inline void shifted_dots_3x3(const T* a, const T* b, index_t h, index_t w, T* out) {
  constexpr index_t lanes = 16;
  if (w < 3) {
    for (index_t k = 0; k < 9; ++k) out[k] += shifted_dot(a, b, h, w, k / 3 - 1, k % 3 - 1);
    return;
  }
  for (index_t ky = 0; ky < 3; ++ky) {
    const index_t dy = ky - 1, y0 = dy < 0 ? 1 : 0, y1 = dy > 0 ? h - 1 : h;
    T partial[3][lanes] = {};
    T tail[3] = {};
    for (index_t y = y0; y < y1; ++y) {
      const T* p = a + y * w;
      const T* q = b + (y + dy) * w;
      index_t x = 1;  // interior columns: all three kx inside
      for (; x + lanes <= w - 1; x += lanes)
        for (index_t l = 0; l < lanes; ++l) {
          const T v = p[x + l];
          partial[0][l] += v * q[x + l - 1];
          partial[1][l] += v * q[x + l];
          partial[2][l] += v * q[x + l + 1];
        }
      for (; x < w - 1; ++x) {
        tail[0] += p[x] * q[x - 1];
        tail[1] += p[x] * q[x];
        tail[2] += p[x] * q[x + 1];
      }
      tail[1] += p[0] * q[0] + p[w - 1] * q[w - 1];  // border columns: the taps that stay inside
      tail[2] += p[0] * q[1];
      tail[0] += p[w - 1] * q[w - 2];
    }
    for (index_t kx = 0; kx < 3; ++kx) {
      T sum = tail[kx];
      for (index_t l = 0; l < lanes; ++l) sum += partial[kx][l];
      out[3 * ky + kx] += sum;
    }
  }
}

inline void require_conv3_shape(const Conv3Shape& s, const char* what) {
  require(s.batch > 0 && s.in_channels > 0 && s.out_channels > 0 && s.height > 0 && s.width > 0, [&] {
    return std::string(what) + ": batch, channels and image size must be positive, got N=" + std::to_string(s.batch) +
           " Cin=" + std::to_string(s.in_channels) + " Cout=" + std::to_string(s.out_channels) +
           " H=" + std::to_string(s.height) + " W=" + std::to_string(s.width);
  });
}

}  // namespace detail

/// Forward: out = conv3(in) + bias (bias may be nullptr). in (N, Cin, H, W), out (N, Cout, H, W).
template <class Exec, class T>
inline void conv3_forward(const Exec& exec, const Conv3Shape& s, const T* in, const T* weight, const T* bias, T* out) {
  detail::require_conv3_shape(s, "conv3_forward");
  const index_t plane = s.plane();
  for_each(with_iteration_cost(exec, 9 * s.in_channels * plane), s.batch * s.out_channels, [=](index_t i) {
    const index_t n = i / s.out_channels, co = i % s.out_channels;
    T* y = out + i * plane;
    const T b = bias ? bias[co] : T(0);
    for (index_t p = 0; p < plane; ++p) y[p] = b;
    for (index_t ci = 0; ci < s.in_channels; ++ci) {
      const T* x = in + (n * s.in_channels + ci) * plane;
      detail::stencil_3x3(weight + (co * s.in_channels + ci) * 9, x, y, s.height, s.width);
    }
  });
}

/// Backward-data: d_in += conv3^T(d_out). d_out (N, Cout, H, W), d_in (N, Cin, H, W).
template <class Exec, class T>
inline void conv3_backward_data(const Exec& exec, const Conv3Shape& s, const T* d_out, const T* weight, T* d_in) {
  detail::require_conv3_shape(s, "conv3_backward_data");
  const index_t plane = s.plane();
  for_each(with_iteration_cost(exec, 9 * s.out_channels * plane), s.batch * s.in_channels, [=](index_t i) {
    const index_t n = i / s.in_channels, ci = i % s.in_channels;
    T* dx = d_in + i * plane;
    for (index_t co = 0; co < s.out_channels; ++co) {
      const T* dy = d_out + (n * s.out_channels + co) * plane;
      const T* w = weight + (co * s.in_channels + ci) * 9;
      const T flipped[9] = {w[8], w[7], w[6], w[5], w[4], w[3], w[2], w[1], w[0]};  // the transpose's taps
      detail::stencil_3x3(flipped, dy, dx, s.height, s.width);
    }
  });
}

/// Backward-weights: d_weight += dL/dweight, d_bias += dL/dbias (d_bias may be nullptr) from the layer's
/// input `in` and the gradient of its output `d_out`.
template <class Exec, class T>
inline void conv3_backward_weights(const Exec& exec, const Conv3Shape& s, const T* in, const T* d_out, T* d_weight,
                                   T* d_bias) {
  detail::require_conv3_shape(s, "conv3_backward_weights");
  const index_t plane = s.plane();
  for_each(with_iteration_cost(exec, 9 * s.batch * plane), s.out_channels * s.in_channels, [=](index_t i) {
    const index_t co = i / s.in_channels, ci = i % s.in_channels;
    T sums[9] = {};
    for (index_t n = 0; n < s.batch; ++n)
      detail::shifted_dots_3x3(d_out + (n * s.out_channels + co) * plane, in + (n * s.in_channels + ci) * plane,
                               s.height, s.width, sums);
    for (index_t k = 0; k < 9; ++k) d_weight[i * 9 + k] += sums[k];
    if (d_bias && ci == 0) {
      T sum = 0;
      for (index_t n = 0; n < s.batch; ++n) {
        const T* dy = d_out + (n * s.out_channels + co) * plane;
        for (index_t p = 0; p < plane; ++p) sum += dy[p];
      }
      d_bias[co] += sum;
    }
  });
}

}  // namespace pnpdist::nn::train
