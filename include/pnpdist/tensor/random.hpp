#pragma once
/// \file
/// Seeded random fills of views from the library's counter-based stream (core/philox.hpp). Element e of
/// a view, counted in row-major order, receives element e of the stream (seed, stream): the values depend
/// only on seed, stream, the extents and the element type, never on the executor, its thread count or
/// the view's strides. Measurement noise uses one stream per operator, so distributing operators over
/// ranks does not change the noise.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/philox.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

/// What a RandomFillKernel does with each generated value v and the element x it belongs to.
enum class RandomFillMode { uniform, normal, add_normal };

namespace detail {

/// Fills the elements of one Philox block (4 floats or 2 doubles) per call.
template <class T, class Elements, RandomFillMode Mode>
struct RandomFillKernel {
  Elements x;
  index_t n;
  PhiloxStream stream;
  T offset, scale;  // uniform: low + (high - low) u; normal: mean + stddev z; add_normal: x + stddev z

  PNPDIST_HOST_DEVICE void operator()(index_t block) const {
    constexpr index_t per_block = PhiloxBlock<T>::size;
    const auto values = Mode == RandomFillMode::uniform ? stream.uniform_block<T>(static_cast<std::uint64_t>(block))
                                                        : stream.normal_block<T>(static_cast<std::uint64_t>(block));
    for (index_t c = 0; c < per_block; ++c) {
      const index_t e = block * per_block + c;
      if (e >= n) break;
      T& target = x[e];
      if constexpr (Mode == RandomFillMode::add_normal)
        target += scale * values.v[c];
      else
        target = offset + scale * values.v[c];
    }
  }
};

template <RandomFillMode Mode, class Exec, class T, std::size_t Rank>
inline void random_fill(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x, std::uint64_t seed,
                        std::uint64_t stream, T offset, T scale) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "random fills need float or double");
  constexpr index_t per_block = PhiloxBlock<T>::size;
  const index_t blocks = (x.size() + per_block - 1) / per_block;
  with_elements(x, [&](auto elements) {
    for_each(
        exec, blocks,
        RandomFillKernel<T, decltype(elements), Mode>{elements, x.size(), PhiloxStream{seed, stream}, offset, scale});
  });
}

}  // namespace detail

/// x <- values uniform in the open interval (low, high). Throws invalid_argument unless low < high.
template <class Exec, class T, std::size_t Rank>
inline void fill_uniform(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x, std::uint64_t seed,
                         std::uint64_t stream, T low, T high) {
  require(low < high, [&] {
    return "fill_uniform: the interval (" + std::to_string(low) + ", " + std::to_string(high) +
           ") is empty or not ordered";
  });
  detail::random_fill<RandomFillMode::uniform>(exec, x, seed, stream, low, high - low);
}

/// x <- mean + stddev * z, z standard normal. Throws invalid_argument for a negative or NaN stddev.
template <class Exec, class T, std::size_t Rank>
inline void fill_normal(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x, std::uint64_t seed,
                        std::uint64_t stream, T mean, T stddev) {
  require(stddev >= T(0),
          [&] { return "fill_normal: the standard deviation " + std::to_string(stddev) + " is negative or NaN"; });
  detail::random_fill<RandomFillMode::normal>(exec, x, seed, stream, mean, stddev);
}

/// x <- x + sigma * z, z standard normal: additive white Gaussian noise. Throws invalid_argument for a
/// negative or NaN sigma.
template <class Exec, class T, std::size_t Rank>
inline void add_gaussian_noise(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x, T sigma,
                               std::uint64_t seed, std::uint64_t stream) {
  require(sigma >= T(0),
          [&] { return "add_gaussian_noise: the noise level " + std::to_string(sigma) + " is negative or NaN"; });
  detail::random_fill<RandomFillMode::add_normal>(exec, x, seed, stream, T(0), sigma);
}

}  // namespace pnpdist
