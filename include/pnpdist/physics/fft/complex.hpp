#pragma once
/// \file
/// Complex<T>: a complex number usable in host and device kernels, laid out as two T (real, imaginary),
/// like fftwf_complex, cufftComplex and std::complex<T>, so spectra from either FFT library are viewed as
/// View<Complex<T>, Rank, Space> without copies.

#include "pnpdist/core/macros.hpp"

namespace pnpdist::fft {

template <class T>
struct Complex {
  T re;
  T im;
};

/// a * b.
template <class T>
PNPDIST_HOST_DEVICE constexpr Complex<T> operator*(const Complex<T>& a, const Complex<T>& b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
/// a - b.
template <class T>
PNPDIST_HOST_DEVICE constexpr Complex<T> operator-(const Complex<T>& a, const Complex<T>& b) {
  return {a.re - b.re, a.im - b.im};
}
/// a + b.
template <class T>
PNPDIST_HOST_DEVICE constexpr Complex<T> operator+(const Complex<T>& a, const Complex<T>& b) {
  return {a.re + b.re, a.im + b.im};
}
/// The complex conjugate of a.
template <class T>
PNPDIST_HOST_DEVICE constexpr Complex<T> conj(const Complex<T>& a) {
  return {a.re, -a.im};
}
/// |a|^2.
template <class T>
PNPDIST_HOST_DEVICE constexpr T squared_magnitude(const Complex<T>& a) {
  return a.re * a.re + a.im * a.im;
}

}  // namespace pnpdist::fft
