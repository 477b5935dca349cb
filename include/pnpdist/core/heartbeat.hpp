#pragma once
/// \file
/// The progress heartbeat of this process, read by the rank-progress watchdog
/// (distributed/progress_watchdog.hpp). Long-running loops call heartbeat() once per iteration (PnPSolver,
/// SIRT, CGLS) and MpiCommunicator marks the entry and exit of every collective call (CollectiveBeat).
///
/// While no watchdog runs, current_heartbeat() is null and a beat is one relaxed atomic load and a branch.
/// While one runs, a beat adds two or three relaxed atomic stores to a slot the watchdog thread polls: no
/// lock, no system call beyond reading the monotonic clock. One watchdog per process (the world's).
///
/// Times are steady_clock nanoseconds (CLOCK_MONOTONIC on Linux), which every process of a node reads alike,
/// so a watchdog can compare the slots of the other ranks on its node, kept in memory shared between them.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace pnpdist {

/// One rank's progress: when it last made progress, how many collective calls it has entered, and which one
/// it is in now (a CollectiveOperation, none between calls). Lock-free atomics only, so that a slot may live
/// in memory shared between processes.
struct Heartbeat {
  std::atomic<std::int64_t> last_ns{0};
  std::atomic<std::uint64_t> collectives{0};
  std::atomic<std::int32_t> operation{0};
};
static_assert(std::atomic<std::int64_t>::is_always_lock_free && std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::int32_t>::is_always_lock_free,
              "Heartbeat slots are shared between processes: their atomics must be lock-free");

/// What a rank is doing, as recorded in Heartbeat::operation.
enum class CollectiveOperation : std::int32_t { none = 0, allreduce_sum, allgatherv, broadcast, barrier };

[[nodiscard]] inline const char* collective_name(std::int32_t operation) {
  switch (static_cast<CollectiveOperation>(operation)) {
    case CollectiveOperation::allreduce_sum:
      return "allreduce_sum";
    case CollectiveOperation::allgatherv:
      return "allgatherv";
    case CollectiveOperation::broadcast:
      return "broadcast";
    case CollectiveOperation::barrier:
      return "barrier";
    default:
      return "no collective call";
  }
}

/// steady_clock now, in nanoseconds.
[[nodiscard]] inline std::int64_t heartbeat_clock_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace detail {
/// The slot of this process's watchdog; null while none runs.
inline std::atomic<Heartbeat*> current_heartbeat{nullptr};
}  // namespace detail

/// The slot beats go to, null while no watchdog runs.
[[nodiscard]] inline Heartbeat* current_heartbeat() noexcept {
  return detail::current_heartbeat.load(std::memory_order_relaxed);
}

/// Marks progress of this rank (one iteration of a loop).
inline void heartbeat() noexcept {
  if (Heartbeat* slot = current_heartbeat()) slot->last_ns.store(heartbeat_clock_ns(), std::memory_order_relaxed);
}

/// The slots a watchdog reads: this rank's own and those of every rank it can see (own included), with their
/// ranks in the communicator. `storage` keeps the slots alive. Communicators whose ranks share memory
/// provide their own (MpiCommunicator::progress_board(): the ranks of the node); local_progress_board() is
/// this rank's slot alone.
struct ProgressBoard {
  Heartbeat* own = nullptr;
  std::vector<const Heartbeat*> slots;
  std::vector<int> ranks;
  std::shared_ptr<void> storage;
};

/// A board of one slot, this rank's, in this process's memory.
[[nodiscard]] inline ProgressBoard local_progress_board(int rank) {
  auto slot = std::make_shared<Heartbeat>();
  slot->last_ns.store(heartbeat_clock_ns(), std::memory_order_relaxed);
  return ProgressBoard{slot.get(), {slot.get()}, {rank}, slot};
}

/// Marks the entry into a collective call (progress, and the call now waited in) and, on destruction, its end.
class CollectiveBeat {
public:
  explicit CollectiveBeat(CollectiveOperation operation) noexcept : slot_(current_heartbeat()) {
    if (!slot_) return;
    slot_->collectives.fetch_add(1, std::memory_order_relaxed);
    slot_->operation.store(static_cast<std::int32_t>(operation), std::memory_order_relaxed);
    slot_->last_ns.store(heartbeat_clock_ns(), std::memory_order_relaxed);
  }
  ~CollectiveBeat() {
    if (!slot_) return;
    slot_->operation.store(0, std::memory_order_relaxed);
    slot_->last_ns.store(heartbeat_clock_ns(), std::memory_order_relaxed);
  }
  CollectiveBeat(const CollectiveBeat&) = delete;
  CollectiveBeat& operator=(const CollectiveBeat&) = delete;

private:
  Heartbeat* slot_;
};

}  // namespace pnpdist
