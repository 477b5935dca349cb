#pragma once
/// \file
/// Point-spread functions (PSFs) for the blur operators: host tensors kh x kw of T, normalized to sum 1.
///
///   - gaussian_psf(s1, s2, angle): DeepInv's anisotropic Gaussian rule. On the grid x = i - c (rows),
///     y = j - c (columns), i, j = 0 .. 2c, with c = int(max(s1, s2) / 0.3 + 1) (size 2c + 1: 139 x 139 at
///     s = (20.48, 10.24)), g = exp(-(x / s1)^2 / 2 - (y / s2)^2 / 2) is rotated by `angle` degrees
///     (counter-clockwise on screen, about the centre pixel) with bilinear interpolation and zero fill,
///     as an image rotation does, then normalized to sum 1.
///   - normalized_psf(view): a user-given PSF (any size), checked (finite, non-negative sum) and scaled to
///     sum 1.
///   - read_psf(path): a user-given PSF from a .npy file (2-D) or an image file (PNG/JPEG, channels
///     averaged), normalized.

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/io/image.hpp"
#include "pnpdist/io/npy.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::blur {

/// Side length 2 * int(max(s1, s2) / 0.3 + 1) + 1 of a Gaussian PSF. Throws invalid_argument unless both
/// standard deviations are positive and finite.
[[nodiscard]] inline index_t gaussian_psf_size(double sigma_1, double sigma_2) {
  require(std::isfinite(sigma_1) && std::isfinite(sigma_2) && sigma_1 > 0 && sigma_2 > 0, [&] {
    return "gaussian_psf: standard deviations must be positive and finite, got (" + std::to_string(sigma_1) + ", " +
           std::to_string(sigma_2) + ")";
  });
  const index_t c = static_cast<index_t>(std::max(sigma_1, sigma_2) / 0.3 + 1.0);
  return 2 * c + 1;
}

/// The rotated anisotropic Gaussian PSF (see the file comment), computed in double and rounded to T.
/// `sigma_1` is the standard deviation along the rows (vertical axis) before rotation, `sigma_2` along the
/// columns. Throws invalid_argument for non-positive standard deviations or a non-finite angle.
template <class T = float>
[[nodiscard]] inline Tensor<T, 2, HostSpace> gaussian_psf(double sigma_1, double sigma_2, double angle_degrees = 0.0) {
  const index_t size = gaussian_psf_size(sigma_1, sigma_2);
  require(std::isfinite(angle_degrees),
          [&] { return "gaussian_psf: the angle must be finite, got " + std::to_string(angle_degrees); });
  const index_t c = size / 2;
  const auto base = [&](index_t i, index_t j) {
    const double x = static_cast<double>(i - c) / sigma_1;
    const double y = static_cast<double>(j - c) / sigma_2;
    return std::exp(-0.5 * (x * x + y * y));
  };
  // Output pixel (i, j) samples the unrotated Gaussian at the inverse rotation of its offset from the centre.
  const double r = -angle_degrees * std::numbers::pi / 180.0;
  const double cr = std::cos(r);
  const double sr = std::sin(r);
  Tensor<double, 2, HostSpace> rotated(Extents<2>{size, size});
  double total = 0;
  for (index_t i = 0; i < size; ++i) {
    for (index_t j = 0; j < size; ++j) {
      const double x = static_cast<double>(j - c);  // column offset
      const double y = static_cast<double>(i - c);  // row offset
      const double col = static_cast<double>(c) + cr * x + sr * y;
      const double row = static_cast<double>(c) - sr * x + cr * y;
      const double r0 = std::floor(row);
      const double c0 = std::floor(col);
      const double wr = row - r0;
      const double wc = col - c0;
      double value = 0;
      for (int dr = 0; dr < 2; ++dr) {
        for (int dc = 0; dc < 2; ++dc) {
          const index_t ri = static_cast<index_t>(r0) + dr;
          const index_t ci = static_cast<index_t>(c0) + dc;
          if (ri < 0 || ri >= size || ci < 0 || ci >= size) continue;  // zero fill outside the grid
          value += (dr ? wr : 1 - wr) * (dc ? wc : 1 - wc) * base(ri, ci);
        }
      }
      rotated(i, j) = value;
      total += value;
    }
  }
  Tensor<T, 2, HostSpace> psf(Extents<2>{size, size});
  for (index_t i = 0; i < size; ++i)
    for (index_t j = 0; j < size; ++j) psf(i, j) = static_cast<T>(rotated(i, j) / total);
  return psf;
}

/// A copy of `psf` scaled to sum 1. Throws invalid_argument for an empty PSF, a non-finite entry or a sum
/// that is not positive.
template <class T>
[[nodiscard]] inline Tensor<std::remove_const_t<T>, 2, HostSpace> normalized_psf(const View<T, 2, HostSpace>& psf) {
  using V = std::remove_const_t<T>;
  require(psf.extent(0) > 0 && psf.extent(1) > 0,
          [&] { return "normalized_psf: the PSF is empty, extents " + to_string(psf.extents()); });
  double total = 0;
  for (index_t i = 0; i < psf.extent(0); ++i) {
    for (index_t j = 0; j < psf.extent(1); ++j) {
      const double v = static_cast<double>(psf(i, j));
      require(std::isfinite(v), [&] {
        return "normalized_psf: entry (" + std::to_string(i) + ", " + std::to_string(j) + ") is not finite";
      });
      total += v;
    }
  }
  require(total > 0, [&] { return "normalized_psf: the PSF sums to " + std::to_string(total) + ", not > 0"; });
  Tensor<V, 2, HostSpace> out(psf.extents());
  for (index_t i = 0; i < psf.extent(0); ++i)
    for (index_t j = 0; j < psf.extent(1); ++j) out(i, j) = static_cast<V>(static_cast<double>(psf(i, j)) / total);
  return out;
}

/// A PSF read from `path`: a 2-D .npy array (any numeric type read_npy accepts), or a PNG/JPEG image
/// whose channels are averaged; normalized to sum 1. Throws io_error for a file that cannot be read,
/// dimension_mismatch for a .npy array that is not 2-D, invalid_argument for a PSF that sums to zero.
template <class T = float>
[[nodiscard]] inline Tensor<T, 2, HostSpace> read_psf(const std::string& path) {
  const bool is_npy = path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
  if (is_npy) {
    const Tensor<T, 2, HostSpace> raw = read_npy<T, 2>(path);
    return normalized_psf(raw.const_view());
  }
  const Tensor<float, 3, HostSpace> image = read_image(path);  // C x H x W in [0, 1]
  Tensor<double, 2, HostSpace> gray(Extents<2>{image.extent(1), image.extent(2)});
  for (index_t i = 0; i < image.extent(1); ++i) {
    for (index_t j = 0; j < image.extent(2); ++j) {
      double s = 0;
      for (index_t ch = 0; ch < image.extent(0); ++ch) s += image(ch, i, j);
      gray(i, j) = s / static_cast<double>(image.extent(0));
    }
  }
  const Tensor<double, 2, HostSpace> normalized = normalized_psf(gray.const_view());
  Tensor<T, 2, HostSpace> out(normalized.extents());
  for (index_t i = 0; i < out.extent(0); ++i)
    for (index_t j = 0; j < out.extent(1); ++j) out(i, j) = static_cast<T>(normalized(i, j));
  return out;
}

}  // namespace pnpdist::blur
