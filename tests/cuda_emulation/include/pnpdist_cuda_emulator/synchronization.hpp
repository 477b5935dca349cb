#pragma once
/// \file
/// The synchronization points of the CPU emulation of CUDA (used only by the `cuda-emulated` tests): the
/// state a kernel thread of the running block is in, what it waits for at __syncthreads or a warp-synchronous
/// intrinsic, and the rules by which a synchronization completes (the results each thread receives) or is a
/// kernel fault (the message naming the threads, lanes and call sites). execution.hpp schedules the threads
/// and calls these rules once every live thread of the block has stopped; the rules themselves only read and
/// write the threads' slots.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <semaphore>
#include <source_location>
#include <string>
#include <type_traits>
#include <vector>

namespace pnpdist_cuda_emulator {

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

/// __syncthreads and its counting variants __syncthreads_count, _and, _or.
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

/// The slots of the block's threads, by linear thread index (a deque: a slot holds a semaphore and never moves).
using ThreadSlots = std::deque<ThreadSlot>;

inline std::string where(const std::source_location& site) {
  return std::string(site.file_name()) + ":" + std::to_string(site.line());
}

inline std::string hex(unsigned v) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%08x", v);
  return buffer;
}

/// Every live thread of the first `threads` slots waits at __syncthreads: when they all wait at the same call
/// site with the same variant, appends them to `released` with the variant's result set and returns "";
/// otherwise returns the fault (a divergent barrier) and releases nothing.
inline std::string complete_barrier(ThreadSlots& slots, unsigned threads, std::vector<unsigned>& released) {
  unsigned first = threads;
  int count = 0;
  bool all = true;
  bool any = false;
  const std::size_t first_released = released.size();
  for (unsigned t = 0; t < threads; ++t) {
    const ThreadSlot& slot = slots[t];
    if (slot.state == State::exited) continue;
    if (first == threads) first = t;
    const ThreadSlot& reference = slots[first];
    const bool same_site = slot.site.line() == reference.site.line() &&
                           std::strcmp(slot.site.file_name(), reference.site.file_name()) == 0;
    if (!same_site || slot.barrier_op != reference.barrier_op) {
      released.resize(first_released);
      return "divergent __syncthreads: thread " + std::to_string(first) + " waits at " + where(reference.site) +
             ", thread " + std::to_string(t) + " at " + where(slot.site);
    }
    count += slot.predicate != 0 ? 1 : 0;
    all = all && slot.predicate != 0;
    any = any || slot.predicate != 0;
    released.push_back(t);
  }
  if (first == threads) return "";
  const BarrierOp op = slots[first].barrier_op;
  const int result = op == BarrierOp::count ? count
                     : op == BarrierOp::all ? (all ? 1 : 0)
                     : op == BarrierOp::any ? (any ? 1 : 0)
                                            : 0;
  for (std::size_t i = first_released; i < released.size(); ++i)
    slots[released[i]].result = static_cast<std::uint64_t>(result);
  return "";
}

/// Thread t (of the first `threads` slots) waits in a warp operation: when every lane of its mask waits in the
/// same operation with the same mask and width, sets each lane's result, marks the lanes in `done`, appends
/// them to `released` and returns ""; otherwise returns the fault naming the offending lane.
inline std::string complete_warp_group(ThreadSlots& slots, unsigned threads, unsigned t,
                                       std::vector<unsigned>& released, std::vector<bool>& done) {
  const ThreadSlot& caller = slots[t];
  const unsigned lane = t % 32;
  const unsigned base = t - lane;
  const std::string who = std::string(warp_op_name(caller.op)) + " in thread " + std::to_string(t) + " (warp " +
                          std::to_string(t / 32) + ", lane " + std::to_string(lane) + ", mask 0x" + hex(caller.mask) +
                          ")";
  if (((caller.mask >> lane) & 1u) == 0) return who + ": the calling lane is not in the mask";
  const int width = caller.width;
  if (width < 1 || width > 32 || (width & (width - 1)) != 0)
    return who + ": width " + std::to_string(width) + " is not a power of two in [1, 32]";
  for (unsigned l = 0; l < 32; ++l) {
    if (((caller.mask >> l) & 1u) == 0) continue;
    const unsigned u = base + l;
    const std::string other = "lane " + std::to_string(l);
    if (u >= threads)
      return who + ": " + other + " does not exist (the block has " + std::to_string(threads) + " threads)";
    const ThreadSlot& s = slots[u];
    if (s.state == State::exited) return who + ": " + other + " has exited";
    if (s.state == State::at_barrier) return who + ": " + other + " waits at __syncthreads (" + where(s.site) + ")";
    if (s.op != caller.op || s.mask != caller.mask || s.width != caller.width)
      return who + ": " + other + " executes " + warp_op_name(s.op) + " with mask 0x" + hex(s.mask) + " and width " +
             std::to_string(s.width);
  }
  const bool shuffle = caller.op == WarpOp::shfl || caller.op == WarpOp::shfl_up || caller.op == WarpOp::shfl_down ||
                       caller.op == WarpOp::shfl_xor;
  // Every source lane of a shuffle is checked before any result is written, so a fault leaves the slots as they were.
  std::uint64_t ballot = 0;
  bool all = true;
  bool any = false;
  int sources[32];
  for (unsigned l = 0; l < 32; ++l) {
    if (((caller.mask >> l) & 1u) == 0) continue;
    const ThreadSlot& s = slots[base + l];
    const bool p = s.value != 0;
    ballot |= p ? (std::uint64_t{1} << l) : 0;
    all = all && p;
    any = any || p;
    const int me = static_cast<int>(l);
    const int first = me / width * width;  // first lane of l's width-segment
    int source = me;
    switch (caller.op) {
      case WarpOp::shfl:
        source = first + ((s.operand % width) + width) % width;
        break;
      case WarpOp::shfl_up:
        source = me - s.operand < first ? me : me - s.operand;
        break;
      case WarpOp::shfl_down:
        source = me + s.operand >= first + width ? me : me + s.operand;
        break;
      case WarpOp::shfl_xor: {
        const int x = me ^ s.operand;
        source = (x < 0 || x >= first + width || x >= 32) ? me : x;
        break;
      }
      default:
        break;
    }
    if (shuffle && ((caller.mask >> source) & 1u) == 0)
      return std::string(warp_op_name(caller.op)) + " in thread " + std::to_string(base + l) + " reads lane " +
             std::to_string(source) + ", which is not in the mask 0x" + hex(caller.mask);
    sources[l] = source;
  }
  const WarpOp op = caller.op;
  for (unsigned l = 0; l < 32; ++l) {
    if (((caller.mask >> l) & 1u) == 0) continue;
    ThreadSlot& s = slots[base + l];
    if (shuffle) s.result = slots[base + static_cast<unsigned>(sources[l])].value;
    if (op == WarpOp::ballot) s.result = ballot;
    if (op == WarpOp::all) s.result = all ? 1 : 0;
    if (op == WarpOp::any) s.result = any ? 1 : 0;
    done[base + l] = true;
    released.push_back(base + l);
  }
  return "";
}

/// The bits of a warp intrinsic's operand (values of at most 8 bytes), and back.
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

}  // namespace pnpdist_cuda_emulator
