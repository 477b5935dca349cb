#pragma once
/// \file
/// The Physics concept: a data-fidelity term f(x) = 1/2 sum_i ||A_i x - y_i||^2 over a set of linear
/// operators A_i with their measurements y_i, as the solvers see it.
///
///     p.data_fidelity(x)   f(x), accumulated in double
///     p.gradient(x, g)     g = grad f(x) = sum_i A_i^T (A_i x - y_i), overwriting g
///
/// StackedPhysics (one process) and the distributed physics (operators dealt to ranks, the gradient summed
/// by one allreduce) both satisfy it, so a solver is written once for either. x and g have the shape
/// domain_shape() and live in the memory space of the executor.

#include <concepts>
#include <cstddef>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

/// True when P declares the member types and rank a physics needs.
template <class P>
concept PhysicsTraits = requires {
  typename P::value_type;
  typename P::executor_type;
  { P::domain_rank } -> std::convertible_to<std::size_t>;
} && Executor<typename P::executor_type>;

/// A data-fidelity term (see the file comment for the contract).
template <class P>
concept Physics = PhysicsTraits<P> &&
    requires(const P& p, View<const typename P::value_type, P::domain_rank, typename P::executor_type::memory_space> x,
             View<typename P::value_type, P::domain_rank, typename P::executor_type::memory_space> g) {
  { p.domain_shape() } -> std::convertible_to<Extents<P::domain_rank>>;
  { p.executor() } -> std::convertible_to<typename P::executor_type>;
  { p.data_fidelity(x) } -> std::convertible_to<double>;
  p.gradient(x, g);
};

}  // namespace pnpdist
