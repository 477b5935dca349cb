#pragma once
// relative_max_difference: the comparison to round-off that tests use between two results of the same size.
#include <pnpdist/core/types.hpp>

#include <algorithm>
#include <cmath>

namespace pnpdist::test {

/// max |a - b| / max |b| over two host containers of equal size (anything with size() and data(): tensors,
/// std::vector).
template <class A, class B>
inline double relative_max_difference(const A& a, const B& b) {
  double diff = 0;
  double scale = 0;
  for (index_t i = 0; i < static_cast<index_t>(b.size()); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(a.data()[i]) - static_cast<double>(b.data()[i])));
    scale = std::max(scale, std::abs(static_cast<double>(b.data()[i])));
  }
  return diff / std::max(scale, 1e-30);
}

}  // namespace pnpdist::test
