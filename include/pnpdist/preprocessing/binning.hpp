#pragma once
/// \file
/// Detector binning: bin_detector(exec, in, out, b) averages b x b blocks of pixels of every projection,
///     out(k, r, c) = mean of in(k, b r + i, b c + j), 0 <= i, j < b,
/// so out has floor(rows / b) x floor(cols / b) pixels (trailing rows and columns that do not fill a block
/// are dropped). Averaging keeps counts, transmissions and line integrals in their units. One item per
/// output pixel; deterministic on every executor.

#include <string>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::preprocessing {

/// The binned extents of an (N, rows, cols) stack.
[[nodiscard]] inline Extents<3> binned_extents(const Extents<3>& in, index_t binning) {
  require(binning >= 1,
          [&] { return "preprocessing::binned_extents: binning must be >= 1, got " + std::to_string(binning); });
  return Extents<3>{in[0], in[1] / binning, in[2] / binning};
}

namespace detail {

template <class T, class Space>
struct BinKernel {
  View<const T, 3, Space> in_;
  View<T, 3, Space> out_;
  index_t b;
  PNPDIST_HOST_DEVICE void operator()(index_t k, index_t r, index_t c) const {
    double sum = 0;
    for (index_t i = 0; i < b; ++i)
      for (index_t j = 0; j < b; ++j) sum += static_cast<double>(in_(k, b * r + i, b * c + j));
    out_(k, r, c) = static_cast<T>(sum / static_cast<double>(b * b));
  }
};

}  // namespace detail

/// Averages b x b pixel blocks of `in` into `out` (extents binned_extents(in, b)). Throws dimension_mismatch
/// for other extents, invalid_argument for b < 1.
template <class Exec, class T>
inline void bin_detector(const Exec& exec, const View<const T, 3, typename Exec::memory_space>& in,
                         const View<T, 3, typename Exec::memory_space>& out, index_t binning) {
  const Extents<3> expected = binned_extents(in.extents(), binning);
  require<dimension_mismatch>(out.extents() == expected, [&] {
    return "preprocessing::bin_detector: binning " + std::to_string(binning) + " of " + to_string(in.extents()) +
           " gives " + to_string(expected) + ", out is " + to_string(out.extents());
  });
  for_each(with_iteration_cost(exec, binning * binning), out.extents(),
           detail::BinKernel<T, typename Exec::memory_space>{in, out, binning});
}

}  // namespace pnpdist::preprocessing
