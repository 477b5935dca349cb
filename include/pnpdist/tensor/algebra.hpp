#pragma once
/// \file
/// Element-wise tensor algebra on views in the executor's memory space: fill, copy, scale, axpby, affine, clamp.
/// Each call is one launch; element results do not depend on the executor or its thread count.
/// Views must have equal extents (dimension_mismatch otherwise); they may be strided (patches).

#include <string>
#include <type_traits>

#include "pnpdist/tensor/elementwise.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist {
namespace detail {

template <class T>
struct FillOp {
  T value;
  PNPDIST_HOST_DEVICE void operator()(T& x) const { x = value; }
};
template <class T>
struct CopyOp {
  PNPDIST_HOST_DEVICE void operator()(const T& src, T& dst) const { dst = src; }
};
template <class T>
struct ScaleOp {
  T alpha;
  PNPDIST_HOST_DEVICE void operator()(T& x) const { x *= alpha; }
};
template <class T>
struct AxpbyOp {
  T alpha, beta;
  PNPDIST_HOST_DEVICE void operator()(const T& x, T& y) const { y = alpha * x + beta * y; }
};
template <class T>
struct ScaledCopyOp {
  T alpha;
  PNPDIST_HOST_DEVICE void operator()(const T& x, T& y) const { y = alpha * x; }
};
template <class T>
struct AxpyOp {
  T alpha;
  PNPDIST_HOST_DEVICE void operator()(const T& x, T& y) const { y += alpha * x; }
};
template <class T>
struct AffineOp {
  T alpha, beta;
  PNPDIST_HOST_DEVICE void operator()(const T& x, T& y) const { y = alpha * x + beta; }
};
template <class T>
struct ClampOp {
  T low, high;
  PNPDIST_HOST_DEVICE void operator()(T& x) const { x = x < low ? low : (x > high ? high : x); }
};

}  // namespace detail

/// x <- value.
template <class Exec, class T, std::size_t Rank>
inline void fill(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x, T value) {
  elementwise(exec, detail::FillOp<T>{value}, x);
}

/// dst <- src (src may be a view of const elements).
template <class Exec, class U, class T, std::size_t Rank>
requires std::is_same_v<std::remove_const_t<U>, T>
inline void copy(const Exec& exec, const View<U, Rank, typename Exec::memory_space>& src,
                 const View<T, Rank, typename Exec::memory_space>& dst) {
  elementwise(exec, detail::CopyOp<T>{}, src, dst);
}

/// x <- alpha * x.
template <class Exec, class T, std::size_t Rank>
inline void scale(const Exec& exec, T alpha, const View<T, Rank, typename Exec::memory_space>& x) {
  elementwise(exec, detail::ScaleOp<T>{alpha}, x);
}

/// y <- alpha * x + beta * y. With beta == 0, y is overwritten: its old contents (even NaN) do not leak.
template <class Exec, class U, class T, std::size_t Rank>
requires std::is_same_v<std::remove_const_t<U>, T>
inline void axpby(const Exec& exec, T alpha, const View<U, Rank, typename Exec::memory_space>& x, T beta,
                  const View<T, Rank, typename Exec::memory_space>& y) {
  if (beta == T(0))
    elementwise(exec, detail::ScaledCopyOp<T>{alpha}, x, y);
  else if (beta == T(1))
    elementwise(exec, detail::AxpyOp<T>{alpha}, x, y);
  else
    elementwise(exec, detail::AxpbyOp<T>{alpha, beta}, x, y);
}

/// y <- y + alpha * x.
template <class Exec, class U, class T, std::size_t Rank>
requires std::is_same_v<std::remove_const_t<U>, T>
inline void axpy(const Exec& exec, T alpha, const View<U, Rank, typename Exec::memory_space>& x,
                 const View<T, Rank, typename Exec::memory_space>& y) {
  elementwise(exec, detail::AxpyOp<T>{alpha}, x, y);
}

/// y <- alpha * x + beta (beta a scalar). x and y may be the same view.
template <class Exec, class U, class T, std::size_t Rank>
requires std::is_same_v<std::remove_const_t<U>, T>
inline void affine(const Exec& exec, T alpha, const View<U, Rank, typename Exec::memory_space>& x, T beta,
                   const View<T, Rank, typename Exec::memory_space>& y) {
  elementwise(exec, detail::AffineOp<T>{alpha, beta}, x, y);
}

/// x <- min(max(x, low), high); NaN stays NaN. Throws invalid_argument when low > high.
template <class Exec, class T, std::size_t Rank>
inline void clamp(const Exec& exec, const View<T, Rank, typename Exec::memory_space>& x, T low, T high) {
  require(!(low > high),
          [&] { return "clamp: lower bound " + std::to_string(low) + " exceeds upper bound " + std::to_string(high); });
  elementwise(exec, detail::ClampOp<T>{low, high}, x);
}

/// A tensor of `extents` filled with zeros, in the executor's memory space.
template <class T, std::size_t Rank, class Exec>
inline Tensor<T, Rank, typename Exec::memory_space> zeros(const Exec& exec, const Extents<Rank>& extents) {
  Tensor<T, Rank, typename Exec::memory_space> t(extents);
  fill(exec, t.view(), T(0));
  return t;
}

}  // namespace pnpdist
