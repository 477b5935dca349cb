#pragma once
/// \file
/// ProjectorLayer: the physics of a learned reconstruction as a layer of a network on batches of
/// single-channel images (N, H, W) and whole sinograms (N, views, cols) in host memory, scaled by s (LPD uses
/// s = 1 / ||A|| so that the network sees an operator of norm 1). The physics is any SinogramOperator
/// (learned/sinogram_operator.hpp): a 2D LinearOperator such as a ct::JosephProjector2D (parallel or fan
/// beam), a StackedPhysics of view blocks of one, or (learned/distributed_sinogram.hpp) the DistributedPhysics
/// of such a stack, whose passes are then collective.
///
///     forward   y_n = s A x_n        backward: dx_n += s A^T dy_n   (the matched adjoint)
///     adjoint   x_n = s A^T y_n      backward: dy_n += s A dx_n
///
/// The backward passes are exact gradients because the physics' adjoint is the transpose of its forward
/// (LinearOperator contract). Batch items are processed one after another through the physics (an
/// operator instance is not applied concurrently); each call uses the physics' own executor. Not
/// thread-safe per instance: the const passes write a shared work buffer; use one layer per thread.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/learned/sinogram_operator.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/operators/power_method.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::learned {

/// 1 / ||A|| of a LinearOperator or a SinogramOperator `op` by the power method (operators/power_method.hpp);
/// collective when `op` is distributed.
template <class Op>
  requires LinearOperator<Op> || SinogramOperator<Op>
[[nodiscard]] inline double inverse_operator_norm(const Op& op, int iterations = 100) {
  PowerMethodOptions options;
  options.max_iterations = iterations;
  if constexpr (LinearOperator<Op>)
    return 1.0 / std::sqrt(power_method(op, options).squared_norm);
  else
    return 1.0 / std::sqrt(power_method(SinogramProjection<Op>(op), options).squared_norm);
}

template <SinogramOperator Op>
class ProjectorLayer {
public:
  using T = typename SinogramProjection<Op>::value_type;
  using value_type = T;

  /// Keeps a reference to `op` (which must outlive the layer) and the scale s. Collective when `op` is
  /// distributed (its layout is gathered once).
  ProjectorLayer(const Op& op, double scale) : op_(&op), projection_(op), scale_(static_cast<T>(scale)) {
    require(std::isfinite(scale) && scale > 0,
            [&] { return "ProjectorLayer: the scale must be positive and finite, got " + std::to_string(scale); });
    const Extents<2> d = projection_.domain_shape(), r = projection_.range_shape();
    image_ = d[0] * d[1];
    sinogram_ = r[0] * r[1];
    work_.resize(static_cast<std::size_t>(std::max(image_, sinogram_)));
  }

  /// The physics, as given.
  [[nodiscard]] const Op& op() const { return *op_; }
  /// The physics as a LinearOperator from images to whole sinograms.
  [[nodiscard]] const SinogramProjection<Op>& projection() const { return projection_; }
  [[nodiscard]] T scale() const { return scale_; }
  [[nodiscard]] index_t image_size() const { return image_; }
  [[nodiscard]] index_t sinogram_size() const { return sinogram_; }
  [[nodiscard]] Extents<2> image_shape() const { return projection_.domain_shape(); }
  [[nodiscard]] Extents<2> sinogram_shape() const { return projection_.range_shape(); }

  /// y_n = s A x_n (or y_n += s A x_n with accumulate) for n < batch; x image-major, y sinogram-major.
  void forward(index_t batch, const T* x, T* y, bool accumulate = false) const {
    each_item(batch, x, image_shape(), y, sinogram_shape(), accumulate,
              [&](const auto& in, const auto& out) { projection_.apply(in, out); });
  }

  /// x_n = s A^T y_n (or += with accumulate) for n < batch.
  void adjoint(index_t batch, const T* y, T* x, bool accumulate = false) const {
    each_item(batch, y, sinogram_shape(), x, image_shape(), accumulate,
              [&](const auto& in, const auto& out) { projection_.apply_adjoint(in, out); });
  }

  /// Backward of forward(): dx += s A^T dy.
  void backward_forward(index_t batch, const T* dy, T* dx) const { adjoint(batch, dy, dx, true); }
  /// Backward of adjoint(): dy += s A dx.
  void backward_adjoint(index_t batch, const T* dx, T* dy) const { forward(batch, dx, dy, true); }

private:
  /// out_n (=|+=) s apply(in_n) for each batch item, through work_ when accumulating.
  template <class Apply>
  void each_item(index_t batch, const T* in, Extents<2> in_shape, T* out, Extents<2> out_shape, bool accumulate,
                 const Apply& apply) const {
    const index_t in_size = in_shape[0] * in_shape[1], out_size = out_shape[0] * out_shape[1];
    for (index_t n = 0; n < batch; ++n) {
      T* target = out + n * out_size;
      T* result = accumulate ? work_.data() : target;
      apply(View<const T, 2, HostSpace>(in + n * in_size, in_shape), View<T, 2, HostSpace>(result, out_shape));
      for (index_t i = 0; i < out_size; ++i)
        target[i] = accumulate ? target[i] + scale_ * result[i] : scale_ * result[i];
    }
  }

  const Op* op_;
  SinogramProjection<Op> projection_;
  T scale_;
  index_t image_ = 0, sinogram_ = 0;
  mutable std::vector<T> work_;
};

}  // namespace pnpdist::learned
