#pragma once
/// \file
/// RealFft2d: batched 2-D real-to-complex / complex-to-real transforms on any executor, through FFTW on
/// the host (Serial: one thread; OpenMP: its thread count) and cuFFT on the device (Cuda: its stream).
///
///     RealFft2d fft(exec, batch, height, width);
///     fft.forward(x, X);   // x: batch x H x W real   ->  X: batch x H x (W/2 + 1) complex
///     fft.inverse(X, x);   // unnormalized: inverse(forward(x)) = H * W * x; overwrites X
///
/// Views must be contiguous and live in the executor's memory space. The object is a cheap value: the
/// plans live in the process-wide caches of fftw_plans.hpp / cufft_plans.hpp and are made on first use.

#include <string>
#include <type_traits>

#include "pnpdist/backend/cuda/cuda_executor.hpp"
#include "pnpdist/backend/openmp.hpp"
#include "pnpdist/backend/serial.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/fft/complex.hpp"
#include "pnpdist/physics/fft/cufft_plans.hpp"
#include "pnpdist/physics/fft/fftw_plans.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::fft {

/// Width of the half spectrum of a real transform of width `width`.
PNPDIST_HOST_DEVICE constexpr index_t spectrum_width(index_t width) { return width / 2 + 1; }

template <class Exec>
class RealFft2d {
public:
  using memory_space = typename Exec::memory_space;

  /// Throws invalid_argument for a non-positive size.
  RealFft2d(const Exec& exec, index_t batch, index_t height, index_t width)
      : exec_(exec), batch_(batch), height_(height), width_(width) {
    require(batch > 0 && height > 0 && width > 0, [&] {
      return "RealFft2d: sizes must be positive, got batch " + std::to_string(batch) + ", " + std::to_string(height) +
             " x " + std::to_string(width);
    });
  }

  [[nodiscard]] Extents<3> real_shape() const { return {batch_, height_, width_}; }
  [[nodiscard]] Extents<3> spectrum_shape() const { return {batch_, height_, spectrum_width(width_)}; }
  [[nodiscard]] const Exec& executor() const { return exec_; }

  /// X = DFT(x) (half spectrum). x is not modified.
  void forward(const View<const float, 3, memory_space>& x, const View<Complex<float>, 3, memory_space>& X) const {
    check(x, X, "forward");
    if constexpr (std::is_same_v<Exec, Cuda>)
      cufft_forward(x.data(), X.data(), batch_, height_, width_, exec_.stream);
    else
      fftw_forward(x.data(), X.data(), batch_, height_, width_, exec_.concurrency());
  }

  /// x = H * W * inverse DFT(X), X a Hermitian half spectrum. X is overwritten.
  void inverse(const View<Complex<float>, 3, memory_space>& X, const View<float, 3, memory_space>& x) const {
    check(x, X, "inverse");
    if constexpr (std::is_same_v<Exec, Cuda>)
      cufft_inverse(X.data(), x.data(), batch_, height_, width_, exec_.stream);
    else
      fftw_inverse(X.data(), x.data(), batch_, height_, width_, exec_.concurrency());
  }

private:
  template <class R, class C>
  void check(const R& x, const C& X, const char* direction) const {
    require<dimension_mismatch>(x.extents() == real_shape() && X.extents() == spectrum_shape(), [&] {
      return std::string("RealFft2d::") + direction + ": expected real " + to_string(real_shape()) + " and spectrum " +
             to_string(spectrum_shape()) + ", got " + to_string(x.extents()) + " and " + to_string(X.extents());
    });
    require<dimension_mismatch>(x.is_contiguous() && X.is_contiguous(), [&] {
      return std::string("RealFft2d::") + direction + ": the arrays must be contiguous";
    });
  }

  Exec exec_;
  index_t batch_;
  index_t height_;
  index_t width_;
};

}  // namespace pnpdist::fft
