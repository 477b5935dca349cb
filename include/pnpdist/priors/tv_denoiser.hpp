#pragma once
/// \file
/// TVDenoiser: the total-variation denoiser, a non-learned baseline satisfying the Denoiser concept:
///
///     denoise(x, sigma, y):  y = argmin_u  1/2 ||u - x||^2 + lambda TV(u),   lambda = weight_scale * sigma,
///
/// with the isotropic TV sum_i |grad u(i)| over the spatial dimensions (the last Rank - 2 ones: H, W or
/// D, H, W), each image (n, c) separately, forward differences with Neumann boundaries. Solved by
/// Chambolle's projection algorithm (J. Math. Imaging Vis. 20, 2004): with v = div p - x / lambda,
///
///     p <- (p + tau grad v) / (1 + tau |grad v|),   y = x - lambda div p,
///
/// for a fixed number of iterations from p = 0, tau = 1 / (4 (Rank - 2)) (the bound that guarantees
/// convergence). The dual variable p (Rank - 2 components) and v are buffers the denoiser owns, allocated
/// on the first call and reused while the extents stay the same. Every element is updated by one
/// iteration in a fixed order, so results are deterministic; executors agree up to the compiler's
/// floating-point contraction (FMA) choices.

#include <cmath>
#include <cstddef>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

namespace detail {

/// Offset of element (lead, s...) of a contiguous array of the given extents, and helpers on it.
template <std::size_t Rank>
struct TVGeometry {
  Extents<Rank> extents;
  Extents<Rank> strides;
  index_t size;
};

/// div p at one element: sum_d (p_d(i) [i_d < n_d - 1] - p_d(i - e_d) [i_d > 0]). Writes
/// out = scale_x * x + scale_div * div p.
template <class T, std::size_t Rank>
struct TVDivergenceKernel {
  TVGeometry<Rank> g;
  const T* p;  // Rank - 2 components, each of g.size elements
  const T* x;
  T scale_x;
  T scale_div;
  T* out;

  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(I... idx) const {
    const index_t i[Rank] = {static_cast<index_t>(idx)...};
    index_t e = 0;
    for (std::size_t d = 0; d < Rank; ++d) e += i[d] * g.strides[d];
    T div = T(0);
    for (std::size_t d = 2; d < Rank; ++d) {
      const T* pd = p + static_cast<index_t>(d - 2) * g.size;
      if (i[d] < g.extents[d] - 1) div += pd[e];
      if (i[d] > 0) div -= pd[e - g.strides[d]];
    }
    out[e] = scale_x * x[e] + scale_div * div;
  }
};

/// p <- (p + tau grad v) / (1 + tau |grad v|) at one element (forward differences, 0 at the last index).
template <class T, std::size_t Rank>
struct TVDualKernel {
  TVGeometry<Rank> g;
  const T* v;
  T tau;
  T* p;

  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(I... idx) const {
    const index_t i[Rank] = {static_cast<index_t>(idx)...};
    index_t e = 0;
    for (std::size_t d = 0; d < Rank; ++d) e += i[d] * g.strides[d];
    T grad[Rank > 2 ? Rank - 2 : 1];
    T norm2 = T(0);
    for (std::size_t d = 2; d < Rank; ++d) {
      grad[d - 2] = i[d] < g.extents[d] - 1 ? v[e + g.strides[d]] - v[e] : T(0);
      norm2 += grad[d - 2] * grad[d - 2];
    }
    const T denominator = T(1) + tau * std::sqrt(norm2);
    for (std::size_t d = 2; d < Rank; ++d) {
      T& pd = p[static_cast<index_t>(d - 2) * g.size + e];
      pd = (pd + tau * grad[d - 2]) / denominator;
    }
  }
};

}  // namespace detail

template <class T, std::size_t Rank, class Exec>
class TVDenoiser {
  static_assert(Rank >= 3, "TVDenoiser takes N x C x spatial tensors");

public:
  using value_type = T;
  using executor_type = Exec;
  using memory_space = typename Exec::memory_space;
  static constexpr std::size_t rank = Rank;

  /// `iterations` of Chambolle's algorithm; the TV weight is weight_scale * sigma. Throws invalid_argument
  /// for a negative iteration count or a negative or NaN weight_scale.
  explicit TVDenoiser(const Exec& exec = Exec{}, int iterations = 100, T weight_scale = T(1))
      : exec_(exec), iterations_(iterations), weight_scale_(weight_scale) {
    require(iterations >= 0 && weight_scale >= T(0), [&] {
      return "TVDenoiser: iterations " + std::to_string(iterations) + " and weight_scale " +
             std::to_string(weight_scale) + " must be non-negative";
    });
  }

  [[nodiscard]] Exec executor() const { return exec_; }
  [[nodiscard]] int iterations() const { return iterations_; }

  /// y = argmin_u 1/2 ||u - x||^2 + weight_scale sigma TV(u) (approximately: a fixed iteration count).
  /// x and y contiguous with equal extents; sigma >= 0 (sigma = 0 copies x).
  void denoise(const View<const T, Rank, memory_space>& x, T sigma, const View<T, Rank, memory_space>& y) {
    require_same_extents(x, y, "TVDenoiser::denoise");
    require<dimension_mismatch>(x.is_contiguous() && y.is_contiguous(), "TVDenoiser::denoise needs contiguous views");
    require(sigma >= T(0),
            [&] { return "TVDenoiser::denoise: sigma " + std::to_string(sigma) + " is negative or NaN"; });
    const T lambda = weight_scale_ * sigma;
    if (lambda == T(0) || iterations_ == 0) {
      copy(exec_, x, y);
      return;
    }
    if (!(v_.extents() == x.extents())) {
      v_ = Tensor<T, Rank, memory_space>(x.extents());
      p_ = Tensor<T, 1, memory_space>(Extents<1>{x.size() * static_cast<index_t>(Rank - 2)});
    }
    fill(exec_, p_.view(), T(0));
    const detail::TVGeometry<Rank> g{x.extents(), contiguous_strides(x.extents()), x.size()};
    const T tau = T(1) / T(4 * (Rank - 2));
    for (int it = 0; it < iterations_; ++it) {
      for_each(exec_, x.extents(),
               detail::TVDivergenceKernel<T, Rank>{g, p_.data(), x.data(), -T(1) / lambda, T(1), v_.data()});
      for_each(exec_, x.extents(), detail::TVDualKernel<T, Rank>{g, v_.data(), tau, p_.data()});
    }
    for_each(exec_, x.extents(), detail::TVDivergenceKernel<T, Rank>{g, p_.data(), x.data(), T(1), -lambda, y.data()});
  }

private:
  Exec exec_;
  int iterations_;
  T weight_scale_;
  Tensor<T, Rank, memory_space> v_;
  Tensor<T, 1, memory_space> p_;
};

}  // namespace pnpdist
