#pragma once
// A user's operator that owns its data through a std::unique_ptr: movable, not copyable (the compile checks
// of tests/operators/compile/, registered in tests/CMakeLists.txt).
#include <pnpdist/backend/serial.hpp>
#include <pnpdist/operators/linear_operator.hpp>

#include <memory>

struct MoveOnlyOperator {
  using value_type = double;
  using executor_type = pnpdist::Serial;
  static constexpr std::size_t domain_rank = 1;
  static constexpr std::size_t range_rank = 1;
  std::unique_ptr<double> scale = std::make_unique<double>(2.0);

  [[nodiscard]] pnpdist::Extents<1> domain_shape() const { return pnpdist::Extents<1>{4}; }
  [[nodiscard]] pnpdist::Extents<1> range_shape() const { return pnpdist::Extents<1>{4}; }
  [[nodiscard]] pnpdist::Serial executor() const { return {}; }
  void apply(const pnpdist::View<const double, 1, pnpdist::HostSpace>& x,
             const pnpdist::View<double, 1, pnpdist::HostSpace>& y) const {
    for (pnpdist::index_t i = 0; i < 4; ++i) y(i) = *scale * x(i);
  }
  void apply_adjoint(const pnpdist::View<const double, 1, pnpdist::HostSpace>& y,
                     const pnpdist::View<double, 1, pnpdist::HostSpace>& x) const {
    apply(y, x);
  }
};
static_assert(pnpdist::LinearOperator<MoveOnlyOperator>);
