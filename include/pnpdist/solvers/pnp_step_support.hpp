#pragma once
/// \file
/// What the PnP algorithms (proximal_gradient.hpp, half_quadratic_splitting.hpp, admm.hpp) share:
///
///   denoise_domain(prior, z, sigma, out)   D_sigma on an iterate of the physics' domain: the domain of rank R
///                                          is seen by a denoiser of rank Q >= R with Q - R leading unit axes
///                                          ((H, W) -> (1, 1, H, W), (C, H, W) -> (1, C, H, W), ...)
///   clip_to(exec, x, clip)                 x clamped to [low, high] when a clip interval is given
///   AlgorithmHash                          the numbers that determine an algorithm's iterates, for checkpoints

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "pnpdist/priors/denoiser.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

/// out = D_sigma(z) for iterates of the physics' domain (see the file comment).
template <Denoiser Prior, class T, std::size_t R, class Space>
void denoise_domain(Prior& prior, const View<const T, R, Space>& z, double sigma, const View<T, R, Space>& out) {
  constexpr std::size_t Q = Prior::rank;
  static_assert(std::is_same_v<T, typename Prior::value_type>, "PnPSolver: physics and denoiser value types differ");
  static_assert(std::is_same_v<Space, typename Prior::executor_type::memory_space>,
                "PnPSolver: physics and denoiser live in different memory spaces");
  static_assert(Q >= R, "PnPSolver: the denoiser's rank is lower than the physics' domain rank");
  Extents<Q> shape{};
  for (std::size_t d = 0; d < Q; ++d) shape[d] = d < Q - R ? 1 : z.extent(d - (Q - R));
  prior.denoise(reshape<Q>(z, shape), static_cast<T>(sigma), reshape<Q>(out, shape));
}

/// x clamped to [clip->first, clip->second] when clip is set.
template <class Exec, class T, std::size_t R>
void clip_to(const Exec& exec, const View<T, R, typename Exec::memory_space>& x,
             const std::optional<std::pair<double, double>>& clip) {
  if (clip) clamp(exec, x, static_cast<T>(clip->first), static_cast<T>(clip->second));
}

/// The numbers that determine an algorithm's iterates (hashed into the checkpoint's options hash).
struct AlgorithmHash {
  std::vector<double> values;
  AlgorithmHash& add(double v) {
    values.push_back(v);
    return *this;
  }
  template <class V>
  AlgorithmHash& add(const std::optional<V>& v) {
    values.push_back(v ? 1.0 : 0.0);
    values.push_back(v ? static_cast<double>(*v) : 0.0);
    return *this;
  }
};

}  // namespace pnpdist
