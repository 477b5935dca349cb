#pragma once
/// \file
/// IntensityWindowDenoiser<Base>: a denoiser trained on images in [0, 1] applied to data whose values lie in
/// another interval [low, high] (attenuation images, phantoms with values of both signs), by mapping the
/// window onto [0, 1] and back:
///
///     D_w(x, sigma) = low + s D((x - low) / s, sigma / s),    s = high - low.
///
/// The noise level is mapped with the data, so sigma stays in the units of the data. Values outside the
/// window are passed to the base as they are (mapped, not clipped). A base that is exactly equivariant to
/// positive scalings and shifts is unchanged; DRUNet is neither (its biases and ReLUs see absolute values),
/// and the window decides what it treats as black and white. The window is the caller's prior knowledge of
/// the object's values (e.g. chosen on validation data); nothing is estimated from x. Cost: two element-wise
/// passes and one tensor of the input's shape, none for the window [0, 1] (the identity map, which calls the
/// base on x directly). Satisfies the Denoiser concept; deterministic for a deterministic base.

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/priors/denoiser.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

/// The base denoiser applied through the intensity window [low, high] (see the file comment).
template <Denoiser Base>
class IntensityWindowDenoiser {
public:
  using value_type = typename Base::value_type;
  using executor_type = typename Base::executor_type;
  using memory_space = typename executor_type::memory_space;
  static constexpr std::size_t rank = Base::rank;

  /// Throws invalid_argument unless low and high are finite and low < high.
  IntensityWindowDenoiser(Base base, double low, double high) : base_(std::move(base)) { set_window(low, high); }

  /// Changes the window (the same checks as the constructor; the window is unchanged when they fail).
  void set_window(double low, double high) {
    require(std::isfinite(low) && std::isfinite(high) && low < high, [&] {
      return "IntensityWindowDenoiser: the window [low, high] must be finite with low < high, got [" +
             std::to_string(low) + ", " + std::to_string(high) + "]";
    });
    low_ = low;
    high_ = high;
  }

  [[nodiscard]] executor_type executor() const { return base_.executor(); }
  [[nodiscard]] Base& base() { return base_; }
  [[nodiscard]] const Base& base() const { return base_; }
  [[nodiscard]] double low() const { return low_; }
  [[nodiscard]] double high() const { return high_; }
  /// The base's size multiple (the map is element-wise).
  [[nodiscard]] index_t size_multiple() const requires requires(const Base& b) { b.size_multiple(); }
  { return base_.size_multiple(); }

  /// y = low + s D((x - low) / s, sigma / s). x and y must be contiguous and must not overlap. The window
  /// [0, 1] is the identity map: the base is called on x directly (no passes, no buffer).
  void denoise(const View<const value_type, rank, memory_space>& x, value_type sigma,
               const View<value_type, rank, memory_space>& y) {
    require_same_extents(x, y, "IntensityWindowDenoiser::denoise");
    require<dimension_mismatch>(x.is_contiguous() && y.is_contiguous(),
                                "IntensityWindowDenoiser: x and y must be contiguous");
    if (low_ == 0.0 && high_ == 1.0) {
      base_.denoise(x, sigma, y);
      return;
    }
    const auto exec = base_.executor();
    if (!(mapped_.extents() == x.extents())) mapped_ = Tensor<value_type, rank, memory_space>(x.extents());
    const auto s = static_cast<value_type>(high_ - low_);
    const auto low = static_cast<value_type>(low_);
    affine(exec, value_type(1) / s, x, -low / s, mapped_.view());
    base_.denoise(mapped_.const_view(), sigma / s, y);
    affine(exec, s, y, low, y);
  }

private:
  Base base_;
  double low_ = 0;
  double high_ = 1;
  Tensor<value_type, rank, memory_space> mapped_;
};

/// intensity_window(base, low, high): base applied through the window [low, high] (IntensityWindowDenoiser).
template <Denoiser Base>
[[nodiscard]] IntensityWindowDenoiser<Base> intensity_window(Base base, double low, double high) {
  return IntensityWindowDenoiser<Base>(std::move(base), low, high);
}

}  // namespace pnpdist
