#pragma once
/// \file
/// Process-wide accounting of the memory the library allocates, one tracker per memory space, and of the
/// copies between spaces. Peak memory per solver phase is measured by resetting the high-water mark at
/// the start of a phase and reading it at the end. All counters are atomic: safe to update from any thread.

#include <atomic>
#include <cstddef>

namespace pnpdist {

/// A snapshot of one memory space's allocations.
struct MemoryStatistics {
  std::size_t current_bytes = 0;  ///< bytes allocated and not yet freed
  std::size_t peak_bytes = 0;     ///< high-water mark of current_bytes since the last reset_peak()
  std::size_t allocations = 0;    ///< number of allocations since the process started
  std::size_t deallocations = 0;  ///< number of deallocations since the process started
};

class AllocationTracker {
public:
  void on_allocate(std::size_t bytes) noexcept {
    const std::size_t now = current_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    allocations_.fetch_add(1, std::memory_order_relaxed);
    std::size_t peak = peak_.load(std::memory_order_relaxed);
    while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }
  void on_deallocate(std::size_t bytes) noexcept {
    current_.fetch_sub(bytes, std::memory_order_relaxed);
    deallocations_.fetch_add(1, std::memory_order_relaxed);
  }
  /// Sets the high-water mark to the bytes allocated now.
  void reset_peak() noexcept { peak_.store(current_.load(std::memory_order_relaxed), std::memory_order_relaxed); }

  [[nodiscard]] MemoryStatistics statistics() const noexcept {
    return {current_.load(std::memory_order_relaxed), peak_.load(std::memory_order_relaxed),
            allocations_.load(std::memory_order_relaxed), deallocations_.load(std::memory_order_relaxed)};
  }

private:
  std::atomic<std::size_t> current_{0};
  std::atomic<std::size_t> peak_{0};
  std::atomic<std::size_t> allocations_{0};
  std::atomic<std::size_t> deallocations_{0};
};

/// The tracker of memory space Space (one per process, shared by every translation unit).
template <class Space>
inline AllocationTracker& allocation_tracker() {
  static AllocationTracker tracker;
  return tracker;
}

/// Direction of a copy between memory spaces.
enum class CopyKind { host_to_host, host_to_device, device_to_host, device_to_device };

/// Counts and bytes of copies between memory spaces. A PnP iteration that stays in one space performs
/// no host<->device copies: tests assert it with these counters.
struct CopyStatistics {
  std::size_t count[4] = {0, 0, 0, 0};
  std::size_t bytes[4] = {0, 0, 0, 0};
  [[nodiscard]] std::size_t count_of(CopyKind kind) const { return count[static_cast<int>(kind)]; }
  [[nodiscard]] std::size_t bytes_of(CopyKind kind) const { return bytes[static_cast<int>(kind)]; }
};

class CopyTracker {
public:
  void on_copy(CopyKind kind, std::size_t bytes) noexcept {
    count_[static_cast<int>(kind)].fetch_add(1, std::memory_order_relaxed);
    bytes_[static_cast<int>(kind)].fetch_add(bytes, std::memory_order_relaxed);
  }
  [[nodiscard]] CopyStatistics statistics() const noexcept {
    CopyStatistics s;
    for (int k = 0; k < 4; ++k) {
      s.count[k] = count_[k].load(std::memory_order_relaxed);
      s.bytes[k] = bytes_[k].load(std::memory_order_relaxed);
    }
    return s;
  }
  void reset() noexcept {
    for (int k = 0; k < 4; ++k) {
      count_[k].store(0, std::memory_order_relaxed);
      bytes_[k].store(0, std::memory_order_relaxed);
    }
  }

private:
  std::atomic<std::size_t> count_[4] = {};
  std::atomic<std::size_t> bytes_[4] = {};
};

/// The process-wide copy tracker.
inline CopyTracker& copy_tracker() {
  static CopyTracker tracker;
  return tracker;
}

}  // namespace pnpdist
