// The rank-progress timeout without MPI: stall_report's verdicts, and the watchdog thread over a board of
// fake heartbeats (a short timeout): it fires only after the timeout, names the rank that stopped, and never
// fires while every rank makes progress.
#include <pnpdist/core/heartbeat.hpp>
#include <pnpdist/distributed/progress_watchdog.hpp>
#include <pnpdist/distributed/self_communicator.hpp>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace {

using pnpdist::CollectiveOperation;
using pnpdist::RankProgress;
using Clock = std::chrono::steady_clock;

constexpr auto barrier_op = static_cast<std::int32_t>(CollectiveOperation::barrier);
constexpr auto allreduce_op = static_cast<std::int32_t>(CollectiveOperation::allreduce_sum);

// A board over heartbeats in this process's memory, one per rank 0 .. n-1.
struct FakeBoard {
  std::vector<pnpdist::Heartbeat> slots;
  explicit FakeBoard(int n) : slots(static_cast<std::size_t>(n)) {
    for (auto& s : slots) s.last_ns = pnpdist::heartbeat_clock_ns();
  }
  pnpdist::ProgressBoard board() {
    pnpdist::ProgressBoard b;
    b.own = &slots[0];
    for (std::size_t r = 0; r < slots.size(); ++r) {
      b.slots.push_back(&slots[r]);
      b.ranks.push_back(static_cast<int>(r));
    }
    return b;
  }
  void beat(int rank) { slots[static_cast<std::size_t>(rank)].last_ns = pnpdist::heartbeat_clock_ns(); }
  void enter(int rank, CollectiveOperation op) {
    auto& s = slots[static_cast<std::size_t>(rank)];
    s.collectives += 1;
    s.operation = static_cast<std::int32_t>(op);
    s.last_ns = pnpdist::heartbeat_clock_ns();
  }
};

}  // namespace

TEST_CASE("stall_report: nothing while every rank is within the timeout", "[progress]") {
  const std::vector<RankProgress> board{{0, 1.9, 4, barrier_op}, {1, 1.0, 3, 0}};
  CHECK_FALSE(pnpdist::stall_report(board, 2, 2.0).has_value());
}

TEST_CASE("stall_report names the rank that made no progress and the ranks waiting for it", "[progress]") {
  const std::vector<RankProgress> board{{0, 5.04, 4, barrier_op}, {1, 5.12, 3, 0}, {2, 5.0, 4, barrier_op}};
  const auto report = pnpdist::stall_report(board, 3, 5.0);
  REQUIRE(report.has_value());
  CHECK(*report ==
        "progress timeout (5.0 s): rank 1 made no progress for 5.1 s (outside any collective call, after 3); "
        "rank 0 has waited 5.0 s in barrier (collective call 4); rank 2 has waited 5.0 s in barrier "
        "(collective call 4)");
}

TEST_CASE("stall_report: a rank stuck in an older collective call is the stalled one", "[progress]") {
  const std::vector<RankProgress> board{{0, 3.0, 7, allreduce_op}, {1, 3.5, 6, barrier_op}};
  const auto report = pnpdist::stall_report(board, 2, 2.0);
  REQUIRE(report.has_value());
  CHECK_THAT(*report, Catch::Contains("rank 1 made no progress for 3.5 s (in barrier, collective call 6)"));
  CHECK_THAT(*report, Catch::Contains("rank 0 has waited 3.0 s in allreduce_sum (collective call 7)"));
}

TEST_CASE("stall_report: ranks that only wait are reported when no rank of the group can be blamed", "[progress]") {
  // A waiting rank alone is no stall while another rank is still making progress.
  const std::vector<RankProgress> one_waits{{0, 9.0, 4, barrier_op}, {1, 0.5, 3, 0}};
  CHECK_FALSE(pnpdist::stall_report(one_waits, 2, 2.0).has_value());
  // Every rank of the group waits in the newest call (mismatched calls): reported at once.
  const std::vector<RankProgress> all_wait{{0, 2.5, 4, barrier_op}, {1, 2.1, 4, allreduce_op}};
  const auto mismatched = pnpdist::stall_report(all_wait, 2, 2.0);
  REQUIRE(mismatched.has_value());
  CHECK_THAT(*mismatched, Catch::Contains("every rank has waited in collective call 4"));
  // Every rank of this node waits, two ranks run elsewhere: reported only after the grace period.
  CHECK_FALSE(pnpdist::stall_report(all_wait, 4, 2.0, 1.0).has_value());
  const std::vector<RankProgress> longer{{0, 3.2, 4, barrier_op}, {1, 3.1, 4, barrier_op}};
  const auto elsewhere = pnpdist::stall_report(longer, 4, 2.0, 1.0);
  REQUIRE(elsewhere.has_value());
  CHECK_THAT(*elsewhere, Catch::Contains("among the 2 rank(s) on other nodes"));
}

TEST_CASE("stall_report with one rank: a stuck iteration", "[progress]") {
  const std::vector<RankProgress> board{{0, 0.75, 0, 0}};
  const auto report = pnpdist::stall_report(board, 1, 0.5);
  REQUIRE(report.has_value());
  CHECK(*report ==
        "progress timeout (0.5 s): rank 0 made no progress for 0.8 s (outside any collective call, after 0)");
}

TEST_CASE("ProgressWatchdog never fires while every rank makes progress", "[progress]") {
  FakeBoard fake(3);
  std::atomic<int> fired{0};
  {
    const pnpdist::ProgressWatchdog watchdog(fake.board(), 3, 0.2, [&](const std::string&) { ++fired; });
    // 0.8 s (four timeouts) of progress: each rank beats every 20 ms, entering and leaving collective calls.
    const auto end = Clock::now() + std::chrono::milliseconds(800);
    for (int step = 0; Clock::now() < end; ++step) {
      for (int r = 0; r < 3; ++r) {
        if (step % 5 == 0)
          fake.enter(r, CollectiveOperation::allreduce_sum);
        else
          fake.beat(r);
        if (step % 5 == 1) fake.slots[static_cast<std::size_t>(r)].operation = 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  CHECK(fired == 0);
}

TEST_CASE("ProgressWatchdog fires after the timeout, naming the rank that stopped", "[progress]") {
  FakeBoard fake(2);
  std::promise<std::string> report;
  auto reported = report.get_future();
  std::atomic<int> fired{0};
  const double timeout = 0.3;
  const pnpdist::ProgressWatchdog watchdog(fake.board(), 2, timeout, [&](const std::string& text) {
    if (fired++ == 0) report.set_value(text);
  });
  // Both ranks make progress for a while, then rank 1 stops and rank 0 waits for it in a barrier.
  for (int i = 0; i < 10; ++i) {
    fake.beat(0);
    fake.beat(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  fake.beat(1);
  const auto stopped = Clock::now();
  fake.enter(0, CollectiveOperation::barrier);
  REQUIRE(reported.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  const double after = std::chrono::duration<double>(Clock::now() - stopped).count();
  const std::string text = reported.get();
  INFO(text);
  CHECK(after >= timeout);
  CHECK(after < timeout + 1.0);
  CHECK_THAT(text, Catch::StartsWith("progress timeout (0.3 s): rank 1 made no progress for 0.3 s"));
  CHECK_THAT(text, Catch::Contains("rank 0 has waited"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(fired == 1);  // once
}

TEST_CASE("watch_progress over the self communicator installs the process's heartbeat while it lives", "[progress]") {
  CHECK(pnpdist::current_heartbeat() == nullptr);
  {
    const auto off = pnpdist::watch_progress(pnpdist::SelfCommunicator{}, 0.0);
    CHECK_FALSE(off.active());
    CHECK(pnpdist::current_heartbeat() == nullptr);
  }
  {
    const auto watch = pnpdist::watch_progress(pnpdist::SelfCommunicator{}, 0.2);
    REQUIRE(watch.active());
    pnpdist::Heartbeat* slot = pnpdist::current_heartbeat();
    REQUIRE(slot != nullptr);
    CHECK_THROWS_AS(pnpdist::watch_progress(pnpdist::SelfCommunicator{}, 1.0), pnpdist::invalid_argument);
    // Iterations that beat every 20 ms for 0.6 s (three timeouts): the process is not ended.
    const auto end = Clock::now() + std::chrono::milliseconds(600);
    while (Clock::now() < end) {
      const std::int64_t before = slot->last_ns;
      pnpdist::heartbeat();
      CHECK(slot->last_ns >= before);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  CHECK(pnpdist::current_heartbeat() == nullptr);
}
