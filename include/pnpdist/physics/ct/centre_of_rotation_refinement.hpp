#pragma once
/// \file
/// Refinement of a centre-of-rotation estimate by the reprojection error: for detector shifts s on a grid
/// around a start value (centre_of_rotation.hpp gives one), the projections are reconstructed by FDK through
/// shift_detector(g, s), reprojected by the Joseph projector through the same geometry, and compared with the
/// data: e(s) = ||A_s FDK_s(y) - y||^2 / ||y||^2. Data and geometry agree best where e is smallest; the
/// refined shift is the vertex of the parabola through the smallest grid value and its two neighbours.
/// Unlike the conjugate-ray registration it uses every detector row and any orbit that FDK handles, at the
/// cost of one FDK and one forward projection per grid point (2 * steps + 1 of them).

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/physics/ct/centre_of_rotation.hpp"
#include "pnpdist/physics/ct/detector_window.hpp"
#include "pnpdist/physics/ct/fbp.hpp"
#include "pnpdist/physics/ct/projector.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/reductions.hpp"

namespace pnpdist::ct {

struct ReprojectionRefinementOptions {
  double half_range = 1.0;  ///< shifts searched: start +- half_range columns
  index_t steps = 4;        ///< grid points on each side of the start
};

/// The shift (columns along u) that minimizes the reprojection error near `start`; `mismatch` holds e at the
/// refined shift's grid neighbour of smallest error, `pairs` the number of grid points. `projections` are line
/// integrals shaped g.projection_shape(), in the executor's memory space.
template <class Exec>
[[nodiscard]] inline CentreOfRotationEstimate refine_centre_of_rotation(
    const Exec& exec, const Geometry3D& g, const View<const float, 3, typename Exec::memory_space>& projections,
    double start, const ReprojectionRefinementOptions& o = {}) {
  require(o.half_range > 0 && o.steps >= 1 && std::isfinite(start),
          "ct::refine_centre_of_rotation: needs half_range > 0, steps >= 1 and a finite start");
  require<dimension_mismatch>(projections.extents() == g.projection_shape(), [&] {
    return "ct::refine_centre_of_rotation: projections " + to_string(projections.extents()) + ", geometry " +
           to_string(g.projection_shape());
  });
  using Space = typename Exec::memory_space;
  const double data = static_cast<double>(squared_norm(exec, projections));
  require(data > 0, "ct::refine_centre_of_rotation: the projections are zero");
  Tensor<float, 3, Space> volume(g.volume.shape()), reprojected(g.projection_shape());
  const double step = o.half_range / static_cast<double>(o.steps);
  std::vector<double> shifts, errors;
  for (index_t j = -o.steps; j <= o.steps; ++j) {
    const double s = start + step * static_cast<double>(j);
    const Geometry3D shifted = shift_detector(g, s);
    fdk<float>(exec, shifted, projections, volume.view());
    JosephProjector3D<float, Exec>(exec, shifted).apply(volume.const_view(), reprojected.view());
    axpy(exec, -1.0f, projections, reprojected.view());
    shifts.push_back(s);
    errors.push_back(static_cast<double>(squared_norm(exec, reprojected.const_view())) / data);
  }
  const auto best = static_cast<std::size_t>(std::min_element(errors.begin(), errors.end()) - errors.begin());
  CentreOfRotationEstimate out;
  out.shift = shifts[best];
  out.mismatch = errors[best];
  out.pairs = static_cast<index_t>(shifts.size());
  if (best > 0 && best + 1 < shifts.size()) {
    const double a = errors[best - 1], b = errors[best], c = errors[best + 1];
    const double curvature = a - 2 * b + c;
    if (curvature > 0) out.shift += 0.5 * step * (a - c) / curvature;
  }
  return out;
}

}  // namespace pnpdist::ct
