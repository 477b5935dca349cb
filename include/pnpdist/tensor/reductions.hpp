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

template <class ViewT, class Acc>
struct ValueAs {
  ViewT v;
  bool contiguous;
  PNPDIST_HOST_DEVICE Acc operator()(index_t i) const { return static_cast<Acc>(element_at(v, i, contiguous)); }
};
template <class ViewT, class Acc>
struct SquareAs {
  ViewT v;
  bool contiguous;
  PNPDIST_HOST_DEVICE Acc operator()(index_t i) const {
    const Acc a = static_cast<Acc>(element_at(v, i, contiguous));
    return a * a;
  }
};
template <class ViewX, class ViewY, class Acc>
struct ProductAs {
  ViewX x;
  ViewY y;
  bool contiguous;
  PNPDIST_HOST_DEVICE Acc operator()(index_t i) const {
    return static_cast<Acc>(element_at(x, i, contiguous)) * static_cast<Acc>(element_at(y, i, contiguous));
  }
};
template <class ViewT>
struct IsNonFinite {
  ViewT v;
  bool contiguous;
  PNPDIST_HOST_DEVICE index_t operator()(index_t i) const {
    const auto a = element_at(v, i, contiguous);
    return (a != a || a - a != a - a) ? 1 : 0;  // NaN, or +-inf (inf - inf is NaN)
  }
};

}  // namespace detail

/// Sum of the elements, accumulated in double for float data.
template <class Exec, class T, std::size_t Rank>
inline accumulator_t<std::remove_const_t<T>> sum(const Exec& exec,
                                                 const View<T, Rank, typename Exec::memory_space>& x) {
  using Acc = accumulator_t<std::remove_const_t<T>>;
  return transform_reduce(exec, x.size(), SumOp<Acc>{}, detail::ValueAs<View<T, Rank, typename Exec::memory_space>, Acc>{x, x.is_contiguous()});
}

/// Inner product <x, y> (real data), each product formed and accumulated in double for float data.
template <class Exec, class T, class U, std::size_t Rank>
  requires std::is_same_v<std::remove_const_t<T>, std::remove_const_t<U>>
inline accumulator_t<std::remove_const_t<T>> dot(const Exec& exec,
                                                 const View<T, Rank, typename Exec::memory_space>& x,
                                                 const View<U, Rank, typename Exec::memory_space>& y) {
  using Acc = accumulator_t<std::remove_const_t<T>>;
  require_same_extents(x, y, "dot");
  using VX = View<T, Rank, typename Exec::memory_space>;
  using VY = View<U, Rank, typename Exec::memory_space>;
  return transform_reduce(exec, x.size(), SumOp<Acc>{},
                          detail::ProductAs<VX, VY, Acc>{x, y, x.is_contiguous() && y.is_contiguous()});
}

/// Squared Euclidean norm ||x||^2.
template <class Exec, class T, std::size_t Rank>
inline accumulator_t<std::remove_const_t<T>> squared_norm(const Exec& exec,
                                                          const View<T, Rank, typename Exec::memory_space>& x) {
  using Acc = accumulator_t<std::remove_const_t<T>>;
  return transform_reduce(exec, x.size(), SumOp<Acc>{},
                          detail::SquareAs<View<T, Rank, typename Exec::memory_space>, Acc>{x, x.is_contiguous()});
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
  return transform_reduce(exec, x.size(), MaxOp<V>{},
                          detail::ValueAs<View<T, Rank, typename Exec::memory_space>, V>{x, x.is_contiguous()});
}

/// Smallest element (+inf for an empty view; NaN if any element is NaN).
template <class Exec, class T, std::size_t Rank>
inline std::remove_const_t<T> min_value(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x) {
  using V = std::remove_const_t<T>;
  return transform_reduce(exec, x.size(), MinOp<V>{},
                          detail::ValueAs<View<T, Rank, typename Exec::memory_space>, V>{x, x.is_contiguous()});
}

/// Number of NaN and infinite elements.
template <class Exec, class T, std::size_t Rank>
inline index_t count_nonfinite(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x) {
  return transform_reduce(exec, x.size(), SumOp<index_t>{},
                          detail::IsNonFinite<View<T, Rank, typename Exec::memory_space>>{x, x.is_contiguous()});
}

/// Throws invalid_argument naming `what` when x holds a NaN or an infinity.
template <class Exec, class T, std::size_t Rank>
inline void require_finite(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x, const char* what) {
  const index_t bad = count_nonfinite(exec, x);
  require(bad == 0, std::string(what) + " contains " + std::to_string(bad) + " NaN or infinite value(s)");
}

}  // namespace pnpdist
