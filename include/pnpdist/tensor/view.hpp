#pragma once
/// \file
/// View<T, Rank, Space>: a non-owning, strided view of a Rank-dimensional array living in memory space
/// Space. Trivially copyable, so kernels take views by value. Element (i0, ..., i_{R-1}) is at
/// data()[sum_d i_d * stride(d)]; strides are in elements. Views made from extents alone are contiguous
/// with the last index varying fastest (row-major).

#include <cstddef>
#include <type_traits>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// Row-major strides of a contiguous array with the given extents.
template <std::size_t Rank>
PNPDIST_HOST_DEVICE constexpr Extents<Rank> contiguous_strides(const Extents<Rank>& extents) {
  Extents<Rank> strides{};
  index_t s = 1;
  for (std::size_t d = Rank; d-- > 0;) {
    strides[d] = s;
    s *= extents[d];
  }
  return strides;
}

template <class T, std::size_t Rank, class Space = HostSpace>
class View {
public:
  using value_type = std::remove_const_t<T>;
  using element_type = T;
  using memory_space = Space;
  static constexpr std::size_t rank = Rank;

  View() = default;
  /// Contiguous row-major view of `extents` starting at `data`.
  PNPDIST_HOST_DEVICE View(T* data, const Extents<Rank>& extents)
      : data_(data), extents_(extents), strides_(contiguous_strides(extents)) {}
  /// Strided view; strides in elements.
  PNPDIST_HOST_DEVICE View(T* data, const Extents<Rank>& extents, const Extents<Rank>& strides)
      : data_(data), extents_(extents), strides_(strides) {}

  /// A view of const elements converts implicitly from a view of mutable ones.
  template <class U>
  requires(std::is_same_v<T, const U>) PNPDIST_HOST_DEVICE View(const View<U, Rank, Space>& other)
      : data_(other.data()), extents_(other.extents()), strides_(other.strides()) {}

  template <class... I>
  requires(sizeof...(I) == Rank) PNPDIST_HOST_DEVICE T& operator()(I... indices) const {
    const index_t idx[Rank > 0 ? Rank : 1] = {static_cast<index_t>(indices)...};
    index_t offset = 0;
    for (std::size_t d = 0; d < Rank; ++d) {
      PNPDIST_EXPECTS(idx[d] >= 0 && idx[d] < extents_[d]);
      offset += idx[d] * strides_[d];
    }
    return data_[offset];
  }

  PNPDIST_HOST_DEVICE T* data() const { return data_; }
  PNPDIST_HOST_DEVICE const Extents<Rank>& extents() const { return extents_; }
  PNPDIST_HOST_DEVICE const Extents<Rank>& strides() const { return strides_; }
  PNPDIST_HOST_DEVICE index_t extent(std::size_t d) const { return extents_[d]; }
  PNPDIST_HOST_DEVICE index_t stride(std::size_t d) const { return strides_[d]; }
  /// Number of elements.
  PNPDIST_HOST_DEVICE index_t size() const { return product(extents_); }
  /// True when the elements occupy data()[0 .. size()-1] in row-major order.
  PNPDIST_HOST_DEVICE bool is_contiguous() const {
    index_t s = 1;
    for (std::size_t d = Rank; d-- > 0;) {
      if (extents_[d] != 1 && strides_[d] != s) return false;
      s *= extents_[d];
    }
    return true;
  }

private:
  T* data_ = nullptr;
  Extents<Rank> extents_{};
  Extents<Rank> strides_{};
};

/// Element e, in row-major order, of a contiguous view: data[e].
template <class T>
struct ContiguousElements {
  T* data;
  PNPDIST_HOST_DEVICE T& operator[](index_t e) const { return data[e]; }
};

/// Element e, in row-major order, of a strided view, found by splitting e into a multi-index.
template <class T, std::size_t Rank, class Space>
struct StridedElements {
  View<T, Rank, Space> view;
  PNPDIST_HOST_DEVICE T& operator[](index_t e) const {
    index_t offset = 0;
    for (std::size_t d = Rank; d-- > 0;) {
      offset += (e % view.extent(d)) * view.stride(d);
      e /= view.extent(d);
    }
    return view.data()[offset];
  }
};

/// Calls fn(elements) with the cheapest accessor of the view's elements in row-major order
/// (ContiguousElements when the view is contiguous, StridedElements otherwise) and returns its result.
/// Kernels templated on the accessor then index contiguous data directly, which lets them vectorize.
template <class T, std::size_t Rank, class Space, class Fn>
inline decltype(auto) with_elements(const View<T, Rank, Space>& view, Fn&& fn) {
  if (view.is_contiguous()) return fn(ContiguousElements<T>{view.data()});
  return fn(StridedElements<T, Rank, Space>{view});
}

/// The sub-view of `view` with extents `extents` starting at index `offset` (a patch). Throws
/// dimension_mismatch when the box does not lie inside the view.
template <class T, std::size_t Rank, class Space>
inline View<T, Rank, Space> subview(const View<T, Rank, Space>& view, const Extents<Rank>& offset,
                                    const Extents<Rank>& extents) {
  index_t start = 0;
  for (std::size_t d = 0; d < Rank; ++d) {
    require<dimension_mismatch>(offset[d] >= 0 && extents[d] >= 0 && offset[d] + extents[d] <= view.extent(d), [&] {
      return "subview at offset " + to_string(offset) + " with extents " + to_string(extents) +
             " does not fit in a view of extents " + to_string(view.extents());
    });
    start += offset[d] * view.stride(d);
  }
  return View<T, Rank, Space>(view.data() + start, extents, view.strides());
}

/// The same contiguous elements seen with other extents of equal size.
template <std::size_t NewRank, class T, std::size_t Rank, class Space>
inline View<T, NewRank, Space> reshape(const View<T, Rank, Space>& view, const Extents<NewRank>& extents) {
  require<dimension_mismatch>(view.is_contiguous(), "reshape of a non-contiguous view");
  require<dimension_mismatch>(product(extents) == view.size(), [&] {
    return "reshape from extents " + to_string(view.extents()) + " to " + to_string(extents) +
           " changes the number of elements";
  });
  return View<T, NewRank, Space>(view.data(), extents);
}

/// Throws dimension_mismatch naming `what` unless the two views have the same extents.
template <class A, class B>
inline void require_same_extents(const A& a, const B& b, const char* what) {
  require<dimension_mismatch>(a.extents() == b.extents(), [&] {
    return std::string(what) + ": extents " + to_string(a.extents()) + " and " + to_string(b.extents()) + " differ";
  });
}

}  // namespace pnpdist
