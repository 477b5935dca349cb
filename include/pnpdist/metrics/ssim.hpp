#pragma once
/// \file
/// Structural similarity (Wang et al. 2004) of x against a reference r, as
/// skimage.metrics.structural_similarity(r, x, data_range=R, gaussian_weights=True, sigma=1.5,
/// use_sample_covariance=False) computes it for a 2D image:
///
///   local means, variances and covariance by an 11 x 11 Gaussian window (sigma 1.5, normalised, radius 5);
///   S = (2 mu_x mu_r + C1)(2 cov + C2) / ((mu_x^2 + mu_r^2 + C1)(var_x + var_r + C2)),
///   C1 = (0.01 R)^2, C2 = (0.03 R)^2;  SSIM = mean of S over the pixels at least 5 from every border.
///
/// (The pixels within 5 of a border, which skimage computes with reflected windows and then discards, are
/// never needed: the kept ones see only pixels inside the image.) Views of rank > 2 are stacks of 2D slices
/// over the last two axes: SSIM is the mean over slices, i.e. over the channels of a (C, H, W) colour image
/// (skimage's channel_axis=0) and over the z slices of a (D, H, W) volume. Everything runs in the
/// executor's memory space (two kernels per slice, accumulated in double; no host copy); deterministic for
/// every executor and thread count. Memory: 5 H (W - 10) doubles, once per call.

#include <array>
#include <cmath>
#include <string>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/backend/reduce.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

/// Parameters of ssim (the defaults are Wang et al.'s and skimage's).
struct SsimOptions {
  double k1 = 0.01;
  double k2 = 0.03;
};

namespace detail {

inline constexpr index_t ssim_radius = 5;
inline constexpr index_t ssim_window = 2 * ssim_radius + 1;

/// The normalised 11-tap Gaussian of sigma 1.5 (scipy.ndimage.gaussian_filter with truncate 3.5).
inline std::array<double, ssim_window> ssim_weights() {
  std::array<double, ssim_window> w{};
  double total = 0;
  for (index_t k = 0; k < ssim_window; ++k) {
    const double t = static_cast<double>(k - ssim_radius) / 1.5;
    w[static_cast<std::size_t>(k)] = std::exp(-0.5 * t * t);
    total += w[static_cast<std::size_t>(k)];
  }
  for (double& v : w) v /= total;
  return w;
}

struct SsimWeights {
  double w[ssim_window];
};

/// Horizontal pass over one slice: out(q, i, j) = sum_k w_k f_q(i, j + k) for j in [0, W - 10), where
/// f = (x, r, x^2, r^2, x r). out has extents (5, H, W - 10), contiguous.
template <class T, class U>
struct SsimRowKernel {
  const T* x;
  const U* r;
  double* out;
  index_t height, width;
  SsimWeights weights;
  PNPDIST_HOST_DEVICE void operator()(index_t i, index_t j) const {
    const index_t inner = width - 2 * ssim_radius;
    double s[5] = {0, 0, 0, 0, 0};
    for (index_t k = 0; k < ssim_window; ++k) {
      const double a = static_cast<double>(x[i * width + j + k]);
      const double b = static_cast<double>(r[i * width + j + k]);
      const double w = weights.w[k];
      s[0] += w * a;
      s[1] += w * b;
      s[2] += w * a * a;
      s[3] += w * b * b;
      s[4] += w * a * b;
    }
    const index_t plane = height * inner;
    for (index_t q = 0; q < 5; ++q) out[q * plane + i * inner + j] = s[q];
  }
};

/// Vertical pass and the SSIM value at interior pixel e (row-major over (H - 10, W - 10)).
struct SsimValueKernel {
  const double* rows;
  index_t height, inner;
  SsimWeights weights;
  double c1, c2;
  PNPDIST_HOST_DEVICE double operator()(index_t e) const {
    const index_t i = e / inner;
    const index_t j = e % inner;
    const index_t plane = height * inner;
    double m[5] = {0, 0, 0, 0, 0};
    for (index_t k = 0; k < ssim_window; ++k) {
      const double w = weights.w[k];
      for (index_t q = 0; q < 5; ++q) m[q] += w * rows[q * plane + (i + k) * inner + j];
    }
    const double mx = m[0], mr = m[1];
    const double vx = m[2] - mx * mx, vr = m[3] - mr * mr, cxr = m[4] - mx * mr;
    return ((2 * mx * mr + c1) * (2 * cxr + c2)) / ((mx * mx + mr * mr + c1) * (vx + vr + c2));
  }
};

}  // namespace detail

/// SSIM of x against reference with data range `data_range` (see the file comment). Both views contiguous
/// with equal extents of rank >= 2, the last two at least 11. Throws dimension_mismatch / invalid_argument.
template <class Exec, class T, class U, std::size_t Rank>
[[nodiscard]] inline double ssim(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x,
                                 const View<U, Rank, typename Exec::memory_space>& reference, double data_range,
                                 const SsimOptions& options = {}) {
  static_assert(Rank >= 2, "ssim needs images of rank >= 2 (the last two axes are the image plane)");
  using Space = typename Exec::memory_space;
  require_same_extents(x, reference, "ssim");
  require<dimension_mismatch>(x.is_contiguous() && reference.is_contiguous(), "ssim needs contiguous views");
  require(std::isfinite(data_range) && data_range > 0,
          [&] { return "ssim: data_range must be positive and finite, got " + std::to_string(data_range); });
  const index_t height = x.extent(Rank - 2), width = x.extent(Rank - 1);
  require<dimension_mismatch>(height >= detail::ssim_window && width >= detail::ssim_window, [&] {
    return "ssim: images of extents " + to_string(x.extents()) + " are smaller than the 11 x 11 window";
  });
  const index_t slices = x.size() / (height * width);
  require(slices > 0, "ssim: empty images");
  const index_t inner_w = width - 2 * detail::ssim_radius, inner_h = height - 2 * detail::ssim_radius;
  detail::SsimWeights weights{};
  const auto w = detail::ssim_weights();
  for (index_t k = 0; k < detail::ssim_window; ++k) weights.w[k] = w[static_cast<std::size_t>(k)];
  const double c1 = (options.k1 * data_range) * (options.k1 * data_range);
  const double c2 = (options.k2 * data_range) * (options.k2 * data_range);
  Tensor<double, 3, Space> rows(Extents<3>{5, height, inner_w});
  double total = 0;
  for (index_t s = 0; s < slices; ++s) {
    const index_t offset = s * height * width;
    for_each(exec, Extents<2>{height, inner_w},
             detail::SsimRowKernel<std::remove_const_t<T>, std::remove_const_t<U>>{
                 x.data() + offset, reference.data() + offset, rows.data(), height, width, weights});
    total += transform_reduce(exec, inner_h * inner_w, SumOp<double>{},
                              detail::SsimValueKernel{rows.data(), height, inner_w, weights, c1, c2});
  }
  return total / (static_cast<double>(inner_h * inner_w) * static_cast<double>(slices));
}

}  // namespace pnpdist
