#pragma once
/// \file
/// The backward passes of DRUNet's input and output staging (nn/padding.hpp) on host N x C x H x W tensors,
/// contiguous, float or double:
///
///   pad    padded(n, c, y, x) = x(n, c, min(y, H - 1), min(x, W - 1)) for c < C, sigma for c = C
///          (Hp x Wp >= H x W, C + 1 channels: the image replicated at the bottom and right, the noise map)
///          backward: dx(n, c, y, x) += the sum of d_padded over the padded pixels that copy (y, x);
///                    d_sigma += the sum of d_padded over the noise-map channel
///   crop   y = the top-left H x W corner of the padded output;  backward: d_padded = dy there, 0 elsewhere
///
/// Each output element is summed by one iteration in a fixed order: results do not depend on the thread count.

#include <string>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist::nn::train {

/// Sizes of the staging: batch, image channels (without the noise map), image and padded sizes.
struct PaddingShape {
  index_t batch = 0, channels = 0, height = 0, width = 0, padded_height = 0, padded_width = 0;
};

namespace detail {

inline void require_padding_shape(const PaddingShape& s, const char* what) {
  require(s.batch > 0 && s.channels > 0 && s.height > 0 && s.width > 0 && s.padded_height >= s.height &&
              s.padded_width >= s.width,
          [&] {
            return std::string(what) + ": sizes must be positive and the padded size at least the image's, got N=" +
                   std::to_string(s.batch) + " C=" + std::to_string(s.channels) + " H=" + std::to_string(s.height) +
                   " W=" + std::to_string(s.width) + " padded " + std::to_string(s.padded_height) + " x " +
                   std::to_string(s.padded_width);
          });
}

}  // namespace detail

/// Backward of the padding: d_x (N, C, H, W) += the gradient of the image channels of d_padded
/// (N, C + 1, Hp, Wp); *d_sigma += the sum of its noise-map channel (d_sigma may be nullptr).
template <class Exec, class T>
inline void pad_with_noise_map_backward(const Exec& exec, const PaddingShape& s, const T* d_padded, T* d_x,
                                        T* d_sigma) {
  detail::require_padding_shape(s, "pad_with_noise_map_backward");
  const index_t hp = s.padded_height, wp = s.padded_width, h = s.height, w = s.width;
  for_each(with_iteration_cost(exec, hp * wp), s.batch * s.channels, [=](index_t i) {
    const index_t n = i / s.channels, c = i % s.channels;
    const T* g = d_padded + (n * (s.channels + 1) + c) * hp * wp;
    T* dx = d_x + i * h * w;
    for (index_t y = 0; y < hp; ++y) {
      T* row = dx + (y < h ? y : h - 1) * w;
      const T* gy = g + y * wp;
      for (index_t x = 0; x < w - 1; ++x) row[x] += gy[x];
      T last = 0;  // the last column and its replicas
      for (index_t x = w - 1; x < wp; ++x) last += gy[x];
      row[w - 1] += last;
    }
  });
  if (!d_sigma) return;
  T total = 0;
  for (index_t n = 0; n < s.batch; ++n) {
    const T* g = d_padded + (n * (s.channels + 1) + s.channels) * hp * wp;
    T sum = 0;
    for (index_t p = 0; p < hp * wp; ++p) sum += g[p];
    total += sum;
  }
  *d_sigma += total;
}

/// Backward of the crop: d_padded (N, C, Hp, Wp) = dy (N, C, H, W) in the top-left corner, zero elsewhere.
template <class Exec, class T>
inline void crop_backward(const Exec& exec, const PaddingShape& s, const T* dy, T* d_padded) {
  detail::require_padding_shape(s, "crop_backward");
  const index_t hp = s.padded_height, wp = s.padded_width, h = s.height, w = s.width;
  for_each(with_iteration_cost(exec, hp * wp), s.batch * s.channels, [=](index_t i) {
    T* d = d_padded + i * hp * wp;
    const T* g = dy + i * h * w;
    for (index_t y = 0; y < hp; ++y)
      for (index_t x = 0; x < wp; ++x) d[y * wp + x] = y < h && x < w ? g[y * w + x] : T(0);
  });
}

}  // namespace pnpdist::nn::train
