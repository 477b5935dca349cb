#pragma once
/// \file
/// for_each on the Cuda executor: f(i) for i = 0 .. n-1 by a grid-stride kernel, launched through
/// cuda_launch() in exec.stream (asynchronous). f is copied to the device by value: it must be trivially
/// copyable, its call operator PNPDIST_HOST_DEVICE (or a __device__ lambda) and its iterations independent.
/// The N-D for_each(exec, extents, f) on Cuda launches one thread per multi-index (the host version's
/// row-per-iteration split would leave GPU threads with whole rows and uncoalesced accesses).
///
/// Launching needs a translation unit compiled by nvcc (PNPDIST_CUDA_KERNELS_AVAILABLE, see launch.hpp).
/// Elsewhere this header still compiles, and a launch throws pnpdist::not_compiled. The two bodies do not
/// collide at link time: Cuda is in an inline namespace named by the compilation mode (abi_tag.hpp), so an
/// nvcc-compiled and a host-compiled instantiation have different mangled names.

#include "pnpdist/backend/cuda/cuda_executor.hpp"
#include "pnpdist/backend/cuda/launch.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/backend/launch_cost.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

#include <cstddef>
#include <utility>

namespace pnpdist {

/// Threads per block of a for_each launch.
inline constexpr index_t cuda_for_each_block_size = 256;
/// Upper bound on the blocks of a for_each launch: 4096 blocks of 256 threads are about four times the
/// resident threads of an H100; larger index spaces are covered by the grid-stride loop.
inline constexpr index_t cuda_for_each_max_blocks = 4096;

/// Blocks of a for_each launch over n > 0 indices: one thread per index up to cuda_for_each_max_blocks.
constexpr index_t cuda_for_each_block_count(index_t n) {
  const index_t blocks = (n + cuda_for_each_block_size - 1) / cuda_for_each_block_size;
  return blocks < cuda_for_each_max_blocks ? blocks : cuda_for_each_max_blocks;
}

#if defined(PNPDIST_CUDA_KERNELS_AVAILABLE)
namespace detail {

template <class F>
__global__ void cuda_for_each_kernel(index_t n, F f) {
  const index_t stride = static_cast<index_t>(blockDim.x) * static_cast<index_t>(gridDim.x);
  for (index_t i = static_cast<index_t>(blockIdx.x) * static_cast<index_t>(blockDim.x) + threadIdx.x; i < n;
       i += stride)
    f(i);
}

}  // namespace detail
#endif

/// Calls f(i) for i = 0 .. n-1 on the device, in no particular order; returns before the kernel completes.
/// Throws cuda_error when the launch is rejected, not_compiled outside nvcc-compiled code.
template <class F>
inline void for_each(const Cuda& exec, index_t n, const F& f) {
  if (n <= 0) return;
#if defined(PNPDIST_CUDA_EMULATION)
  // The emulation's launch census records the bytes and samples a kernel declares (launch_cost.hpp).
  if constexpr (DeclaresLaunchCost<F>) {
    if (pnpdist_cuda_emulator::recording_launches()) {
      const LaunchCost cost = f.launch_cost(n);
      pnpdist_cuda_emulator::declare_launch_cost(cost.bytes_read, cost.bytes_written, cost.samples, cost.searches,
                                                  cost.checks);
    }
  }
#endif
#if defined(PNPDIST_CUDA_KERNELS_AVAILABLE)
  cuda_launch(dim3(static_cast<unsigned>(cuda_for_each_block_count(n))),
              dim3(static_cast<unsigned>(cuda_for_each_block_size)), 0, exec.stream, &detail::cuda_for_each_kernel<F>,
              n, f);
#else
  (void)exec;
  (void)f;
  throw not_compiled(
      "pnpdist::for_each on the Cuda executor: compile this translation unit with nvcc "
      "(and link the pnpdist::cuda component)");
#endif
}

namespace detail {

/// Calls f(i0, ..., i_{R-1}) for the multi-index of row-major position `linear`.
template <std::size_t Rank, class F>
struct MultiIndexKernel {
  Extents<Rank> extents;
  F f;

  PNPDIST_HOST_DEVICE void operator()(index_t linear) const { call(linear, std::make_index_sequence<Rank>{}); }

  /// The cost f declares, when it declares one (launch_cost.hpp): the same iterations.
  [[nodiscard]] LaunchCost launch_cost(index_t iterations) const
    requires DeclaresLaunchCost<F>
  {
    return f.launch_cost(iterations);
  }

private:
  template <std::size_t... D>
  PNPDIST_HOST_DEVICE void call(index_t linear, std::index_sequence<D...>) const {
    index_t index[Rank] = {};
    for (std::size_t d = Rank; d-- > 0;) {
      index[d] = linear % extents[d];
      linear /= extents[d];
    }
    f(index[D]...);
  }
};

}  // namespace detail

/// Calls f(i0, ..., i_{R-1}) for every index of `extents` on the device, one thread per multi-index
/// (consecutive threads take consecutive last indices, so row-major accesses coalesce).
template <std::size_t Rank, class F>
inline void for_each(const Cuda& exec, const Extents<Rank>& extents, const F& f) {
  static_assert(Rank >= 1, "for_each over a rank-0 index space");
  for_each(exec, product(extents), detail::MultiIndexKernel<Rank, F>{extents, f});
}

}  // namespace pnpdist
