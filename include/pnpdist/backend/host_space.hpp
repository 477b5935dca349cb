#pragma once
/// \file
/// Host memory space: 64-byte aligned allocations (one cache line, one AVX-512 vector), tracked.

#include <cstddef>
#include <cstring>
#include <new>

#include "pnpdist/backend/allocation_tracker.hpp"

namespace pnpdist {

struct HostSpace {
  static constexpr const char* name = "host";
  static constexpr bool host_accessible = true;
  static constexpr std::size_t alignment = 64;

  /// Uninitialized, 64-byte aligned storage; throws std::bad_alloc when the allocation fails.
  static void* allocate(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    void* p = ::operator new (bytes, std::align_val_t{alignment});
    allocation_tracker<HostSpace>().on_allocate(bytes);
    return p;
  }
  static void deallocate(void* p, std::size_t bytes) noexcept {
    if (p == nullptr) return;
    ::operator delete (p, std::align_val_t{alignment});
    allocation_tracker<HostSpace>().on_deallocate(bytes);
  }
};

/// Copies `bytes` bytes between memory spaces. The host-to-host case is here; copies involving the
/// device are declared by backend/cuda/cuda_space.hpp. Every copy is counted by copy_tracker().
template <class DstSpace, class SrcSpace>
struct SpaceCopy;

template <>
struct SpaceCopy<HostSpace, HostSpace> {
  static void copy(void* dst, const void* src, std::size_t bytes) {
    if (bytes == 0) return;
    std::memcpy(dst, src, bytes);
    copy_tracker().on_copy(CopyKind::host_to_host, bytes);
  }
};

/// Byte copy from memory space SrcSpace to DstSpace.
template <class DstSpace, class SrcSpace>
inline void deep_copy_bytes(void* dst, const void* src, std::size_t bytes) {
  SpaceCopy<DstSpace, SrcSpace>::copy(dst, src, bytes);
}

}  // namespace pnpdist
