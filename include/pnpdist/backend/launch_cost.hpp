#pragma once
/// \file
/// LaunchCost: what one kernel launch declares it touches, for the launch census and the GPU model
/// (docs/gpu_model.md). A kernel functor declares it with a host member
///
///     [[nodiscard]] LaunchCost launch_cost(index_t iterations) const;
///
/// (iterations: the index-space size of the launch, as for_each received it). The Cuda for_each asks for
/// it only while the CUDA emulation records launches (never in a build for a GPU, where the functor's
/// pointers are device pointers the host must not read), so it may be slow and may read the functor's
/// arrays on the host. Each kernel's comment says what its counts mean; the common definitions:
///   - bytes_read / bytes_written: the global-memory bytes the launch needs to read / write, each byte
///     counted once per launch (the traffic if every array it touches went through HBM once);
///   - samples: the kernel's unit of arithmetic work, one multiply-add or one copied element: an
///     interpolation tap (Joseph projections and their gather), a multiply-add of a convolution tap, a
///     complex product (spectrum multiply), an element (copies and transposes);
///   - searches / checks: for a kernel that searches for its samples (the CT gather back projection), the
///     searches (one per output element, view and dominant axis) and the candidates they examine, giving a
///     sample or not; zero for the other kernels.

#include <concepts>
#include <cstdint>

#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// Bytes and samples of one kernel launch (see the file comment).
struct LaunchCost {
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t samples = 0;
  std::uint64_t searches = 0;
  std::uint64_t checks = 0;
  friend constexpr bool operator==(const LaunchCost&, const LaunchCost&) = default;
};

/// A kernel functor that declares its LaunchCost for a launch of n iterations.
template <class F>
concept DeclaresLaunchCost = requires(const F& f, index_t n) {
  { f.launch_cost(n) } -> std::same_as<LaunchCost>;
};

/// n elements of T, in bytes.
template <class T>
constexpr std::uint64_t bytes_of(index_t n) {
  return static_cast<std::uint64_t>(n) * sizeof(T);
}

}  // namespace pnpdist
