#pragma once
/// \file
/// The 3x3 convolution (stride 1, zero padding 1, bias) of 2D N x C x H x W tensors as a training layer on
/// the host: forward, backward-data and backward-weights, in float or double, on a host executor (Serial or
/// OpenMP). Weights are in PyTorch's Conv2d layout (Cout, Cin, 3, 3), contiguous; tensors contiguous.
///
/// Every routine is a sum of shifted planes: tap (ky, kx) of weight (co, ci) pairs pixel (y, x) of output
/// plane co with pixel (y + ky - 1, x + kx - 1) of input plane ci (outside the image: zero). Guarantees:
///   - conv3_forward equals nn::conv3 (layers.hpp, the reference) up to the order of the sums;
///   - conv3_backward_data is its exact transpose in x, conv3_backward_weights the exact gradient in
///     (weight, bias), both accumulated (+=) into the outputs, so gradients of layers shared by several
///     calls add up;
///   - each output element is summed in a fixed order by one iteration: results do not depend on the
///     thread count.
/// This is the host implementation; oneDNN's backward primitives are not used yet.

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

/// dst(y, x) += a * src(y + dy, x + dx) where both pixels lie inside the H x W plane.
template <class T>
inline void shifted_axpy(T a, const T* src, T* dst, index_t h, index_t w, index_t dy, index_t dx) {
  const index_t y0 = dy < 0 ? -dy : 0, y1 = dy > 0 ? h - dy : h;
  const index_t x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? w - dx : w;
  for (index_t y = y0; y < y1; ++y) {
    T* d = dst + y * w;
    const T* s = src + (y + dy) * w + dx;
    for (index_t x = x0; x < x1; ++x) d[x] += a * s[x];
  }
}

/// sum over (y, x) of a(y, x) * b(y + dy, x + dx), both pixels inside the plane.
template <class T>
inline T shifted_dot(const T* a, const T* b, index_t h, index_t w, index_t dy, index_t dx) {
  const index_t y0 = dy < 0 ? -dy : 0, y1 = dy > 0 ? h - dy : h;
  const index_t x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? w - dx : w;
  T sum = 0;
  for (index_t y = y0; y < y1; ++y) {
    const T* p = a + y * w;
    const T* q = b + (y + dy) * w + dx;
    T row = 0;
    for (index_t x = x0; x < x1; ++x) row += p[x] * q[x];
    sum += row;
  }
  return sum;
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
      const T* w = weight + (co * s.in_channels + ci) * 9;
      for (index_t k = 0; k < 9; ++k) detail::shifted_axpy(w[k], x, y, s.height, s.width, k / 3 - 1, k % 3 - 1);
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
      for (index_t k = 0; k < 9; ++k) detail::shifted_axpy(w[k], dy, dx, s.height, s.width, 1 - k / 3, 1 - k % 3);
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
    T* dw = d_weight + i * 9;
    for (index_t k = 0; k < 9; ++k) {
      T sum = 0;
      for (index_t n = 0; n < s.batch; ++n)
        sum += detail::shifted_dot(d_out + (n * s.out_channels + co) * plane, in + (n * s.in_channels + ci) * plane,
                                   s.height, s.width, k / 3 - 1, k % 3 - 1);
      dw[k] += sum;
    }
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
