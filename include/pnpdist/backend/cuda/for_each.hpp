#pragma once
/// \file
/// for_each on the Cuda executor: f(i) for i in a Range by a grid-stride kernel in the shape of a
/// CudaPolicy (cuda/launch_policy.hpp), launched through cuda_launch() in exec.stream (asynchronous). f is
/// copied to the device by value: it must be trivially copyable, its call operator PNPDIST_HOST_DEVICE (or
/// a __device__ lambda) and its iterations independent. N-D spaces (backend/for_each.hpp) run one thread
/// per multi-index under the same policy (the host's row-per-iteration split would leave GPU threads with
/// whole rows and uncoalesced accesses).
///
/// Launching needs a translation unit compiled by nvcc (PNPDIST_CUDA_KERNELS_AVAILABLE, see launch.hpp).
/// Elsewhere this header still compiles, and a launch throws pnpdist::not_compiled. The two bodies do not
/// collide at link time: Cuda is in an inline namespace named by the compilation mode (abi_tag.hpp), so an
/// nvcc-compiled and a host-compiled instantiation have different mangled names.

#include "pnpdist/backend/cuda/cuda_executor.hpp"
#include "pnpdist/backend/cuda/launch.hpp"
#include "pnpdist/backend/cuda/launch_policy.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/backend/iteration_space.hpp"
#include "pnpdist/backend/launch_cost.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

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

/// Calls f(i) for i in `range` on the device, in no particular order, on policy.blocks(n) blocks of
/// policy.block_size() threads; returns before the kernel completes. Throws cuda_error when the launch is
/// rejected, not_compiled outside nvcc-compiled code.
template <class F>
inline void for_each(const Cuda& exec, const CudaPolicy& policy, Range range, const F& f) {
  const index_t n = range.size();
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
  cuda_launch(dim3(static_cast<unsigned>(policy.blocks(n))), dim3(static_cast<unsigned>(policy.block_size())), 0,
              exec.stream, &detail::cuda_for_each_kernel<F>, n, f);
#else
  (void)exec;
  (void)policy;
  (void)f;
  throw not_compiled(
      "pnpdist::for_each on the Cuda executor: compile this translation unit with nvcc "
      "(and link the pnpdist::cuda component)");
#endif
}

/// Calls f(i) for i = 0 .. n-1 on the device in the default shape (CudaPolicy{}).
template <class F>
inline void for_each(const Cuda& exec, index_t n, const F& f) {
  for_each(exec, CudaPolicy{}, Range{n}, f);
}

}  // namespace pnpdist
