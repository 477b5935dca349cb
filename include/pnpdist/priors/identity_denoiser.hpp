#pragma once
/// \file
/// IdentityDenoiser: y = x for every sigma. A Denoiser (priors/denoiser.hpp) for tests and for Plug-and-Play
/// runs without a prior.

#include <cstddef>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

template <class T, std::size_t Rank, class Exec>
class IdentityDenoiser {
public:
  using value_type = T;
  using executor_type = Exec;
  static constexpr std::size_t rank = Rank;

  explicit IdentityDenoiser(const Exec& exec = Exec{}) : exec_(exec) {}
  [[nodiscard]] Exec executor() const { return exec_; }

  /// y = x (sigma is ignored). Throws dimension_mismatch when the extents differ.
  void denoise(const View<const T, Rank, typename Exec::memory_space>& x, T /*sigma*/,
               const View<T, Rank, typename Exec::memory_space>& y) {
    copy(exec_, x, y);
  }

private:
  Exec exec_;
};

}  // namespace pnpdist
