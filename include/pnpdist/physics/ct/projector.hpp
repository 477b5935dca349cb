#pragma once
/// \file
/// The CT projectors: JosephProjector2D (parallel and fan beam) and JosephProjector3D (parallel and cone
/// beam), linear operators (operators/linear_operator.hpp) from an image / volume to its projections:
///
///     2D:  domain (H, W)      ->  range (views, detector_cols)
///     3D:  domain (D, H, W)   ->  range (views, detector_rows, detector_cols)
///
/// apply is Joseph's forward projection, apply_adjoint its exact transpose (joseph.hpp). Guarantees:
///   - <A x, y> = <x, A^T y> up to float round-off (the same weights in both directions).
///   - Deterministic: apply and apply_adjoint give the same bits on every host executor and for any number
///     of threads (no atomics; every output element is accumulated in a fixed order).
///   - Memory: the per-view geometry vectors (views x 6 or 12 doubles), a work buffer of one view's rays
///     (36 or 44 bytes per detector pixel) and one image/volume-sized buffer (the input with its last two
///     axes swapped, joseph.hpp) in the executor's memory space; nothing is allocated per call.
/// Inputs and outputs must be contiguous (row-major) views in the executor's memory space.

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/physics/ct/geometry.hpp"
#include "pnpdist/physics/ct/joseph.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist::ct {

namespace detail {

template <class Space, std::size_t Columns>
Tensor<double, 2, Space> upload_vectors(const std::vector<std::array<double, Columns>>& vectors) {
  Tensor<double, 2, HostSpace> host(Extents<2>{static_cast<index_t>(vectors.size()), static_cast<index_t>(Columns)});
  for (std::size_t k = 0; k < vectors.size(); ++k)
    for (std::size_t j = 0; j < Columns; ++j) host(static_cast<index_t>(k), static_cast<index_t>(j)) = vectors[k][j];
  Tensor<double, 2, Space> out(host.extents());
  deep_copy(out.view(), host.const_view());
  return out;
}

template <class V>
void require_contiguous(const V& v, const char* what) {
  require<invalid_argument>(v.is_contiguous(), [&] { return std::string(what) + " needs contiguous views"; });
}

}  // namespace detail

/// Joseph projector for a 2D parallel- or fan-beam geometry (see the file comment).
template <class T, class Exec>
class JosephProjector2D {
public:
  using value_type = T;
  using executor_type = Exec;
  using space = typename Exec::memory_space;
  static constexpr std::size_t domain_rank = 2;
  static constexpr std::size_t range_rank = 2;

  /// Validates the geometry (validate()) and uploads its vectors to the executor's memory space.
  JosephProjector2D(const Exec& exec, Geometry2D geometry)
      : exec_(exec), geometry_(std::move(geometry)), grid_((validate(geometry_), make_joseph_grid(geometry_))) {
    vectors_ = detail::upload_vectors<space>(geometry_.vectors);
    rays_ = Tensor<JosephRay2D, 1, space>(Extents<1>{geometry_.detector_cols});
    // Which dominant axes occur in each view (the back projection skips the others).
    axes_.assign(geometry_.vectors.size(), {false, false});
    for (std::size_t k = 0; k < geometry_.vectors.size(); ++k)
      for (index_t c = 0; c < geometry_.detector_cols; ++c) {
        const auto axis = static_cast<std::size_t>(joseph_ray_2d(grid_, geometry_.vectors[k].data(), c).axis);
        axes_[k][axis] = true;
        uses_axis_[axis] = true;
      }
    swapped_ = Tensor<T, 1, space>(Extents<1>{grid_.n[0] * grid_.n[1]});
  }

  [[nodiscard]] Extents<2> domain_shape() const { return geometry_.volume.shape(); }
  [[nodiscard]] Extents<2> range_shape() const { return geometry_.sinogram_shape(); }
  [[nodiscard]] const Exec& executor() const { return exec_; }
  [[nodiscard]] const Geometry2D& geometry() const { return geometry_; }

  /// y = A x (forward projection).
  void apply(View<const T, 2, space> x, View<T, 2, space> y) const {
    check_apply_shapes(*this, x, y, "ct::JosephProjector2D");
    detail::require_contiguous(x, "ct::JosephProjector2D::apply");
    detail::require_contiguous(y, "ct::JosephProjector2D::apply");
    const index_t cost = grid_.n[0] > grid_.n[1] ? grid_.n[0] : grid_.n[1];
    if (uses_axis_[0]) swap_last_axes(x.data(), swapped_.data(), false);
    for_each(with_iteration_cost(exec_, cost), y.size(),
             JosephForward2D<T>{grid_, vectors_.data(), x.data(), swapped_.data(), y.data()});
  }

  /// x = A^T y (back projection, the exact transpose of apply).
  void apply_adjoint(View<const T, 2, space> y, View<T, 2, space> x) const {
    check_apply_adjoint_shapes(*this, y, x, "ct::JosephProjector2D");
    detail::require_contiguous(x, "ct::JosephProjector2D::apply_adjoint");
    detail::require_contiguous(y, "ct::JosephProjector2D::apply_adjoint");
    fill(exec_, x, T(0));
    if (uses_axis_[1]) fill(exec_, swapped_.view(), T(0));
    const index_t cols = geometry_.detector_cols;
    for (index_t k = 0; k < geometry_.views(); ++k) {
      for_each(with_iteration_cost(exec_, 64), cols,
               JosephViewRays2D<T>{grid_, vectors_.data() + 6 * k, y.data() + k * cols, rays_.data()});
      for (int axis = 0; axis < 2; ++axis) {
        if (!axes_[static_cast<std::size_t>(k)][static_cast<std::size_t>(axis)]) continue;
        // Rays along x accumulate into the swapped buffer, where their slices (columns) are contiguous.
        const bool swapped = axis == 1;
        for_each(with_iteration_cost(exec_, 4 * cols), grid_.n[axis],
                 JosephAdjointSlices2D<T>{grid_, rays_.data(), cols, axis, swapped, swapped ? swapped_.data() : x.data()});
      }
    }
    if (uses_axis_[1]) swap_last_axes_back(swapped_.data(), x.data());
  }

private:
  Exec exec_;
  Geometry2D geometry_;
  JosephGrid2D grid_;
  Tensor<double, 2, space> vectors_;
  mutable Tensor<JosephRay2D, 1, space> rays_;
  mutable Tensor<T, 1, space> swapped_;  ///< the image with its axes swapped (W, H)
  std::vector<std::array<bool, 2>> axes_;
  std::array<bool, 2> uses_axis_{};

  // out (W, H) = in (H, W) transposed.
  void swap_last_axes(const T* in, T* out, bool accumulate) const {
    const SwapLastAxes<T> op{in, out, grid_.n[0], grid_.n[1], accumulate};
    for_each(with_iteration_cost(exec_, 1024), op.iterations(1), op);
  }
  // out (H, W) += in (W, H) transposed.
  void swap_last_axes_back(const T* in, T* out) const {
    const SwapLastAxes<T> op{in, out, grid_.n[1], grid_.n[0], true};
    for_each(with_iteration_cost(exec_, 1024), op.iterations(1), op);
  }
};

/// Joseph projector for a 3D parallel- or cone-beam geometry (see the file comment).
template <class T, class Exec>
class JosephProjector3D {
public:
  using value_type = T;
  using executor_type = Exec;
  using space = typename Exec::memory_space;
  static constexpr std::size_t domain_rank = 3;
  static constexpr std::size_t range_rank = 3;

  /// Validates the geometry (validate()) and uploads its vectors to the executor's memory space.
  JosephProjector3D(const Exec& exec, Geometry3D geometry)
      : exec_(exec), geometry_(std::move(geometry)), grid_((validate(geometry_), make_joseph_grid(geometry_))) {
    vectors_ = detail::upload_vectors<space>(geometry_.vectors);
    const index_t pixels = geometry_.detector_rows * geometry_.detector_cols;
    rays_ = Tensor<JosephRay3D, 1, space>(Extents<1>{pixels});
    axes_.assign(geometry_.vectors.size(), {false, false, false});
    for (std::size_t k = 0; k < geometry_.vectors.size(); ++k) {
      const index_t rows = geometry_.beam == Beam::parallel ? 1 : geometry_.detector_rows;
      const index_t cols = geometry_.beam == Beam::parallel ? 1 : geometry_.detector_cols;
      for (index_t r = 0; r < rows; ++r)
        for (index_t c = 0; c < cols; ++c) {
          const auto axis = static_cast<std::size_t>(joseph_ray_3d(grid_, geometry_.vectors[k].data(), r, c).axis);
          axes_[k][axis] = true;
          uses_axis_[axis] = true;
        }
    }
    swapped_ = Tensor<T, 1, space>(Extents<1>{grid_.n[0] * grid_.n[1] * grid_.n[2]});
  }

  [[nodiscard]] Extents<3> domain_shape() const { return geometry_.volume.shape(); }
  [[nodiscard]] Extents<3> range_shape() const { return geometry_.projection_shape(); }
  [[nodiscard]] const Exec& executor() const { return exec_; }
  [[nodiscard]] const Geometry3D& geometry() const { return geometry_; }

  /// y = A x (forward projection).
  void apply(View<const T, 3, space> x, View<T, 3, space> y) const {
    check_apply_shapes(*this, x, y, "ct::JosephProjector3D");
    detail::require_contiguous(x, "ct::JosephProjector3D::apply");
    detail::require_contiguous(y, "ct::JosephProjector3D::apply");
    index_t cost = grid_.n[0];
    if (grid_.n[1] > cost) cost = grid_.n[1];
    if (grid_.n[2] > cost) cost = grid_.n[2];
    if (uses_axis_[1]) swap_last_axes(x.data(), swapped_.data(), false);
    for_each(with_iteration_cost(exec_, 4 * cost), y.size(),
             JosephForward3D<T>{grid_, vectors_.data(), x.data(), swapped_.data(), y.data()});
  }

  /// x = A^T y (back projection, the exact transpose of apply).
  void apply_adjoint(View<const T, 3, space> y, View<T, 3, space> x) const {
    check_apply_adjoint_shapes(*this, y, x, "ct::JosephProjector3D");
    detail::require_contiguous(x, "ct::JosephProjector3D::apply_adjoint");
    detail::require_contiguous(y, "ct::JosephProjector3D::apply_adjoint");
    fill(exec_, x, T(0));
    if (uses_axis_[2]) fill(exec_, swapped_.view(), T(0));
    const index_t pixels = geometry_.detector_rows * geometry_.detector_cols;
    for (index_t k = 0; k < geometry_.views(); ++k) {
      for_each(with_iteration_cost(exec_, 64), pixels,
               JosephViewRays3D<T>{grid_, vectors_.data() + 12 * k, y.data() + k * pixels, rays_.data()});
      for (int axis = 0; axis < 3; ++axis) {
        if (!axes_[static_cast<std::size_t>(k)][static_cast<std::size_t>(axis)]) continue;
        // Rays along x accumulate into the (D, W, H) buffer, where their slices are contiguous rows.
        const bool swapped = axis == 2;
        for_each(with_iteration_cost(exec_, 4 * pixels), grid_.n[axis],
                 JosephAdjointSlices3D<T>{grid_, rays_.data(), pixels, axis, swapped, swapped ? swapped_.data() : x.data()});
      }
    }
    if (uses_axis_[2]) swap_last_axes_back(swapped_.data(), x.data());
  }

private:
  Exec exec_;
  Geometry3D geometry_;
  JosephGrid3D grid_;
  Tensor<double, 2, space> vectors_;
  mutable Tensor<JosephRay3D, 1, space> rays_;
  mutable Tensor<T, 1, space> swapped_;  ///< the volume with its last two axes swapped (D, W, H)
  std::vector<std::array<bool, 3>> axes_;
  std::array<bool, 3> uses_axis_{};

  // out (D, W, H) = in (D, H, W) with the last two axes swapped.
  void swap_last_axes(const T* in, T* out, bool accumulate) const {
    const SwapLastAxes<T> op{in, out, grid_.n[1], grid_.n[2], accumulate};
    for_each(with_iteration_cost(exec_, 1024), op.iterations(grid_.n[0]), op);
  }
  // out (D, H, W) += in (D, W, H) with the last two axes swapped.
  void swap_last_axes_back(const T* in, T* out) const {
    const SwapLastAxes<T> op{in, out, grid_.n[2], grid_.n[1], true};
    for_each(with_iteration_cost(exec_, 1024), op.iterations(grid_.n[0]), op);
  }
};

/// The projector of a 2D or 3D geometry.
template <class T, class Exec>
[[nodiscard]] inline JosephProjector2D<T, Exec> make_projector(const Exec& exec, Geometry2D geometry) {
  return JosephProjector2D<T, Exec>(exec, std::move(geometry));
}
template <class T, class Exec>
[[nodiscard]] inline JosephProjector3D<T, Exec> make_projector(const Exec& exec, Geometry3D geometry) {
  return JosephProjector3D<T, Exec>(exec, std::move(geometry));
}

}  // namespace pnpdist::ct
