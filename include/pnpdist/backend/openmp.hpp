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

  /// Number of threads a launch uses.
  [[nodiscard]] int concurrency() const {
#if defined(PNPDIST_HAS_OPENMP)
    return num_threads > 0 ? num_threads : omp_get_max_threads();
#else
    return 1;
#endif
  }
};

/// Below this many iterations a launch runs in the calling thread: a parallel region costs more.
inline constexpr index_t openmp_min_parallel_iterations = 256;

/// Calls f(i) for i = 0 .. n-1, iterations split statically among the threads. f must not depend on
/// the order of calls.
template <class F>
inline void for_each(const OpenMP& exec, index_t n, const F& f) {
#if defined(PNPDIST_HAS_OPENMP)
  const int threads = exec.concurrency();
#pragma omp parallel for schedule(static) num_threads(threads) if (n >= openmp_min_parallel_iterations)
  for (index_t i = 0; i < n; ++i) f(i);
#else
  (void)exec;
  (void)n;
  (void)f;
  throw not_compiled("pnpdist::OpenMP executor used, but this build has no OpenMP "
                     "(link the pnpdist::openmp component)");
#endif
}

}  // namespace pnpdist
