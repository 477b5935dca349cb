#include <catch2/catch.hpp>

#include <pnpdist/backend/for_each.hpp>

#include <atomic>
#include <vector>

#include "support/host_executors.hpp"

namespace {

struct MarkVisit {
  std::atomic<int>* visits;
  void operator()(pnpdist::index_t i) const { visits[i].fetch_add(1, std::memory_order_relaxed); }
};

struct RecordIndex3 {
  pnpdist::Extents<3> extents;
  std::atomic<int>* visits;
  int* order_ok;
  void operator()(pnpdist::index_t i, pnpdist::index_t j, pnpdist::index_t k) const {
    if (i < 0 || i >= extents[0] || j < 0 || j >= extents[1] || k < 0 || k >= extents[2]) {
      *order_ok = 0;
      return;
    }
    visits[(i * extents[1] + j) * extents[2] + k].fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace

TEMPLATE_LIST_TEST_CASE("for_each visits every index exactly once", "[for_each][unit]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  for (pnpdist::index_t n : {0, 1, 7, 255, 256, 1000, 100003}) {
    std::vector<std::atomic<int>> visits(static_cast<std::size_t>(n));
    for_each(exec, n, MarkVisit{visits.data()});
    int wrong = 0;
    for (auto& v : visits) wrong += v.load() != 1;
    INFO("n = " << n);
    CHECK(wrong == 0);
  }
}

TEMPLATE_LIST_TEST_CASE("N-D for_each visits every multi-index exactly once", "[for_each][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  for (const pnpdist::Extents<3> e : {pnpdist::Extents<3>{3, 5, 7}, pnpdist::Extents<3>{1, 1, 1},
                                      pnpdist::Extents<3>{17, 1, 33}, pnpdist::Extents<3>{0, 4, 4}}) {
    std::vector<std::atomic<int>> visits(static_cast<std::size_t>(pnpdist::product(e)));
    int in_bounds = 1;
    pnpdist::for_each(exec, e, RecordIndex3{e, visits.data(), &in_bounds});
    int wrong = 0;
    for (auto& v : visits) wrong += v.load() != 1;
    INFO("extents " << pnpdist::to_string(e));
    CHECK(in_bounds == 1);
    CHECK(wrong == 0);
  }
}

#if !defined(PNPDIST_HAS_OPENMP)
TEST_CASE("the OpenMP executor says it was not compiled", "[for_each][unit]") {
  CHECK_THROWS_AS(for_each(pnpdist::OpenMP{}, 10, MarkVisit{nullptr}), pnpdist::not_compiled);
  CHECK_THROWS_WITH(for_each(pnpdist::OpenMP{}, 10, MarkVisit{nullptr}), Catch::Contains("pnpdist::openmp component"));
}
#endif

#if defined(PNPDIST_HAS_OPENMP)
#include <omp.h>

namespace {

struct RecordThread {
  std::atomic<int>* used;  // used[t] = 1 when OpenMP thread t ran an iteration
  void operator()(pnpdist::index_t) const { used[omp_get_thread_num()].store(1, std::memory_order_relaxed); }
  void operator()(pnpdist::index_t, pnpdist::index_t) const { (*this)(0); }
};

int threads_used(const std::atomic<int>* used) { return used[0].load() + used[1].load(); }

}  // namespace

TEST_CASE("OpenMP launches go parallel by the work they hold, not by their iteration count", "[for_each][unit]") {
  const pnpdist::OpenMP exec{2};
  {
    std::atomic<int> used[2] = {};
    for_each(exec, exec.min_parallel_iterations - 1, RecordThread{used});
    CHECK(threads_used(used) == 1);  // small launch: the calling thread alone
  }
  {
    std::atomic<int> used[2] = {};
    for_each(exec, 4 * exec.min_parallel_iterations, RecordThread{used});
    CHECK(threads_used(used) == 2);
  }
  {
    // 64 rows of 1024 elements: few iterations, but 64k elements of work.
    std::atomic<int> used[2] = {};
    pnpdist::for_each(exec, pnpdist::Extents<2>{64, 1024}, RecordThread{used});
    CHECK(threads_used(used) == 2);
  }
  CHECK(pnpdist::with_iteration_cost(exec, 1024).min_parallel_iterations == exec.min_parallel_iterations / 1024);
  CHECK(pnpdist::with_iteration_cost(exec, 1).min_parallel_iterations == exec.min_parallel_iterations);
}
#endif
