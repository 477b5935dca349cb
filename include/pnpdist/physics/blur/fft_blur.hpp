#pragma once
/// \file
/// FftBlur<Exec>: circular convolution of N x C x H x W float images with one odd-sized PSF (the same for
/// every channel) through real-to-complex FFTs: FFTW on host executors (threaded as the executor, plans
/// made once per shape and reused), cuFFT on the Cuda executor.
///
///   y(i, j) = sum_{a,b} h(a, b) x((i + kh/2 - a) mod H, (j + kw/2 - b) mod W)
///
/// the circular DirectBlur exactly (the PSF centre (kh/2, kw/2) is moved to pixel (0, 0) before the
/// transform, so a centred delta PSF is the identity: no half-pixel shift).
///
/// Guarantees:
///   - apply_adjoint multiplies by the conjugate transfer function: the exact transpose (dot-product test).
///   - Memory: the transfer function (H x (W/2 + 1) complex) in the executor's memory space, plus one
///     N*C x H x (W/2 + 1) complex work spectrum allocated on the first apply and reused; one instance must
///     not be applied from several threads at once.
///   - Cost: one batched forward and one batched inverse transform of all N*C channels per apply, and per
///     apply_normal (A^T A x).
/// Errors: even PSF sides (invalid_argument), a PSF larger than the image (dimension_mismatch), non-
/// contiguous views (dimension_mismatch); without FFTW (host) or cuFFT (device), not_compiled.

#include <string>
#include <type_traits>

#include "pnpdist/backend/cuda/for_each.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/physics/blur/direct_blur.hpp"
#include "pnpdist/physics/blur/kernels.hpp"
#include "pnpdist/physics/fft/complex.hpp"
#include "pnpdist/physics/fft/real_fft_2d.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/shapes.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::blur {

/// The H x W array holding the kh x kw PSF with its centre at (0, 0): p((a - kh/2) mod H, (b - kw/2) mod W)
/// = psf(a, b), zero elsewhere. A host tensor.
template <class U>
[[nodiscard]] inline Tensor<float, 2, HostSpace> centred_psf_array(const View<U, 2, HostSpace>& psf, index_t height,
                                                                   index_t width) {
  Tensor<float, 2, HostSpace> padded(Extents<2>{height, width});
  for (index_t i = 0; i < padded.size(); ++i) padded.data()[i] = 0.0f;
  const index_t ch = psf.extent(0) / 2;
  const index_t cw = psf.extent(1) / 2;
  for (index_t a = 0; a < psf.extent(0); ++a) {
    for (index_t b = 0; b < psf.extent(1); ++b) {
      const index_t i = ((a - ch) % height + height) % height;
      const index_t j = ((b - cw) % width + width) % width;
      padded(i, j) += static_cast<float>(psf(a, b));
    }
  }
  return padded;
}

template <class Exec>
class FftBlur {
public:
  using value_type = float;
  using executor_type = Exec;
  using memory_space = typename Exec::memory_space;
  using complex_type = fft::Complex<float>;
  static constexpr std::size_t domain_rank = 4;
  static constexpr std::size_t range_rank = 4;

  /// Circular blur of images of `shape` by the host PSF `psf` (used as given; odd sides, at most the
  /// image size). Computes the transfer function once.
  template <class U>
  FftBlur(const Exec& exec, const View<U, 2, HostSpace>& psf, const ImageShape& shape)
      : exec_(exec), shape_(shape), fft_(exec, 1, 1, 1) {
    check_psf_fits("FftBlur", psf.extents(), shape, Boundary::circular);
    const index_t h = shape[2];
    const index_t w = shape[3];
    psf_extents_ = psf.extents();
    fft_ = fft::RealFft2d<Exec>(exec, shape[0] * shape[1], h, w);
    const fft::RealFft2d<Exec> single(exec, 1, h, w);
    Tensor<float, 2, HostSpace> padded = centred_psf_array(psf, h, w);
    transfer_ = Tensor<complex_type, 3, memory_space>(single.spectrum_shape());
    if constexpr (std::is_same_v<memory_space, HostSpace>) {
      single.forward(reshape(padded.const_view(), Extents<3>{1, h, w}), transfer_.view());
    } else {
      Tensor<float, 2, memory_space> device = clone<memory_space>(padded.const_view());
      single.forward(reshape(device.const_view(), Extents<3>{1, h, w}), transfer_.view());
    }
    // Fold the 1 / (H W) of the inverse transform into the transfer function.
    for_each(exec_, transfer_.size(),
             ScaleSpectrumKernel<float>{transfer_.data(), 1.0f / static_cast<float>(static_cast<double>(h) * w)});
  }

  [[nodiscard]] ImageShape domain_shape() const { return shape_; }
  [[nodiscard]] ImageShape range_shape() const { return shape_; }
  [[nodiscard]] const Exec& executor() const { return exec_; }
  /// Size of the PSF.
  [[nodiscard]] Extents<2> psf_extents() const { return psf_extents_; }
  /// The transfer function K / (H W), K the DFT of the centred PSF array: 1 x H x (W/2 + 1), in the
  /// executor's memory space. y = inverse_unnormalized(K / (H W) * DFT(x)).
  [[nodiscard]] View<const complex_type, 3, memory_space> transfer_function() const { return transfer_.const_view(); }
  /// The batched transform of all N * C channels this operator uses.
  [[nodiscard]] const fft::RealFft2d<Exec>& transform() const { return fft_; }

  /// y = h * x (circular).
  void apply(const View<const float, 4, memory_space>& x, const View<float, 4, memory_space>& y) const {
    check_apply_shapes(*this, x, y, "FftBlur");
    filter(x, y, false);
  }
  /// x = h^T y (circular correlation).
  void apply_adjoint(const View<const float, 4, memory_space>& y, const View<float, 4, memory_space>& x) const {
    check_apply_adjoint_shapes(*this, y, x, "FftBlur");
    filter(y, x, true);
  }

  /// out = h^T (h * x): the normal operator A^T A in one forward and one inverse transform (the spectrum is
  /// multiplied by |K|^2 / (H W), K the DFT of the centred PSF array); equal to apply followed by
  /// apply_adjoint up to float round-off (tested). out may be x.
  void apply_normal(const View<const float, 4, memory_space>& x, const View<float, 4, memory_space>& out) const {
    check_apply_shapes(*this, x, out, "FftBlur::apply_normal");
    const Extents<3> real{shape_[0] * shape_[1], shape_[2], shape_[3]};
    require<dimension_mismatch>(x.is_contiguous() && out.is_contiguous(),
                                "FftBlur: the images must be contiguous (FFTs need contiguous planes)");
    work_spectrum();
    fft_.forward(reshape(x, real), spectrum_.view());
    for_each(exec_, spectrum_.size(),
             SpectrumMultiplyKernel<float>{spectrum_.data(), spectrum_.data(), transfer_.data(), transfer_.size(), false});
    // DFT(A x) = H W (K / (H W)) X: the H W of the skipped forward transform of A x.
    for_each(exec_, spectrum_.size(),
             ScaleSpectrumKernel<float>{spectrum_.data(), static_cast<float>(static_cast<double>(shape_[2]) * shape_[3])});
    multiply_and_invert(spectrum_.data(), out, true);
  }

  /// y = h * x given X = DFT(x), the spectrum of transform() (shape transform().spectrum_shape()): one
  /// element-wise pass and one inverse transform. For callers that blur one image by several blurs
  /// (ClippedBlurStack): the forward transform is then made once.
  void apply_to_spectrum(const View<const complex_type, 3, memory_space>& spectrum,
                         const View<float, 4, memory_space>& y) const {
    require<dimension_mismatch>(spectrum.extents() == fft_.spectrum_shape() && spectrum.is_contiguous(), [&] {
      return "FftBlur::apply_to_spectrum: expected a contiguous spectrum of shape " + to_string(fft_.spectrum_shape()) +
             ", got " + to_string(spectrum.extents());
    });
    require<dimension_mismatch>(y.extents() == shape_ && y.is_contiguous(), [&] {
      return "FftBlur::apply_to_spectrum: expected a contiguous image of shape " + to_string(shape_) + ", got " +
             to_string(y.extents());
    });
    multiply_and_invert(spectrum.data(), y, false);
  }

private:
  void filter(const View<const float, 4, memory_space>& in, const View<float, 4, memory_space>& out,
              bool conjugate) const {
    const Extents<3> real{shape_[0] * shape_[1], shape_[2], shape_[3]};
    require<dimension_mismatch>(in.is_contiguous() && out.is_contiguous(),
                                "FftBlur: the images must be contiguous (FFTs need contiguous planes)");
    work_spectrum();
    fft_.forward(reshape(in, real), spectrum_.view());
    multiply_and_invert(spectrum_.data(), out, conjugate);
  }

  /// The work spectrum, allocated on first use.
  void work_spectrum() const {
    if (spectrum_.data() == nullptr) spectrum_ = Tensor<complex_type, 3, memory_space>(fft_.spectrum_shape());
  }

  /// out = inverse(source * K) (conjugate: * conj(K)), through the work spectrum; source may be the work spectrum.
  void multiply_and_invert(const complex_type* source, const View<float, 4, memory_space>& out, bool conjugate) const {
    work_spectrum();
    for_each(exec_, spectrum_.size(),
             SpectrumMultiplyKernel<float>{source, spectrum_.data(), transfer_.data(), transfer_.size(), conjugate});
    fft_.inverse(spectrum_.view(), reshape(out, Extents<3>{shape_[0] * shape_[1], shape_[2], shape_[3]}));
  }

  Exec exec_;
  ImageShape shape_;
  Extents<2> psf_extents_{};
  fft::RealFft2d<Exec> fft_;
  Tensor<complex_type, 3, memory_space> transfer_;
  mutable Tensor<complex_type, 3, memory_space> spectrum_;
};

}  // namespace pnpdist::blur
