#pragma once
/// \file
/// OpenMPPolicy: the launch shape of the OpenMP executor (launch_policy.hpp). A launch of fewer iterations
/// than the serial threshold runs in the calling thread (waking the team costs more than it saves);
/// larger ones split the iterations statically over the team, in equal contiguous blocks (chunk 0, the
/// default: each thread walks one contiguous, cache-friendly stretch) or round-robin chunks of `chunk`
/// iterations. N-D spaces run as rows, the threshold divided by the row length.

#include <string>

#include "pnpdist/backend/launch_policy.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// The default serial threshold of OpenMP launches: for light iterations (one element each) waking the
/// team costs more than it saves below about 16k (axpby measured on 2 cores).
inline constexpr index_t openmp_min_parallel_iterations = 16384;

/// The serial threshold for iterations that each cost about `elements_per_iteration` element-wise
/// updates: `threshold` divided by that cost, rounded up.
constexpr index_t threshold_for_iteration_cost(index_t threshold, index_t elements_per_iteration) {
  return elements_per_iteration > 1 ? (threshold + elements_per_iteration - 1) / elements_per_iteration : threshold;
}

class OpenMPPolicy {
public:
  static constexpr MDShape md_shape = MDShape::rows;
  static constexpr KernelForm kernel_form = KernelForm::coarse;

  /// The OpenMP default team, the default threshold, equal contiguous blocks.
  constexpr OpenMPPolicy() = default;
  /// `threads`: team size (0: the OpenMP default, OMP_NUM_THREADS or the number of cores);
  /// `min_parallel_iterations`: launches with fewer iterations run in the calling thread (0: never);
  /// `chunk`: iterations per round-robin chunk (0: one contiguous block per thread). Throws
  /// invalid_argument when any is negative.
  explicit OpenMPPolicy(int threads, index_t min_parallel_iterations = openmp_min_parallel_iterations,
                        index_t chunk = 0)
      : threads_(threads), min_parallel_iterations_(min_parallel_iterations), chunk_(chunk) {
    if (threads < 0)
      throw invalid_argument("pnpdist::OpenMPPolicy: negative team size " + std::to_string(threads) +
                             " (0 means the OpenMP default)");
    if (min_parallel_iterations < 0)
      throw invalid_argument("pnpdist::OpenMPPolicy: negative serial threshold " +
                             std::to_string(min_parallel_iterations) + " (0 means always parallel)");
    if (chunk < 0)
      throw invalid_argument("pnpdist::OpenMPPolicy: negative chunk " + std::to_string(chunk) +
                             " (0 means one contiguous block per thread)");
  }

  [[nodiscard]] constexpr int threads() const { return threads_; }
  [[nodiscard]] constexpr index_t min_parallel_iterations() const { return min_parallel_iterations_; }
  [[nodiscard]] constexpr index_t chunk() const { return chunk_; }

  /// The policy for iterations that each cost about `elements_per_iteration` element-wise updates (the
  /// rows of an N-D launch, reduction chunks): the serial threshold divided by that cost.
  [[nodiscard]] constexpr OpenMPPolicy with_iteration_cost(index_t elements_per_iteration) const {
    OpenMPPolicy p = *this;
    p.min_parallel_iterations_ = threshold_for_iteration_cost(min_parallel_iterations_, elements_per_iteration);
    return p;
  }

private:
  int threads_ = 0;
  index_t min_parallel_iterations_ = openmp_min_parallel_iterations;
  index_t chunk_ = 0;
};

}  // namespace pnpdist
