#pragma once
/// \file
/// Bicubic resizing of C x H x W host images, antialiased when shrinking (the rule of PIL's BICUBIC and of
/// torch.nn.functional.interpolate(mode="bicubic", antialias=True, align_corners=False)):
///
///   output pixel o of an axis scaled by s = in / out samples input pixels k near the centre
///   c = (o + 0.5) * s with weights w((k + 0.5 - c) / max(1, s)), w the cubic convolution kernel with
///   a = -0.5 (support 2, stretched by max(1, s)), renormalized to sum 1 over the pixels inside the image.
///
/// The two axes are resized one after the other (width first). Values are not clamped.

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {
namespace detail {

/// The cubic convolution kernel with a = -0.5.
inline double bicubic_weight(double x) {
  constexpr double a = -0.5;
  x = std::abs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

/// Per output position: the first input index, the number of taps, and `max_taps` normalized weights.
struct ResizeTable {
  index_t max_taps = 0;
  std::vector<index_t> first;
  std::vector<index_t> count;
  std::vector<float> weights;
};

inline ResizeTable make_resize_table(index_t in, index_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double stretch = std::max(1.0, scale);
  const double support = 2.0 * stretch;
  ResizeTable table;
  table.max_taps = static_cast<index_t>(std::ceil(support)) * 2 + 1;
  table.first.resize(static_cast<std::size_t>(out));
  table.count.resize(static_cast<std::size_t>(out));
  table.weights.assign(static_cast<std::size_t>(out * table.max_taps), 0.0f);
  for (index_t o = 0; o < out; ++o) {
    const double centre = (static_cast<double>(o) + 0.5) * scale;
    const index_t lo = std::max<index_t>(static_cast<index_t>(centre - support + 0.5), 0);
    const index_t hi = std::min<index_t>(static_cast<index_t>(centre + support + 0.5), in);
    const index_t n = std::min(hi - lo, table.max_taps);
    double total = 0;
    std::vector<double> w(static_cast<std::size_t>(n));
    for (index_t k = 0; k < n; ++k) {
      w[static_cast<std::size_t>(k)] = bicubic_weight((static_cast<double>(k + lo) - centre + 0.5) / stretch);
      total += w[static_cast<std::size_t>(k)];
    }
    table.first[static_cast<std::size_t>(o)] = lo;
    table.count[static_cast<std::size_t>(o)] = n;
    for (index_t k = 0; k < n; ++k)
      table.weights[static_cast<std::size_t>(o * table.max_taps + k)] =
          static_cast<float>(total != 0 ? w[static_cast<std::size_t>(k)] / total : 0.0);
  }
  return table;
}

/// One resized line: out(c, i, o) for all o along the resized axis (`along_width` picks the axis).
struct ResizeLineKernel {
  View<const float, 3, HostSpace> in;
  View<float, 3, HostSpace> out;
  const index_t* first;
  const index_t* count;
  const float* weights;
  index_t max_taps;
  bool along_width;

  void operator()(index_t c, index_t i, index_t o) const {
    double acc = 0;
    const index_t lo = first[o];
    const float* w = weights + o * max_taps;
    for (index_t k = 0; k < count[o]; ++k)
      acc += static_cast<double>(w[k]) * static_cast<double>(along_width ? in(c, i, lo + k) : in(c, lo + k, i));
    if (along_width)
      out(c, i, o) = static_cast<float>(acc);
    else
      out(c, o, i) = static_cast<float>(acc);
  }
};

/// Adapts ResizeLineKernel to the (c, i, o) launch order when resizing along the height: out(c, o, i).
struct ResizeColumnLaunch {
  ResizeLineKernel kernel;
  void operator()(index_t c, index_t o, index_t i) const { kernel(c, i, o); }
};

}  // namespace detail

/// `image` (C x H x W) resized to height x width with the antialiased bicubic rule of the file comment, on a
/// host executor. Throws invalid_argument for a non-positive size or an empty image.
template <class Exec, class T>
[[nodiscard]] inline Tensor<float, 3, HostSpace> resize_bicubic(const Exec& exec, const View<T, 3, HostSpace>& image,
                                                                index_t height, index_t width) {
  static_assert(Exec::memory_space::host_accessible, "resize_bicubic runs on a host executor");
  require(height > 0 && width > 0 && image.size() > 0, [&] {
    return "resize_bicubic: cannot resize an image of shape " + to_string(image.extents()) + " to " +
           std::to_string(height) + " x " + std::to_string(width);
  });
  const index_t channels = image.extent(0);
  const View<const float, 3, HostSpace> source = image;
  const detail::ResizeTable columns = detail::make_resize_table(image.extent(2), width);
  Tensor<float, 3, HostSpace> wide(Extents<3>{channels, image.extent(1), width});
  for_each(exec, wide.extents(),
           detail::ResizeLineKernel{source, wide.view(), columns.first.data(), columns.count.data(),
                                    columns.weights.data(), columns.max_taps, true});
  const detail::ResizeTable rows = detail::make_resize_table(image.extent(1), height);
  Tensor<float, 3, HostSpace> out(Extents<3>{channels, height, width});
  for_each(exec, out.extents(),
           detail::ResizeColumnLaunch{detail::ResizeLineKernel{wide.const_view(), out.view(), rows.first.data(),
                                                               rows.count.data(), rows.weights.data(), rows.max_taps,
                                                               false}});
  return out;
}

/// The size (height, width) whose larger side is `size`, the other scaled by the same factor and rounded
/// to the nearest integer (at least 1).
[[nodiscard]] inline Extents<2> larger_side_size(index_t height, index_t width, index_t size) {
  require(height > 0 && width > 0 && size > 0, [&] {
    return "larger_side_size: sizes must be positive, got " + std::to_string(height) + " x " + std::to_string(width) +
           " -> " + std::to_string(size);
  });
  const auto scaled = [&](index_t side, index_t larger) {
    return std::max<index_t>(1, static_cast<index_t>(std::llround(static_cast<double>(side) * size / larger)));
  };
  if (height >= width) return {size, scaled(width, height)};
  return {scaled(height, width), size};
}

/// `image` resized (bicubic) so that its larger side equals `size`.
template <class Exec, class T>
[[nodiscard]] inline Tensor<float, 3, HostSpace> resize_larger_side(const Exec& exec,
                                                                    const View<T, 3, HostSpace>& image, index_t size) {
  const Extents<2> target = larger_side_size(image.extent(1), image.extent(2), size);
  return resize_bicubic(exec, image, target[0], target[1]);
}

}  // namespace pnpdist
