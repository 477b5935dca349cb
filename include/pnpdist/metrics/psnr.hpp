#pragma once
/// \file
/// Peak signal-to-noise ratio of an image (or volume) x against a reference r, for a given data range R:
///
///     PSNR = 10 log10(R^2 / MSE),   MSE = 1/n sum_e (x_e - r_e)^2
///
/// as skimage.metrics.peak_signal_noise_ratio(r, x, data_range=R) computes it. Accumulated in double over
/// the elements in the executor's memory space (one deterministic reduction, no host copy); the result
/// has the same bits for every executor and thread count. +inf when x == r.

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "pnpdist/backend/reduce.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {
namespace detail {

template <class ElementsA, class ElementsB>
struct SquaredDifferenceAs {
  ElementsA a;
  ElementsB b;
  PNPDIST_HOST_DEVICE double operator()(index_t i) const {
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    return d * d;
  }
};

}  // namespace detail

/// sum_e (a_e - b_e)^2 in double. Throws dimension_mismatch when the extents differ.
template <class Exec, class T, class U, std::size_t Rank>
[[nodiscard]] inline double squared_distance(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& a,
                                             const View<U, Rank, typename Exec::memory_space>& b) {
  require_same_extents(a, b, "squared_distance");
  return with_elements(a, [&](auto ea) {
    return with_elements(b, [&](auto eb) {
      return transform_reduce(exec, a.size(), SumOp<double>{},
                              detail::SquaredDifferenceAs<decltype(ea), decltype(eb)>{ea, eb});
    });
  });
}

/// Mean squared error of x against reference (double). Throws dimension_mismatch for different extents
/// and invalid_argument for empty views.
template <class Exec, class T, class U, std::size_t Rank>
[[nodiscard]] inline double mean_squared_error(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x,
                                               const View<U, Rank, typename Exec::memory_space>& reference) {
  require(x.size() > 0, "mean_squared_error: empty images");
  return squared_distance(exec, x, reference) / static_cast<double>(x.size());
}

/// PSNR of x against reference for the data range `data_range` (> 0), in dB (see the file comment).
template <class Exec, class T, class U, std::size_t Rank>
[[nodiscard]] inline double psnr(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x,
                                 const View<U, Rank, typename Exec::memory_space>& reference, double data_range) {
  require(std::isfinite(data_range) && data_range > 0,
          [&] { return "psnr: data_range must be positive and finite, got " + std::to_string(data_range); });
  const double mse = mean_squared_error(exec, x, reference);
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(data_range * data_range / mse);
}

}  // namespace pnpdist
