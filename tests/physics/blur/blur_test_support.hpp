#pragma once
// Shared helpers of the blur tests: fixture paths, random images, comparisons.
#include <pnpdist/io/npy.hpp>
#include <pnpdist/tensor/owning_tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "support/relative_difference.hpp"

namespace pnpdist::test {

inline std::string blur_fixture(const std::string& name) { return std::string(PNPDIST_BLUR_FIXTURES) + "/" + name; }

/// A host tensor with uniform values in [-1, 1) from a fixed linear congruential sequence.
template <std::size_t Rank>
inline Tensor<float, Rank, HostSpace> random_tensor(const Extents<Rank>& extents, std::uint32_t seed) {
  Tensor<float, Rank, HostSpace> t(extents);
  std::uint32_t s = seed * 2654435761u + 12345u;
  for (index_t i = 0; i < t.size(); ++i) {
    s = s * 1664525u + 1013904223u;
    t.data()[i] = static_cast<float>(static_cast<double>(s >> 8) / 8388608.0 - 1.0);
  }
  return t;
}

}  // namespace pnpdist::test
