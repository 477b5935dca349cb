#pragma once
/// \file
/// The device half of the CPU emulation of CUDA: execution-space qualifiers, __syncthreads and its
/// variants, warp-synchronous intrinsics with their mask semantics, atomics, fences and the few device
/// math functions kernels use, all for the host compiler.
///
/// Qualifiers: __global__, __device__, __host__, __forceinline__, __noinline__, __constant__,
/// __managed__ and __launch_bounds__(...) expand to nothing; `__shared__` expands to `static` (blocks run
/// one after another, so one static object stands for the shared variable of every block; it is not
/// reset between blocks: a read before the block writes sees the previous block's data, never zeros);
/// __align__(n) expands to alignas(n).

#include <atomic>
#include <cmath>
#include <cstdint>
#include <source_location>
#include <type_traits>

#include "pnpdist_cuda_emulator/execution.hpp"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __constant__
#define __managed__
#define __shared__ static
#define __align__(n) alignas(n)
#define __launch_bounds__(...)

// ---- barriers -------------------------------------------------------------------------------------------

/// Waits until every non-exited thread of the block reached this same __syncthreads (exited threads do
/// not block a barrier, as on sm_70 and later). Reaching different __syncthreads call sites is a fault.
inline void __syncthreads(std::source_location site = std::source_location::current()) {
  (void)pnpdist_cuda_emulator::detail::Engine::instance().barrier(pnpdist_cuda_emulator::BarrierOp::plain, 0, site);
}
inline int __syncthreads_count(int predicate, std::source_location site = std::source_location::current()) {
  return pnpdist_cuda_emulator::detail::Engine::instance().barrier(pnpdist_cuda_emulator::BarrierOp::count, predicate,
                                                                   site);
}
inline int __syncthreads_and(int predicate, std::source_location site = std::source_location::current()) {
  return pnpdist_cuda_emulator::detail::Engine::instance().barrier(pnpdist_cuda_emulator::BarrierOp::all, predicate,
                                                                   site);
}
inline int __syncthreads_or(int predicate, std::source_location site = std::source_location::current()) {
  return pnpdist_cuda_emulator::detail::Engine::instance().barrier(pnpdist_cuda_emulator::BarrierOp::any, predicate,
                                                                   site);
}

inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// ---- warp intrinsics ------------------------------------------------------------------------------------
// Every lane named in `mask` must execute the same intrinsic with the same mask (and width) before any
// of them continues; see execution.hpp for the checks. Values of up to 8 bytes (CUDA splits 64-bit
// values in two 32-bit shuffles; the result is the same).

inline void __syncwarp(unsigned mask = 0xffffffffu) {
  (void)pnpdist_cuda_emulator::detail::Engine::instance().warp(pnpdist_cuda_emulator::WarpOp::sync, mask, 0, 0, 32);
}

/// The value of `var` in lane `src_lane` modulo `width` of the caller's width-segment.
template <class T>
inline T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize) {
  namespace emu = pnpdist_cuda_emulator;
  return emu::detail::from_bits<T>(
      emu::detail::Engine::instance().warp(emu::WarpOp::shfl, mask, emu::detail::to_bits(var), src_lane, width));
}

/// The value of `var` in lane (caller - delta); the caller's own value when that lane is below its
/// width-segment.
template <class T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  namespace emu = pnpdist_cuda_emulator;
  return emu::detail::from_bits<T>(emu::detail::Engine::instance().warp(
      emu::WarpOp::shfl_up, mask, emu::detail::to_bits(var), static_cast<int>(delta), width));
}

/// The value of `var` in lane (caller + delta); the caller's own value when that lane is past its
/// width-segment.
template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  namespace emu = pnpdist_cuda_emulator;
  return emu::detail::from_bits<T>(emu::detail::Engine::instance().warp(
      emu::WarpOp::shfl_down, mask, emu::detail::to_bits(var), static_cast<int>(delta), width));
}

/// The value of `var` in lane (caller XOR lane_mask); the caller's own value when that lane is in a later
/// width-segment.
template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize) {
  namespace emu = pnpdist_cuda_emulator;
  return emu::detail::from_bits<T>(
      emu::detail::Engine::instance().warp(emu::WarpOp::shfl_xor, mask, emu::detail::to_bits(var), lane_mask, width));
}

/// Bit l set when lane l is in `mask` and its predicate is non-zero.
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  namespace emu = pnpdist_cuda_emulator;
  return static_cast<unsigned>(
      emu::detail::Engine::instance().warp(emu::WarpOp::ballot, mask, predicate != 0 ? 1 : 0, 0, 32));
}
inline int __all_sync(unsigned mask, int predicate) {
  namespace emu = pnpdist_cuda_emulator;
  return static_cast<int>(emu::detail::Engine::instance().warp(emu::WarpOp::all, mask, predicate != 0 ? 1 : 0, 0, 32));
}
inline int __any_sync(unsigned mask, int predicate) {
  namespace emu = pnpdist_cuda_emulator;
  return static_cast<int>(emu::detail::Engine::instance().warp(emu::WarpOp::any, mask, predicate != 0 ? 1 : 0, 0, 32));
}
/// The lanes of the caller's warp that have not exited.
inline unsigned __activemask() { return pnpdist_cuda_emulator::detail::Engine::instance().active_mask(); }

// ---- atomics (return the old value; real atomics: the `parallel` schedule runs threads concurrently) ----

template <class T>
inline T atomicAdd(T* address, std::type_identity_t<T> value) {
  return std::atomic_ref<T>(*address).fetch_add(value);
}
template <class T>
inline T atomicSub(T* address, std::type_identity_t<T> value) {
  return std::atomic_ref<T>(*address).fetch_sub(value);
}
template <class T>
inline T atomicExch(T* address, std::type_identity_t<T> value) {
  return std::atomic_ref<T>(*address).exchange(value);
}
template <class T>
inline T atomicCAS(T* address, std::type_identity_t<T> compare, std::type_identity_t<T> value) {
  std::atomic_ref<T>(*address).compare_exchange_strong(compare, value);
  return compare;  // the old value, whether or not the exchange happened
}
template <class T>
inline T atomicMin(T* address, std::type_identity_t<T> value) {
  std::atomic_ref<T> ref(*address);
  T old = ref.load();
  while (value < old && !ref.compare_exchange_weak(old, value)) {
  }
  return old;
}
template <class T>
inline T atomicMax(T* address, std::type_identity_t<T> value) {
  std::atomic_ref<T> ref(*address);
  T old = ref.load();
  while (value > old && !ref.compare_exchange_weak(old, value)) {
  }
  return old;
}
template <class T>
inline T atomicAnd(T* address, std::type_identity_t<T> value) {
  static_assert(std::is_integral_v<T>, "atomicAnd takes an integer");
  return std::atomic_ref<T>(*address).fetch_and(value);
}
template <class T>
inline T atomicOr(T* address, std::type_identity_t<T> value) {
  static_assert(std::is_integral_v<T>, "atomicOr takes an integer");
  return std::atomic_ref<T>(*address).fetch_or(value);
}
template <class T>
inline T atomicXor(T* address, std::type_identity_t<T> value) {
  static_assert(std::is_integral_v<T>, "atomicXor takes an integer");
  return std::atomic_ref<T>(*address).fetch_xor(value);
}
/// old >= limit ? 0 : old + 1.
inline unsigned atomicInc(unsigned* address, unsigned limit) {
  std::atomic_ref<unsigned> ref(*address);
  unsigned old = ref.load();
  while (!ref.compare_exchange_weak(old, old >= limit ? 0u : old + 1u)) {
  }
  return old;
}
/// (old == 0 || old > limit) ? limit : old - 1.
inline unsigned atomicDec(unsigned* address, unsigned limit) {
  std::atomic_ref<unsigned> ref(*address);
  unsigned old = ref.load();
  while (!ref.compare_exchange_weak(old, (old == 0u || old > limit) ? limit : old - 1u)) {
  }
  return old;
}

// ---- device functions -----------------------------------------------------------------------------------

template <class T>
inline T __ldg(const T* address) {
  return *address;
}
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
