#pragma once
/// \file
/// Kernel launches of the CPU emulation of CUDA (used only by the `cuda-emulated` tests):
/// pnpdist_cuda_emulator::launch, what kernel<<<grid, block, shared_bytes, stream>>>(args...) becomes (checks
/// the configuration as the runtime does, records the launch, and runs it to completion on the scheduler of
/// execution.hpp), the dynamic shared memory of the running launch, the schedule override of tests and the
/// emulated device's counters.

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>

#include "pnpdist_cuda_emulator/execution.hpp"
#include "pnpdist_cuda_emulator/launch_records.hpp"
#include "pnpdist_cuda_emulator/runtime.hpp"

namespace pnpdist_cuda_emulator {

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
