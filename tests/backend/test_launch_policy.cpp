#include <catch2/catch.hpp>

#include <pnpdist/backend/for_each.hpp>
#include <pnpdist/backend/launch_policy.hpp>

#include <cstdint>
#include <type_traits>
#include <vector>

#include "support/host_executors.hpp"

// Launch policies of the host executors (backend/launch_policy.hpp, serial.hpp, openmp_policy.hpp): the
// policy types per executor, OpenMPPolicy's validation, and the same kernel under every policy giving the
// Serial executor's values on 1-D and N-D spaces of odd sizes.

namespace {

using pnpdist::index_t;

// out[i] = a value that depends on i only (each index written exactly once).
struct WriteHash1 {
  std::uint64_t* out;
  void operator()(index_t i) const { out[i] += static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull + 1; }
};

struct WriteHash3 {
  pnpdist::Extents<3> e;
  std::uint64_t* out;
  void operator()(index_t a, index_t b, index_t c) const {
    out[(a * e[1] + b) * e[2] + c] += static_cast<std::uint64_t>((a * 131 + b) * 137 + c) * 0x9E3779B97F4A7C15ull + 7;
  }
};

template <class Exec, class Policy>
std::vector<std::uint64_t> run_1d(const Exec& exec, const Policy& policy, index_t n) {
  std::vector<std::uint64_t> out(static_cast<std::size_t>(n), 0);
  pnpdist::for_each(exec, policy, pnpdist::Range{n}, WriteHash1{out.data()});
  return out;
}

template <class Exec, class Policy>
std::vector<std::uint64_t> run_3d(const Exec& exec, const Policy& policy, const pnpdist::Extents<3>& e) {
  std::vector<std::uint64_t> out(static_cast<std::size_t>(pnpdist::product(e)), 0);
  pnpdist::for_each(exec, policy, pnpdist::MDRange{e}, WriteHash3{e, out.data()});
  return out;
}

}  // namespace

TEST_CASE("each executor names its launch policy type", "[launch_policy][unit]") {
  STATIC_REQUIRE(std::is_same_v<pnpdist::launch_policy_t<pnpdist::Serial>, pnpdist::SerialPolicy>);
  STATIC_REQUIRE(std::is_same_v<pnpdist::launch_policy_t<pnpdist::OpenMP>, pnpdist::OpenMPPolicy>);
  STATIC_REQUIRE(pnpdist::LaunchPolicyOf<pnpdist::OpenMPPolicy, pnpdist::OpenMP>);
  STATIC_REQUIRE_FALSE(pnpdist::LaunchPolicyOf<pnpdist::OpenMPPolicy, pnpdist::Serial>);
  STATIC_REQUIRE(pnpdist::SerialPolicy::md_shape == pnpdist::MDShape::rows);
  STATIC_REQUIRE(pnpdist::OpenMPPolicy::md_shape == pnpdist::MDShape::rows);
  STATIC_REQUIRE(pnpdist::kernel_form_v<pnpdist::Serial> == pnpdist::KernelForm::coarse);
  STATIC_REQUIRE(pnpdist::kernel_form_v<pnpdist::OpenMP> == pnpdist::KernelForm::coarse);
  STATIC_REQUIRE_FALSE(std::is_convertible_v<index_t, pnpdist::Range>);
}

TEST_CASE("the OpenMP executor's default policy is its team size and threshold", "[launch_policy][unit]") {
  pnpdist::OpenMP exec{3};
  exec.min_parallel_iterations = 5000;
  const pnpdist::OpenMPPolicy p = default_launch_policy(exec);
  CHECK(p.threads() == 3);
  CHECK(p.min_parallel_iterations() == 5000);
  CHECK(p.chunk() == 0);
  // Rows of 1024 elements: the threshold divided by the row cost, as with_iteration_cost does on the executor.
  CHECK(p.with_iteration_cost(1024).min_parallel_iterations() == 5);
  CHECK(pnpdist::with_iteration_cost(exec, 1024).min_parallel_iterations == 5);
  CHECK(p.with_iteration_cost(1).min_parallel_iterations() == 5000);
  CHECK(pnpdist::OpenMPPolicy{}.min_parallel_iterations() == pnpdist::OpenMP{}.min_parallel_iterations);
}

TEST_CASE("OpenMPPolicy refuses negative parameters", "[launch_policy][unit]") {
  CHECK_THROWS_AS(pnpdist::OpenMPPolicy(-1), pnpdist::invalid_argument);
  CHECK_THROWS_WITH(pnpdist::OpenMPPolicy(-1), Catch::Contains("negative team size -1"));
  CHECK_THROWS_WITH(pnpdist::OpenMPPolicy(2, -5), Catch::Contains("negative serial threshold -5"));
  CHECK_THROWS_WITH(pnpdist::OpenMPPolicy(2, 0, -3), Catch::Contains("negative chunk -3"));
  pnpdist::OpenMP bad{2};
  bad.min_parallel_iterations = -1;
  CHECK_THROWS_AS(pnpdist::for_each(bad, 10, WriteHash1{nullptr}), pnpdist::invalid_argument);
  CHECK_NOTHROW(pnpdist::OpenMPPolicy(0, 0, 0));
}

TEMPLATE_LIST_TEST_CASE("every policy gives the Serial values on odd 1-D and N-D spaces", "[launch_policy][unit]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_cv_t<decltype(exec)>;
  std::vector<pnpdist::launch_policy_t<Exec>> policies{default_launch_policy(exec)};
  if constexpr (std::is_same_v<Exec, pnpdist::OpenMP>) {
    // Always parallel, with contiguous blocks and with small round-robin chunks.
    policies.emplace_back(exec.num_threads, 0, 0);
    policies.emplace_back(exec.num_threads, 0, 7);
    policies.emplace_back(exec.num_threads, 1 << 30, 3);  // always serial
  }
  for (const auto& policy : policies) {
    for (const index_t n : {index_t{0}, index_t{1}, index_t{7}, index_t{1001}, index_t{40009}}) {
      INFO("n = " << n);
      CHECK(run_1d(exec, policy, n) == run_1d(pnpdist::Serial{}, pnpdist::SerialPolicy{}, n));
    }
    for (const pnpdist::Extents<3> e : {pnpdist::Extents<3>{3, 5, 7}, pnpdist::Extents<3>{17, 1, 33},
                                        pnpdist::Extents<3>{0, 4, 4}, pnpdist::Extents<3>{1, 129, 257}}) {
      INFO("extents " << pnpdist::to_string(e));
      CHECK(run_3d(exec, policy, e) == run_3d(pnpdist::Serial{}, pnpdist::SerialPolicy{}, e));
    }
  }
  // The named spaces and the plain overloads are the same launches.
  std::vector<std::uint64_t> plain(1001, 0), named(1001, 0);
  pnpdist::for_each(exec, index_t{1001}, WriteHash1{plain.data()});
  pnpdist::for_each(exec, pnpdist::Range{1001}, WriteHash1{named.data()});
  CHECK(plain == named);
  const pnpdist::Extents<3> e{5, 9, 11};
  std::vector<std::uint64_t> plain3(495, 0), named3(495, 0);
  pnpdist::for_each(exec, e, WriteHash3{e, plain3.data()});
  pnpdist::for_each(exec, pnpdist::MDRange{e}, WriteHash3{e, named3.data()});
  CHECK(plain3 == named3);
  CHECK(plain3 == run_3d(pnpdist::Serial{}, pnpdist::SerialPolicy{}, e));
}

#if defined(PNPDIST_HAS_OPENMP)
#include <omp.h>

#include <atomic>

namespace {

struct RecordTeam {
  std::atomic<int>* used;      // used[t] = 1 when OpenMP thread t ran an iteration
  index_t* first_thread_last;  // the largest index thread 0 ran
  void operator()(index_t i) const {
    const int t = omp_get_thread_num();
    used[t].store(1, std::memory_order_relaxed);
    if (t == 0 && i > *first_thread_last) *first_thread_last = i;
  }
};

}  // namespace

TEST_CASE("an OpenMP policy's threshold, team and chunks are honoured", "[launch_policy][unit]") {
  const pnpdist::OpenMP exec{2};
  const auto run = [&](const pnpdist::OpenMPPolicy& p, index_t n) {
    std::atomic<int> used[2] = {};
    index_t last = -1;
    pnpdist::for_each(exec, p, pnpdist::Range{n}, RecordTeam{used, &last});
    return std::pair<int, index_t>(used[0].load() + used[1].load(), last);
  };
  // 100 iterations: below the default threshold one thread, with threshold 0 the whole team.
  CHECK(run(default_launch_policy(exec), 100).first == 1);
  CHECK(run(pnpdist::OpenMPPolicy(2, 0), 100).first == 2);
  CHECK(run(pnpdist::OpenMPPolicy(1, 0), 100).first == 1);
  // Contiguous blocks: thread 0 runs [0, 50); chunks of 10: thread 0 runs [0,10), [20,30), ..., [80, 90).
  CHECK(run(pnpdist::OpenMPPolicy(2, 0), 100).second == 49);
  CHECK(run(pnpdist::OpenMPPolicy(2, 0, 10), 100).second == 89);
}
#endif
