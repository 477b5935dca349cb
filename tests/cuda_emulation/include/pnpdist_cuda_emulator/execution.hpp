#pragma once
/// \file
/// The execution half of the CPU emulation of CUDA: kernel launches, the threads of a block, barriers and
/// warp-synchronous operations.
///
/// Execution model
///   - A launch runs to completion inside launch(): blocks run one after another, in order of blockIdx
///     (x fastest). Launches from several host threads are serialized (one global lock), so static
///     storage standing for `__shared__` variables belongs to one block at a time.
///   - Kernel threads run on real OS threads (a pool reused by every block). Each kernel thread runs until
///     it reaches a synchronization point (__syncthreads, a warp-synchronous intrinsic, or its end); when
///     every thread of the block has reached one, the emulator checks that the synchronization is well
///     formed and releases the threads it completes. A kernel thread stopped at a synchronization point
///     keeps its OS thread; one that has not started yet may start on the OS thread of one that exited
///     (so a block without barriers under an ordered schedule runs on a single OS thread).
///   - The threads released together (a "pass") run either one at a time in a fixed order (schedules
///     `forward`: ascending linear thread index, `reverse`: descending) or concurrently (`parallel`: at
///     most 8 threads that have not started yet are started at once, the next when one stops). The
///     ordered schedules make barrier bugs deterministic: a thread reading shared memory that a
///     higher-numbered thread writes with no barrier in between reads it before the write under
///     `forward` (and the symmetric bug shows under `reverse`). The default, `mixed`, cycles through
///     forward, reverse and parallel by block (and launch), so every multi-block launch sees all three.
///     The environment variable PNPDIST_CUDA_EMULATION_SCHEDULE (forward|reverse|parallel|mixed) or a
///     ScheduleOverride selects one.
///   - Dynamic shared memory is one allocation of exactly shared_bytes bytes per launch (AddressSanitizer
///     sees an access past it), refilled with 0xFF bytes (a NaN pattern) at the start of every block.
///
/// Checked (a violation is a kernel fault: printed to stderr, the block's threads are unwound, the rest
/// of the launch is skipped, and the next synchronizing runtime call returns cudaErrorLaunchFailure):
///   - __syncthreads reached by the non-exited threads of a block at different call sites (divergent
///     barrier) or while other threads wait in a warp operation that can never complete;
///   - warp intrinsics: the caller's own lane missing from `mask`; a lane named in `mask` that does not
///     exist, has exited, waits at __syncthreads, or executes a different intrinsic or mask; a shuffle
///     reading a lane outside `mask`; a width that is not a power of two in [1, 32];
///   - a device builtin (__syncthreads, a warp intrinsic, ...) called outside a kernel, or a launch from
///     inside a kernel (dynamic parallelism), aborts the program.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <semaphore>
#include <source_location>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pnpdist_cuda_emulator/launch_records.hpp"
#include "pnpdist_cuda_emulator/runtime.hpp"

// The builtin variables of a kernel thread (meaningful only inside a kernel).
inline thread_local uint3 threadIdx{0, 0, 0};
inline thread_local uint3 blockIdx{0, 0, 0};
inline thread_local dim3 blockDim{1, 1, 1};
inline thread_local dim3 gridDim{1, 1, 1};
inline constexpr int warpSize = 32;

namespace pnpdist_cuda_emulator {

enum class Schedule { mixed, forward, reverse, parallel };

inline const char* schedule_name(Schedule s) {
  switch (s) {
    case Schedule::mixed:
      return "mixed";
    case Schedule::forward:
      return "forward";
    case Schedule::reverse:
      return "reverse";
    case Schedule::parallel:
      return "parallel";
  }
  return "?";
}

/// Counters of the emulated device since the start of the program.
struct Statistics {
  std::uint64_t launches = 0;  ///< launches accepted
  std::uint64_t blocks = 0;    ///< blocks run
  std::uint64_t faults = 0;    ///< kernel faults
  std::string last_fault;      ///< message of the last kernel fault
};

enum class WarpOp : unsigned char { sync, shfl, shfl_up, shfl_down, shfl_xor, ballot, all, any };

inline const char* warp_op_name(WarpOp op) {
  switch (op) {
    case WarpOp::sync:
      return "__syncwarp";
    case WarpOp::shfl:
      return "__shfl_sync";
    case WarpOp::shfl_up:
      return "__shfl_up_sync";
    case WarpOp::shfl_down:
      return "__shfl_down_sync";
    case WarpOp::shfl_xor:
      return "__shfl_xor_sync";
    case WarpOp::ballot:
      return "__ballot_sync";
    case WarpOp::all:
      return "__all_sync";
    case WarpOp::any:
      return "__any_sync";
  }
  return "?";
}

enum class BarrierOp : unsigned char { plain, count, all, any };

namespace detail {

/// Thrown inside kernel threads to unwind them after a fault.
struct BlockAborted {};

/// fresh: not started yet (no OS thread holds it); running; stopped at a barrier or a warp operation; exited.
enum class State : unsigned char { fresh, running, at_barrier, at_warp, exited };

/// A kernel thread of the running block.
struct ThreadSlot {
  std::binary_semaphore wake{0};  // released once per stop, to let the OS thread that runs it go on
  State state = State::exited;
  // __syncthreads
  std::source_location site{};
  BarrierOp barrier_op = BarrierOp::plain;
  int predicate = 0;
  // warp operations
  WarpOp op = WarpOp::sync;
  unsigned mask = 0;
  int operand = 0;  // source lane, delta or lane mask
  int width = 32;
  std::uint64_t value = 0;
  std::uint64_t result = 0;
};

/// The scheduler: one instance, every field guarded by `mutex`.
class Engine {
public:
  static Engine& instance() {
    static Engine engine;
    return engine;
  }

  Engine() {
    if (const char* env = std::getenv("PNPDIST_CUDA_EMULATION_SCHEDULE")) {
      const std::string s = env;
      if (s == "forward")
        default_schedule_ = Schedule::forward;
      else if (s == "reverse")
        default_schedule_ = Schedule::reverse;
      else if (s == "parallel")
        default_schedule_ = Schedule::parallel;
      else if (s == "mixed" || s.empty())
        default_schedule_ = Schedule::mixed;
      else {
        std::fprintf(stderr, "PNPDIST_CUDA_EMULATION_SCHEDULE=%s: expected forward, reverse, parallel or mixed\n", env);
        std::abort();
      }
    }
  }

  ~Engine() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutting_down_ = true;
      for (auto& worker : workers_) worker.wake.release();
    }
    for (auto& worker : workers_) worker.thread.join();
  }

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Serializes launches.
  std::mutex& launch_mutex() { return launch_mutex_; }

  std::optional<Schedule> schedule_override() const { return override_; }
  void set_schedule_override(std::optional<Schedule> s) { override_ = s; }

  Statistics statistics() {
    std::lock_guard<std::mutex> lock(mutex_);
    return statistics_;
  }

  /// Runs every block of a launch (caller holds launch_mutex). `body` runs one kernel thread.
  /// Returns false when a block faulted.
  bool run(dim3 grid, dim3 block, std::size_t shared_bytes, const std::function<void()>& body) {
    const unsigned threads = block.x * block.y * block.z;
    std::unique_lock<std::mutex> lock(mutex_);
    while (slots_.size() < threads) slots_.emplace_back();
    shared_.reset(static_cast<unsigned char*>(::operator new (shared_bytes, std::align_val_t{16})));
    shared_bytes_ = shared_bytes;
    body_ = &body;
    grid_ = grid;
    block_ = block;
    threads_ = threads;
    ++statistics_.launches;
    const Schedule chosen = override_.value_or(default_schedule_);
    std::uint64_t b = 0;
    bool ok = true;
    for (unsigned z = 0; z < grid.z && ok; ++z)
      for (unsigned y = 0; y < grid.y && ok; ++y)
        for (unsigned x = 0; x < grid.x && ok; ++x, ++b) {
          schedule_ = chosen != Schedule::mixed ? chosen : mixed_schedule(statistics_.launches + b);
          block_index_ = uint3{x, y, z};
          ok = run_block(lock);
        }
    body_ = nullptr;
    shared_.reset();
    return ok;
  }

  /// Dynamic shared memory of the running launch.
  void* dynamic_shared() { return shared_.get(); }

  // ---- called by kernel threads -----------------------------------------------------------------------

  /// __syncthreads and its counting variants; returns the variant's result.
  int barrier(BarrierOp op, int predicate, const std::source_location& site) {
    const unsigned me = current_thread();
    std::unique_lock<std::mutex> lock(mutex_);
    ThreadSlot& slot = slots_[me];
    slot.state = State::at_barrier;
    slot.site = site;
    slot.barrier_op = op;
    slot.predicate = predicate;
    wait_for_release(me, lock);
    return static_cast<int>(slot.result);
  }

  /// A warp-synchronous operation; returns the result bits.
  std::uint64_t warp(WarpOp op, unsigned mask, std::uint64_t value, int operand, int width) {
    const unsigned me = current_thread();
    std::unique_lock<std::mutex> lock(mutex_);
    ThreadSlot& slot = slots_[me];
    slot.state = State::at_warp;
    slot.op = op;
    slot.mask = mask;
    slot.value = value;
    slot.operand = operand;
    slot.width = width;
    wait_for_release(me, lock);
    return slot.result;
  }

  /// The linear index of the calling kernel thread in its block; aborts outside a kernel.
  static unsigned current_thread() {
    if (current_index() < 0) {
      std::fprintf(stderr, "pnpdist CUDA emulation: a device builtin was called outside a kernel\n");
      std::abort();
    }
    return static_cast<unsigned>(current_index());
  }

  /// True on an OS thread while it runs a kernel thread.
  static bool in_kernel() { return current_index() >= 0; }

  /// Lanes of the calling thread's warp that are alive (not exited), as __activemask() reports them.
  unsigned active_mask() {
    const unsigned me = current_thread();
    std::lock_guard<std::mutex> lock(mutex_);
    const unsigned base = me - me % 32;
    unsigned mask = 0;
    for (unsigned lane = 0; lane < 32 && base + lane < threads_; ++lane)
      if (slots_[base + lane].state != State::exited) mask |= 1u << lane;
    return mask;
  }

private:
  /// The linear thread index of the kernel thread the calling OS thread runs (-1: none).
  static int& current_index() {
    thread_local int index = -1;
    return index;
  }

  /// Parallel schedule: fresh threads started at once (each further one starts when a running thread
  /// stops); threads stopped at a synchronization point keep their OS thread.
  static constexpr unsigned parallel_fresh_threads = 8;

  static Schedule mixed_schedule(std::uint64_t k) {
    switch (k % 3) {
      case 0:
        return Schedule::forward;
      case 1:
        return Schedule::reverse;
      default:
        return Schedule::parallel;
    }
  }

  /// An OS thread of the pool. It runs fresh kernel threads (started from their first instruction) until
  /// one stops at a synchronization point; it stays with that kernel thread until it exits.
  struct Worker {
    std::binary_semaphore wake{0};
    int assigned = -1;  // the fresh kernel thread to start
    std::thread thread;
  };

  void worker_main(Worker& worker) {
    std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
    for (;;) {
      worker.wake.acquire();
      lock.lock();
      if (shutting_down_) return;
      int next = worker.assigned;
      worker.assigned = -1;
      while (next >= 0) next = run_kernel_thread(static_cast<unsigned>(next), lock);
      idle_.push_back(&worker);
      lock.unlock();
    }
  }

  /// Runs kernel thread `me` from its start to its end (lock held on entry and exit); returns the fresh
  /// kernel thread this OS thread should run next (ordered schedules hand over without a thread switch),
  /// or -1.
  int run_kernel_thread(unsigned me, std::unique_lock<std::mutex>& lock) {
    slots_[me].state = State::running;
    blockDim = block_;
    gridDim = grid_;
    blockIdx = block_index_;
    threadIdx = uint3{me % block_.x, (me / block_.x) % block_.y, me / (block_.x * block_.y)};
    current_index() = static_cast<int>(me);
    const std::function<void()>* body = body_;
    lock.unlock();
    std::string escaped;
    try {
      (*body)();
    } catch (const BlockAborted&) {
    } catch (const std::exception& e) {
      escaped = std::string("an exception escaped the kernel: ") + e.what();
    } catch (...) {
      escaped = "an exception escaped the kernel";
    }
    lock.lock();
    current_index() = -1;
    if (!escaped.empty() && !aborted_) fault(escaped + " (thread " + std::to_string(me) + ")");
    return exit_thread(me);
  }

  bool run_block(std::unique_lock<std::mutex>& lock) {
    std::memset(shared_.get(), uninitialized_byte, shared_bytes_);
    aborted_ = false;
    alive_ = threads_;
    for (unsigned t = 0; t < threads_; ++t) slots_[t].state = State::fresh;
    std::vector<unsigned> all(threads_);
    for (unsigned t = 0; t < threads_; ++t) all[t] = t;
    ++statistics_.blocks;
    (void)start_pass(std::move(all), false);
    done_.wait(lock, [&] { return alive_ == 0; });
    return !aborted_;
  }

  /// Lets kernel thread t run: wakes its OS thread, or starts it on an idle one, or (may_run_here, for a
  /// fresh thread) returns it for the calling OS thread to run. Returns the thread to run here, or -1.
  int activate(unsigned t, bool may_run_here) {
    ThreadSlot& slot = slots_[t];
    if (slot.state != State::fresh) {
      slot.state = State::running;
      slot.wake.release();
      return -1;
    }
    if (may_run_here) return static_cast<int>(t);
    if (idle_.empty()) {
      workers_.emplace_back();
      Worker& worker = workers_.back();
      worker.assigned = static_cast<int>(t);
      worker.wake.release();
      worker.thread = std::thread([this, &worker] { worker_main(worker); });
      return -1;
    }
    Worker* worker = idle_.back();
    idle_.pop_back();
    worker->assigned = static_cast<int>(t);
    worker->wake.release();
    return -1;
  }

  int start_pass(std::vector<unsigned> released, bool may_run_here) {
    if (schedule_ == Schedule::parallel) {
      running_ = static_cast<unsigned>(released.size());
      pending_.clear();
      int here = -1;
      unsigned started = 0;
      for (unsigned t : released) {
        if (slots_[t].state == State::fresh && started >= parallel_fresh_threads) {
          pending_.push_back(t);
          continue;
        }
        if (slots_[t].state == State::fresh) ++started;
        const int r = activate(t, may_run_here && here < 0);
        if (r >= 0) here = r;
      }
      std::reverse(pending_.begin(), pending_.end());  // taken from the back, in index order
      return here;
    }
    if (schedule_ == Schedule::reverse) std::reverse(released.begin(), released.end());
    pass_ = std::move(released);
    pass_position_ = 0;
    return activate(pass_[pass_position_++], may_run_here);
  }

  /// The calling kernel thread stopped at a synchronization point (may_run_here false) or exited.
  int stopped(bool may_run_here) {
    if (schedule_ == Schedule::parallel) {
      --running_;
      if (!pending_.empty()) {
        const unsigned next = pending_.back();
        pending_.pop_back();
        return activate(next, may_run_here);
      }
      if (running_ > 0) return -1;
    } else if (pass_position_ < pass_.size()) {
      return activate(pass_[pass_position_++], may_run_here);
    }
    return resolve(may_run_here);
  }

  void wait_for_release(unsigned me, std::unique_lock<std::mutex>& lock) {
    if (aborted_) throw BlockAborted{};
    (void)stopped(false);
    // Wait without the lock: whoever releases this thread (activate, or fault) changed its state under
    // the lock first, and the semaphore orders those writes (and the result) before this thread goes on.
    lock.unlock();
    slots_[me].wake.acquire();
    if (aborted_.load()) throw BlockAborted{};
  }

  int exit_thread(unsigned me) {
    slots_[me].state = State::exited;
    --alive_;
    if (alive_ == 0) done_.notify_all();
    if (aborted_) return -1;
    return stopped(true);
  }

  void fault(const std::string& message) {
    aborted_ = true;
    for (unsigned t = 0; t < threads_; ++t)  // threads that never started just end
      if (slots_[t].state == State::fresh) {
        slots_[t].state = State::exited;
        if (--alive_ == 0) done_.notify_all();
      }
    ++statistics_.faults;
    statistics_.last_fault = message;
    std::fprintf(stderr,
                 "pnpdist CUDA emulation: kernel fault in block (%u, %u, %u) of a grid (%u, %u, %u) x (%u, %u, %u), "
                 "schedule %s: %s\n",
                 block_index_.x, block_index_.y, block_index_.z, grid_.x, grid_.y, grid_.z, block_.x, block_.y,
                 block_.z, schedule_name(schedule_), message.c_str());
    for (unsigned t = 0; t < threads_; ++t)  // wake every thread stopped at a synchronization point, once
      if (slots_[t].state == State::at_barrier || slots_[t].state == State::at_warp) {
        slots_[t].state = State::running;
        slots_[t].wake.release();
      }
  }

  static std::string where(const std::source_location& site) {
    return std::string(site.file_name()) + ":" + std::to_string(site.line());
  }

  /// Every live thread is at a synchronization point: release what completes, or fault. Returns the
  /// thread the calling OS thread runs next (see activate).
  int resolve(bool may_run_here) {
    if (alive_ == 0) return -1;
    std::vector<unsigned> released;
    std::vector<bool> done(threads_, false);
    for (unsigned t = 0; t < threads_; ++t) {
      if (slots_[t].state != State::at_warp || done[t]) continue;
      if (!release_warp_group(t, released, done)) return -1;
    }
    if (released.empty()) {
      unsigned first = threads_;
      int count = 0;
      bool all = true;
      bool any = false;
      for (unsigned t = 0; t < threads_; ++t) {
        const ThreadSlot& slot = slots_[t];
        if (slot.state == State::exited) continue;
        if (first == threads_) first = t;
        const ThreadSlot& reference = slots_[first];
        if (slot.site.line() != reference.site.line() ||
            std::strcmp(slot.site.file_name(), reference.site.file_name()) != 0 ||
            slot.barrier_op != reference.barrier_op) {
          fault("divergent __syncthreads: thread " + std::to_string(first) + " waits at " + where(reference.site) +
                ", thread " + std::to_string(t) + " at " + where(slot.site));
          return -1;
        }
        count += slot.predicate != 0 ? 1 : 0;
        all = all && slot.predicate != 0;
        any = any || slot.predicate != 0;
        released.push_back(t);
      }
      const BarrierOp op = slots_[first].barrier_op;
      const int result = op == BarrierOp::count ? count
                         : op == BarrierOp::all ? (all ? 1 : 0)
                         : op == BarrierOp::any ? (any ? 1 : 0)
                                                : 0;
      for (unsigned t : released) slots_[t].result = static_cast<std::uint64_t>(result);
    }
    return start_pass(std::move(released), may_run_here);
  }

  /// Completes the warp operation of thread t and the lanes of its mask, or faults (returns false).
  bool release_warp_group(unsigned t, std::vector<unsigned>& released, std::vector<bool>& done) {
    const ThreadSlot& caller = slots_[t];
    const unsigned lane = t % 32;
    const unsigned base = t - lane;
    const std::string who = std::string(warp_op_name(caller.op)) + " in thread " + std::to_string(t) + " (warp " +
                            std::to_string(t / 32) + ", lane " + std::to_string(lane) + ", mask 0x" + hex(caller.mask) +
                            ")";
    if (((caller.mask >> lane) & 1u) == 0) {
      fault(who + ": the calling lane is not in the mask");
      return false;
    }
    const int width = caller.width;
    if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
      fault(who + ": width " + std::to_string(width) + " is not a power of two in [1, 32]");
      return false;
    }
    for (unsigned l = 0; l < 32; ++l) {
      if (((caller.mask >> l) & 1u) == 0) continue;
      const unsigned u = base + l;
      const std::string other = "lane " + std::to_string(l);
      if (u >= threads_) {
        fault(who + ": " + other + " does not exist (the block has " + std::to_string(threads_) + " threads)");
        return false;
      }
      const ThreadSlot& s = slots_[u];
      if (s.state == State::exited) {
        fault(who + ": " + other + " has exited");
        return false;
      }
      if (s.state == State::at_barrier) {
        fault(who + ": " + other + " waits at __syncthreads (" + where(s.site) + ")");
        return false;
      }
      if (s.op != caller.op || s.mask != caller.mask || s.width != caller.width) {
        fault(who + ": " + other + " executes " + warp_op_name(s.op) + " with mask 0x" + hex(s.mask) + " and width " +
              std::to_string(s.width));
        return false;
      }
    }
    std::uint64_t ballot = 0;
    bool all = true;
    bool any = false;
    for (unsigned l = 0; l < 32; ++l)
      if ((caller.mask >> l) & 1u) {
        const bool p = slots_[base + l].value != 0;
        ballot |= p ? (std::uint64_t{1} << l) : 0;
        all = all && p;
        any = any || p;
      }
    for (unsigned l = 0; l < 32; ++l) {
      if (((caller.mask >> l) & 1u) == 0) continue;
      ThreadSlot& s = slots_[base + l];
      const int first = static_cast<int>(l) / width * width;  // first lane of l's width-segment
      int source = static_cast<int>(l);
      switch (caller.op) {
        case WarpOp::sync:
          break;
        case WarpOp::shfl:
          source = first + ((s.operand % width) + width) % width;
          break;
        case WarpOp::shfl_up:
          source = static_cast<int>(l) - s.operand < first ? static_cast<int>(l) : static_cast<int>(l) - s.operand;
          break;
        case WarpOp::shfl_down:
          source =
              static_cast<int>(l) + s.operand >= first + width ? static_cast<int>(l) : static_cast<int>(l) + s.operand;
          break;
        case WarpOp::shfl_xor: {
          const int x = static_cast<int>(l) ^ s.operand;
          source = (x < 0 || x >= first + width || x >= 32) ? static_cast<int>(l) : x;
          break;
        }
        case WarpOp::ballot:
          s.result = ballot;
          break;
        case WarpOp::all:
          s.result = all ? 1 : 0;
          break;
        case WarpOp::any:
          s.result = any ? 1 : 0;
          break;
      }
      if (caller.op == WarpOp::shfl || caller.op == WarpOp::shfl_up || caller.op == WarpOp::shfl_down ||
          caller.op == WarpOp::shfl_xor) {
        if (((caller.mask >> source) & 1u) == 0) {
          fault(std::string(warp_op_name(caller.op)) + " in thread " + std::to_string(base + l) + " reads lane " +
                std::to_string(source) + ", which is not in the mask 0x" + hex(caller.mask));
          return false;
        }
        s.result = slots_[base + static_cast<unsigned>(source)].value;
      }
      done[base + l] = true;
      released.push_back(base + l);
    }
    return true;
  }

  static std::string hex(unsigned v) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%08x", v);
    return buffer;
  }

  struct AlignedDelete {
    void operator()(unsigned char* p) const { ::operator delete (p, std::align_val_t{16}); }
  };

  std::mutex launch_mutex_;
  std::mutex mutex_;
  std::condition_variable done_;
  std::deque<ThreadSlot> slots_;  // one per kernel thread of the largest block so far
  std::deque<Worker> workers_;
  std::vector<Worker*> idle_;
  bool shutting_down_ = false;
  Schedule default_schedule_ = Schedule::mixed;
  std::optional<Schedule> override_;
  Schedule schedule_ = Schedule::forward;
  Statistics statistics_;
  // the running launch and block
  const std::function<void()>* body_ = nullptr;
  std::unique_ptr<unsigned char, AlignedDelete> shared_;
  std::size_t shared_bytes_ = 0;
  dim3 grid_, block_;
  uint3 block_index_{0, 0, 0};
  unsigned threads_ = 0;
  unsigned alive_ = 0;
  std::atomic<bool> aborted_{false};  // written under the lock; read without it by released threads
  // the running pass
  std::vector<unsigned> pass_;
  std::vector<unsigned> pending_;  // parallel schedule: fresh threads waiting for one of the running to stop
  std::size_t pass_position_ = 0;
  unsigned running_ = 0;
};

template <class T>
std::uint64_t to_bits(const T& v) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "warp intrinsics take values of at most 8 bytes");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}

template <class T>
T from_bits(std::uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

}  // namespace detail

/// Selects the schedule of every launch while alive (tests), whatever PNPDIST_CUDA_EMULATION_SCHEDULE says.
class ScheduleOverride {
public:
  explicit ScheduleOverride(Schedule s) : previous_(detail::Engine::instance().schedule_override()) {
    detail::Engine::instance().set_schedule_override(s);
  }
  ~ScheduleOverride() { detail::Engine::instance().set_schedule_override(previous_); }
  ScheduleOverride(const ScheduleOverride&) = delete;
  ScheduleOverride& operator=(const ScheduleOverride&) = delete;

private:
  std::optional<Schedule> previous_;
};

inline Statistics statistics() { return detail::Engine::instance().statistics(); }

/// Launch-configuration check of the runtime: cudaSuccess or the error a GPU would report.
inline cudaError_t check_configuration(dim3 grid, dim3 block, std::size_t shared_bytes) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0 || block.y == 0 || block.z == 0)
    return cudaErrorInvalidConfiguration;
  if (grid.x > max_grid_dim[0] || grid.y > max_grid_dim[1] || grid.z > max_grid_dim[2])
    return cudaErrorInvalidConfiguration;
  if (block.x > max_block_dim[0] || block.y > max_block_dim[1] || block.z > max_block_dim[2] ||
      static_cast<unsigned long long>(block.x) * block.y * block.z >
          static_cast<unsigned long long>(max_threads_per_block))
    return cudaErrorInvalidConfiguration;
  if (shared_bytes > max_shared_bytes_per_block) return cudaErrorInvalidValue;
  return cudaSuccess;
}

/// Runs kernel<<<grid, block, shared_bytes, stream>>>(args...) to completion. Launch-configuration
/// errors set the calling thread's last error (as on a GPU); a fault inside the kernel is reported by the
/// next synchronizing call. Each kernel thread receives its own copy of the parameters, converted to the
/// kernel's parameter types as a GPU launch does. An accepted launch is recorded while recording is on, and
/// not run in count-only mode (launch_records.hpp).
template <class... Params, class... Args>
inline void launch(dim3 grid, dim3 block, std::size_t shared_bytes, cudaStream_t stream, void (*kernel)(Params...),
                   Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "kernel launch: wrong number of arguments");
  static_assert((std::is_trivially_copyable_v<std::remove_cvref_t<Params>> && ...),
                "kernel parameters must be trivially copyable: they are copied to the device byte for byte");
  using Tuple = std::tuple<std::remove_cvref_t<Params>...>;
  const DeclaredCost cost = detail::take_declared_cost();  // consumed by this launch, accepted or not
  if (kernel == nullptr) {
    result(cudaErrorInvalidValue);
    return;
  }
  if (!valid_stream(stream)) {
    result(cudaErrorInvalidResourceHandle);
    return;
  }
  const cudaError_t config = check_configuration(grid, block, shared_bytes);
  if (config != cudaSuccess) {
    result(config);
    return;
  }
  const Tuple parameters(static_cast<Args&&>(args)...);
  const std::function<void()> body = [&parameters, kernel] {
    Tuple local = parameters;
    std::apply(kernel, local);
  };
  if (detail::Engine::in_kernel()) {
    std::fprintf(stderr, "pnpdist CUDA emulation: a kernel launched a kernel (dynamic parallelism is not emulated)\n");
    std::abort();
  }
  if (!detail::record_launch(kernel, grid, block, shared_bytes, cost)) return;  // count-only (launch_records.hpp)
  detail::Engine& engine = detail::Engine::instance();
  std::lock_guard<std::mutex> serialize(engine.launch_mutex());
  if (!engine.run(grid, block, shared_bytes, body)) record_kernel_fault();
}

/// The dynamic shared memory of the running launch.
inline void* dynamic_shared_memory() { return detail::Engine::instance().dynamic_shared(); }

}  // namespace pnpdist_cuda_emulator
