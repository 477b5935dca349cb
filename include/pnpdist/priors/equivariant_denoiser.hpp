#pragma once
/// \file
/// EquivariantDenoiser<Base>: the average of a denoiser over the symmetries of the image grid,
///
///     D_eq(x) = 1/|G| sum_{g in G} g^-1 D(g x),
///
/// with G the dihedral group of the last two (spatial) axes: the 8 flips and quarter turns of square
/// planes, the 4 flips (identity, flip of rows, flip of columns, both) of rectangular ones. A denoiser that
/// is not exactly equivariant (DRUNet's strided convolutions) gains from the average (DeepInv's
/// EquivariantDenoiser, Terris et al. 2024); a denoiser that is equivariant is unchanged. Cost: |G| calls of
/// the base denoiser. Memory: two tensors of the input's shape (the transformed input and the base's
/// output). Volumes (rank 5) are transformed in their (H, W) planes. Satisfies the Denoiser concept;
/// deterministic for a deterministic base.

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

namespace detail {

/// One element of the dihedral group of an H x W plane: the source (i', j') of output (i, j) is
/// (flip_rows ? H-1-i : i, flip_cols ? W-1-j : j), swapped when `transpose` (square planes only).
struct PlaneSymmetry {
  bool flip_rows = false;
  bool flip_cols = false;
  bool transpose = false;
};

/// gather: out(e) = in(P(e)); scatter (the inverse): out(P(e)) = in(e). Over contiguous tensors whose last
/// two axes are the H x W plane; `plane_count` planes.
template <class T>
struct PlaneSymmetryKernel {
  const T* in;
  T* out;
  index_t h;
  index_t w;
  PlaneSymmetry s;
  bool scatter;
  PNPDIST_HOST_DEVICE void operator()(index_t e) const {
    const index_t plane = e / (h * w);
    const index_t i = (e / w) % h;
    const index_t j = e % w;
    index_t si = s.flip_rows ? h - 1 - i : i;
    index_t sj = s.flip_cols ? w - 1 - j : j;
    if (s.transpose) {
      const index_t t = si;
      si = sj;
      sj = t;
    }
    const index_t source = plane * h * w + si * w + sj;
    if (scatter) {
      out[source] = in[e];
    } else {
      out[e] = in[source];
    }
  }
};

}  // namespace detail

/// The group average of `Base` (see the file comment).
template <Denoiser Base>
class EquivariantDenoiser {
public:
  using value_type = typename Base::value_type;
  using executor_type = typename Base::executor_type;
  using memory_space = typename executor_type::memory_space;
  static constexpr std::size_t rank = Base::rank;
  static_assert(rank >= 2, "EquivariantDenoiser: the base denoiser's tensors need two spatial axes");

  /// With enabled = false the wrapper calls the base directly (one type for both choices, made at run time).
  explicit EquivariantDenoiser(Base base, bool enabled = true) : base_(std::move(base)), enabled_(enabled) {}

  [[nodiscard]] executor_type executor() const { return base_.executor(); }
  [[nodiscard]] Base& base() { return base_; }
  [[nodiscard]] const Base& base() const { return base_; }
  [[nodiscard]] bool enabled() const { return enabled_; }
  /// The base's size multiple (a quarter turn keeps a square plane's sizes).
  [[nodiscard]] index_t size_multiple() const requires requires(const Base& b) { b.size_multiple(); }
  { return base_.size_multiple(); }

  /// y = the average over the group of g^-1 D(g x). x and y must be contiguous and must not overlap.
  void denoise(const View<const value_type, rank, memory_space>& x, value_type sigma,
               const View<value_type, rank, memory_space>& y) {
    require_same_extents(x, y, "EquivariantDenoiser::denoise");
    require<dimension_mismatch>(x.is_contiguous() && y.is_contiguous(),
                                "EquivariantDenoiser: x and y must be contiguous");
    if (!enabled_) {
      base_.denoise(x, sigma, y);
      return;
    }
    const auto exec = base_.executor();
    const index_t h = x.extent(rank - 2);
    const index_t w = x.extent(rank - 1);
    if (!(transformed_.extents() == x.extents())) {
      transformed_ = Tensor<value_type, rank, memory_space>(x.extents());
      denoised_ = Tensor<value_type, rank, memory_space>(x.extents());
    }
    const int count = h == w ? 8 : 4;
    fill(exec, y, value_type(0));
    for (int g = 0; g < count; ++g) {
      const detail::PlaneSymmetry s{(g & 1) != 0, (g & 2) != 0, (g & 4) != 0};
      for_each(exec, x.size(), detail::PlaneSymmetryKernel<value_type>{x.data(), transformed_.data(), h, w, s, false});
      base_.denoise(transformed_.const_view(), sigma, denoised_.view());
      // Undo g into transformed_ (free again), then accumulate.
      for_each(exec, x.size(),
               detail::PlaneSymmetryKernel<value_type>{denoised_.data(), transformed_.data(), h, w, s, true});
      axpy(exec, value_type(1) / static_cast<value_type>(count), transformed_.const_view(), y);
    }
  }

private:
  Base base_;
  bool enabled_ = true;
  Tensor<value_type, rank, memory_space> transformed_;
  Tensor<value_type, rank, memory_space> denoised_;
};

/// equivariant(base): the group average of base (see EquivariantDenoiser).
template <Denoiser Base>
[[nodiscard]] EquivariantDenoiser<Base> equivariant(Base base, bool enabled = true) {
  return EquivariantDenoiser<Base>(std::move(base), enabled);
}

}  // namespace pnpdist
