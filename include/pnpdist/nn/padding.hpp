#pragma once
/// \file
/// DRUNet's input and output staging: the padded input holds the image with its spatial sizes extended
/// at the end (bottom, right, back) by replicating the last row/column/slice, plus one channel filled
/// with the noise level; the output is the top-left (front) corner of the padded result.

#include <cstddef>

#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::nn {

/// The smallest multiple of m not below n.
PNPDIST_HOST_DEVICE constexpr index_t round_up(index_t n, index_t m) { return (n + m - 1) / m * m; }

/// out(n, c, p) = x(n, c, min(p, extent - 1)) for c < C, sigma for c = C.
template <class T, std::size_t Rank, class Space>
struct PadWithNoiseMapKernel {
  View<const T, Rank, Space> x;
  T sigma;
  View<T, Rank, Space> out;

  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(index_t n, index_t c, I... s) const {
    const index_t p[Rank - 2] = {static_cast<index_t>(s)...};
    index_t o = n * out.stride(0) + c * out.stride(1);
    for (std::size_t d = 0; d < Rank - 2; ++d) o += p[d] * out.stride(d + 2);
    if (c == x.extent(1)) {
      out.data()[o] = sigma;
      return;
    }
    index_t i = n * x.stride(0) + c * x.stride(1);
    for (std::size_t d = 0; d < Rank - 2; ++d) {
      const index_t q = p[d] < x.extent(d + 2) ? p[d] : x.extent(d + 2) - 1;
      i += q * x.stride(d + 2);
    }
    out.data()[o] = x.data()[i];
  }
};

/// y(i) = src(i) for every index of y (src at least as large): the top-left corner.
template <class T, std::size_t Rank, class Space>
struct CropKernel {
  View<const T, Rank, Space> src;
  View<T, Rank, Space> y;

  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(I... s) const {
    y(s...) = src(s...);
  }
};

/// The same from a channel-blocked layout (oneDNN's nChw16c / nCdhw16c and the like): element (n, c, p)
/// of an N x Cp x S tensor (Cp = channels rounded up to `block`) is at
/// ((n * Cp/block + c/block) * S + p) * block + c % block, with p the row-major spatial index.
template <class T, std::size_t Rank, class Space>
struct BlockedCropKernel {
  const T* src;
  index_t padded_channels;
  index_t block;
  Extents<Rank - 2> spatial;  // spatial extents of the source
  View<T, Rank, Space> y;

  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(index_t n, index_t c, I... s) const {
    const index_t p[Rank - 2] = {static_cast<index_t>(s)...};
    index_t pixel = 0;
    for (std::size_t d = 0; d < Rank - 2; ++d) pixel = pixel * spatial[d] + p[d];
    const index_t blocks = padded_channels / block;
    y(n, c, s...) = src[((n * blocks + c / block) * product(spatial) + pixel) * block + c % block];
  }
};

}  // namespace pnpdist::nn
