#pragma once
/// \file
/// The Executor concept: a cheap value type naming where and how kernels run. Every executor has a
/// memory_space (where the data it touches must live) and is accepted by for_each and transform_reduce.

#include <concepts>
#include <type_traits>

namespace pnpdist {

template <class E>
concept Executor = std::copy_constructible<E> && requires(const E& e) {
  typename E::memory_space;
  { e.concurrency() } -> std::convertible_to<int>;
  { E::name } -> std::convertible_to<const char*>;
};

/// True for executors whose kernels run on the calling host (their memory space is host accessible).
template <class E>
inline constexpr bool is_host_executor_v = E::memory_space::host_accessible;

}  // namespace pnpdist
