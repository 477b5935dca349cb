#pragma once
/// \file
/// Ring-artifact reduction on line integrals (views, rows, cols): a detector pixel whose response is off by
/// a constant shows as a stripe along the views of the sinogram and as a ring in the reconstruction. For every
/// detector pixel the mean over the views, m(r, c), is compared with its prediction from the neighbouring
/// columns, s(r, c) = the median over j = 1 .. w' of (m(r, c - j) + m(r, c + j)) / 2, with
/// w' = min(width, c, cols - 1 - c) (symmetric pairs; no correction on the first and last column), and the
/// difference is subtracted from every view:
///     p(k, r, c) -= m(r, c) - s(r, c).
/// Guarantees: where the mean over views is linear in the column over the window nothing changes; there, an
/// offset of the centre pixel is removed exactly, and so is one in the window, as long as fewer than half of
/// the pairs hold one. A curved profile is changed by about its curvature times j^2 / 2: keep `width` small
/// (3 or 4; at most 15). Three kernels (means, predictions, subtraction), any executor.

#include <string>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/preprocessing/flat_field.hpp"
#include "pnpdist/preprocessing/small_sort.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::preprocessing {
namespace detail {

/// The largest half-width: the predictors live in registers.
inline constexpr index_t max_ring_width = 15;

template <class Space>
struct StripeKernel {
  View<const float, 2, Space> mean;
  View<float, 2, Space> stripe;  // m - s
  index_t width;
  PNPDIST_HOST_DEVICE void operator()(index_t r, index_t c) const {
    const index_t cols = mean.extent(1);
    index_t w = width < c ? width : c;
    if (cols - 1 - c < w) w = cols - 1 - c;
    if (w == 0) {
      stripe(r, c) = 0.0f;
      return;
    }
    float v[max_ring_width];
    int n = 0;
    for (index_t j = 1; j <= w; ++j) insert_sorted(v, n, 0.5f * (mean(r, c - j) + mean(r, c + j)));
    const float median = n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
    stripe(r, c) = mean(r, c) - median;
  }
};

template <class Space>
struct SubtractStripeKernel {
  View<float, 3, Space> p;
  View<const float, 2, Space> stripe;
  PNPDIST_HOST_DEVICE void operator()(index_t k, index_t r, index_t c) const { p(k, r, c) -= stripe(r, c); }
};

}  // namespace detail

/// Removes per-pixel stripes from `projections` in place (file comment); width >= 1 columns.
template <class Exec>
inline void reduce_rings(const Exec& exec, const View<float, 3, typename Exec::memory_space>& projections,
                         index_t width) {
  using Space = typename Exec::memory_space;
  require(width >= 1 && width <= detail::max_ring_width,
          [&] { return "preprocessing::reduce_rings: width must be in [1, 15], got " + std::to_string(width); });
  require(projections.extent(0) >= 1, "preprocessing::reduce_rings: no projections");
  const Extents<2> detector{projections.extent(1), projections.extent(2)};
  Tensor<float, 2, Space> mean(detector), stripe(detector);
  average_frames(exec, View<const float, 3, Space>(projections), mean.view());  // the mean over views
  for_each(with_iteration_cost(exec, 4 * width + 2), detector,
           detail::StripeKernel<Space>{mean.const_view(), stripe.view(), width});
  for_each(exec, projections.extents(), detail::SubtractStripeKernel<Space>{projections, stripe.const_view()});
}

}  // namespace pnpdist::preprocessing
