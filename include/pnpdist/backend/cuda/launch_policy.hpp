#pragma once
/// \file
/// CudaPolicy: the launch shape of the Cuda executor (backend/launch_policy.hpp). A launch over n
/// iterations runs a grid-stride kernel of `block_size` threads per block on
///
///     blocks(n) = min(ceil(ceil(n / block_size) / iterations_per_thread), max_blocks)
///
/// blocks: one thread per iteration by default, about `iterations_per_thread` iterations per thread when
/// asked, and never more than `max_blocks` blocks (the grid-stride loop covers the rest, each thread taking
/// the indices i, i + grid threads, ..., so consecutive threads still touch consecutive elements). N-D
/// spaces run one thread per multi-index (MDShape::elements), and kernels with two forms take their
/// per-element form (KernelForm::per_element). The default (256 threads, at most 4096
/// blocks, one iteration per thread) is the shape every plain Cuda for_each has; callers override it per
/// launch. The constructor refuses shapes a launch would reject or that waste warps. Host code only.

#include <string>

#include "pnpdist/backend/cuda/cuda_executor.hpp"
#include "pnpdist/backend/launch_policy.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// Threads per block of a plain Cuda for_each launch.
inline constexpr index_t cuda_for_each_block_size = 256;
/// Upper bound on the blocks of a plain for_each launch: 4096 blocks of 256 threads are about four times
/// the resident threads of an H100; larger index spaces are covered by the grid-stride loop.
inline constexpr index_t cuda_for_each_max_blocks = 4096;
/// Threads of a warp; block sizes are multiples of it.
inline constexpr index_t cuda_warp_size = 32;
/// Most threads a CUDA block can hold (every architecture since sm_20).
inline constexpr index_t cuda_max_block_size = 1024;
/// Most blocks of a grid's x dimension (2^31 - 1, sm_30 and later).
inline constexpr index_t cuda_max_grid_blocks = 2147483647;

class CudaPolicy {
public:
  static constexpr MDShape md_shape = MDShape::elements;
  static constexpr KernelForm kernel_form = KernelForm::per_element;

  /// The default shape: 256 threads per block, at most 4096 blocks, one iteration per thread.
  constexpr CudaPolicy() = default;
  /// Throws invalid_argument unless 32 <= block_size <= 1024 with block_size a multiple of 32,
  /// 1 <= max_blocks <= 2^31 - 1 and iterations_per_thread >= 1.
  explicit CudaPolicy(index_t block_size, index_t max_blocks = cuda_for_each_max_blocks,
                      index_t iterations_per_thread = 1)
      : block_size_(block_size), max_blocks_(max_blocks), iterations_per_thread_(iterations_per_thread) {
    if (block_size < cuda_warp_size || block_size > cuda_max_block_size)
      throw invalid_argument("pnpdist::CudaPolicy: block size " + std::to_string(block_size) +
                             " is outside [32, 1024] (a CUDA block holds at most 1024 threads)");
    if (block_size % cuda_warp_size != 0)
      throw invalid_argument("pnpdist::CudaPolicy: block size " + std::to_string(block_size) +
                             " is not a multiple of the warp size 32 (the last warp would run partly empty)");
    if (max_blocks < 1 || max_blocks > cuda_max_grid_blocks)
      throw invalid_argument("pnpdist::CudaPolicy: block limit " + std::to_string(max_blocks) +
                             " is outside [1, 2^31 - 1]");
    if (iterations_per_thread < 1)
      throw invalid_argument("pnpdist::CudaPolicy: " + std::to_string(iterations_per_thread) +
                             " iterations per thread (at least 1)");
  }

  [[nodiscard]] constexpr index_t block_size() const { return block_size_; }
  [[nodiscard]] constexpr index_t max_blocks() const { return max_blocks_; }
  [[nodiscard]] constexpr index_t iterations_per_thread() const { return iterations_per_thread_; }

  /// The same policy with another block size / block limit / iterations per thread (validated alike).
  [[nodiscard]] CudaPolicy with_block_size(index_t b) const {
    return CudaPolicy(b, max_blocks_, iterations_per_thread_);
  }
  [[nodiscard]] CudaPolicy with_max_blocks(index_t m) const {
    return CudaPolicy(block_size_, m, iterations_per_thread_);
  }
  [[nodiscard]] CudaPolicy with_iterations_per_thread(index_t k) const {
    return CudaPolicy(block_size_, max_blocks_, k);
  }

  /// Blocks of a launch over n > 0 iterations (the file comment's formula; no overflow for any n).
  [[nodiscard]] constexpr index_t blocks(index_t n) const {
    const index_t one_per_thread = n / block_size_ + (n % block_size_ != 0 ? 1 : 0);
    const index_t blocks =
        one_per_thread / iterations_per_thread_ + (one_per_thread % iterations_per_thread_ != 0 ? 1 : 0);
    return blocks < max_blocks_ ? blocks : max_blocks_;
  }

private:
  index_t block_size_ = cuda_for_each_block_size;
  index_t max_blocks_ = cuda_for_each_max_blocks;
  index_t iterations_per_thread_ = 1;
};

/// The shape of Cuda's plain launches: CudaPolicy{} (256 threads per block, at most 4096 blocks).
constexpr CudaPolicy default_launch_policy(const Cuda&) { return {}; }

}  // namespace pnpdist
