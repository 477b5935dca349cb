#pragma once
/// \file
/// transform_reduce on the Cuda executor, with the fixed combination order of backend/reduce.hpp: one
/// block of reduction_lanes threads per chunk; thread l computes reduce_lane(chunk, l, ...) into shared
/// memory, then the block combines the lanes by the same binary tree as reduce_lanes_tree (one tree level
/// between two barriers). The chunk results are reduced again, level by level, exactly like the host loop,
/// until one value is left. Hence the result has the same bits as on the host executors, provided f and op
/// round identically on host and device (beware of nvcc contracting a * b + c into an FMA: compile with
/// --fmad=false where bit equality with the host matters).
///
/// Memory: two device buffers of reduction_chunk_count(n) and reduction_chunk_count(that) values, allocated
/// through CudaSpace (tracked) and freed before returning. Copies: exactly one, the result, device to host
/// (counted by copy_tracker()). The call synchronizes exec.stream.
///
/// Launching needs a translation unit compiled by nvcc (see backend/cuda/for_each.hpp); elsewhere the call
/// throws pnpdist::not_compiled.

#include <cstddef>
#include <limits>
#include <type_traits>

#include "pnpdist/backend/cuda/cuda_executor.hpp"
#include "pnpdist/backend/cuda/cuda_space.hpp"
#include "pnpdist/backend/cuda/launch.hpp"
#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/backend/reduce.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {
namespace detail {

/// Device storage for `count` values of T, freed on scope exit.
template <class T>
class CudaScratch {
public:
  explicit CudaScratch(index_t count)
      : bytes_(static_cast<std::size_t>(count) * sizeof(T)), data_(static_cast<T*>(CudaSpace::allocate(bytes_))) {}
  ~CudaScratch() { CudaSpace::deallocate(data_, bytes_); }
  CudaScratch(const CudaScratch&) = delete;
  CudaScratch& operator=(const CudaScratch&) = delete;
  [[nodiscard]] T* data() const { return data_; }

private:
  std::size_t bytes_;
  T* data_;
};

#if defined(PNPDIST_CUDA_KERNELS_AVAILABLE)
/// Block b reduces chunk b of f(0..n-1) into partials[b]. Launched with reduction_lanes threads per block
/// and reduction_lanes * sizeof(value_type) bytes of dynamic shared memory.
template <class Op, class F>
__global__ void cuda_reduce_chunks_kernel(typename Op::value_type* partials, index_t n, Op op, F f) {
  using T = typename Op::value_type;
  T* lanes = cuda_dynamic_shared<T>();
  const index_t chunk = static_cast<index_t>(blockIdx.x);
  const index_t lane = static_cast<index_t>(threadIdx.x);
  lanes[lane] = reduce_lane(chunk, lane, n, op, f);
  __syncthreads();
  // The tree of reduce_lanes_tree: at each level, lane l < stride combines lanes l and l + stride.
  for (index_t stride = reduction_lanes / 2; stride > 0; stride /= 2) {
    if (lane < stride) lanes[lane] = op(lanes[lane], lanes[lane + stride]);
    __syncthreads();
  }
  if (lane == 0) partials[chunk] = lanes[0];
}

/// Launches one reduction level: chunk_count blocks reduce f(0..n-1) into `partials`.
template <class Op, class F>
inline void cuda_reduce_level(const Cuda& exec, typename Op::value_type* partials, index_t n, const Op& op,
                              const F& f) {
  const index_t chunks = reduction_chunk_count(n);
  require(chunks <= std::numeric_limits<int>::max(),
          "transform_reduce on the Cuda executor: too many chunks for one grid");
  cuda_launch(dim3(static_cast<unsigned>(chunks)), dim3(static_cast<unsigned>(reduction_lanes)),
              static_cast<std::size_t>(reduction_lanes) * sizeof(typename Op::value_type), exec.stream,
              &cuda_reduce_chunks_kernel<Op, F>, partials, n, op, f);
}
#endif

}  // namespace detail

/// op-reduction of f(0..n-1) on the device (the identity for n <= 0), bit-identical to the host executors'
/// transform_reduce (see the file comment). Blocks until the result is on the host. Throws cuda_error when
/// a CUDA call or a kernel fails, not_compiled outside nvcc-compiled code.
template <class Op, class F>
inline typename Op::value_type transform_reduce(const Cuda& exec, index_t n, const Op& op, const F& f) {
  using T = typename Op::value_type;
  static_assert(std::is_trivially_copyable_v<T>, "transform_reduce on Cuda: the value type must be trivially copyable");
  if (n <= 0) return Op::identity();
#if defined(PNPDIST_CUDA_KERNELS_AVAILABLE)
  index_t count = reduction_chunk_count(n);
  detail::CudaScratch<T> first(count);
  detail::CudaScratch<T> second(count > 1 ? reduction_chunk_count(count) : 0);
  T* current = first.data();
  T* other = second.data();
  detail::cuda_reduce_level(exec, current, n, op, f);
  while (count > 1) {  // the host loop: reduce the partials of the previous level, chunk by chunk
    detail::cuda_reduce_level(exec, other, count, op, detail::ReadPartial<T>{current});
    count = reduction_chunk_count(count);
    T* const swap = current;
    current = other;
    other = swap;
  }
  synchronize(exec);
  T result = Op::identity();
  SpaceCopy<HostSpace, CudaSpace>::copy(&result, current, sizeof(T));
  return result;
#else
  (void)exec;
  (void)op;
  (void)f;
  throw not_compiled(
      "pnpdist::transform_reduce on the Cuda executor: compile this translation unit with nvcc "
      "(and link the pnpdist::cuda component)");
#endif
}

}  // namespace pnpdist
