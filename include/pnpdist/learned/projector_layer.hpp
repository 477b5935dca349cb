#pragma once
/// \file
/// ProjectorLayer: a linear operator A with 2D domain and range in host memory (a ct::JosephProjector2D, say)
/// as a layer of a network on batches of single-channel images (N, H, W) and sinograms (N, views, cols),
/// scaled by s (LPD uses s = 1 / ||A|| so that the network sees an operator of norm 1).
///
///     forward   y_n = s A x_n        backward: dx_n += s A^T dy_n   (the matched adjoint)
///     adjoint   x_n = s A^T y_n      backward: dy_n += s A dx_n
///
/// The backward passes are exact gradients because the operator's apply_adjoint is the transpose of its
/// apply (LinearOperator contract). Batch items are processed one after another through the operator (an
/// operator instance is not applied concurrently); each call uses the operator's own executor. Not
/// thread-safe per instance: the const passes write a shared work buffer; use one layer per thread.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/operators/power_method.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::learned {

/// 1 / ||A|| of `op` by the power method (operators/power_method.hpp).
template <LinearOperator Op>
[[nodiscard]] inline double inverse_operator_norm(const Op& op, int iterations = 100) {
  PowerMethodOptions options;
  options.max_iterations = iterations;
  return 1.0 / std::sqrt(power_method(op, options).squared_norm);
}

template <LinearOperator Op>
class ProjectorLayer {
public:
  using T = typename Op::value_type;
  static_assert(Op::domain_rank == 2 && Op::range_rank == 2, "ProjectorLayer takes an operator from images to sinograms");
  static_assert(std::is_same_v<typename Op::executor_type::memory_space, HostSpace>,
                "ProjectorLayer runs on host memory");

  /// Keeps a reference to `op` (which must outlive the layer) and the scale s.
  ProjectorLayer(const Op& op, double scale) : op_(&op), scale_(static_cast<T>(scale)) {
    require(std::isfinite(scale) && scale > 0,
            [&] { return "ProjectorLayer: the scale must be positive and finite, got " + std::to_string(scale); });
    const Extents<2> d = op.domain_shape(), r = op.range_shape();
    image_ = d[0] * d[1];
    sinogram_ = r[0] * r[1];
    work_.resize(static_cast<std::size_t>(std::max(image_, sinogram_)));
  }

  [[nodiscard]] const Op& op() const { return *op_; }
  [[nodiscard]] T scale() const { return scale_; }
  [[nodiscard]] index_t image_size() const { return image_; }
  [[nodiscard]] index_t sinogram_size() const { return sinogram_; }
  [[nodiscard]] Extents<2> image_shape() const { return op_->domain_shape(); }
  [[nodiscard]] Extents<2> sinogram_shape() const { return op_->range_shape(); }

  /// y_n = s A x_n (or y_n += s A x_n with accumulate) for n < batch; x image-major, y sinogram-major.
  void forward(index_t batch, const T* x, T* y, bool accumulate = false) const {
    each_item(batch, x, op_->domain_shape(), y, op_->range_shape(), accumulate,
              [&](const auto& in, const auto& out) { op_->apply(in, out); });
  }

  /// x_n = s A^T y_n (or += with accumulate) for n < batch.
  void adjoint(index_t batch, const T* y, T* x, bool accumulate = false) const {
    each_item(batch, y, op_->range_shape(), x, op_->domain_shape(), accumulate,
              [&](const auto& in, const auto& out) { op_->apply_adjoint(in, out); });
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
  T scale_;
  index_t image_ = 0, sinogram_ = 0;
  mutable std::vector<T> work_;
};

}  // namespace pnpdist::learned
