#pragma once
/// \file
/// The execution half of the CPU emulation of CUDA: the scheduler that runs the blocks of a launch and the
/// threads of a block, barriers and warp-synchronous operations (launch.hpp starts a launch on it;
/// synchronization.hpp holds the rules by which a barrier or a warp operation completes or faults).
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
/// of the launch is skipped, and the next synchronizing runtime call returns cudaErrorLaunchFailure; the
/// rules of the synchronization points are in synchronization.hpp):
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
#include <utility>
#include <vector>

#include "pnpdist_cuda_emulator/runtime.hpp"
#include "pnpdist_cuda_emulator/synchronization.hpp"

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

namespace detail {

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

  /// Every live thread is at a synchronization point: release what completes, or fault. Returns the
  /// thread the calling OS thread runs next (see activate).
  int resolve(bool may_run_here) {
    if (alive_ == 0) return -1;
    std::vector<unsigned> released;
    std::vector<bool> done(threads_, false);
    for (unsigned t = 0; t < threads_; ++t) {
      if (slots_[t].state != State::at_warp || done[t]) continue;
      const std::string problem = complete_warp_group(slots_, threads_, t, released, done);
      if (!problem.empty()) {
        fault(problem);
        return -1;
      }
    }
    if (released.empty()) {
      const std::string problem = complete_barrier(slots_, threads_, released);
      if (!problem.empty()) {
        fault(problem);
        return -1;
      }
    }
    return start_pass(std::move(released), may_run_here);
  }

  struct AlignedDelete {
    void operator()(unsigned char* p) const { ::operator delete (p, std::align_val_t{16}); }
  };

  std::mutex launch_mutex_;
  std::mutex mutex_;
  std::condition_variable done_;
  ThreadSlots slots_;  // one per kernel thread of the largest block so far
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

}  // namespace detail

}  // namespace pnpdist_cuda_emulator
