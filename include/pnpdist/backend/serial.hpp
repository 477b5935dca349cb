#pragma once
/// \file
/// The serial executor: runs kernels in the calling thread, in index order. The reference for every
/// other executor.

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

struct Serial {
  using memory_space = HostSpace;
  static constexpr const char* name = "serial";
  [[nodiscard]] int concurrency() const { return 1; }
};

/// Calls f(i) for i = 0 .. n-1 in order.
template <class F>
inline void for_each(const Serial&, index_t n, const F& f) {
  for (index_t i = 0; i < n; ++i) f(i);
}

}  // namespace pnpdist
