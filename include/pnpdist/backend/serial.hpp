#pragma once
/// \file
/// The serial executor: runs kernels in the calling thread, in index order. The reference for every
/// other executor. Its launch policy (launch_policy.hpp) has no parameter: one loop.

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/backend/iteration_space.hpp"
#include "pnpdist/backend/launch_policy.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

struct Serial {
  using memory_space = HostSpace;
  static constexpr const char* name = "serial";
  [[nodiscard]] int concurrency() const { return 1; }
};

/// The launch policy of Serial: one loop in index order; N-D spaces as rows.
struct SerialPolicy {
  static constexpr MDShape md_shape = MDShape::rows;
  static constexpr KernelForm kernel_form = KernelForm::coarse;
  /// The policy for iterations of the given cost: the same (a loop has no threshold).
  [[nodiscard]] constexpr SerialPolicy with_iteration_cost(index_t /*elements_per_iteration*/) const { return *this; }
};

constexpr SerialPolicy default_launch_policy(const Serial&) { return {}; }

/// Calls f(i) for i in `range`, in order.
template <class F>
inline void for_each(const Serial&, const SerialPolicy&, Range range, const F& f) {
  for (index_t i = 0; i < range.size(); ++i) f(i);
}

/// Calls f(i) for i = 0 .. n-1 in order.
template <class F>
inline void for_each(const Serial& exec, index_t n, const F& f) {
  for_each(exec, SerialPolicy{}, Range{n}, f);
}

}  // namespace pnpdist
