#pragma once
/// \file
/// FourierRegularizedInverse<Exec>: the closed-form regularised inverse of a stack of circular blurs A_i
/// (FftBlur) with measurements y_i, the classical Tikhonov and Wiener-like deblurring baselines:
///
///   x(mu, nu) = argmin_x  sum_i ||A_i x - y_i||^2 + mu ||x||^2 + nu ||D x||^2
///             = IDFT( B / (S + mu + nu L) ),
///   S = sum_i |K_i|^2,  B = sum_i conj(K_i) DFT(y_i),  L(u, v) = 4 sin^2(pi u / H) + 4 sin^2(pi v / W)
///
/// with K_i the transfer functions and D the circular forward-difference gradient (D^T D = -Laplacian, the
/// 5-point stencil, whose eigenvalues are L). mu > 0, nu = 0 is Tikhonov; mu = 0, nu > 0 the gradient
/// (Laplacian) regulariser, a Wiener filter for a signal spectrum decaying like 1 / |frequency|^2.
/// residual_squared(x) = sum_i ||A_i x - y_i||^2 by Parseval's identity (one forward transform), so that a
/// parameter can be chosen without the truth: by the discrepancy principle (choose_by_discrepancy, needs the
/// noise level) or by generalised cross-validation (choose_by_gcv, does not), for which influence_trace(mu,
/// nu) = trace(A (A^T A + mu I + nu D^T D)^-1 A^T) = N C sum_(u,v) S / (S + mu + nu L) over the full spectrum.
///
/// Guarantees: the same S and B as blur::CircularBlurStack (same kernels); equal to the direct solution of the
/// normal equations up to float round-off (tests/physics/blur/test_regularized_inverse.cpp). Memory: S (H x
/// (W/2+1) floats), B and one work spectrum (N*C x H x (W/2+1) complex each) in the executor's memory space.
/// One instance must not be used from several threads at once.

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

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

/// sum over the full spectrum (the half spectrum's columns weighted by their multiplicity) of
/// n S / (n S + mu + nu L(u, v)): one channel's trace of the influence matrix.
template <class T>
struct InfluenceTraceKernel {
  const T* normal;
  index_t spectrum_width;
  index_t height;
  index_t width;
  double n;
  double mu;
  double nu;

  PNPDIST_HOST_DEVICE double operator()(index_t p) const {
    const index_t u = p / spectrum_width;
    const index_t v = p % spectrum_width;
    constexpr double pi = 3.14159265358979323846;
    const double su = ::sin(pi * static_cast<double>(u) / static_cast<double>(height));
    const double sv = ::sin(pi * static_cast<double>(v) / static_cast<double>(width));
    const double s = n * static_cast<double>(normal[p]);
    const double denominator = s + mu + nu * 4.0 * (su * su + sv * sv);
    const double m = (v == 0 || 2 * v == width) ? 1.0 : 2.0;
    return denominator > 0 ? m * s / denominator : 0.0;
  }
};

/// X <- B / (n S + mu + nu L(u, v)) per half-spectrum element (S, B divided by n = H W as stored; the
/// inverse transform, which multiplies by n, then gives x(mu, nu)). A zero denominator gives 0.
template <class T>
struct RegularizedInverseKernel {
  fft::Complex<T>* spectrum;
  const T* normal;
  const fft::Complex<T>* back_projection;
  index_t plane;
  index_t spectrum_width;
  index_t height;
  index_t width;
  double n;
  double mu;
  double nu;

  PNPDIST_HOST_DEVICE void operator()(index_t e) const {
    const index_t p = e % plane;
    const index_t u = p / spectrum_width;
    const index_t v = p % spectrum_width;
    constexpr double pi = 3.14159265358979323846;
    const double su = ::sin(pi * static_cast<double>(u) / static_cast<double>(height));
    const double sv = ::sin(pi * static_cast<double>(v) / static_cast<double>(width));
    const double denominator = n * static_cast<double>(normal[p]) + mu + nu * 4.0 * (su * su + sv * sv);
    const double inverse = denominator > 0 ? 1.0 / denominator : 0.0;
    const fft::Complex<T> b = back_projection[e];
    spectrum[e] = {static_cast<T>(static_cast<double>(b.re) * inverse),
                   static_cast<T>(static_cast<double>(b.im) * inverse)};
  }
};

template <class Exec>
class FourierRegularizedInverse {
public:
  using value_type = float;
  using memory_space = typename Exec::memory_space;
  using complex_type = fft::Complex<float>;

  /// From a stack of circular blurs holding its measurements: one forward transform per blur.
  explicit FourierRegularizedInverse(const StackedPhysics<FftBlur<Exec>>& stack)
      : exec_(stack.executor()), shape_(stack.domain_shape()), fft_(stack.op(0).transform()) {
    require(stack.has_measurements(), "FourierRegularizedInverse: the stack has no measurements");
    const index_t h = shape_[2];
    const index_t w = shape_[3];
    const index_t plane = h * fft::spectrum_width(w);
    normal_ = zeros<float>(exec_, Extents<3>{1, h, fft::spectrum_width(w)});
    back_projection_ = Tensor<complex_type, 3, memory_space>(fft_.spectrum_shape());
    fill(exec_, back_projection_.view(), complex_type{0.0f, 0.0f});
    work_ = Tensor<complex_type, 3, memory_space>(fft_.spectrum_shape());
    const Extents<3> real{shape_[0] * shape_[1], h, w};
    const float normal_scale = static_cast<float>(static_cast<double>(h) * static_cast<double>(w));
    for (std::size_t i = 0; i < stack.size(); ++i) {
      const FftBlur<Exec>& op = stack.op(i);
      const auto& y = stack.measurement(i);
      for_each(exec_, plane,
               AccumulateSquaredMagnitudeKernel<float>{normal_.data(), op.transfer_function().data(), normal_scale});
      fft_.forward(reshape(y.const_view(), real), work_.view());
      for_each(exec_, work_.size(),
               AccumulateConjProductKernel<float>{back_projection_.data(), op.transfer_function().data(), work_.data(),
                                                  plane});
      measurement_energy_ += static_cast<double>(squared_norm(exec_, y.const_view()));
      measurements_ += y.size();
    }
  }

  [[nodiscard]] ImageShape domain_shape() const { return shape_; }
  /// The number of measured values, sum_i size(y_i) (the M of the discrepancy principle).
  [[nodiscard]] index_t measurement_count() const { return measurements_; }

  /// x = argmin sum_i ||A_i x - y_i||^2 + mu ||x||^2 + nu ||D x||^2 (see the file comment); mu, nu >= 0.
  void solve(double mu, double nu, const View<float, 4, memory_space>& x) const {
    check(x.extents(), "solve");
    require<dimension_mismatch>(x.is_contiguous(), "FourierRegularizedInverse::solve: x must be contiguous");
    require(mu >= 0 && nu >= 0 && std::isfinite(mu) && std::isfinite(nu), [&] {
      return "FourierRegularizedInverse::solve: mu " + std::to_string(mu) + " and nu " + std::to_string(nu) +
             " must be non-negative and finite";
    });
    const index_t h = shape_[2];
    const index_t w = shape_[3];
    for_each(exec_, work_.size(),
             RegularizedInverseKernel<float>{work_.data(), normal_.data(), back_projection_.data(), normal_.size(),
                                             fft::spectrum_width(w), h, w,
                                             static_cast<double>(h) * static_cast<double>(w), mu, nu});
    fft_.inverse(work_.view(), reshape(x, Extents<3>{shape_[0] * shape_[1], h, w}));
  }

  /// sum_i ||A_i x - y_i||^2 by Parseval's identity (one forward transform).
  [[nodiscard]] double residual_squared(const View<const float, 4, memory_space>& x) const {
    check(x.extents(), "residual_squared");
    const index_t w = shape_[3];
    fft_.forward(reshape(x, Extents<3>{shape_[0] * shape_[1], shape_[2], w}), work_.view());
    const double terms =
        transform_reduce(exec_, work_.size(), SumOp<double>{},
                         ParsevalTermKernel<float>{work_.data(), normal_.data(), back_projection_.data(),
                                                   normal_.size(), fft::spectrum_width(w), w});
    return std::max(0.0, terms + measurement_energy_);
  }

  /// trace(A (A^T A + mu I + nu D^T D)^-1 A^T), the effective number of fitted parameters (GCV).
  [[nodiscard]] double influence_trace(double mu, double nu) const {
    const index_t h = shape_[2];
    const index_t w = shape_[3];
    const double per_channel =
        transform_reduce(exec_, normal_.size(), SumOp<double>{},
                         InfluenceTraceKernel<float>{normal_.data(), fft::spectrum_width(w), h, w,
                                                     static_cast<double>(h) * static_cast<double>(w), mu, nu});
    return static_cast<double>(shape_[0] * shape_[1]) * per_channel;
  }

private:
  void check(const Extents<4>& e, const char* what) const {
    require<dimension_mismatch>(e == shape_, [&] {
      return std::string("FourierRegularizedInverse::") + what + ": expected an image of shape " + to_string(shape_) +
             ", got " + to_string(e);
    });
  }

  Exec exec_;
  ImageShape shape_;
  fft::RealFft2d<Exec> fft_;
  Tensor<float, 3, memory_space> normal_;                  // S / (H W)
  Tensor<complex_type, 3, memory_space> back_projection_;  // B / (H W)
  mutable Tensor<complex_type, 3, memory_space> work_;
  double measurement_energy_ = 0;
  index_t measurements_ = 0;
};

/// The parameter t chosen by the discrepancy principle for the family x(t) = solve(t * mu_direction,
/// t * nu_direction): the t (bisection on log t over [low, high], `steps` halvings) with
/// sqrt(residual_squared(x(t))) = target. The residual increases with t; when the target is out of reach the
/// nearer end is returned. x holds x(t) on return.
struct DiscrepancyChoice {
  double t = 0;
  double residual = 0;  ///< sqrt(sum_i ||A_i x(t) - y_i||^2)
  int evaluations = 0;
};

template <class Exec>
DiscrepancyChoice choose_by_discrepancy(const FourierRegularizedInverse<Exec>& inverse, double mu_direction,
                                        double nu_direction, double target,
                                        const View<float, 4, typename Exec::memory_space>& x, double low = 1e-8,
                                        double high = 1e4, int steps = 40) {
  require(target > 0 && low > 0 && high > low && steps >= 1, "choose_by_discrepancy: invalid target or bracket");
  DiscrepancyChoice choice;
  const auto residual = [&](double t) {
    inverse.solve(t * mu_direction, t * nu_direction, x);
    ++choice.evaluations;
    return std::sqrt(inverse.residual_squared(View<const float, 4, typename Exec::memory_space>(x)));
  };
  double lo = std::log(low), hi = std::log(high);
  if (residual(high) <= target) {
    choice.t = high;
  } else if (residual(low) >= target) {
    choice.t = low;
  } else {
    for (int k = 0; k < steps; ++k) {
      const double mid = 0.5 * (lo + hi);
      (residual(std::exp(mid)) > target ? hi : lo) = mid;
    }
    choice.t = std::exp(0.5 * (lo + hi));
  }
  choice.residual = residual(choice.t);
  return choice;
}

/// The parameter t chosen by generalised cross-validation for the family x(t) = solve(t * mu_direction,
/// t * nu_direction): the minimiser of GCV(t) = M ||A x(t) - y||^2 / (M - influence_trace(t))^2 (M the number
/// of measured values), searched on `points` values of log t evenly spread over [low, high] and refined by
/// golden-section search between the neighbours of the best (`refinements` steps). Needs no noise level.
/// x holds x(t) on return; DiscrepancyChoice::residual is sqrt(||A x(t) - y||^2).
struct GcvChoice : DiscrepancyChoice {
  double gcv = 0;    ///< GCV(t)
  double trace = 0;  ///< influence_trace(t)
};

template <class Exec>
GcvChoice choose_by_gcv(const FourierRegularizedInverse<Exec>& inverse, double mu_direction, double nu_direction,
                        const View<float, 4, typename Exec::memory_space>& x, double low = 1e-6, double high = 1e3,
                        int points = 28, int refinements = 16) {
  require(low > 0 && high > low && points >= 3 && refinements >= 0, "choose_by_gcv: invalid bracket");
  GcvChoice choice;
  const double m = static_cast<double>(inverse.measurement_count());
  const auto gcv = [&](double log_t) {
    const double t = std::exp(log_t);
    inverse.solve(t * mu_direction, t * nu_direction, x);
    ++choice.evaluations;
    const double r2 = inverse.residual_squared(View<const float, 4, typename Exec::memory_space>(x));
    const double free = m - inverse.influence_trace(t * mu_direction, t * nu_direction);
    return free > 0 ? m * r2 / (free * free) : std::numeric_limits<double>::infinity();
  };
  const double a = std::log(low), b = std::log(high), step = (b - a) / (points - 1);
  int best = 0;
  double best_value = std::numeric_limits<double>::infinity();
  for (int k = 0; k < points; ++k) {
    const double value = gcv(a + k * step);
    if (value < best_value) {
      best_value = value;
      best = k;
    }
  }
  double lo = a + std::max(0, best - 1) * step, hi = a + std::min(points - 1, best + 1) * step;
  const double ratio = 0.5 * (std::sqrt(5.0) - 1.0);
  double c = hi - ratio * (hi - lo), d = lo + ratio * (hi - lo);
  double fc = gcv(c), fd = gcv(d);
  for (int k = 0; k < refinements; ++k) {
    if (fc < fd) {
      hi = d, d = c, fd = fc, c = hi - ratio * (hi - lo), fc = gcv(c);
    } else {
      lo = c, c = d, fc = fd, d = lo + ratio * (hi - lo), fd = gcv(d);
    }
  }
  double log_t = fc < fd ? c : d;
  if (std::min(fc, fd) > best_value) log_t = a + best * step;
  choice.t = std::exp(log_t);
  choice.gcv = gcv(log_t);
  choice.residual = std::sqrt(inverse.residual_squared(View<const float, 4, typename Exec::memory_space>(x)));
  choice.trace = inverse.influence_trace(choice.t * mu_direction, choice.t * nu_direction);
  return choice;
}

}  // namespace pnpdist::blur
