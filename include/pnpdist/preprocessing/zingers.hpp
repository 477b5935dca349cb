#pragma once
/// \file
/// Zinger (outlier) removal: remove_outliers(exec, in, out, threshold) writes in to out, replacing every pixel
/// that differs from the median m of its 3 x 3 neighbourhood (the same projection; edges replicated) by more
/// than `threshold` by m. Zingers (single bright pixels from direct hits on the sensor) are removed while
/// every pixel within the threshold of its local median is copied unchanged. For raw counts a threshold of a
/// few times the photon noise (e.g. 5 sqrt(counts)) suits; it is absolute, in the data's units.
/// One item per pixel, out of place (the median reads the input), on any executor.

#include <string>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/preprocessing/small_sort.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::preprocessing {
namespace detail {

template <class Space>
struct OutlierKernel {
  View<const float, 3, Space> in;
  View<float, 3, Space> out;
  float threshold;
  PNPDIST_HOST_DEVICE void operator()(index_t k, index_t r, index_t c) const {
    const index_t rows = in.extent(1), cols = in.extent(2);
    float v[9];
    int n = 0;
    for (index_t i = -1; i <= 1; ++i)
      for (index_t j = -1; j <= 1; ++j) {
        const index_t rr = r + i < 0 ? 0 : r + i >= rows ? rows - 1 : r + i;
        const index_t cc = c + j < 0 ? 0 : c + j >= cols ? cols - 1 : c + j;
        insert_sorted(v, n, in(k, rr, cc));
      }
    const float median = v[4];
    const float x = in(k, r, c);
    const float d = x - median;
    out(k, r, c) = (d > threshold || -d > threshold) ? median : x;
  }
};

}  // namespace detail

/// Copies `in` to `out` (same extents, not aliased), replacing outliers by their 3 x 3 median (file comment).
template <class Exec>
inline void remove_outliers(const Exec& exec, const View<const float, 3, typename Exec::memory_space>& in,
                            const View<float, 3, typename Exec::memory_space>& out, float threshold) {
  require<dimension_mismatch>(in.extents() == out.extents(), [&] {
    return "preprocessing::remove_outliers: in " + to_string(in.extents()) + ", out " + to_string(out.extents());
  });
  require(threshold >= 0.0f,
          [&] { return "preprocessing::remove_outliers: threshold must be >= 0, got " + std::to_string(threshold); });
  for_each(with_iteration_cost(exec, 20), in.extents(),
           detail::OutlierKernel<typename Exec::memory_space>{in, out, threshold});
}

}  // namespace pnpdist::preprocessing
