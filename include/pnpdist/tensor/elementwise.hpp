#pragma once
/// \file
/// elementwise(exec, f, a[, b]): calls f(a_e[, b_e]) for every element e of views of equal extents, with
/// elements passed by reference. Contiguous views are traversed as flat arrays; strided views (patches)
/// by multi-index. The building block of the tensor algebra.

#include <cstddef>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {
namespace detail {

template <class F, class A>
struct FlatKernel1 {
  F f;
  A* a;
  PNPDIST_HOST_DEVICE void operator()(index_t i) const { f(a[i]); }
};
template <class F, class A, class B>
struct FlatKernel2 {
  F f;
  A* a;
  B* b;
  PNPDIST_HOST_DEVICE void operator()(index_t i) const { f(a[i], b[i]); }
};
template <class F, class ViewA>
struct StridedKernel1 {
  F f;
  ViewA a;
  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(I... i) const {
    f(a(i...));
  }
};
template <class F, class ViewA, class ViewB>
struct StridedKernel2 {
  F f;
  ViewA a;
  ViewB b;
  template <class... I>
  PNPDIST_HOST_DEVICE void operator()(I... i) const {
    f(a(i...), b(i...));
  }
};

}  // namespace detail

template <class Exec, class F, class A, std::size_t Rank>
inline void elementwise(const Exec& exec, const F& f, const View<A, Rank, typename Exec::memory_space>& a) {
  if (a.is_contiguous())
    for_each(exec, a.size(), detail::FlatKernel1<F, A>{f, a.data()});
  else
    for_each(exec, a.extents(), detail::StridedKernel1<F, View<A, Rank, typename Exec::memory_space>>{f, a});
}

template <class Exec, class F, class A, class B, std::size_t Rank>
inline void elementwise(const Exec& exec, const F& f, const View<A, Rank, typename Exec::memory_space>& a,
                        const View<B, Rank, typename Exec::memory_space>& b) {
  require_same_extents(a, b, "elementwise operation");
  if (a.is_contiguous() && b.is_contiguous())
    for_each(exec, a.size(), detail::FlatKernel2<F, A, B>{f, a.data(), b.data()});
  else
    for_each(exec, a.extents(),
             detail::StridedKernel2<F, View<A, Rank, typename Exec::memory_space>,
                                    View<B, Rank, typename Exec::memory_space>>{f, a, b});
}

}  // namespace pnpdist
