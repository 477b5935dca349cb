#pragma once
/// \file
/// The state of the CPU emulation of CUDA's device (used only by the `cuda-emulated` tests): the types of
/// <cuda_runtime.h> (dim3, cudaError_t, cudaStream_t, ...), the properties of the emulated device, and the
/// process-wide table of its allocations, streams, events, pending kernel fault and each thread's last error,
/// with the checks the runtime API makes against them (runtime.hpp).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>

// ---- types ----------------------------------------------------------------------------------------------

struct uint3 {
  unsigned int x, y, z;
};

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorLaunchFailure = 719,
};
typedef enum cudaError cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxBlockDimX = 2,
  cudaDevAttrMaxBlockDimY = 3,
  cudaDevAttrMaxBlockDimZ = 4,
  cudaDevAttrMaxGridDimX = 5,
  cudaDevAttrMaxGridDimY = 6,
  cudaDevAttrMaxGridDimZ = 7,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
  cudaDevAttrMaxThreadsPerMultiProcessor = 39,
};

struct cudaDeviceProp {
  char name[256];
  std::size_t totalGlobalMem;
  std::size_t sharedMemPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int major;
  int minor;
  int multiProcessorCount;
  int maxThreadsPerMultiProcessor;
};

struct CUstream_st;
struct CUevent_st;
typedef CUstream_st* cudaStream_t;
typedef CUevent_st* cudaEvent_t;

#define cudaStreamLegacy (reinterpret_cast<cudaStream_t>(0x1))
#define cudaStreamPerThread (reinterpret_cast<cudaStream_t>(0x2))
#define cudaStreamDefault 0x00
#define cudaStreamNonBlocking 0x01
#define cudaEventDefault 0x00
#define cudaEventDisableTiming 0x02

namespace pnpdist_cuda_emulator {

/// Properties of the emulated device.
inline constexpr int max_threads_per_block = 1024;
inline constexpr unsigned max_block_dim[3] = {1024, 1024, 64};
inline constexpr unsigned max_grid_dim[3] = {2147483647u, 65535u, 65535u};
inline constexpr std::size_t max_shared_bytes_per_block = 48 * 1024;
inline constexpr int multiprocessor_count = 2;
inline constexpr int max_threads_per_multiprocessor = 2048;
inline constexpr std::size_t device_memory_alignment = 256;
/// Byte written over fresh device memory and over dynamic shared memory at the start of each block.
inline constexpr unsigned char uninitialized_byte = 0xFF;

struct EventRecord {
  bool recorded = false;
  std::chrono::steady_clock::time_point when{};
};

/// Process-wide state of the emulated device.
struct DeviceState {
  std::mutex mutex;
  std::map<std::uintptr_t, std::size_t> allocations;  // device allocations: start -> bytes
  std::set<std::uintptr_t> host_allocations;          // cudaMallocHost
  std::set<const void*> streams;
  std::map<const void*, EventRecord> events;
  cudaError_t pending_fault = cudaSuccess;  // a kernel fault not yet reported by a synchronizing call
  std::size_t bytes_allocated = 0;
};

/// Never destroyed: device memory may be freed from static destructors (e.g. a static tensor).
inline DeviceState& device() {
  static DeviceState* const state = new DeviceState;
  return *state;
}

inline cudaError_t& last_error() {
  thread_local cudaError_t error = cudaSuccess;
  return error;
}

/// Records `error` as the calling thread's last error (unless success) and returns it.
inline cudaError_t result(cudaError_t error) {
  if (error != cudaSuccess) last_error() = error;
  return error;
}

/// Called by the kernel scheduler when a launch faulted.
inline void record_kernel_fault() {
  std::lock_guard<std::mutex> lock(device().mutex);
  device().pending_fault = cudaErrorLaunchFailure;
}

/// The pending kernel fault, cleared (the result of every synchronizing call).
inline cudaError_t take_pending_fault() {
  std::lock_guard<std::mutex> lock(device().mutex);
  const cudaError_t fault = device().pending_fault;
  device().pending_fault = cudaSuccess;
  return result(fault);
}

/// True when [p, p + bytes) lies inside one device allocation (caller holds the mutex).
inline bool inside_device_allocation(const void* p, std::size_t bytes) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  auto& allocations = device().allocations;
  auto it = allocations.upper_bound(address);
  if (it == allocations.begin()) return false;
  --it;
  return address >= it->first && address - it->first + bytes <= it->second &&
         (bytes > 0 || address < it->first + it->second);
}

inline bool valid_stream(cudaStream_t stream) {
  if (stream == nullptr || stream == cudaStreamLegacy || stream == cudaStreamPerThread) return true;
  std::lock_guard<std::mutex> lock(device().mutex);
  return device().streams.count(stream) != 0;
}

/// Checks a copy of `bytes` from src to dst in direction `kind` against the allocation table.
inline cudaError_t check_copy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  if (dst == nullptr || src == nullptr) return cudaErrorInvalidValue;
  std::lock_guard<std::mutex> lock(device().mutex);
  const bool dst_device = inside_device_allocation(dst, bytes);
  const bool src_device = inside_device_allocation(src, bytes);
  switch (kind) {
    case cudaMemcpyHostToHost:
      return !dst_device && !src_device ? cudaSuccess : cudaErrorInvalidValue;
    case cudaMemcpyHostToDevice:
      return dst_device && !src_device ? cudaSuccess : cudaErrorInvalidValue;
    case cudaMemcpyDeviceToHost:
      return !dst_device && src_device ? cudaSuccess : cudaErrorInvalidValue;
    case cudaMemcpyDeviceToDevice:
      return dst_device && src_device ? cudaSuccess : cudaErrorInvalidValue;
    case cudaMemcpyDefault:
      return cudaSuccess;
  }
  return cudaErrorInvalidMemcpyDirection;
}

/// Number of bytes of device memory currently allocated through cudaMalloc.
inline std::size_t device_bytes_in_use() {
  std::lock_guard<std::mutex> lock(device().mutex);
  return device().bytes_allocated;
}

}  // namespace pnpdist_cuda_emulator
