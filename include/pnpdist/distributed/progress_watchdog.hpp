#pragma once
/// \file
/// Rank-progress timeout: a rank that stops making progress (stopped by SIGSTOP, stuck in a loop or a
/// system call, or waiting in a collective call another rank never enters) ends the whole job with a report
/// naming the rank(s) and how long they made no progress, instead of hanging it forever.
///
///     pnpdist::mpi::Environment env(argc, argv);
///     auto comm = env.world();
///     auto watch = pnpdist::watch_progress(comm, 600.0);   // collective; 0 = off
///     return pnpdist::run_on_all_ranks(comm, [&] { ... });
///
/// Progress is the heartbeat of core/heartbeat.hpp: every PnP, SIRT and CGLS iteration and the entry and exit
/// of every MpiCommunicator collective call. The timeout must exceed the longest stretch a rank spends
/// without any of these (about one iteration, or a setup step such as reading a scan).
///
/// How: each rank runs a watchdog thread that wakes every timeout / 10 (at most every second) and reads the
/// heartbeat slots of the ranks it can see: with MpiCommunicator the ranks of its node, whose slots live in
/// an MPI shared-memory window (MpiCommunicator::progress_board()); otherwise its own. A rank is stalled
/// when its slot is older than the timeout and it is not waiting in the newest collective call (the ranks
/// there wait for it); the first watchdog that sees a stalled rank writes
///
///     pnpdist: rank 0 of 2: progress timeout (5 s): rank 1 made no progress for 5.1 s (outside any
///     collective call, after 12); rank 0 has waited 5.0 s in allreduce_sum (collective call 13)
///
/// to stderr and aborts the job with exit code 124 (progress_timeout_exit_code; MPI_Abort, so every rank
/// ends, the stopped one included, and mpirun exits non-zero). When every rank of the node waits in the newest
/// call and some ranks run on other nodes, the watchdog waits one more second (their nodes' watchdogs can
/// name the stalled rank) and then reports the waiting ranks. With one rank (SelfCommunicator, or one MPI
/// process) the timeout still catches an iteration that never ends; the process exits with 124.
///
/// Why a watchdog thread reading shared memory, and not non-blocking collectives with a deadline: the
/// latter would replace MPI_Allreduce by MPI_Iallreduce and a polling loop on the main thread (Open MPI's
/// libnbc algorithms are not its tuned blocking ones, and polling either spins or adds latency), and a rank
/// waiting at its deadline still could not tell which rank is missing without asking it, which a stopped
/// rank cannot answer. The watchdog changes nothing in the collectives (a beat is a few relaxed atomic
/// stores), and the processes keep MPI_THREAD_FUNNELED (mpi::Environment): the watchdog thread makes no MPI
/// call but MPI_Abort at the very end. Open MPI (4.1, Debian 12) implements MPI_Abort by asking its runtime
/// (PMIx / mpirun) to kill the job and exiting, without the progress engine the main thread may be blocked
/// in, which is what makes that one call from a second thread safe in practice.
/// The window is set up and freed collectively on the main thread; watch_progress's result ends the
/// watchdog with a barrier of every rank (itself watched), then frees it. During an exception's unwinding
/// it skips both (run_on_all_ranks is about to abort the job, and a barrier could only wait for the timeout).

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/heartbeat.hpp"
#include "pnpdist/distributed/failure.hpp"
#include "pnpdist/distributed/self_communicator.hpp"

namespace pnpdist {

/// The exit code of a job ended by the progress timeout (that of coreutils' timeout).
inline constexpr int progress_timeout_exit_code = 124;

/// One rank's heartbeat as the watchdog saw it.
struct RankProgress {
  int rank = 0;
  double idle_seconds = 0;        ///< since its last progress
  std::uint64_t collectives = 0;  ///< collective calls entered
  std::int32_t operation = 0;     ///< the call it is in (CollectiveOperation), 0 between calls
};

[[nodiscard]] inline RankProgress read_progress(int rank, const Heartbeat& slot, std::int64_t now_ns) {
  const std::int64_t last = slot.last_ns.load(std::memory_order_relaxed);
  return RankProgress{rank, static_cast<double>(std::max<std::int64_t>(now_ns - last, 0)) * 1e-9,
                      slot.collectives.load(std::memory_order_relaxed), slot.operation.load(std::memory_order_relaxed)};
}

namespace detail {
inline std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", seconds);
  return text;
}
}  // namespace detail

/// The report of a stall among the ranks of `board` (of a group of `size` ranks), or nothing while every
/// rank makes progress (see the file comment). `grace_seconds`: the extra wait before reporting ranks that
/// only wait, when the stalled rank may be one the board does not show.
[[nodiscard]] inline std::optional<std::string> stall_report(std::span<const RankProgress> board, int size,
                                                             double timeout_seconds, double grace_seconds = 1.0) {
  if (board.empty()) return std::nullopt;
  std::uint64_t newest = 0;
  double longest = 0;
  bool all_stale = true;
  for (const RankProgress& p : board) {
    newest = std::max(newest, p.collectives);
    longest = std::max(longest, p.idle_seconds);
    all_stale = all_stale && p.idle_seconds >= timeout_seconds;
  }
  const auto waiting = [&](const RankProgress& p) { return p.operation != 0 && p.collectives == newest; };
  std::string stalled, waits;
  for (const RankProgress& p : board) {
    const std::string rank = "rank " + std::to_string(p.rank);
    if (waiting(p)) {
      waits += "; " + rank + " has waited " + detail::seconds_text(p.idle_seconds) + " s in " +
               collective_name(p.operation) + " (collective call " + std::to_string(p.collectives) + ")";
    } else if (p.idle_seconds >= timeout_seconds) {
      stalled += (stalled.empty() ? "" : "; ") + rank + " made no progress for " +
                 detail::seconds_text(p.idle_seconds) + " s (" +
                 (p.operation == 0 ? "outside any collective call, after " + std::to_string(p.collectives)
                                   : std::string("in ") + collective_name(p.operation) + ", collective call " +
                                         std::to_string(p.collectives)) +
                 ")";
    }
  }
  const std::string head = "progress timeout (" + detail::seconds_text(timeout_seconds) + " s): ";
  if (!stalled.empty()) return head + stalled + waits;
  if (!all_stale) return std::nullopt;  // the ranks that do not wait are still making progress
  const int unseen = size - static_cast<int>(board.size());
  if (unseen <= 0)
    return head + "every rank has waited in collective call " + std::to_string(newest) + " for at least " +
           detail::seconds_text(timeout_seconds) +
           " s (mismatched collective calls, or a rank stopped inside the call)" + waits;
  if (longest < timeout_seconds + grace_seconds) return std::nullopt;
  return head + "every rank of this node waits" + waits + "; the rank(s) that made no progress are among the " +
         std::to_string(unseen) + " rank(s) on other nodes";
}

/// The watchdog thread over a board (see the file comment). Calls on_stall(report) once, from its thread,
/// when stall_report() returns a report; the action normally ends the process (watch_progress's does).
class ProgressWatchdog {
public:
  using Action = std::function<void(const std::string&)>;

  ProgressWatchdog(ProgressBoard board, int size, double timeout_seconds, Action on_stall, double grace_seconds = 1.0)
      : board_(std::move(board)),
        size_(size),
        timeout_(timeout_seconds),
        grace_(grace_seconds),
        on_stall_(std::move(on_stall)) {
    require(timeout_seconds > 0, [&] {
      return "ProgressWatchdog: the timeout must be positive, got " + std::to_string(timeout_seconds) + " s";
    });
    require(board_.slots.size() == board_.ranks.size() && !board_.slots.empty(),
            "ProgressWatchdog: the board needs one rank per slot and at least one slot");
    poll_ = std::chrono::duration<double>(std::clamp(timeout_seconds / 10, 1e-3, 1.0));
    thread_ = std::thread([this] { run(); });
  }
  ~ProgressWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  ProgressWatchdog(const ProgressWatchdog&) = delete;
  ProgressWatchdog& operator=(const ProgressWatchdog&) = delete;

  [[nodiscard]] const ProgressBoard& board() const { return board_; }

private:
  void run() {
    std::vector<RankProgress> seen(board_.slots.size());
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, poll_, [this] { return stop_; })) {
      const std::int64_t now = heartbeat_clock_ns();
      for (std::size_t i = 0; i < seen.size(); ++i) seen[i] = read_progress(board_.ranks[i], *board_.slots[i], now);
      if (auto report = stall_report(seen, size_, timeout_, grace_)) {
        lock.unlock();
        on_stall_(*report);
        return;
      }
    }
  }

  ProgressBoard board_;
  int size_;
  double timeout_, grace_;
  Action on_stall_;
  std::chrono::duration<double> poll_{};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after every other member is set
};

/// The progress timeout of this process while it lives (see the file comment); empty (off) when
/// default-constructed or made with seconds <= 0. Made by watch_progress(). Not copyable or movable.
class ProgressWatch {
public:
  ProgressWatch() = default;

  /// Collective over `comm` when seconds > 0. Throws invalid_argument when another ProgressWatch is active.
  template <class Comm>
  ProgressWatch(const Comm& comm, double seconds, int exit_code = progress_timeout_exit_code) {
    if (!(seconds > 0)) return;
    require(current_heartbeat() == nullptr, "watch_progress: this process already has a progress watchdog");
    ProgressBoard board;
    if constexpr (requires { comm.progress_board(); })
      board = comm.progress_board();
    else
      board = local_progress_board(comm.rank());
    storage_ = board.storage;
    Heartbeat* own = board.own;
    barrier_ = [comm] { comm.barrier(); };
    watchdog_ = std::make_unique<ProgressWatchdog>(std::move(board), comm.size(), seconds,
                                                   [comm, exit_code](const std::string& report) {
                                                     if constexpr (std::is_same_v<Comm, SelfCommunicator>) {
                                                       // std::exit would run static destructors under the
                                                       // feet of the (stuck) main thread.
                                                       report_rank_message(comm, report);
                                                       std::_Exit(exit_code);
                                                     } else {
                                                       abort_with_message(comm, report, exit_code);
                                                     }
                                                   });
    detail::current_heartbeat.store(own, std::memory_order_relaxed);
  }

  ~ProgressWatch() {
    if (!watchdog_) return;
    const bool unwinding = std::uncaught_exceptions() > uncaught_;
    if (!unwinding) {
      try {
        barrier_();  // every rank is done before the slots go away; still watched
      } catch (...) {
      }
    }
    detail::current_heartbeat.store(nullptr, std::memory_order_relaxed);
    watchdog_.reset();
    // Freeing shared slots is collective: skipped while unwinding (the job is about to be aborted).
    if (unwinding) new std::shared_ptr<void>(std::move(storage_));
  }
  ProgressWatch(const ProgressWatch&) = delete;
  ProgressWatch& operator=(const ProgressWatch&) = delete;

  /// Whether a watchdog runs.
  [[nodiscard]] bool active() const { return watchdog_ != nullptr; }

private:
  std::shared_ptr<void> storage_;
  std::function<void()> barrier_;
  std::unique_ptr<ProgressWatchdog> watchdog_;
  int uncaught_ = std::uncaught_exceptions();
};

/// The progress timeout over `comm` (collective): a ProgressWatch with `seconds` (<= 0: off). Keep the
/// result alive for the run, e.g. `auto watch = pnpdist::watch_progress(comm, seconds);`.
template <class Comm>
[[nodiscard]] inline ProgressWatch watch_progress(const Comm& comm, double seconds,
                                                  int exit_code = progress_timeout_exit_code) {
  return ProgressWatch(comm, seconds, exit_code);
}

}  // namespace pnpdist
