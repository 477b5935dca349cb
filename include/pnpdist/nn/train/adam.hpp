#pragma once
/// \file
/// Adam (Kingma & Ba 2015) over a ParameterStore's flat arrays, with a cosine-decayed learning rate and
/// clipping of the gradient's global Euclidean norm, as Adler & Oktem train learned primal-dual
/// (lr 1e-3, beta2 0.99, clip 1). One step t = 1, 2, ...:
///
///     g   <- g * min(1, clip / ||g||)                       (clip <= 0: no clipping)
///     lr  =  lr0 * (1 + cos(pi * (t - 1) / total_steps)) / 2 (total_steps <= 0: constant lr0)
///     m   <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
///     x   <- x - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)
///
/// The state (m, v, t) is plain data, so a checkpoint of (values, m, v, t) resumes bit for bit. The
/// gradient norm is summed serially in the flat order: deterministic.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/nn/train/parameters.hpp"

namespace pnpdist::nn::train {

/// Hyper-parameters of Adam (see the file comment).
struct AdamOptions {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.99;
  double epsilon = 1e-8;
  double clip_norm = 1.0;    ///< <= 0: no clipping
  index_t total_steps = 0;   ///< length of the cosine decay; <= 0: constant learning rate

  /// Throws invalid_argument naming the first field out of range.
  void validate() const {
    const auto check = [](bool ok, const std::string& what) {
      require(ok, [&] { return "AdamOptions: " + what; });
    };
    check(std::isfinite(learning_rate) && learning_rate > 0, "learning_rate must be positive and finite");
    check(beta1 >= 0 && beta1 < 1, "beta1 must lie in [0, 1)");
    check(beta2 >= 0 && beta2 < 1, "beta2 must lie in [0, 1)");
    check(epsilon > 0, "epsilon must be positive");
    check(std::isfinite(clip_norm), "clip_norm must be finite");
  }
};

template <class T>
class Adam {
public:
  explicit Adam(index_t parameters, AdamOptions options = {})
      : options_(options), m_(static_cast<std::size_t>(parameters), T(0)), v_(m_) {
    options_.validate();
  }

  /// The learning rate of step t (1-based).
  [[nodiscard]] double learning_rate(index_t t) const {
    if (options_.total_steps <= 0) return options_.learning_rate;
    const double progress = std::min(1.0, static_cast<double>(t - 1) / static_cast<double>(options_.total_steps));
    return options_.learning_rate * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  }

  /// One update of `store` from its gradients (clipped in place); returns the gradient norm before clipping.
  double step(ParameterStore<T>& store) {
    require<dimension_mismatch>(store.size() == static_cast<index_t>(m_.size()), [&] {
      return "Adam::step: the optimizer has state for " + std::to_string(m_.size()) + " values, the store holds " +
             std::to_string(store.size());
    });
    std::vector<T>& g = store.gradients();
    std::vector<T>& x = store.values();
    double squared = 0;
    for (T gi : g) squared += static_cast<double>(gi) * static_cast<double>(gi);
    const double norm = std::sqrt(squared);
    const T scale = options_.clip_norm > 0 && norm > options_.clip_norm ? static_cast<T>(options_.clip_norm / norm) : T(1);
    ++t_;
    const double lr = learning_rate(t_);
    const T b1 = static_cast<T>(options_.beta1), b2 = static_cast<T>(options_.beta2);
    const T c1 = static_cast<T>(1.0 - std::pow(options_.beta1, static_cast<double>(t_)));
    const T c2 = static_cast<T>(1.0 - std::pow(options_.beta2, static_cast<double>(t_)));
    const T rate = static_cast<T>(lr), eps = static_cast<T>(options_.epsilon);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const T gi = g[i] * scale;
      g[i] = gi;
      m_[i] = b1 * m_[i] + (T(1) - b1) * gi;
      v_[i] = b2 * v_[i] + (T(1) - b2) * gi * gi;
      x[i] -= rate * (m_[i] / c1) / (std::sqrt(v_[i] / c2) + eps);
    }
    return norm;
  }

  [[nodiscard]] const AdamOptions& options() const { return options_; }
  [[nodiscard]] index_t steps() const { return t_; }
  [[nodiscard]] std::vector<T>& first_moment() { return m_; }
  [[nodiscard]] std::vector<T>& second_moment() { return v_; }
  /// Sets the number of steps taken (when the moments are restored from a checkpoint).
  void set_steps(index_t t) {
    require(t >= 0, "Adam::set_steps: the step count must be >= 0");
    t_ = t;
  }

private:
  AdamOptions options_;
  std::vector<T> m_, v_;
  index_t t_ = 0;
};

}  // namespace pnpdist::nn::train
