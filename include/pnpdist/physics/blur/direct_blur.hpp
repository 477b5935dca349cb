#pragma once
/// \file
/// DirectBlur<T, Exec>: convolution of N x C x H x W images with one kh x kw PSF (the same for every
/// channel) computed directly, for small kernels. A true convolution (not a correlation), like DeepInv's
/// Blur:
///
///   circular  y(i, j) = sum_{a,b} h(a, b) x((i + kh/2 - a) mod H, (j + kw/2 - b) mod W)     H x W
///   same      the same sum with x = 0 outside the image                                    H x W
///   valid     y(i, j) = sum_{a,b} h(a, b) x(i + kh - 1 - a, j + kw - 1 - b)   (H - kh + 1) x (W - kw + 1)
///
/// Guarantees:
///   - apply_adjoint is the exact transpose (the same kernel with the flipped PSF), checked by the
///     dot-product test on every executor.
///   - One kernel (ConvolveRowKernel) on every executor; on the CUDA executor, in nvcc-compiled code, PSFs of
///     side <= 63 use the shared-memory tiled kernel of cuda/direct_blur_tiled.hpp instead.
///   - Results do not depend on the number of threads (each output is summed in a fixed order).
///   - Memory: the PSF and its flipped copy, in the executor's memory space; apply allocates nothing.
/// Errors: circular and same need odd PSF sides (a centre pixel), every boundary a PSF no larger than
/// the image (invalid_argument / dimension_mismatch naming the sizes).

#include <string>
#include <type_traits>
#include <utility>

#include "pnpdist/backend/cuda/cuda_executor.hpp"
#include "pnpdist/backend/cuda/for_each.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/physics/blur/cuda/direct_blur_tiled.hpp"
#include "pnpdist/physics/blur/kernels.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/shapes.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::blur {

/// Boundary condition of a blur.
enum class Boundary {
  circular,  ///< periodic image; output H x W
  same,      ///< zero outside the image; output H x W
  valid,     ///< only outputs whose window lies inside the image; output (H - kh + 1) x (W - kw + 1)
};

/// "circular", "same" or "valid".
[[nodiscard]] inline const char* to_string(Boundary boundary) {
  switch (boundary) {
    case Boundary::circular:
      return "circular";
    case Boundary::same:
      return "same";
    case Boundary::valid:
      return "valid";
  }
  return "unknown";
}

/// Throws unless a kh x kw PSF fits the H x W images of `shape` under `boundary`: invalid_argument for an
/// empty PSF, a non-positive image shape, or an even side where a centre pixel is needed (circular, same);
/// dimension_mismatch for a PSF larger than the image. `who` names the operator in the message.
inline void check_psf_fits(const char* who, const Extents<2>& psf, const ImageShape& shape, Boundary boundary) {
  require(shape[0] > 0 && shape[1] > 0 && shape[2] > 0 && shape[3] > 0, [&] {
    return std::string(who) + ": the image shape " + to_string(shape) + " must be positive (N x C x H x W)";
  });
  require(psf[0] > 0 && psf[1] > 0, [&] { return std::string(who) + ": the PSF " + to_string(psf) + " is empty"; });
  require(boundary == Boundary::valid || (psf[0] % 2 == 1 && psf[1] % 2 == 1), [&] {
    return std::string(who) + ": the PSF is " + std::to_string(psf[0]) + " x " + std::to_string(psf[1]) + "; the " +
           blur::to_string(boundary) + " boundary needs odd sizes (a centre pixel)";
  });
  require<dimension_mismatch>(psf[0] <= shape[2] && psf[1] <= shape[3], [&] {
    return std::string(who) + ": the PSF (" + std::to_string(psf[0]) + " x " + std::to_string(psf[1]) +
           ") is larger than the image (" + std::to_string(shape[2]) + " x " + std::to_string(shape[3]) + ")";
  });
}

/// A copy of a host PSF in memory space Space, optionally flipped in both axes.
template <class T, class Space, class U>
[[nodiscard]] inline Tensor<T, 2, Space> psf_to_space(const View<U, 2, HostSpace>& psf, bool flipped) {
  Tensor<T, 2, HostSpace> host(psf.extents());
  const index_t kh = psf.extent(0);
  const index_t kw = psf.extent(1);
  for (index_t a = 0; a < kh; ++a)
    for (index_t b = 0; b < kw; ++b) host(a, b) = static_cast<T>(flipped ? psf(kh - 1 - a, kw - 1 - b) : psf(a, b));
  if constexpr (std::is_same_v<Space, HostSpace>) {
    return host;
  } else {
    return clone<Space>(host.const_view());
  }
}

template <class T, class Exec>
class DirectBlur {
public:
  using value_type = T;
  using executor_type = Exec;
  using memory_space = typename Exec::memory_space;
  static constexpr std::size_t domain_rank = 4;
  static constexpr std::size_t range_rank = 4;

  /// Blur of images of `shape` (N x C x H x W) by the host PSF `psf` (used as given: normalize it first if
  /// needed) with `boundary`. See the file comment for the errors.
  template <class U>
  DirectBlur(const Exec& exec, const View<U, 2, HostSpace>& psf, const ImageShape& shape, Boundary boundary)
      : exec_(exec), shape_(shape), boundary_(boundary) {
    check_psf_fits("DirectBlur", psf.extents(), shape, boundary);
    psf_ = psf_to_space<T, memory_space>(psf, false);
    flipped_ = psf_to_space<T, memory_space>(psf, true);
  }

  [[nodiscard]] ImageShape domain_shape() const { return shape_; }
  [[nodiscard]] ImageShape range_shape() const {
    if (boundary_ != Boundary::valid) return shape_;
    return {shape_[0], shape_[1], shape_[2] - psf_.extent(0) + 1, shape_[3] - psf_.extent(1) + 1};
  }
  [[nodiscard]] const Exec& executor() const { return exec_; }
  [[nodiscard]] Boundary boundary() const { return boundary_; }
  /// The PSF, in the executor's memory space.
  [[nodiscard]] View<const T, 2, memory_space> psf() const { return psf_.const_view(); }

  /// y = h * x.
  void apply(const View<const T, 4, memory_space>& x, const View<T, 4, memory_space>& y) const {
    check_apply_shapes(*this, x, y, "DirectBlur");
    const index_t kh = psf_.extent(0);
    const index_t kw = psf_.extent(1);
    const bool valid = boundary_ == Boundary::valid;
    convolve(x, y, psf_.const_view(), valid ? kh - 1 : kh / 2, valid ? kw - 1 : kw / 2);
  }

  /// x = h^T y: the convolution with the flipped PSF, reading zeros outside the measurement (or wrapping).
  void apply_adjoint(const View<const T, 4, memory_space>& y, const View<T, 4, memory_space>& x) const {
    check_apply_adjoint_shapes(*this, y, x, "DirectBlur");
    const index_t kh = psf_.extent(0);
    const index_t kw = psf_.extent(1);
    const bool valid = boundary_ == Boundary::valid;
    convolve(y, x, flipped_.const_view(), valid ? 0 : kh - 1 - kh / 2, valid ? 0 : kw - 1 - kw / 2);
  }

private:
  void convolve(const View<const T, 4, memory_space>& in, const View<T, 4, memory_space>& out,
                const View<const T, 2, memory_space>& kernel, index_t offset_h, index_t offset_w) const {
    const bool circular = boundary_ == Boundary::circular;
#if defined(PNPDIST_CUDA_KERNELS_AVAILABLE)
    if constexpr (std::is_same_v<Exec, Cuda>) {
      if (kernel.extent(0) <= direct_blur_tiled_max_kernel && kernel.extent(1) <= direct_blur_tiled_max_kernel) {
        direct_blur_tiled(exec_, in, out, kernel, offset_h, offset_w, circular);
        return;
      }
    }
#endif
    const index_t rows = out.extent(0) * out.extent(1) * out.extent(2);
    const index_t cost = out.extent(3) * kernel.extent(0) * kernel.extent(1);
    for_each(with_iteration_cost(exec_, cost), rows,
             ConvolveRowKernel<T, memory_space>{in, out, kernel, offset_h, offset_w, circular});
  }

  Exec exec_;
  ImageShape shape_;
  Boundary boundary_;
  Tensor<T, 2, memory_space> psf_;
  Tensor<T, 2, memory_space> flipped_;
};

}  // namespace pnpdist::blur
