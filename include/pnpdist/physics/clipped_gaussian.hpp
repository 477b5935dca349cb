#pragma once
/// \file
/// Measurements clipped after Gaussian noise: y = clamp(A x + n, lower, upper), n ~ N(0, sigma^2) per sample
/// (a sensor's zero floor and saturation; the examples' simulated data are clamped to [0, 1]). A sample at a
/// bound only says that A x + n reached it, so the negative log-likelihood of the data, times sigma^2 so that
/// unclipped samples keep the usual 1/2 (A x - y)^2, is (the Tobit model)
///
///     f(x) = sum over unclipped samples   1/2 (mu - y)^2          (mu: the sample's value of A x)
///          + sum over samples at `lower`  -sigma^2 log Phi((lower - mu) / sigma)
///          + sum over samples at `upper`  -sigma^2 log Phi((mu - upper) / sigma)
///
/// (Phi the standard normal distribution function; convex in mu). Its gradient at x is that of the Gaussian
/// term 1/2 ||A x - y_hat||^2 in which every clipped sample is replaced by its conditional mean given the
/// bound (the E-step of expectation-maximisation):
///
///     y_hat = mu - sigma R((lower - mu) / sigma)   at lower,
///     y_hat = mu + sigma R((mu - upper) / sigma)   at upper,      R(t) = phi(t) / Phi(t) (inverse Mills ratio)
///
/// and that Gaussian term majorises f around x (up to a constant), so a data step on it decreases f
/// (majorise-minimise). Samples strictly inside (lower, upper) keep y_hat = y. R and log Phi are evaluated in
/// double, stable for any argument (erfc, and their asymptotic series far in the tail).

#include <cmath>
#include <string>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// The clipping model of measurements (see the file comment).
struct ClippedGaussianNoise {
  double sigma = 0;  ///< standard deviation of the Gaussian noise before clipping (> 0)
  double lower = 0;  ///< samples <= lower were clipped there
  double upper = 1;  ///< samples >= upper were clipped there (> lower)

  /// Throws invalid_argument naming the first invalid setting.
  void validate() const {
    require(std::isfinite(sigma) && sigma > 0,
            [&] { return "ClippedGaussianNoise: sigma must be positive, got " + std::to_string(sigma); });
    require(std::isfinite(lower) && std::isfinite(upper) && lower < upper, [&] {
      return "ClippedGaussianNoise: need finite lower < upper, got [" + std::to_string(lower) + ", " +
             std::to_string(upper) + "]";
    });
  }
};

namespace clipped_gaussian {

/// u Phi(-u) / phi(u) = 1 - 1/u^2 + 3/u^4 - 15/u^6 + 105/u^8 - ..., for u >= 30 (next term below 2e-12).
PNPDIST_HOST_DEVICE double tail_series(double u) {
  const double v = 1.0 / (u * u);
  return 1.0 - v * (1.0 - v * (3.0 - v * (15.0 - v * 105.0)));
}

/// R(t) = phi(t) / Phi(t), for every finite t (about -t for t << 0, phi(t) for t >> 0).
PNPDIST_HOST_DEVICE double inverse_mills_ratio(double t) {
  if (t > -30.0) {
    const double phi = 0.3989422804014327 * std::exp(-0.5 * t * t);
    return phi / (0.5 * std::erfc(-t * 0.7071067811865476));
  }
  return -t / tail_series(-t);
}

/// log Phi(t), for every finite t.
PNPDIST_HOST_DEVICE double log_normal_cdf(double t) {
  if (t > -30.0) return std::log(0.5 * std::erfc(-t * 0.7071067811865476));
  const double u = -t;
  return -0.5 * u * u - 0.9189385332046727 - std::log(u) + std::log(tail_series(u));
}

/// The conditional mean y_hat of a sample with measured value y and noiseless value mu (file comment).
PNPDIST_HOST_DEVICE double conditional_mean(double y, double mu, double sigma, double lower, double upper) {
  if (y <= lower) return mu - sigma * inverse_mills_ratio((lower - mu) / sigma);
  if (y >= upper) return mu + sigma * inverse_mills_ratio((mu - upper) / sigma);
  return y;
}

/// The sample's term of f (file comment).
PNPDIST_HOST_DEVICE double negative_log_likelihood(double y, double mu, double sigma, double lower, double upper) {
  if (y <= lower) return -sigma * sigma * log_normal_cdf((lower - mu) / sigma);
  if (y >= upper) return -sigma * sigma * log_normal_cdf((mu - upper) / sigma);
  return 0.5 * (mu - y) * (mu - y);
}

/// out[e] <- conditional_mean(y[e], mu[e]); out may be mu.
template <class T>
struct ImputeKernel {
  const T* y;
  const T* mu;
  T* out;
  double sigma, lower, upper;
  PNPDIST_HOST_DEVICE void operator()(index_t e) const {
    out[e] =
        static_cast<T>(conditional_mean(static_cast<double>(y[e]), static_cast<double>(mu[e]), sigma, lower, upper));
  }
};

/// The term of sample e of f, in double (for transform_reduce).
template <class T>
struct NegativeLogLikelihoodKernel {
  const T* y;
  const T* mu;
  double sigma, lower, upper;
  PNPDIST_HOST_DEVICE double operator()(index_t e) const {
    return negative_log_likelihood(static_cast<double>(y[e]), static_cast<double>(mu[e]), sigma, lower, upper);
  }
};

/// 1 for a sample at a bound, 0 otherwise (for transform_reduce: the number of clipped samples).
template <class T>
struct ClippedCountKernel {
  const T* y;
  double lower, upper;
  PNPDIST_HOST_DEVICE index_t operator()(index_t e) const {
    const double v = static_cast<double>(y[e]);
    return (v <= lower || v >= upper) ? 1 : 0;
  }
};

}  // namespace clipped_gaussian

}  // namespace pnpdist
