#pragma once
// PerElementSerial: a host executor whose launch policy asks for the per-element kernel forms
// (backend/launch_policy.hpp, KernelForm::per_element), the forms the Cuda policy selects. It runs every
// launch as one loop in the calling thread, like Serial, and records the type name of each kernel it runs, so
// a test can run the device forms of an operator natively on the host and see which kernels were launched.
#include <pnpdist/backend/host_space.hpp>
#include <pnpdist/backend/iteration_space.hpp>
#include <pnpdist/backend/launch_policy.hpp>
#include <pnpdist/core/types.hpp>

#include <algorithm>
#include <string>
#include <typeinfo>
#include <vector>

namespace pnpdist::test {

struct PerElementSerial {
  using memory_space = HostSpace;
  static constexpr const char* name = "serial-per-element";
  [[nodiscard]] int concurrency() const { return 1; }
};

/// One loop in index order; N-D spaces one iteration per multi-index; per-element kernel forms.
struct PerElementSerialPolicy {
  static constexpr MDShape md_shape = MDShape::elements;
  static constexpr KernelForm kernel_form = KernelForm::per_element;
  [[nodiscard]] constexpr PerElementSerialPolicy with_iteration_cost(index_t /*elements_per_iteration*/) const {
    return *this;
  }
};

constexpr PerElementSerialPolicy default_launch_policy(const PerElementSerial&) { return {}; }

/// The (implementation-defined, usually mangled) type names of the kernels PerElementSerial launched, in
/// launch order, since the last clear().
inline std::vector<std::string>& per_element_serial_launches() {
  static std::vector<std::string> names;
  return names;
}

/// True when a launched kernel's type name contains `fragment` (a class name is part of its mangled name).
inline bool per_element_serial_launched(const std::string& fragment) {
  const auto& names = per_element_serial_launches();
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return n.find(fragment) != std::string::npos; });
}

template <class F>
inline void for_each(const PerElementSerial&, const PerElementSerialPolicy&, Range range, const F& f) {
  if (range.size() <= 0) return;
  per_element_serial_launches().emplace_back(typeid(F).name());
  for (index_t i = 0; i < range.size(); ++i) f(i);
}

template <class F>
inline void for_each(const PerElementSerial& exec, index_t n, const F& f) {
  for_each(exec, PerElementSerialPolicy{}, Range{n}, f);
}

}  // namespace pnpdist::test
