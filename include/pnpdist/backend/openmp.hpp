#pragma once
/// \file
/// The OpenMP executor: runs kernels on a team of host threads (static schedule). Requires the
/// pnpdist::openmp component (PNPDIST_HAS_OPENMP); without it every launch throws pnpdist::not_compiled.

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

#if defined(PNPDIST_HAS_OPENMP)
#include <omp.h>
#endif

namespace pnpdist {

struct OpenMP {
  using memory_space = HostSpace;
  static constexpr const char* name = "openmp";

  /// Team size; 0 means the OpenMP default (OMP_NUM_THREADS or the number of cores).
  int num_threads = 0;
  /// Launches with fewer iterations run in the calling thread: for light iterations (one element each)
  /// waking the team costs more than it saves below about 16k (axpby measured on 2 cores). Launches of
  /// heavier iterations scale it down (with_iteration_cost).
  index_t min_parallel_iterations = 16384;

  /// Number of threads a launch uses.
  [[nodiscard]] int concurrency() const {
#if defined(PNPDIST_HAS_OPENMP)
    return num_threads > 0 ? num_threads : omp_get_max_threads();
#else
    return 1;
#endif
  }
};

/// Calls f(i) for i = 0 .. n-1, iterations split statically among the threads. f must not depend on
/// the order of calls.
template <class F>
inline void for_each(const OpenMP& exec, index_t n, const F& f) {
#if defined(PNPDIST_HAS_OPENMP)
  if (n < exec.min_parallel_iterations) {  // a plain loop: even an inactive parallel region costs microseconds
    for (index_t i = 0; i < n; ++i) f(i);
    return;
  }
  const int threads = exec.concurrency();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (index_t i = 0; i < n; ++i) f(i);
#else
  (void)exec;
  (void)n;
  (void)f;
  throw not_compiled(
      "pnpdist::OpenMP executor used, but this build has no OpenMP "
      "(link the pnpdist::openmp component)");
#endif
}

/// The executor for a launch whose iterations each cost about `elements_per_iteration` element-wise
/// updates (a row of an N-D launch, a reduction chunk): the serial threshold is divided by that cost.
inline OpenMP with_iteration_cost(OpenMP exec, index_t elements_per_iteration) {
  if (elements_per_iteration > 1)
    exec.min_parallel_iterations = (exec.min_parallel_iterations + elements_per_iteration - 1) / elements_per_iteration;
  return exec;
}

}  // namespace pnpdist
