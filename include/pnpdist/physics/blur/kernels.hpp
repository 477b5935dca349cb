#pragma once
/// \file
/// The blur kernels, each one PNPDIST_HOST_DEVICE function object launched through for_each /
/// transform_reduce on any executor:
///
///   ConvolveRowKernel            direct 2-D convolution of N x C planes, one output row per call
///   SpectrumMultiplyKernel       Y <- X * K (or conj(K)), K one H x Wf plane shared by every channel; Y may be X
///   ScaleSpectrumKernel          K <- s * K
///   AccumulateSquaredMagnitudeKernel  S <- S + s |K|^2
///   AccumulateConjProductKernel  B <- B + conj(K) * Y
///   NormalGradientKernel         X <- S * X - B (the fused gradient of a stack of circular blurs)
///   ProximalSpectrumKernel       X <- (B + c X) / (n (S + c)) (the closed-form data proximal step)
///   ParsevalTermKernel           per half-spectrum element: weight * (S |X|^2 - 2 Re(conj(X) B))

#include "pnpdist/backend/launch_cost.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/fft/complex.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::blur {

/// out(n, c, i, j) = sum_{a, b} kernel(a, b) in(n, c, i + offset_h - a, j + offset_w - b), where an input
/// index outside the image wraps around (circular) or reads zero (otherwise). One call computes one output
/// row; `row` runs over N * C * Ho. With offset = (k - 1) and no wrap this is the "valid" convolution, with
/// offset = k / 2 the "same" (zero) or circular one; the adjoint of each is the same kernel with the PSF
/// flipped and offset k - 1 - offset, reading zeros (or wrapping) outside the measurement.
template <class T, class Space>
struct ConvolveRowKernel {
  View<const T, 4, Space> in;
  View<T, 4, Space> out;
  View<const T, 2, Space> kernel;
  index_t offset_h;
  index_t offset_w;
  bool circular;

  PNPDIST_HOST_DEVICE void operator()(index_t row) const {
    const index_t ho = out.extent(2);
    const index_t wo = out.extent(3);
    const index_t hi = in.extent(2);
    const index_t wi = in.extent(3);
    const index_t i = row % ho;
    const index_t plane = row / ho;
    const index_t c = plane % out.extent(1);
    const index_t n = plane / out.extent(1);
    T* out_row = out.data() + n * out.stride(0) + c * out.stride(1) + i * out.stride(2);
    const index_t os = out.stride(3);
    const index_t is = in.stride(3);
    for (index_t j = 0; j < wo; ++j) out_row[j * os] = T(0);
    const index_t kh = kernel.extent(0);
    const index_t kw = kernel.extent(1);
    for (index_t a = 0; a < kh; ++a) {
      index_t r = i + offset_h - a;
      if (circular) {
        r %= hi;
        if (r < 0) r += hi;
      } else if (r < 0 || r >= hi) {
        continue;
      }
      const T* in_row = in.data() + n * in.stride(0) + c * in.stride(1) + r * in.stride(2);
      for (index_t b = 0; b < kw; ++b) {
        const T w = kernel(a, b);
        const index_t d = offset_w - b;  // input column = j + d
        if (circular) {
          index_t dd = d % wi;
          if (dd < 0) dd += wi;
          const index_t split = wo < wi - dd ? wo : wi - dd;  // j < split: column j + dd; else j + dd - wi
          accumulate(out_row, os, in_row + dd * is, is, w, split);
          if (split < wo) accumulate(out_row + split * os, os, in_row + (split + dd - wi) * is, is, w, wo - split);
        } else {
          const index_t begin = d < 0 ? -d : 0;
          const index_t end = wi - d < wo ? wi - d : wo;
          if (begin < end) accumulate(out_row + begin * os, os, in_row + (begin + d) * is, is, w, end - begin);
        }
      }
    }
  }

private:
  /// out[j * os] += w * in[j * is] for j in [0, count); contiguous rows take a loop the compiler vectorizes.
  PNPDIST_HOST_DEVICE static void accumulate(T* out, index_t os, const T* in, index_t is, T w, index_t count) {
    if (os == 1 && is == 1) {
      for (index_t j = 0; j < count; ++j) out[j] += w * in[j];
    } else {
      for (index_t j = 0; j < count; ++j) out[j * os] += w * in[j * is];
    }
  }
};

/// out[e] <- in[e] * K[e % plane] (conj(K) when `conjugate`): a transfer function applied to every channel.
/// `out` may be `in`.
template <class T>
struct SpectrumMultiplyKernel {
  const fft::Complex<T>* in;
  fft::Complex<T>* out;
  const fft::Complex<T>* transfer;
  index_t plane;
  bool conjugate;

  PNPDIST_HOST_DEVICE void operator()(index_t e) const {
    const fft::Complex<T> k = transfer[e % plane];
    out[e] = in[e] * (conjugate ? fft::conj(k) : k);
  }
  /// n complex values read and written, the transfer function's min(n, plane) read; samples: the n
  /// complex products (4 multiplies and 2 additions each).
  [[nodiscard]] LaunchCost launch_cost(index_t n) const {
    return LaunchCost{bytes_of<fft::Complex<T>>(n + (n < plane ? n : plane)), bytes_of<fft::Complex<T>>(n),
                      static_cast<std::uint64_t>(n)};
  }
};

/// K[e] <- s * K[e].
template <class T>
struct ScaleSpectrumKernel {
  fft::Complex<T>* spectrum;
  T s;
  PNPDIST_HOST_DEVICE void operator()(index_t e) const { spectrum[e] = {s * spectrum[e].re, s * spectrum[e].im}; }
};

/// S[e] <- S[e] + s |K[e]|^2.
template <class T>
struct AccumulateSquaredMagnitudeKernel {
  T* sum;
  const fft::Complex<T>* transfer;
  T s;
  PNPDIST_HOST_DEVICE void operator()(index_t e) const { sum[e] += s * fft::squared_magnitude(transfer[e]); }
};

/// B[e] <- B[e] + conj(K[e % plane]) * Y[e].
template <class T>
struct AccumulateConjProductKernel {
  fft::Complex<T>* sum;
  const fft::Complex<T>* transfer;
  const fft::Complex<T>* measurement;
  index_t plane;
  PNPDIST_HOST_DEVICE void operator()(index_t e) const {
    sum[e] = sum[e] + fft::conj(transfer[e % plane]) * measurement[e];
  }
};

/// X[e] <- S[e % plane] * X[e] - B[e]: the spectrum of sum_i A_i^T (A_i x - y_i) for circular blurs A_i.
template <class T>
struct NormalGradientKernel {
  fft::Complex<T>* spectrum;
  const T* normal;
  const fft::Complex<T>* back_projection;
  index_t plane;
  PNPDIST_HOST_DEVICE void operator()(index_t e) const {
    const T s = normal[e % plane];
    const fft::Complex<T> x = spectrum[e];
    const fft::Complex<T> b = back_projection[e];
    spectrum[e] = {s * x.re - b.re, s * x.im - b.im};
  }
};

/// X <- (B + c X) * (1 / (n (S + c))) per half-spectrum element, S indexed modulo `plane`: with S, B the stored
/// normal and back-projection spectra (already divided by n = H W) and c = w / n, the inverse transform of the
/// result is argmin_x f(x) + w/2 ||x - z||^2 for X = DFT(z) (blur::CircularBlurStack::proximal).
template <class T>
struct ProximalSpectrumKernel {
  fft::Complex<T>* spectrum;
  const T* normal;
  const fft::Complex<T>* back_projection;
  index_t plane;
  T c;
  T n;
  PNPDIST_HOST_DEVICE void operator()(index_t e) const {
    const T inverse = T(1) / (n * (normal[e % plane] + c));
    const fft::Complex<T> x = spectrum[e];
    const fft::Complex<T> b = back_projection[e];
    spectrum[e] = {(b.re + c * x.re) * inverse, (b.im + c * x.im) * inverse};
  }
};

/// For half-spectrum element e: m (S |X|^2 - 2 Re(conj(X) B)) in double, where m = 1 for the columns that
/// a real transform stores once (v = 0 and, for even W, v = W / 2) and 2 for the others (their mirror is
/// not stored). Summed over all elements it is sum_i ||A_i x||^2 - 2 <x, sum_i A_i^T y_i>.
template <class T>
struct ParsevalTermKernel {
  const fft::Complex<T>* spectrum;
  const T* normal;
  const fft::Complex<T>* back_projection;
  index_t plane;
  index_t spectrum_width;
  index_t width;

  PNPDIST_HOST_DEVICE double operator()(index_t e) const {
    const index_t v = e % spectrum_width;
    const double m = (v == 0 || 2 * v == width) ? 1.0 : 2.0;
    const fft::Complex<T> x = spectrum[e];
    const fft::Complex<T> b = back_projection[e];
    const double xr = x.re;
    const double xi = x.im;
    return m * (static_cast<double>(normal[e % plane]) * (xr * xr + xi * xi) - 2.0 * (xr * b.re + xi * b.im));
  }
};

}  // namespace pnpdist::blur
