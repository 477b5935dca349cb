#pragma once
// Helpers of the nn tests: fixture paths, relative comparison.
#include <pnpdist/tensor/owning_tensor.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace pnpdist::test {

inline std::string nn_fixture(const std::string& name) { return std::string(PNPDIST_NN_FIXTURES) + "/" + name; }

/// max |a - b| / max |b|: the relative error of a against the reference b.
template <class A, class B>
inline double relative_error(const A& a, const B& b) {
  double diff = 0, scale = 0;
  for (index_t i = 0; i < b.size(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(a.data()[i]) - static_cast<double>(b.data()[i])));
    scale = std::max(scale, std::abs(static_cast<double>(b.data()[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

}  // namespace pnpdist::test
