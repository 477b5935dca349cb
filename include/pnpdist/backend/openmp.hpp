#pragma once
/// \file
/// The OpenMP executor: runs kernels on a team of host threads (static schedule), in the shape of its
/// launch policy (openmp_policy.hpp). Requires the pnpdist::openmp component (PNPDIST_HAS_OPENMP); without
/// it every launch throws pnpdist::not_compiled.

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/backend/iteration_space.hpp"
#include "pnpdist/backend/openmp_policy.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

#if defined(PNPDIST_HAS_OPENMP)
#include <omp.h>
#endif

namespace pnpdist {

/// Threads a launch asking for `threads` uses (0 or less: the OpenMP default; 1 without OpenMP).
inline int openmp_team_size([[maybe_unused]] int threads) {
#if defined(PNPDIST_HAS_OPENMP)
  return threads > 0 ? threads : omp_get_max_threads();
#else
  return 1;
#endif
}

struct OpenMP {
  using memory_space = HostSpace;
  static constexpr const char* name = "openmp";

  /// Team size; 0 means the OpenMP default (OMP_NUM_THREADS or the number of cores).
  int num_threads = 0;
  /// Launches with fewer iterations run in the calling thread (openmp_min_parallel_iterations). Launches
  /// of heavier iterations scale it down (with_iteration_cost).
  index_t min_parallel_iterations = openmp_min_parallel_iterations;

  /// Number of threads a launch uses.
  [[nodiscard]] int concurrency() const { return openmp_team_size(num_threads); }
};

/// The shape of OpenMP's plain launches: its team size and threshold, equal contiguous blocks. Throws
/// invalid_argument when either is negative.
inline OpenMPPolicy default_launch_policy(const OpenMP& exec) {
  return OpenMPPolicy(exec.num_threads, exec.min_parallel_iterations);
}

/// Calls f(i) for i in `range` in the shape of `policy`. f must not depend on the order of calls.
template <class F>
inline void for_each(const OpenMP&, const OpenMPPolicy& policy, Range range, const F& f) {
#if defined(PNPDIST_HAS_OPENMP)
  const index_t n = range.size();
  if (n < policy.min_parallel_iterations()) {  // a plain loop: even an inactive parallel region costs microseconds
    for (index_t i = 0; i < n; ++i) f(i);
    return;
  }
  const int threads = openmp_team_size(policy.threads());
  const index_t chunk = policy.chunk();
  if (chunk > 0) {
#pragma omp parallel for schedule(static, chunk) num_threads(threads)
    for (index_t i = 0; i < n; ++i) f(i);
  } else {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (index_t i = 0; i < n; ++i) f(i);
  }
#else
  (void)policy;
  (void)range;
  (void)f;
  throw not_compiled(
      "pnpdist::OpenMP executor used, but this build has no OpenMP "
      "(link the pnpdist::openmp component)");
#endif
}

/// Calls f(i) for i = 0 .. n-1, iterations split statically among the threads (default_launch_policy).
template <class F>
inline void for_each(const OpenMP& exec, index_t n, const F& f) {
  for_each(exec, default_launch_policy(exec), Range{n}, f);
}

/// The executor for a launch whose iterations each cost about `elements_per_iteration` element-wise
/// updates (a row of an N-D launch, a reduction chunk): the serial threshold is divided by that cost.
inline OpenMP with_iteration_cost(OpenMP exec, index_t elements_per_iteration) {
  exec.min_parallel_iterations = threshold_for_iteration_cost(exec.min_parallel_iterations, elements_per_iteration);
  return exec;
}

}  // namespace pnpdist
