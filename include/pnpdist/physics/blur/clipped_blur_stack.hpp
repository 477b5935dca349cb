#pragma once
/// \file
/// ClippedBlurStack<Exec>: the data-fidelity term of a stack of circular blurs whose measurements were
/// clipped after the noise, y_i = clamp(A_i x + n_i, lower, upper) (physics/clipped_gaussian.hpp: the Tobit
/// negative log-likelihood times sigma^2). Where the Gaussian model 1/2 ||A_i x - y_i||^2 reads a clipped
/// sample as exact, which biases dark and saturated regions, this one reads it as "at or beyond the bound".
///
///   data_fidelity(x)   f(x) of physics/clipped_gaussian.hpp (one forward transform of x, one inverse per blur)
///   gradient(x, g)     grad f(x), exactly: the Gaussian gradient with the clipped samples replaced by their
///                      conditional means at x (the E-step)
///   proximal(z, w, x)  argmin_x f_z(x) + w/2 ||x - z||^2, f_z the Gaussian term with the conditional means at
///                      z: one majorise-minimise step of the exact proximal problem (HQS and ADMM call it at the
///                      current iterate), in closed form as blur::CircularBlurStack::proximal
///
/// Each call re-imputes the clipped samples: x is transformed once, then per blur A_i x is one inverse
/// transform and the imputed measurement one forward transform (1 + 2 n transforms for n blurs); the fused
/// CircularBlurStack does the rest. Measurements without any clipped sample skip the imputation: the results
/// are then exactly those of CircularBlurStack. x must be contiguous.
/// Keeps a reference to the stack of blurs and measurements, which must outlive it. Memory: the fused stack,
/// one image for A_i x and one spectrum of x. One instance must not be used from several threads at once (the imputation
/// updates the fused stack, and the blurs' work buffers are used).

#include <cstddef>
#include <string>

#include "pnpdist/backend/cuda/for_each.hpp"
#include "pnpdist/backend/cuda/reduce.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/backend/reduce.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/operators/stacked_physics.hpp"
#include "pnpdist/physics/blur/circular_blur_stack.hpp"
#include "pnpdist/physics/blur/fft_blur.hpp"
#include "pnpdist/physics/clipped_gaussian.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist::blur {

template <class Exec>
class ClippedBlurStack {
public:
  using value_type = float;
  using executor_type = Exec;
  using memory_space = typename Exec::memory_space;
  static constexpr std::size_t domain_rank = 4;

  /// The blurs of `stack` with its measurements (which it must hold) under the clipping model `noise`.
  ClippedBlurStack(const StackedPhysics<FftBlur<Exec>>& stack, const ClippedGaussianNoise& noise)
      : stack_(&stack), fused_(checked(stack, noise)), noise_(noise) {
    const Exec exec = stack.executor();
    for (std::size_t i = 0; i < stack.size(); ++i) {
      const auto& y = stack.measurement(i);
      clipped_samples_ +=
          transform_reduce(exec, y.size(), SumOp<index_t>{},
                           clipped_gaussian::ClippedCountKernel<float>{y.data(), noise.lower, noise.upper});
    }
    if (clipped_samples_ > 0) {
      mean_ = Tensor<float, 4, memory_space>(stack.domain_shape());
      spectrum_ = Tensor<typename FftBlur<Exec>::complex_type, 3, memory_space>(stack.op(0).transform().spectrum_shape());
    }
  }

  [[nodiscard]] ImageShape domain_shape() const { return stack_->domain_shape(); }
  [[nodiscard]] Exec executor() const { return stack_->executor(); }
  [[nodiscard]] const ClippedGaussianNoise& noise() const { return noise_; }
  /// Samples at a bound, over all blurs.
  [[nodiscard]] index_t clipped_samples() const { return clipped_samples_; }

  /// f(x) (physics/clipped_gaussian.hpp), accumulated in double.
  [[nodiscard]] double data_fidelity(const View<const float, 4, memory_space>& x) const {
    if (clipped_samples_ == 0) return fused_.data_fidelity(x);
    const Exec exec = stack_->executor();
    double sum = 0;
    for_each_blurred(x, [&](std::size_t, const auto& y) {
      sum += transform_reduce(exec, y.size(), SumOp<double>{},
                              clipped_gaussian::NegativeLogLikelihoodKernel<float>{y.data(), mean_.data(), noise_.sigma,
                                                                                   noise_.lower, noise_.upper});
    });
    return sum;
  }

  /// g = grad f(x).
  void gradient(const View<const float, 4, memory_space>& x, const View<float, 4, memory_space>& g) const {
    impute(x);
    fused_.gradient(x, g);
  }

  /// x = argmin f_z(x) + weight/2 ||x - z||^2 (see the file comment); weight > 0. z and x may be the same view.
  void proximal(const View<const float, 4, memory_space>& z, double weight,
                const View<float, 4, memory_space>& x) const {
    impute(z);
    fused_.proximal(z, weight, x);
  }

private:
  static const StackedPhysics<FftBlur<Exec>>& checked(const StackedPhysics<FftBlur<Exec>>& stack,
                                                      const ClippedGaussianNoise& noise) {
    noise.validate();
    require(stack.size() > 0 && stack.has_measurements(),
            "ClippedBlurStack: the stack has no blurs or no measurements");
    return stack;
  }

  /// spectrum_ = DFT(x), the transform every blur of the stack shares.
  void transform(const View<const float, 4, memory_space>& x) const {
    const ImageShape shape = stack_->domain_shape();
    require<dimension_mismatch>(x.extents() == shape && x.is_contiguous(), [&] {
      return "ClippedBlurStack: expected a contiguous image of shape " + to_string(shape) + ", got " +
             to_string(x.extents());
    });
    stack_->op(0).transform().forward(reshape(x, Extents<3>{shape[0] * shape[1], shape[2], shape[3]}),
                                      spectrum_.view());
  }

  /// The fused stack's measurements become y_i with the clipped samples replaced by their conditional means
  /// given A_i x.
  void impute(const View<const float, 4, memory_space>& x) const {
    if (clipped_samples_ == 0) return;
    const Exec exec = stack_->executor();
    fused_.reset_measurements();
    for_each_blurred(x, [&](std::size_t i, const auto& y) {
      for_each(exec, y.size(),
               clipped_gaussian::ImputeKernel<float>{y.data(), mean_.data(), mean_.data(), noise_.sigma, noise_.lower,
                                                     noise_.upper});
      fused_.accumulate_measurement(stack_->op(i), mean_.const_view());
    });
  }

  /// For each blur i in order: mean_ = A_i x, then visit(i, y_i). x is transformed once.
  template <class Visit>
  void for_each_blurred(const View<const float, 4, memory_space>& x, Visit&& visit) const {
    transform(x);
    for (std::size_t i = 0; i < stack_->size(); ++i) {
      stack_->op(i).apply_to_spectrum(spectrum_.const_view(), mean_.view());
      visit(i, stack_->measurement(i));
    }
  }

  const StackedPhysics<FftBlur<Exec>>* stack_;
  mutable CircularBlurStack<Exec> fused_;
  ClippedGaussianNoise noise_;
  index_t clipped_samples_ = 0;
  mutable Tensor<float, 4, memory_space> mean_;
  mutable Tensor<typename FftBlur<Exec>::complex_type, 3, memory_space> spectrum_;
};

}  // namespace pnpdist::blur
