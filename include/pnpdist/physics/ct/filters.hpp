#pragma once
/// \file
/// Ramp filters for filtered back projection, as spatial-domain convolution kernels (no FFT):
///   - Ram-Lak: the band-limited ramp sampled in space (Kak & Slaney, eq. 3.61): with detector spacing tau,
///     h(0) = 1 / (4 tau^2), h(n) = -1 / (n^2 pi^2 tau^2) for odd n, 0 for even n != 0.
///   - Shepp-Logan, cosine, Hann: the Ram-Lak kernel windowed in frequency by sinc(w / 2), cos(w / 2) and
///     (1 + cos w) / 2 (w in [-pi, pi], pi at the Nyquist frequency); the window is applied once, by a direct
///     real DFT of the kernel (length 2N) and its inverse, when the kernel is built.
/// filter_kernel() returns the weights tau * h(n) for n = -(N-1) .. N-1 (index n + N - 1), so that the
/// filtered projection is q(c) = sum_k w(c - k) p(k): a linear convolution with zero padding, the discrete
/// form of q = tau * (h * p).

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist::ct {

enum class Filter { ram_lak, shepp_logan, cosine, hann };

/// The frequency window of a filter at w in [0, pi].
[[nodiscard]] inline double filter_window(Filter filter, double w) {
  switch (filter) {
    case Filter::ram_lak:
      return 1.0;
    case Filter::shepp_logan:
      return w == 0 ? 1.0 : std::sin(w / 2) / (w / 2);
    case Filter::cosine:
      return std::cos(w / 2);
    case Filter::hann:
      return 0.5 * (1 + std::cos(w));
  }
  return 1.0;
}

/// The convolution weights (2N - 1 of them, centred at index N - 1) of `filter` for N detector columns of
/// spacing `spacing` (see the file comment).
[[nodiscard]] inline std::vector<double> filter_kernel(Filter filter, index_t columns, double spacing) {
  require(columns >= 1, [&] { return "ct::filter_kernel: columns must be >= 1, got " + std::to_string(columns); });
  require(spacing > 0, [&] { return "ct::filter_kernel: spacing must be > 0, got " + std::to_string(spacing); });
  const index_t n = columns;
  std::vector<double> w(static_cast<std::size_t>(2 * n - 1), 0.0);
  constexpr double pi = std::numbers::pi;
  for (index_t k = -(n - 1); k <= n - 1; ++k) {
    double h = 0;
    if (k == 0)
      h = 1.0 / (4 * spacing * spacing);
    else if (k % 2 != 0)
      h = -1.0 / (static_cast<double>(k * k) * pi * pi * spacing * spacing);
    w[static_cast<std::size_t>(k + n - 1)] = spacing * h;
  }
  if (filter == Filter::ram_lak) return w;
  // Window in frequency: real DFT of the symmetric kernel on L = 2N points, times the window, inverse DFT.
  const index_t L = 2 * n;
  std::vector<double> cosines(static_cast<std::size_t>(L));
  for (index_t j = 0; j < L; ++j)
    cosines[static_cast<std::size_t>(j)] = std::cos(2 * pi * static_cast<double>(j) / static_cast<double>(L));
  std::vector<double> spectrum(static_cast<std::size_t>(n + 1));
  for (index_t f = 0; f <= n; ++f) {
    double sum = 0;
    for (index_t k = -(n - 1); k <= n - 1; ++k)
      sum += w[static_cast<std::size_t>(k + n - 1)] * cosines[static_cast<std::size_t>(((f * k) % L + L) % L)];
    spectrum[static_cast<std::size_t>(f)] =
        sum * filter_window(filter, pi * static_cast<double>(f) / static_cast<double>(n));
  }
  for (index_t k = -(n - 1); k <= n - 1; ++k) {
    // Inverse of a real symmetric spectrum: bins 0 and N once, the others twice.
    double sum =
        spectrum[0] + spectrum[static_cast<std::size_t>(n)] * cosines[static_cast<std::size_t>(((n * k) % L + L) % L)];
    for (index_t f = 1; f < n; ++f)
      sum += 2 * spectrum[static_cast<std::size_t>(f)] * cosines[static_cast<std::size_t>(((f * k) % L + L) % L)];
    w[static_cast<std::size_t>(k + n - 1)] = sum / static_cast<double>(L);
  }
  return w;
}

}  // namespace pnpdist::ct
