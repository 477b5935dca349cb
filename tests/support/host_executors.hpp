#pragma once
// The host executors a test runs on: Serial always; OpenMP with 1 and 2 threads when built with OpenMP.
#include <pnpdist/backend/openmp.hpp>
#include <pnpdist/backend/serial.hpp>

#include <tuple>

namespace pnpdist::test {

/// OpenMP with a fixed team size, so tests can compare 1 and 2 threads.
template <int Threads>
struct OpenMPThreads {};

#if defined(PNPDIST_HAS_OPENMP)
using HostExecutors = std::tuple<Serial, OpenMPThreads<1>, OpenMPThreads<2>>;
#else
using HostExecutors = std::tuple<Serial>;
#endif

template <class T>
inline auto make_executor() {
  return T{};
}
template <>
inline auto make_executor<OpenMPThreads<1>>() {
  return OpenMP{1};
}
template <>
inline auto make_executor<OpenMPThreads<2>>() {
  return OpenMP{2};
}

/// The executor of tests that run once, on the fastest host executor: OpenMP with 2 threads when built
/// with OpenMP, Serial otherwise.
#if defined(PNPDIST_HAS_OPENMP)
using FastHostExecutor = OpenMP;
inline FastHostExecutor fast_host_executor() { return OpenMP{2}; }
#else
using FastHostExecutor = Serial;
inline FastHostExecutor fast_host_executor() { return Serial{}; }
#endif

}  // namespace pnpdist::test
