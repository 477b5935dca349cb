#pragma once
/// \file
/// Parker weights for short-scan FDK on circular orbits about z (Parker 1982, with the generalization of the
/// transition width to the scan's range). A scan over [0, B] with B = pi + 2 d >= pi + 2 (half fan angle)
/// measures some rays twice and others once; each ray (view angle b from the first view, turn g of the ray
/// from the central ray) is weighted by
///     sin^2(pi/4 b / (d - g))               for 0 <= b <= 2 d - 2 g,
///     1                                     for 2 d - 2 g <= b <= pi - 2 g,
///     sin^2(pi/4 (pi + 2 d - b) / (d + g))  for pi - 2 g <= b <= pi + 2 d,
/// so that the two measurements of a ray, (b, g) and (b + pi + 2 g, -g), have weights summing to 1. The
/// weights here also carry the factor views * step / pi (step: the mean angular step), so that fdk() (whose
/// normalization assumes 360 degrees) reconstructs the short scan once its projections are weighted:
///
///   ct::apply_parker_weights(exec, geometry, projections);   // in place, then
///   ct::fdk<float>(exec, geometry, projections, volume);
///
/// Parallel beams (g = 0) get the same treatment with d = (B - pi) / 2. The views must be ordered by
/// monotonic angle (either direction) over less than 360 degrees and cover pi + the fan angle; otherwise
/// invalid_argument. One kernel over the projections with a (views x cols) table in the executor's memory.

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/physics/ct/circular_orbit.hpp"
#include "pnpdist/physics/ct/geometry.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::ct {

/// The Parker weights (views x cols, row-major), scaled for fdk() (file comment).
[[nodiscard]] inline std::vector<double> parker_weights(const Geometry3D& g) {
  const CircularOrbit orbit = circular_orbit(g, "ct::parker_weights");
  const index_t views = g.views(), cols = g.detector_cols;
  require(views >= 2, "ct::parker_weights: needs at least two views");
  constexpr double pi = std::numbers::pi;
  // Angles unwrapped along the views; the direction of rotation sets the sign of the turn.
  std::vector<double> b(static_cast<std::size_t>(views), 0.0);
  for (index_t k = 1; k < views; ++k)
    b[static_cast<std::size_t>(k)] =
        b[static_cast<std::size_t>(k - 1)] + std::remainder(orbit.views[static_cast<std::size_t>(k)].angle -
                                                                orbit.views[static_cast<std::size_t>(k - 1)].angle,
                                                            2 * pi);
  const double direction = b.back() >= 0 ? 1.0 : -1.0;
  for (double& x : b) x *= direction;
  for (index_t k = 1; k < views; ++k)
    require(b[static_cast<std::size_t>(k)] > b[static_cast<std::size_t>(k - 1)],
            "ct::parker_weights: the view angles must be monotonic");
  const double range = b.back();
  const double step = range / static_cast<double>(views - 1);
  require(range + step < 2 * pi - 1e-9, "ct::parker_weights: the views cover 360 degrees (no short scan)");
  double half_fan = 0;
  for (index_t k = 0; k < views; ++k)
    half_fan =
        std::max({half_fan, std::abs(orbit.turn(k, -0.5)), std::abs(orbit.turn(k, static_cast<double>(cols) - 0.5))});
  const double d = 0.5 * (range - pi);
  require(d >= half_fan - 1e-9, [&] {
    return "ct::parker_weights: the views cover " + std::to_string(range * 180 / pi) +
           " degrees, a short scan needs 180 plus the fan angle (" + std::to_string(2 * half_fan * 180 / pi) + ")";
  });
  const double scale = static_cast<double>(views) * step / pi;
  std::vector<double> w(static_cast<std::size_t>(views * cols));
  for (index_t k = 0; k < views; ++k) {
    const double beta = b[static_cast<std::size_t>(k)];
    for (index_t c = 0; c < cols; ++c) {
      const double gamma = direction * orbit.turn(k, static_cast<double>(c));
      double weight = 1;
      if (beta <= 2 * d - 2 * gamma) {
        const double s = d - gamma > 0 ? std::sin(pi / 4 * beta / (d - gamma)) : 0.0;
        weight = s * s;
      } else if (beta >= pi - 2 * gamma) {
        const double s = d + gamma > 0 ? std::sin(pi / 4 * std::max(0.0, pi + 2 * d - beta) / (d + gamma)) : 0.0;
        weight = s * s;
      }
      w[static_cast<std::size_t>(k * cols + c)] = scale * weight;
    }
  }
  return w;
}

namespace detail {

template <class T>
struct ParkerKernel {
  T* projections;
  const double* weights;  // views x cols
  index_t rows, cols;
  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    const index_t c = i % cols, k = i / (rows * cols);
    projections[i] = static_cast<T>(static_cast<double>(projections[i]) * weights[k * cols + c]);
  }
};

}  // namespace detail

/// Multiplies `projections` (views, rows, cols; contiguous, in the executor's memory) by the Parker weights.
template <class Exec, class T>
inline void apply_parker_weights(const Exec& exec, const Geometry3D& g,
                                 const View<T, 3, typename Exec::memory_space>& projections) {
  using Space = typename Exec::memory_space;
  require<dimension_mismatch>(projections.extents() == g.projection_shape() && projections.is_contiguous(), [&] {
    return "ct::apply_parker_weights: projections " + to_string(projections.extents()) + " for a geometry of " +
           to_string(g.projection_shape()) + " (contiguous)";
  });
  const std::vector<double> host = parker_weights(g);
  Tensor<double, 1, Space> weights(Extents<1>{static_cast<index_t>(host.size())});
  deep_copy(weights.view(),
            View<const double, 1, HostSpace>(host.data(), Extents<1>{static_cast<index_t>(host.size())}));
  for_each(exec, projections.size(),
           detail::ParkerKernel<T>{projections.data(), weights.data(), g.detector_rows, g.detector_cols});
}

}  // namespace pnpdist::ct
