#pragma once
/// \file
/// CircularBlurStack<Exec>: the data-fidelity term of a stack of circular blurs A_i (FftBlur) with
/// measurements y_i, through the combined normal operator. sum_i A_i^T A_i is itself circulant, so
///
///   grad f(x) = sum_i A_i^T (A_i x - y_i) = IDFT( S . DFT(x) - B ),
///   S = sum_i |K_i|^2,   B = sum_i conj(K_i) DFT(y_i)     (K_i the transfer functions)
///
/// with S and B computed once at construction: each gradient costs one batched forward and one batched
/// inverse real transform of all N*C channels, whatever the number of blurs (the per-operator path of
/// StackedPhysics costs 4 per blur). The data fidelity uses Parseval's identity with the same S and B:
///
///   f(x) = 1/2 ( sum_i ||A_i x||^2 - 2 <x, sum_i A_i^T y_i> + sum_i ||y_i||^2 ),
///
/// one forward transform; the first two terms are accumulated in double, the last is computed exactly at
/// construction. Satisfies the Physics concept. The proximal step of f has a closed form with the same S and B:
///
///   prox(z; w) = argmin_x f(x) + w/2 ||x - z||^2 = IDFT( (B + w DFT(z)) / (S + w) ),
///
/// one forward and one inverse transform (solvers/data_proximal.hpp uses it for HQS and ADMM).
///
/// Guarantees: equal to StackedPhysics<FftBlur<Exec>>::gradient up to float round-off (tested); memory:
/// S (H x (W/2+1) floats), B and one work spectrum (N*C x H x (W/2+1) complex each), all in the executor's
/// memory space; no allocation per call. One instance must not be used from several threads at once.

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "pnpdist/backend/cuda/for_each.hpp"
#include "pnpdist/backend/cuda/reduce.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/backend/reduce.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/operators/stacked_physics.hpp"
#include "pnpdist/physics/blur/fft_blur.hpp"
#include "pnpdist/physics/blur/kernels.hpp"
#include "pnpdist/physics/fft/complex.hpp"
#include "pnpdist/physics/fft/real_fft_2d.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/reductions.hpp"

namespace pnpdist::blur {

template <class Exec>
class CircularBlurStack {
public:
  using value_type = float;
  using executor_type = Exec;
  using memory_space = typename Exec::memory_space;
  using complex_type = fft::Complex<float>;
  static constexpr std::size_t domain_rank = 4;

  /// The fused form of `stack` (which must hold its measurements). Costs one forward transform per blur.
  explicit CircularBlurStack(const StackedPhysics<FftBlur<Exec>>& stack)
      : exec_(stack.executor()), shape_(stack.domain_shape()), fft_(stack.op(0).transform()) {
    require(stack.has_measurements(), "CircularBlurStack: the stack has no measurements");
    const index_t h = shape_[2];
    const index_t w = shape_[3];
    const Extents<3> spectrum = fft_.spectrum_shape();
    const index_t plane = h * fft::spectrum_width(w);
    normal_ = zeros<float>(exec_, Extents<3>{1, h, fft::spectrum_width(w)});
    back_projection_ = Tensor<complex_type, 3, memory_space>(spectrum);
    work_ = Tensor<complex_type, 3, memory_space>(spectrum);
    reset_measurements();
    // |K_i|^2 with K_i = H W * transfer_i (the stored transfer function includes 1 / (H W)).
    const float normal_scale = static_cast<float>(static_cast<double>(h) * static_cast<double>(w));
    for (std::size_t i = 0; i < stack.size(); ++i) {
      for_each(exec_, plane,
               AccumulateSquaredMagnitudeKernel<float>{normal_.data(), stack.op(i).transfer_function().data(),
                                                       normal_scale});
      accumulate_measurement(stack.op(i), stack.measurement(i).const_view());
    }
  }

  /// Forgets the measurements: B = 0 and sum_i ||y_i||^2 = 0 (S, the blurs' part, is kept). With
  /// accumulate_measurement, this replaces the measurements without rebuilding the blurs (ClippedBlurStack
  /// does so at every step); until every blur's measurement is accumulated again, the data fidelity is that
  /// of zero measurements for the others.
  void reset_measurements() {
    fill(exec_, back_projection_.view(), complex_type{0.0f, 0.0f});
    measurement_energy_ = 0;
  }

  /// Adds blur's measurement y to B and to sum_i ||y_i||^2: one forward transform. `blur` must be one of the
  /// blurs this instance was built from.
  void accumulate_measurement(const FftBlur<Exec>& blur, const View<const float, 4, memory_space>& y) {
    check(y.extents(), "accumulate_measurement");
    require<dimension_mismatch>(y.is_contiguous(), "CircularBlurStack::accumulate_measurement: y must be contiguous");
    const Extents<3> real{shape_[0] * shape_[1], shape_[2], shape_[3]};
    fft_.forward(reshape(y, real), work_.view());
    for_each(exec_, work_.size(),
             AccumulateConjProductKernel<float>{back_projection_.data(), blur.transfer_function().data(), work_.data(),
                                                normal_.size()});
    measurement_energy_ += static_cast<double>(squared_norm(exec_, y));
  }

  [[nodiscard]] ImageShape domain_shape() const { return shape_; }
  [[nodiscard]] const Exec& executor() const { return exec_; }

  /// 1/2 sum_i ||A_i x - y_i||^2 by Parseval (see the file comment).
  [[nodiscard]] double data_fidelity(const View<const float, 4, memory_space>& x) const {
    check(x.extents(), "data_fidelity");
    const index_t w = shape_[3];
    fft_.forward(reshape(x, Extents<3>{shape_[0] * shape_[1], shape_[2], w}), work_.view());
    const double terms =
        transform_reduce(exec_, work_.size(), SumOp<double>{},
                         ParsevalTermKernel<float>{work_.data(), normal_.data(), back_projection_.data(),
                                                   normal_.size(), fft::spectrum_width(w), w});
    return 0.5 * (terms + measurement_energy_);
  }

  /// g = sum_i A_i^T (A_i x - y_i): one forward transform, one element-wise pass, one inverse transform.
  void gradient(const View<const float, 4, memory_space>& x, const View<float, 4, memory_space>& g) const {
    check(x.extents(), "gradient");
    check(g.extents(), "gradient");
    require<dimension_mismatch>(x.is_contiguous() && g.is_contiguous(),
                                "CircularBlurStack::gradient: x and g must be contiguous");
    const Extents<3> real{shape_[0] * shape_[1], shape_[2], shape_[3]};
    fft_.forward(reshape(x, real), work_.view());
    for_each(exec_, work_.size(),
             NormalGradientKernel<float>{work_.data(), normal_.data(), back_projection_.data(), normal_.size()});
    fft_.inverse(work_.view(), reshape(g, real));
  }

  /// x = argmin f(x) + weight/2 ||x - z||^2 in closed form (see the file comment); weight > 0. z and x may
  /// be the same view.
  void proximal(const View<const float, 4, memory_space>& z, double weight,
                const View<float, 4, memory_space>& x) const {
    check(z.extents(), "proximal");
    check(x.extents(), "proximal");
    require<dimension_mismatch>(z.is_contiguous() && x.is_contiguous(),
                                "CircularBlurStack::proximal: z and x must be contiguous");
    require(weight > 0 && std::isfinite(weight),
            [&] { return "CircularBlurStack::proximal: weight must be positive, got " + std::to_string(weight); });
    const double n = static_cast<double>(shape_[2]) * static_cast<double>(shape_[3]);
    const Extents<3> real{shape_[0] * shape_[1], shape_[2], shape_[3]};
    fft_.forward(reshape(z, real), work_.view());
    for_each(exec_, work_.size(),
             ProximalSpectrumKernel<float>{work_.data(), normal_.data(), back_projection_.data(), normal_.size(),
                                           static_cast<float>(weight / n), static_cast<float>(n)});
    fft_.inverse(work_.view(), reshape(x, real));
  }

private:
  void check(const Extents<4>& e, const char* what) const {
    require<dimension_mismatch>(e == shape_, [&] {
      return std::string("CircularBlurStack::") + what + ": expected an image of shape " + to_string(shape_) +
             ", got " + to_string(e);
    });
  }

  Exec exec_;
  ImageShape shape_;
  fft::RealFft2d<Exec> fft_;
  Tensor<float, 3, memory_space> normal_;                  // S / (H W), see the constructor
  Tensor<complex_type, 3, memory_space> back_projection_;  // B / (H W)
  mutable Tensor<complex_type, 3, memory_space> work_;
  double measurement_energy_ = 0;
};

}  // namespace pnpdist::blur
