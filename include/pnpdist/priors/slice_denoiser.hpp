#pragma once
/// \file
/// SliceDenoiser<Base>: a volume denoiser (rank 5, N x C x D x H x W) built from an image denoiser (rank 4,
/// N x C x H x W) applied to the volume's 2D slices, averaged over the chosen slicing axes:
///
///     D_vol(x) = 1/|A| sum_{a in A} S_a^-1 D_2d(S_a x),
///
/// where S_a stacks the slices perpendicular to spatial axis a (depth, height or width) as a batch of
/// images: for depth, image k is the (H, W) plane d = k; for height the (D, W) plane h = k; for width the
/// (D, H) plane w = k. With A = {depth} this is the 2D denoiser applied slice by slice; with all three axes
/// it is the tri-planar average used to regularize volumes with 2D priors ("2.5D" PnP), which sees every
/// voxel's neighbourhood in all three directions. Unlike a 2D network inflated to 3D kernels it needs no
/// volumetric weights and keeps the 2D network's behaviour on each plane.
///
/// Work: |A| passes of the base over D*H*W pixels in all. Memory: two batches of at most `max_slices`
/// slices (input and output of the base), plus the base's own buffers for such a batch; max_slices = 0
/// takes all the slices of one axis at once. Every output voxel receives exactly one value per axis, in a
/// fixed order, so results are deterministic for a deterministic base. Satisfies the Denoiser concept.

#include <array>
#include <cstddef>
#include <string>
#include <utility>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/priors/denoiser.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

/// The spatial axes a SliceDenoiser slices along (the slices are perpendicular to each chosen axis).
struct SliceAxes {
  bool depth = true;
  bool height = false;
  bool width = false;

  [[nodiscard]] int count() const { return int(depth) + int(height) + int(width); }

  /// From a string of the letters d, h, w (each at most once, e.g. "d" or "dhw"); throws invalid_argument
  /// naming the string otherwise.
  [[nodiscard]] static SliceAxes parse(const std::string& letters) {
    SliceAxes axes{false, false, false};
    bool ok = !letters.empty();
    for (const char c : letters) {
      bool* axis = c == 'd' ? &axes.depth : c == 'h' ? &axes.height : c == 'w' ? &axes.width : nullptr;
      ok = ok && axis != nullptr && !*axis;
      if (axis != nullptr) *axis = true;
    }
    require(ok, [&] {
      return "slice axes '" + letters + "': expected the letters d, h and w (depth, height, width), each at most once";
    });
    return axes;
  }
  [[nodiscard]] std::string letters() const {
    return std::string(depth ? "d" : "") + (height ? "h" : "") + (width ? "w" : "");
  }
};

namespace detail {

/// Moves slices [first, first + count) of volume n perpendicular to `axis` (0 depth, 1 height, 2 width)
/// between a contiguous N x C x D x H x W volume and a contiguous count x C x P x Q batch of images, where
/// (P, Q) are the two other spatial axes in order. gather: batch = slices; scatter_add: volume += weight *
/// batch (each volume element is touched by at most one batch element, so no two threads write one element).
template <class T>
struct SliceTransferKernel {
  const T* from;
  T* to;
  std::array<index_t, 5> volume;  // N, C, D, H, W
  int axis;
  index_t n;
  index_t first;
  index_t count;
  bool scatter_add;
  T weight;

  PNPDIST_HOST_DEVICE void operator()(index_t e) const {
    const index_t d = volume[2], h = volume[3], w = volume[4];
    const index_t p_extent = axis == 0 ? h : d;
    const index_t q_extent = axis == 2 ? h : w;
    const index_t q = e % q_extent;
    const index_t p = (e / q_extent) % p_extent;
    const index_t c = (e / (q_extent * p_extent)) % volume[1];
    const index_t k = e / (q_extent * p_extent * volume[1]);
    const index_t s = first + k;
    const index_t z = axis == 0 ? s : p;
    const index_t y = axis == 0 ? p : axis == 1 ? s : q;
    const index_t x = axis == 2 ? s : q;
    const index_t v = (((n * volume[1] + c) * d + z) * h + y) * w + x;
    if (scatter_add) {
      to[v] += weight * from[e];
    } else {
      to[e] = from[v];
    }
  }
};

}  // namespace detail

/// The slice-wise average of an image denoiser over a volume (see the file comment).
template <Denoiser Base>
class SliceDenoiser {
public:
  using value_type = typename Base::value_type;
  using executor_type = typename Base::executor_type;
  using memory_space = typename executor_type::memory_space;
  static constexpr std::size_t rank = 5;
  static_assert(Base::rank == 4, "SliceDenoiser: the base must be an image denoiser (N x C x H x W tensors)");

  /// `max_slices`: slices per call of the base (0 = all the slices of an axis). Throws invalid_argument for
  /// no axis or a negative max_slices.
  SliceDenoiser(Base base, SliceAxes axes, index_t max_slices = 0)
      : base_(std::move(base)), axes_(axes), max_slices_(max_slices) {
    require(axes_.count() > 0, "SliceDenoiser: choose at least one slicing axis");
    require(max_slices_ >= 0, [&] { return "SliceDenoiser: max_slices " + std::to_string(max_slices_) + " < 0"; });
  }

  [[nodiscard]] executor_type executor() const { return base_.executor(); }
  [[nodiscard]] Base& base() { return base_; }
  [[nodiscard]] const Base& base() const { return base_; }
  [[nodiscard]] SliceAxes axes() const { return axes_; }
  /// The base's size multiple (it sees every spatial size of the volume as an image side).
  [[nodiscard]] index_t size_multiple() const { return denoiser_size_multiple(base_); }

  /// y = D_vol(x); x and y contiguous, of the same extents, not overlapping.
  void denoise(const View<const value_type, 5, memory_space>& x, value_type sigma,
               const View<value_type, 5, memory_space>& y) {
    require_same_extents(x, y, "SliceDenoiser::denoise");
    require<dimension_mismatch>(x.is_contiguous() && y.is_contiguous(), "SliceDenoiser: x and y must be contiguous");
    const auto exec = base_.executor();
    const std::array<index_t, 5> volume{x.extent(0), x.extent(1), x.extent(2), x.extent(3), x.extent(4)};
    const value_type weight = value_type(1) / static_cast<value_type>(axes_.count());
    fill(exec, y, value_type(0));
    const bool chosen[3] = {axes_.depth, axes_.height, axes_.width};
    for (int axis = 0; axis < 3; ++axis) {
      if (!chosen[axis]) continue;
      const index_t slices = volume[static_cast<std::size_t>(2 + axis)];
      const index_t p = axis == 0 ? volume[3] : volume[2];
      const index_t q = axis == 2 ? volume[3] : volume[4];
      const index_t batch = max_slices_ > 0 && max_slices_ < slices ? max_slices_ : slices;
      for (index_t n = 0; n < volume[0]; ++n)
        for (index_t first = 0; first < slices; first += batch) {
          const index_t count = first + batch <= slices ? batch : slices - first;
          const Extents<4> shape{count, volume[1], p, q};
          if (!(images_.extents() == shape)) {
            images_ = Tensor<value_type, 4, memory_space>(shape);
            denoised_ = Tensor<value_type, 4, memory_space>(shape);
          }
          const index_t elements = images_.size();
          for_each(exec, elements,
                   detail::SliceTransferKernel<value_type>{x.data(), images_.data(), volume, axis, n, first, count,
                                                           false, value_type(0)});
          base_.denoise(images_.const_view(), sigma, denoised_.view());
          for_each(exec, elements,
                   detail::SliceTransferKernel<value_type>{denoised_.data(), y.data(), volume, axis, n, first, count,
                                                           true, weight});
        }
    }
  }

private:
  Base base_;
  SliceAxes axes_;
  index_t max_slices_ = 0;
  Tensor<value_type, 4, memory_space> images_;
  Tensor<value_type, 4, memory_space> denoised_;
};

/// slice_denoiser(base, axes, max_slices): the slice-wise average of the image denoiser `base` over a volume.
template <Denoiser Base>
[[nodiscard]] SliceDenoiser<Base> slice_denoiser(Base base, SliceAxes axes, index_t max_slices = 0) {
  return SliceDenoiser<Base>(std::move(base), axes, max_slices);
}

}  // namespace pnpdist
