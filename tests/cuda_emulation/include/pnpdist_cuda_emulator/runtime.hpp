#pragma once
/// \file
/// The runtime half of the CPU emulation of CUDA (used only by the `cuda-emulated` tests): the subset of the
/// runtime API of <cuda_runtime.h> the library calls, with host semantics (its types and the device state in
/// device_state.hpp).
///
///   - Device memory is host memory from operator new (aligned to 256 bytes, filled with 0xFF bytes, a NaN
///     pattern, so that reading uninitialized device memory shows), registered in a table: cudaMemcpy
///     checks that each side of a copy lies inside a registered allocation exactly when its direction
///     says it is device memory, and cudaFree rejects a pointer it did not return. AddressSanitizer sees
///     every access past an allocation.
///   - Every operation runs to completion when called (kernels included, see execution.hpp): streams
///     and events only keep their handles valid and their timestamps; synchronization has nothing to wait
///     for.
///   - Errors: a rejected call returns its error code and sets the calling thread's last error
///     (cudaGetLastError returns and clears it). A fault inside a kernel (a broken barrier or warp
///     protocol, see execution.hpp) is printed to stderr when it happens and returned, once, by the next
///     synchronizing call (cudaDeviceSynchronize, cudaStreamSynchronize, cudaEventSynchronize,
///     cudaMemcpy, cudaMemset) as cudaErrorLaunchFailure. Unlike a GPU, the error is not sticky.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>

#include "pnpdist_cuda_emulator/device_state.hpp"

// ---- errors ---------------------------------------------------------------------------------------------

inline const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError:
      return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer:
      return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection:
      return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNoDevice:
      return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle:
      return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady:
      return "cudaErrorNotReady";
    case cudaErrorLaunchOutOfResources:
      return "cudaErrorLaunchOutOfResources";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}

inline const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInitializationError:
      return "initialization error";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer:
      return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection:
      return "invalid copy direction for memcpy";
    case cudaErrorNoDevice:
      return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle:
      return "invalid resource handle";
    case cudaErrorNotReady:
      return "device not ready";
    case cudaErrorLaunchOutOfResources:
      return "too many resources requested for launch";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure (emulated kernel fault, see stderr)";
  }
  return "unknown error";
}

inline cudaError_t cudaGetLastError() {
  const cudaError_t error = pnpdist_cuda_emulator::last_error();
  pnpdist_cuda_emulator::last_error() = cudaSuccess;
  return error;
}

inline cudaError_t cudaPeekAtLastError() { return pnpdist_cuda_emulator::last_error(); }

// ---- device management ----------------------------------------------------------------------------------

inline cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return pnpdist_cuda_emulator::result(cudaErrorInvalidValue);
  *count = 1;
  return cudaSuccess;
}

inline cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return pnpdist_cuda_emulator::result(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

inline cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : pnpdist_cuda_emulator::result(cudaErrorInvalidDevice);
}

inline cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attribute, int device) {
  namespace emu = pnpdist_cuda_emulator;
  if (value == nullptr) return emu::result(cudaErrorInvalidValue);
  if (device != 0) return emu::result(cudaErrorInvalidDevice);
  switch (attribute) {
    case cudaDevAttrMaxThreadsPerBlock:
      *value = emu::max_threads_per_block;
      return cudaSuccess;
    case cudaDevAttrMaxBlockDimX:
      *value = static_cast<int>(emu::max_block_dim[0]);
      return cudaSuccess;
    case cudaDevAttrMaxBlockDimY:
      *value = static_cast<int>(emu::max_block_dim[1]);
      return cudaSuccess;
    case cudaDevAttrMaxBlockDimZ:
      *value = static_cast<int>(emu::max_block_dim[2]);
      return cudaSuccess;
    case cudaDevAttrMaxGridDimX:
      *value = static_cast<int>(emu::max_grid_dim[0]);
      return cudaSuccess;
    case cudaDevAttrMaxGridDimY:
      *value = static_cast<int>(emu::max_grid_dim[1]);
      return cudaSuccess;
    case cudaDevAttrMaxGridDimZ:
      *value = static_cast<int>(emu::max_grid_dim[2]);
      return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlock:
      *value = static_cast<int>(emu::max_shared_bytes_per_block);
      return cudaSuccess;
    case cudaDevAttrWarpSize:
      *value = 32;
      return cudaSuccess;
    case cudaDevAttrMultiProcessorCount:
      *value = emu::multiprocessor_count;
      return cudaSuccess;
    case cudaDevAttrComputeCapabilityMajor:
      *value = 8;
      return cudaSuccess;
    case cudaDevAttrComputeCapabilityMinor:
      *value = 0;
      return cudaSuccess;
    case cudaDevAttrMaxThreadsPerMultiProcessor:
      *value = emu::max_threads_per_multiprocessor;
      return cudaSuccess;
  }
  return emu::result(cudaErrorInvalidValue);
}

inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* properties, int device) {
  namespace emu = pnpdist_cuda_emulator;
  if (properties == nullptr) return emu::result(cudaErrorInvalidValue);
  if (device != 0) return emu::result(cudaErrorInvalidDevice);
  *properties = cudaDeviceProp{};
  std::strncpy(properties->name, "pnpdist CPU emulation of CUDA", sizeof properties->name - 1);
  properties->totalGlobalMem = std::size_t{1} << 32;
  properties->sharedMemPerBlock = emu::max_shared_bytes_per_block;
  properties->warpSize = 32;
  properties->maxThreadsPerBlock = emu::max_threads_per_block;
  for (int d = 0; d < 3; ++d) {
    properties->maxThreadsDim[d] = static_cast<int>(emu::max_block_dim[d]);
    properties->maxGridSize[d] = static_cast<int>(emu::max_grid_dim[d]);
  }
  properties->major = 8;
  properties->minor = 0;
  properties->multiProcessorCount = emu::multiprocessor_count;
  properties->maxThreadsPerMultiProcessor = emu::max_threads_per_multiprocessor;
  return cudaSuccess;
}

inline cudaError_t cudaDeviceSynchronize() { return pnpdist_cuda_emulator::take_pending_fault(); }

inline cudaError_t cudaMemGetInfo(std::size_t* free_bytes, std::size_t* total_bytes) {
  if (free_bytes == nullptr || total_bytes == nullptr) return pnpdist_cuda_emulator::result(cudaErrorInvalidValue);
  *total_bytes = std::size_t{1} << 32;
  const std::size_t used = pnpdist_cuda_emulator::device_bytes_in_use();
  *free_bytes = used < *total_bytes ? *total_bytes - used : 0;
  return cudaSuccess;
}

// ---- memory ---------------------------------------------------------------------------------------------

inline cudaError_t cudaMalloc(void** pointer, std::size_t bytes) {
  namespace emu = pnpdist_cuda_emulator;
  if (pointer == nullptr) return emu::result(cudaErrorInvalidValue);
  *pointer = nullptr;
  if (bytes == 0) return cudaSuccess;
  void* p = ::operator new (bytes, std::align_val_t{emu::device_memory_alignment}, std::nothrow);
  if (p == nullptr) return emu::result(cudaErrorMemoryAllocation);
  std::memset(p, emu::uninitialized_byte, bytes);
  std::lock_guard<std::mutex> lock(emu::device().mutex);
  emu::device().allocations[reinterpret_cast<std::uintptr_t>(p)] = bytes;
  emu::device().bytes_allocated += bytes;
  *pointer = p;
  return cudaSuccess;
}

template <class T>
inline cudaError_t cudaMalloc(T** pointer, std::size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(pointer), bytes);
}

inline cudaError_t cudaFree(void* pointer) {
  namespace emu = pnpdist_cuda_emulator;
  if (pointer == nullptr) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(emu::device().mutex);
    auto& allocations = emu::device().allocations;
    const auto it = allocations.find(reinterpret_cast<std::uintptr_t>(pointer));
    if (it == allocations.end()) return emu::result(cudaErrorInvalidValue);
    emu::device().bytes_allocated -= it->second;
    allocations.erase(it);
  }
  ::operator delete (pointer, std::align_val_t{emu::device_memory_alignment});
  return cudaSuccess;
}

inline cudaError_t cudaMallocHost(void** pointer, std::size_t bytes) {
  namespace emu = pnpdist_cuda_emulator;
  if (pointer == nullptr) return emu::result(cudaErrorInvalidValue);
  *pointer = ::operator new (bytes == 0 ? 1 : bytes, std::align_val_t{emu::device_memory_alignment}, std::nothrow);
  if (*pointer == nullptr) return emu::result(cudaErrorMemoryAllocation);
  std::lock_guard<std::mutex> lock(emu::device().mutex);
  emu::device().host_allocations.insert(reinterpret_cast<std::uintptr_t>(*pointer));
  return cudaSuccess;
}

inline cudaError_t cudaFreeHost(void* pointer) {
  namespace emu = pnpdist_cuda_emulator;
  if (pointer == nullptr) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(emu::device().mutex);
    if (emu::device().host_allocations.erase(reinterpret_cast<std::uintptr_t>(pointer)) == 0)
      return emu::result(cudaErrorInvalidValue);
  }
  ::operator delete (pointer, std::align_val_t{emu::device_memory_alignment});
  return cudaSuccess;
}

inline cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  namespace emu = pnpdist_cuda_emulator;
  const cudaError_t fault = emu::take_pending_fault();
  if (fault != cudaSuccess) return fault;
  const cudaError_t status = emu::check_copy(dst, src, bytes, kind);
  if (status != cudaSuccess) return emu::result(status);
  if (bytes > 0) std::memmove(dst, src, bytes);
  return cudaSuccess;
}

inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                                   cudaStream_t stream = nullptr) {
  if (!pnpdist_cuda_emulator::valid_stream(stream))
    return pnpdist_cuda_emulator::result(cudaErrorInvalidResourceHandle);
  return cudaMemcpy(dst, src, bytes, kind);
}

inline cudaError_t cudaMemset(void* dst, int value, std::size_t bytes) {
  namespace emu = pnpdist_cuda_emulator;
  const cudaError_t fault = emu::take_pending_fault();
  if (fault != cudaSuccess) return fault;
  if (bytes == 0) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(emu::device().mutex);
    if (!emu::inside_device_allocation(dst, bytes)) return emu::result(cudaErrorInvalidValue);
  }
  std::memset(dst, value, bytes);
  return cudaSuccess;
}

inline cudaError_t cudaMemsetAsync(void* dst, int value, std::size_t bytes, cudaStream_t stream = nullptr) {
  if (!pnpdist_cuda_emulator::valid_stream(stream))
    return pnpdist_cuda_emulator::result(cudaErrorInvalidResourceHandle);
  return cudaMemset(dst, value, bytes);
}

// ---- streams and events ---------------------------------------------------------------------------------

inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  namespace emu = pnpdist_cuda_emulator;
  if (stream == nullptr || flags > cudaStreamNonBlocking) return emu::result(cudaErrorInvalidValue);
  *stream = reinterpret_cast<cudaStream_t>(new char);
  std::lock_guard<std::mutex> lock(emu::device().mutex);
  emu::device().streams.insert(*stream);
  return cudaSuccess;
}

inline cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}

inline cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  namespace emu = pnpdist_cuda_emulator;
  {
    std::lock_guard<std::mutex> lock(emu::device().mutex);
    if (emu::device().streams.erase(stream) == 0) return emu::result(cudaErrorInvalidResourceHandle);
  }
  delete reinterpret_cast<char*>(stream);
  return cudaSuccess;
}

inline cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (!pnpdist_cuda_emulator::valid_stream(stream))
    return pnpdist_cuda_emulator::result(cudaErrorInvalidResourceHandle);
  return pnpdist_cuda_emulator::take_pending_fault();
}

inline cudaError_t cudaStreamQuery(cudaStream_t stream) {
  if (!pnpdist_cuda_emulator::valid_stream(stream))
    return pnpdist_cuda_emulator::result(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}

inline cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  namespace emu = pnpdist_cuda_emulator;
  if (event == nullptr || flags > 0x0F) return emu::result(cudaErrorInvalidValue);
  *event = reinterpret_cast<cudaEvent_t>(new char);
  std::lock_guard<std::mutex> lock(emu::device().mutex);
  emu::device().events[*event] = emu::EventRecord{};
  return cudaSuccess;
}

inline cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

inline cudaError_t cudaEventDestroy(cudaEvent_t event) {
  namespace emu = pnpdist_cuda_emulator;
  {
    std::lock_guard<std::mutex> lock(emu::device().mutex);
    if (emu::device().events.erase(event) == 0) return emu::result(cudaErrorInvalidResourceHandle);
  }
  delete reinterpret_cast<char*>(event);
  return cudaSuccess;
}

inline cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr) {
  namespace emu = pnpdist_cuda_emulator;
  if (!emu::valid_stream(stream)) return emu::result(cudaErrorInvalidResourceHandle);
  std::lock_guard<std::mutex> lock(emu::device().mutex);
  const auto it = emu::device().events.find(event);
  if (it == emu::device().events.end()) return emu::result(cudaErrorInvalidResourceHandle);
  it->second = emu::EventRecord{true, std::chrono::steady_clock::now()};
  return cudaSuccess;
}

inline cudaError_t cudaEventQuery(cudaEvent_t event) {
  namespace emu = pnpdist_cuda_emulator;
  std::lock_guard<std::mutex> lock(emu::device().mutex);
  return emu::device().events.count(event) != 0 ? cudaSuccess : emu::result(cudaErrorInvalidResourceHandle);
}

inline cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  const cudaError_t status = cudaEventQuery(event);
  if (status != cudaSuccess) return status;
  return pnpdist_cuda_emulator::take_pending_fault();
}

inline cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags = 0) {
  if (flags != 0 || !pnpdist_cuda_emulator::valid_stream(stream))
    return pnpdist_cuda_emulator::result(cudaErrorInvalidValue);
  return cudaEventQuery(event);
}

/// Milliseconds between two recorded events (host wall-clock time: the emulation says nothing about
/// GPU performance).
inline cudaError_t cudaEventElapsedTime(float* milliseconds, cudaEvent_t start, cudaEvent_t end) {
  namespace emu = pnpdist_cuda_emulator;
  if (milliseconds == nullptr) return emu::result(cudaErrorInvalidValue);
  std::lock_guard<std::mutex> lock(emu::device().mutex);
  const auto& events = emu::device().events;
  const auto a = events.find(start);
  const auto b = events.find(end);
  if (a == events.end() || b == events.end() || !a->second.recorded || !b->second.recorded)
    return emu::result(cudaErrorInvalidResourceHandle);
  *milliseconds = std::chrono::duration<float, std::milli>(b->second.when - a->second.when).count();
  return cudaSuccess;
}
