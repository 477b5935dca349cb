#pragma once
/// \file
/// The CT projectors: JosephProjector2D (parallel and fan beam) and JosephProjector3D (parallel and cone
/// beam), linear operators (operators/linear_operator.hpp) from an image / volume to its projections:
///
///     2D:  domain (H, W)      ->  range (views, detector_cols)
///     3D:  domain (D, H, W)   ->  range (views, detector_rows, detector_cols)
///
/// apply is Joseph's forward projection, apply_adjoint its exact transpose (joseph.hpp). Guarantees:
///   - <A x, y> = <x, A^T y> up to the round-off of T (the same weights in both directions; for T = double
///     the rays are set up and traversed in double, joseph/rays.hpp).
///   - Deterministic: apply and apply_adjoint give the same bits on every executor of one kernel form and
///     for any number of threads (no atomics; every output element is accumulated in a fixed order).
///   - Kernel forms (backend/launch_policy.hpp), chosen by the executor's policy, not its memory space:
///     under KernelForm::per_element (Cuda) apply_adjoint is the voxel-driven gather (joseph/gather.hpp,
///     one thread per pixel / voxel), the 2D apply is ray-driven with one thread per ray
///     (JosephForwardRays, joseph/forward.hpp) and the transposes have one thread per element; under
///     KernelForm::coarse (Serial, OpenMP) they are the kernels described in joseph.hpp. The two forms sum
///     the same terms in another order: equal up to round-off.
///   - Memory: the per-view geometry vectors (views x 6 or 12 doubles), a work buffer of one view's rays
///     (36 or 44 bytes per detector pixel, 56 or 72 for double) and one image/volume-sized buffer (the input with its
///     last two axes swapped, joseph.hpp) in the executor's memory space, under the per-element forms also one detector
///     map per view (15 or 18 reals) under the per-element form; nothing is allocated per call.
///   - Not thread-safe per instance: apply and apply_adjoint are const but write the ray block and the
///     swapped image (mutable buffers); use one projector per thread.
/// Inputs and outputs must be contiguous (row-major) views in the executor's memory space.

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "pnpdist/backend/executor.hpp"
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

/// True when executor Exec's launch policy asks for the per-element forms of the kernels (see the file
/// comment); false for the coarse forms.
template <class Exec>
inline constexpr bool per_element_forms = kernel_form_v<Exec> == KernelForm::per_element;

template <class Space, std::size_t Columns>
Tensor<double, 2, Space> upload_vectors(const std::vector<std::array<double, Columns>>& vectors) {
  Tensor<double, 2, HostSpace> host(Extents<2>{static_cast<index_t>(vectors.size()), static_cast<index_t>(Columns)});
  for (std::size_t k = 0; k < vectors.size(); ++k)
    for (std::size_t j = 0; j < Columns; ++j) host(static_cast<index_t>(k), static_cast<index_t>(j)) = vectors[k][j];
  Tensor<double, 2, Space> out(host.extents());
  deep_copy(out.view(), host.const_view());
  return out;
}

template <class Space, class U>
Tensor<U, 1, Space> upload(const std::vector<U>& values) {
  Tensor<U, 1, Space> out(Extents<1>{static_cast<index_t>(values.size())});
  deep_copy(out.view(), View<const U, 1, HostSpace>(values.data(), Extents<1>{static_cast<index_t>(values.size())}));
  return out;
}

/// Views per block of the back projection: as many as fit the ray buffer budget (64 MiB), at least one.
inline index_t block_views(index_t views, index_t pixels, std::size_t ray_bytes) {
  const index_t budget = index_t{64} << 20;
  index_t count = budget / (pixels * static_cast<index_t>(ray_bytes));
  if (count < 1) count = 1;
  return count < views ? count : views;
}

/// For each block of `block_views` views: the block's rays with their weighted values (JosephBlockRays),
/// then step(first view of the block, views in the block).
template <class T, class Exec, class Grid, class Ray, class Step>
void for_each_view_block(const Exec& exec, const Grid& grid, const double* vectors, const T* projections, index_t views,
                         index_t pixels, Ray* rays, index_t block_views, const Step& step) {
  for (index_t begin = 0; begin < views; begin += block_views) {
    const index_t count = begin + block_views <= views ? block_views : views - begin;
    for_each(with_iteration_cost(exec, 64), count * pixels,
             JosephBlockRays<T, Grid, Ray>{grid, vectors, projections + begin * pixels, begin, pixels, rays});
    step(begin, count);
  }
}

/// The back projection of all views in the coarse form, block by block (joseph/adjoint.hpp): rays of the
/// block, then one launch over the slices of the targets `first` and `second` (disjoint buffers) and, if
/// any, one over `third`.
template <class T, class Exec, class Grid, class Ray>
void back_project_blocks(const Exec& exec, const Grid& grid, const double* vectors, const T* projections,
                         const unsigned char* masks, index_t views, index_t pixels, Ray* rays, index_t block_views,
                         SliceTarget<T> first, SliceTarget<T> second, SliceTarget<T> third) {
  index_t smallest = grid.n[0];  // the shortest axis sets the run length of every launch
  for (const index_t n : grid.n) smallest = n < smallest ? n : smallest;
  const index_t run_slices = joseph_run_slices(smallest, exec.concurrency());
  for_each_view_block<T>(
      exec, grid, vectors, projections, views, pixels, rays, block_views, [&](index_t begin, index_t count) {
        const auto launch = [&](SliceTarget<T> a, SliceTarget<T> b) {
          const JosephBlockAdjoint<T, Grid, Ray> op{grid, rays, masks + begin, count, pixels, a, b, run_slices};
          for_each(with_iteration_cost(exec, 4 * count * pixels), op.iterations(), op);
        };
        if (first.axis >= 0) launch(first, second);
        if (third.axis >= 0) launch(third, SliceTarget<T>{-1, false, nullptr});
      });
}

/// The back projection of all views in the per-element form (joseph/gather.hpp): per block of views, its rays,
/// then one launch with one iteration per element of `out`, which it overwrites (first block) or adds to.
template <class T, class Exec, class Grid, class Ray, class Map>
void gather_back_project(const Exec& exec, const Grid& grid, const double* vectors, const T* projections,
                         const Map* maps, const unsigned char* masks, index_t views, index_t pixels, Ray* rays,
                         index_t block_views, T* out) {
  for_each_view_block<T>(
      exec, grid, vectors, projections, views, pixels, rays, block_views, [&](index_t begin, index_t count) {
        const JosephGatherAdjoint<T, Grid, Ray> op{grid, rays, maps + begin, masks + begin, count, out, begin > 0,
                                                   vectors, begin};
        for_each(exec, op.iterations(), op);
      });
}

/// Per view: the map of joseph/gather.hpp under the per-element forms (empty under the coarse forms).
template <class Exec, class R, class Geometry, class Grid>
auto detector_maps(const Geometry& g, const Grid& grid) {
  using Map = decltype(joseph_detector_map<R>(grid, g.vectors[0].data()));
  Tensor<Map, 1, typename Exec::memory_space> out;
  if constexpr (per_element_forms<Exec>) {
    std::vector<Map> maps;
    for (const auto& e : g.vectors) maps.push_back(joseph_detector_map<R>(grid, e.data()));
    out = upload<typename Exec::memory_space>(maps);
  }
  return out;
}

/// out = in with the last two axes swapped (accumulate: out += ...), for `count` stacked (rows x cols)
/// matrices: in the coarse form by 32 x 32 tiles (SwapLastAxes), in the per-element form one iteration per
/// element (SwapLastAxesElements); the same values either way.
template <class T, class Exec>
void swap_last_axes(const Exec& exec, const T* in, T* out, index_t count, index_t rows, index_t cols, bool accumulate) {
  const SwapLastAxes<T> tiles{in, out, rows, cols, accumulate};
  if constexpr (!per_element_forms<Exec>) {
    for_each(with_iteration_cost(exec, 1024), tiles.iterations(count), tiles);
  } else {
    const SwapLastAxesElements<T> op{tiles};
    for_each(exec, op.iterations(count), op);
  }
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
    block_views_ = detail::block_views(geometry_.views(), geometry_.detector_cols, sizeof(Ray));
    rays_ = Tensor<Ray, 1, space>(Extents<1>{block_views_ * geometry_.detector_cols});
    // Which dominant axes occur in each view (the back projection skips the others).
    std::vector<unsigned char> masks(geometry_.vectors.size(), 0);
    for (std::size_t k = 0; k < geometry_.vectors.size(); ++k)
      for (index_t c = 0; c < geometry_.detector_cols; ++c) {
        const int axis = joseph_ray_2d<joseph_real_t<T>>(grid_, geometry_.vectors[k].data(), c).axis;
        masks[k] = static_cast<unsigned char>(masks[k] | (1u << axis));
        uses_axis_[static_cast<std::size_t>(axis)] = true;
      }
    masks_ = detail::upload<space>(masks);
    maps_ = detail::detector_maps<Exec, joseph_real_t<T>>(geometry_, grid_);
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
    if (uses_axis_[1]) detail::swap_last_axes(exec_, x.data(), swapped_.data(), 1, grid_.n[0], grid_.n[1], false);
    if constexpr (detail::per_element_forms<Exec>) {
      // One thread per ray (view, detector column) over all views.
      const JosephForwardRays<T, JosephGrid2D> op{grid_, vectors_.data(), x.data(), swapped_.data(), y.data()};
      for_each(exec_, op.iterations(geometry_.views()), op);
    } else {
      const index_t cost = grid_.n[0] > grid_.n[1] ? grid_.n[0] : grid_.n[1];
      const JosephForward2D<T> op{grid_, vectors_.data(), x.data(), swapped_.data(), y.data()};
      for_each(with_iteration_cost(exec_, joseph_group_2d * cost), op.iterations(geometry_.views()), op);
    }
  }

  /// x = A^T y (back projection, the exact transpose of apply).
  void apply_adjoint(View<const T, 2, space> y, View<T, 2, space> x) const {
    check_apply_adjoint_shapes(*this, y, x, "ct::JosephProjector2D");
    detail::require_contiguous(x, "ct::JosephProjector2D::apply_adjoint");
    detail::require_contiguous(y, "ct::JosephProjector2D::apply_adjoint");
    if constexpr (detail::per_element_forms<Exec>) {
      detail::gather_back_project<T>(exec_, grid_, vectors_.data(), y.data(), maps_.data(), masks_.data(),
                                     geometry_.views(), geometry_.detector_cols, rays_.data(), block_views_, x.data());
      return;
    }
    fill(exec_, x, T(0));
    if (uses_axis_[1]) fill(exec_, swapped_.view(), T(0));
    // Rays along y add to the image's rows, rays along x to the swapped buffer's rows (the columns).
    const SliceTarget<T> rows{0, false, x.data()}, cols{1, true, swapped_.data()};
    const SliceTarget<T> none{-1, false, nullptr};
    const SliceTarget<T> first = uses_axis_[0] ? rows : cols;
    const SliceTarget<T> second = uses_axis_[0] && uses_axis_[1] ? cols : none;
    detail::back_project_blocks<T>(exec_, grid_, vectors_.data(), y.data(), masks_.data(), geometry_.views(),
                                   geometry_.detector_cols, rays_.data(), block_views_, first, second, none);
    if (uses_axis_[1]) detail::swap_last_axes(exec_, swapped_.data(), x.data(), 1, grid_.n[1], grid_.n[0], true);
  }

private:
  using Ray = JosephRay2D<joseph_real_t<T>>;
  Exec exec_;
  Geometry2D geometry_;
  JosephGrid2D grid_;
  Tensor<double, 2, space> vectors_;
  mutable Tensor<Ray, 1, space> rays_;     ///< the rays of a block of views
  mutable Tensor<T, 1, space> swapped_;    ///< the image with its axes swapped (W, H)
  Tensor<unsigned char, 1, space> masks_;  ///< per view: the dominant axes of its rays (bit mask)
  Tensor<JosephDetectorMap<joseph_real_t<T>, 2>, 1, space> maps_;  ///< per view (per-element forms only)
  index_t block_views_ = 1;
  std::array<bool, 2> uses_axis_{};  ///< which dominant axes occur in the geometry
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
    block_views_ = detail::block_views(geometry_.views(), pixels, sizeof(Ray));
    rays_ = Tensor<Ray, 1, space>(Extents<1>{block_views_ * pixels});
    std::vector<unsigned char> masks(geometry_.vectors.size(), 0);
    for (std::size_t k = 0; k < geometry_.vectors.size(); ++k) {
      const index_t rows = geometry_.beam == Beam::parallel ? 1 : geometry_.detector_rows;
      const index_t cols = geometry_.beam == Beam::parallel ? 1 : geometry_.detector_cols;
      for (index_t r = 0; r < rows; ++r)
        for (index_t c = 0; c < cols; ++c) {
          const int axis = joseph_ray_3d<joseph_real_t<T>>(grid_, geometry_.vectors[k].data(), r, c).axis;
          masks[k] = static_cast<unsigned char>(masks[k] | (1u << axis));
          uses_axis_[static_cast<std::size_t>(axis)] = true;
        }
    }
    masks_ = detail::upload<space>(masks);
    maps_ = detail::detector_maps<Exec, joseph_real_t<T>>(geometry_, grid_);
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
    if (uses_axis_[2])
      detail::swap_last_axes(exec_, x.data(), swapped_.data(), grid_.n[0], grid_.n[1], grid_.n[2], false);
    const JosephForward3D<T> op{grid_, vectors_.data(), x.data(), swapped_.data(), y.data()};
    for_each(with_iteration_cost(exec_, 4 * joseph_group_3d * cost), op.iterations(geometry_.views()), op);
  }

  /// x = A^T y (back projection, the exact transpose of apply).
  void apply_adjoint(View<const T, 3, space> y, View<T, 3, space> x) const {
    check_apply_adjoint_shapes(*this, y, x, "ct::JosephProjector3D");
    detail::require_contiguous(x, "ct::JosephProjector3D::apply_adjoint");
    detail::require_contiguous(y, "ct::JosephProjector3D::apply_adjoint");
    if constexpr (detail::per_element_forms<Exec>) {
      detail::gather_back_project<T>(exec_, grid_, vectors_.data(), y.data(), maps_.data(), masks_.data(),
                                     geometry_.views(), geometry_.detector_rows * geometry_.detector_cols, rays_.data(),
                                     block_views_, x.data());
      return;
    }
    fill(exec_, x, T(0));
    if (uses_axis_[2]) fill(exec_, swapped_.view(), T(0));
    // Rays along y add to y-slices of the volume, rays along x to x-slices of the swapped buffer (one launch,
    // disjoint targets); rays along z (rare) to z-slices of the volume in a launch of their own.
    const SliceTarget<T> ys{1, false, x.data()}, xs{2, true, swapped_.data()}, zs{0, false, x.data()};
    const SliceTarget<T> none{-1, false, nullptr};
    SliceTarget<T> first = none, second = none;
    if (uses_axis_[1]) first = ys;
    if (uses_axis_[2]) (first.axis < 0 ? first : second) = xs;
    const SliceTarget<T> third = uses_axis_[0] ? zs : none;
    if (first.axis < 0) first = third;
    detail::back_project_blocks<T>(exec_, grid_, vectors_.data(), y.data(), masks_.data(), geometry_.views(),
                                   geometry_.detector_rows * geometry_.detector_cols, rays_.data(), block_views_, first,
                                   second, first.axis == 0 ? none : third);
    if (uses_axis_[2])
      detail::swap_last_axes(exec_, swapped_.data(), x.data(), grid_.n[0], grid_.n[2], grid_.n[1], true);
  }

private:
  using Ray = JosephRay3D<joseph_real_t<T>>;
  Exec exec_;
  Geometry3D geometry_;
  JosephGrid3D grid_;
  Tensor<double, 2, space> vectors_;
  mutable Tensor<Ray, 1, space> rays_;     ///< the rays of a block of views
  mutable Tensor<T, 1, space> swapped_;    ///< the volume with its last two axes swapped (D, W, H)
  Tensor<unsigned char, 1, space> masks_;  ///< per view: the dominant axes of its rays (bit mask)
  Tensor<JosephDetectorMap<joseph_real_t<T>, 3>, 1, space> maps_;  ///< per view (per-element forms only)
  index_t block_views_ = 1;
  std::array<bool, 3> uses_axis_{};
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
