#pragma once
/// \file
/// Mean squared error loss of a training step on host arrays: L = sum_i (x_i - y_i)^2 / size, and its
/// gradient dL/dx_i = 2 (x_i - y_i) / size. The sum runs serially in index order in double: deterministic.

#include <string>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist::nn::train {

/// Returns L; writes dL/dx into `gradient` (size elements; may be nullptr). Throws invalid_argument when
/// size <= 0.
template <class T>
inline double mse_loss(index_t size, const T* x, const T* target, T* gradient) {
  require(size > 0, [&] { return "mse_loss: the tensors are empty (size " + std::to_string(size) + ")"; });
  double sum = 0;
  const double scale = 2.0 / static_cast<double>(size);
  for (index_t i = 0; i < size; ++i) {
    const double d = static_cast<double>(x[i]) - static_cast<double>(target[i]);
    sum += d * d;
    if (gradient) gradient[i] = static_cast<T>(scale * d);
  }
  return sum / static_cast<double>(size);
}

}  // namespace pnpdist::nn::train
