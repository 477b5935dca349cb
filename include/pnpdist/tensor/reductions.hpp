#pragma once
/// \file
/// Reductions over views: sum, dot, squared norm, norm, max, min, count of non-finite values. Values are
/// accumulated in accumulator_t<T> (double for float data) and combined in the fixed order of
/// backend/reduce.hpp: the result has the same bits for every executor and thread count.

#include <cmath>
#include <cstddef>
#include <string>

#include "pnpdist/backend/reduce.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {
namespace detail {

template <class Elements, class Acc>
struct ValueAs {
  Elements x;
  PNPDIST_HOST_DEVICE Acc operator()(index_t i) const { return static_cast<Acc>(x[i]); }
};
template <class Elements, class Acc>
struct SquareAs {
  Elements x;
  PNPDIST_HOST_DEVICE Acc operator()(index_t i) const {
    const Acc a = static_cast<Acc>(x[i]);
    return a * a;
  }
};
template <class ElementsX, class ElementsY, class Acc>
struct ProductAs {
  ElementsX x;
  ElementsY y;
  PNPDIST_HOST_DEVICE Acc operator()(index_t i) const { return static_cast<Acc>(x[i]) * static_cast<Acc>(y[i]); }
};
template <class Elements>
struct IsNonFinite {
  Elements x;
  PNPDIST_HOST_DEVICE index_t operator()(index_t i) const {
    const auto a = x[i];
    return (a != a || a - a != a - a) ? 1 : 0;  // NaN, or +-inf (inf - inf is NaN)
  }
};

/// op-reduction of Transform<Elements>{elements}(i) over the elements of x.
template <template <class...> class Transform, class... Extra, class Exec, class Op, class T, std::size_t Rank>
inline typename Op::value_type reduce_view(const Exec& exec, const Op& op,
                                           const View<T, Rank, typename Exec::memory_space>& x) {
  return with_elements(x, [&](auto elements) {
    return transform_reduce(exec, x.size(), op, Transform<decltype(elements), Extra...>{elements});
  });
}

}  // namespace detail

/// Sum of the elements, accumulated in double for float data.
template <class Exec, class T, std::size_t Rank>
inline accumulator_t<std::remove_const_t<T>> sum(const Exec& exec,
                                                 const View<T, Rank, typename Exec::memory_space>& x) {
  using Acc = accumulator_t<std::remove_const_t<T>>;
  return detail::reduce_view<detail::ValueAs, Acc>(exec, SumOp<Acc>{}, x);
}

/// Inner product <x, y> (real data), each product formed and accumulated in double for float data (a
/// float product is exact in double).
template <class Exec, class T, class U, std::size_t Rank>
requires std::is_same_v<std::remove_const_t<T>, std::remove_const_t<U>>
inline accumulator_t<std::remove_const_t<T>> dot(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x,
                                                 const View<U, Rank, typename Exec::memory_space>& y) {
  using Acc = accumulator_t<std::remove_const_t<T>>;
  require_same_extents(x, y, "dot");
  return with_elements(x, [&](auto xe) {
    return with_elements(y, [&](auto ye) {
      return transform_reduce(exec, x.size(), SumOp<Acc>{}, detail::ProductAs<decltype(xe), decltype(ye), Acc>{xe, ye});
    });
  });
}

/// Squared Euclidean norm ||x||^2.
template <class Exec, class T, std::size_t Rank>
inline accumulator_t<std::remove_const_t<T>> squared_norm(const Exec& exec,
                                                          const View<T, Rank, typename Exec::memory_space>& x) {
  using Acc = accumulator_t<std::remove_const_t<T>>;
  return detail::reduce_view<detail::SquareAs, Acc>(exec, SumOp<Acc>{}, x);
}

/// Euclidean norm ||x||.
template <class Exec, class T, std::size_t Rank>
inline accumulator_t<std::remove_const_t<T>> norm(const Exec& exec,
                                                  const View<T, Rank, typename Exec::memory_space>& x) {
  return std::sqrt(squared_norm(exec, x));
}

/// Largest element (-inf for an empty view; NaN if any element is NaN).
template <class Exec, class T, std::size_t Rank>
inline std::remove_const_t<T> max_value(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x) {
  using V = std::remove_const_t<T>;
  return detail::reduce_view<detail::ValueAs, V>(exec, MaxOp<V>{}, x);
}

/// Smallest element (+inf for an empty view; NaN if any element is NaN).
template <class Exec, class T, std::size_t Rank>
inline std::remove_const_t<T> min_value(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x) {
  using V = std::remove_const_t<T>;
  return detail::reduce_view<detail::ValueAs, V>(exec, MinOp<V>{}, x);
}

/// Number of NaN and infinite elements.
template <class Exec, class T, std::size_t Rank>
inline index_t count_nonfinite(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x) {
  return detail::reduce_view<detail::IsNonFinite>(exec, SumOp<index_t>{}, x);
}

/// Throws invalid_argument naming `what` when x holds a NaN or an infinity.
template <class Exec, class T, std::size_t Rank>
inline void require_finite(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x, const char* what) {
  const index_t bad = count_nonfinite(exec, x);
  require(bad == 0,
          [&] { return std::string(what) + " contains " + std::to_string(bad) + " NaN or infinite value(s)"; });
}

}  // namespace pnpdist
