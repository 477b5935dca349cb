#pragma once
/// \file
/// The launch recorder of the CPU emulation of CUDA: while recording is on, every accepted launch (one that
/// passes the configuration checks) appends a LaunchRecord (which kernel, grid, block, threads, dynamic
/// shared memory, and the bytes and samples the launcher declared for it) to one process-wide list.
/// Thread-safe: launches from any host thread are recorded, and the list can be read and cleared while
/// others launch. Off by default; nothing is recorded then.
///
/// Count-only mode records a launch without running it: the kernel's outputs keep whatever they held, so
/// everything computed from them is meaningless. It exists to take the census of an operator application at
/// full size (docs/gpu_model.md), never for a check of values. Host code that reads device results back
/// (reductions) gets garbage; use it only for code whose launches do not depend on device values.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <cxxabi.h>

#include "pnpdist_cuda_emulator/device_state.hpp"

namespace pnpdist_cuda_emulator {

enum class Recording {
  off,         ///< launches run, nothing is recorded
  on,          ///< launches run and are recorded
  count_only,  ///< launches are recorded and not run (results are garbage)
};

/// One accepted launch.
struct LaunchRecord {
  /// The kernel's demangled function type, e.g. "void (long, pnpdist::ct::JosephForward2D<float>)".
  std::string signature;
  /// The demangled type of its last class-type parameter (the functor a for_each or transform_reduce kernel
  /// runs); empty when it has none.
  std::string functor;
  const void* entry = nullptr;  ///< the kernel's address: equal for launches of the same kernel instantiation
  dim3 grid{1, 1, 1};
  dim3 block{1, 1, 1};
  std::uint64_t threads = 0;     ///< grid x block, all dimensions
  std::size_t shared_bytes = 0;  ///< dynamic shared memory
  bool ran = false;              ///< false when recorded in count-only mode
  bool library_call = false;     ///< a device library's call (cuFFT), not a kernel launch: no grid, threads 0
  /// What the kernel declared it touches (pnpdist::LaunchCost, backend/launch_cost.hpp); all zero and
  /// cost_declared false for a kernel that declares nothing.
  bool cost_declared = false;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t samples = 0;
  std::uint64_t searches = 0;  ///< candidate searches and the candidates they check (a gather kernel's)
  std::uint64_t checks = 0;
};

/// The cost a launcher declares for its next launch from this host thread (declare_launch_cost).
struct DeclaredCost {
  bool declared = false;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t samples = 0;
  std::uint64_t searches = 0;
  std::uint64_t checks = 0;
};

/// The demangled name of a type (the mangled one when demangling fails).
inline std::string demangled(const std::type_info& type) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                    std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

namespace detail {

class LaunchRecorder {
public:
  static LaunchRecorder& instance() {
    static LaunchRecorder recorder;
    return recorder;
  }

  Recording mode() {
    std::lock_guard<std::mutex> lock(mutex_);
    return mode_;
  }
  Recording set_mode(Recording m) {
    std::lock_guard<std::mutex> lock(mutex_);
    const Recording previous = mode_;
    mode_ = m;
    return previous;
  }
  void append(LaunchRecord r) {
    std::lock_guard<std::mutex> lock(mutex_);
    records_.push_back(std::move(r));
  }
  std::vector<LaunchRecord> records() {
    std::lock_guard<std::mutex> lock(mutex_);
    return records_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    records_.clear();
  }

private:
  std::mutex mutex_;
  Recording mode_ = Recording::off;
  std::vector<LaunchRecord> records_;
};

inline DeclaredCost& pending_cost() {
  thread_local DeclaredCost cost;
  return cost;
}

/// The cost declared for the launch being made by this thread, cleared (every launch takes it, recorded
/// or not, so a declaration never carries over to another launch).
inline DeclaredCost take_declared_cost() {
  const DeclaredCost cost = pending_cost();
  pending_cost() = DeclaredCost{};
  return cost;
}

template <class T>
constexpr bool is_class_parameter = std::is_class_v<std::remove_cvref_t<T>>;

/// The demangled type of the last class-type parameter of Params..., or "".
template <class... Params>
std::string last_class_parameter() {
  std::string name;
  ((name = is_class_parameter<Params> ? demangled(typeid(std::remove_cvref_t<Params>)) : name), ...);
  return name;
}

/// Records a launch of `kernel` when recording is on; returns whether the kernel must run (false in
/// count-only mode).
template <class... Params>
bool record_launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes,
                   const DeclaredCost& cost = {}) {
  LaunchRecorder& recorder = LaunchRecorder::instance();
  const Recording mode = recorder.mode();
  if (mode == Recording::off) return true;
  LaunchRecord r;
  r.signature = demangled(typeid(void(Params...)));
  r.functor = last_class_parameter<Params...>();
  r.entry = reinterpret_cast<const void*>(kernel);
  r.grid = grid;
  r.block = block;
  r.threads = std::uint64_t{grid.x} * grid.y * grid.z * block.x * block.y * block.z;
  r.shared_bytes = shared_bytes;
  r.ran = mode == Recording::on;
  r.cost_declared = cost.declared;
  r.bytes_read = cost.bytes_read;
  r.bytes_written = cost.bytes_written;
  r.samples = cost.samples;
  r.searches = cost.searches;
  r.checks = cost.checks;
  recorder.append(std::move(r));
  return mode == Recording::on;
}

/// Records a call of a device library that stands in for kernels (cuFFT's executions, named `name`, with
/// `entry` an address unique to the function) when recording is on, with its cost; returns whether the
/// call must run (false in count-only mode).
inline bool record_library_call(const char* name, const void* entry, const DeclaredCost& cost) {
  LaunchRecorder& recorder = LaunchRecorder::instance();
  const Recording mode = recorder.mode();
  if (mode == Recording::off) return true;
  LaunchRecord r;
  r.signature = name;
  r.entry = entry;
  r.threads = 0;
  r.library_call = true;
  r.ran = mode == Recording::on;
  r.cost_declared = cost.declared;
  r.bytes_read = cost.bytes_read;
  r.bytes_written = cost.bytes_written;
  r.samples = cost.samples;
  recorder.append(std::move(r));
  return mode == Recording::on;
}

}  // namespace detail

/// The recording mode of every launch from now on (all host threads); returns the previous one.
inline Recording set_recording(Recording mode) { return detail::LaunchRecorder::instance().set_mode(mode); }

/// Whether launches are recorded now (on or count-only): launchers declare costs only then.
inline bool recording_launches() { return detail::LaunchRecorder::instance().mode() != Recording::off; }

/// Declares the bytes, samples and (for a kernel that searches for its samples) the searches and candidate
/// checks of the next launch made by this host thread (recorded with it).
inline void declare_launch_cost(std::uint64_t bytes_read, std::uint64_t bytes_written, std::uint64_t samples,
                                std::uint64_t searches = 0, std::uint64_t checks = 0) {
  detail::pending_cost() = DeclaredCost{true, bytes_read, bytes_written, samples, searches, checks};
}

/// A copy of the launches recorded so far, in launch order.
inline std::vector<LaunchRecord> launch_records() { return detail::LaunchRecorder::instance().records(); }

/// Forgets the recorded launches.
inline void clear_launch_records() { detail::LaunchRecorder::instance().clear(); }

/// Sets a recording mode while alive and clears the list on entry; restores the previous mode on exit.
class RecordLaunches {
public:
  explicit RecordLaunches(Recording mode = Recording::on) : previous_(set_recording(mode)) { clear_launch_records(); }
  ~RecordLaunches() { set_recording(previous_); }
  RecordLaunches(const RecordLaunches&) = delete;
  RecordLaunches& operator=(const RecordLaunches&) = delete;

  [[nodiscard]] std::vector<LaunchRecord> records() const { return launch_records(); }

private:
  Recording previous_;
};

}  // namespace pnpdist_cuda_emulator
