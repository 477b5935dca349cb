#pragma once
/// \file
/// Tensor<T, Rank, Space>: an owning, contiguous (row-major), move-only array in memory space Space.
/// Storage is allocated through Space (tracked by allocation_tracker<Space>()) and left uninitialized;
/// use zeros() or fill() for defined contents. Copies are explicit: clone() or copy().

#include <cstddef>
#include <utility>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

template <class T, std::size_t Rank, class Space = HostSpace>
class Tensor {
public:
  using value_type = T;
  using memory_space = Space;
  using view_type = View<T, Rank, Space>;
  using const_view_type = View<const T, Rank, Space>;
  static constexpr std::size_t rank = Rank;

  Tensor() = default;
  /// Uninitialized storage for `extents`; throws invalid_argument for a negative extent.
  explicit Tensor(const Extents<Rank>& extents) : extents_(extents) {
    for (std::size_t d = 0; d < Rank; ++d)
      require(extents[d] >= 0, [&] { return "Tensor extents " + to_string(extents) + " contain a negative extent"; });
    data_ = static_cast<T*>(Space::allocate(bytes()));
  }
  ~Tensor() { release(); }

  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;
  Tensor(Tensor&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), extents_(std::exchange(other.extents_, Extents<Rank>{})) {}
  Tensor& operator=(Tensor&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      extents_ = std::exchange(other.extents_, Extents<Rank>{});
    }
    return *this;
  }

  [[nodiscard]] view_type view() { return view_type(data_, extents_); }
  [[nodiscard]] const_view_type view() const { return const_view_type(data_, extents_); }
  [[nodiscard]] const_view_type const_view() const { return const_view_type(data_, extents_); }
  operator view_type() { return view(); }
  operator const_view_type() const { return const_view(); }

  [[nodiscard]] T* data() { return data_; }
  [[nodiscard]] const T* data() const { return data_; }
  [[nodiscard]] const Extents<Rank>& extents() const { return extents_; }
  [[nodiscard]] index_t extent(std::size_t d) const { return extents_[d]; }
  [[nodiscard]] index_t size() const { return product(extents_); }
  [[nodiscard]] std::size_t bytes() const { return static_cast<std::size_t>(size()) * sizeof(T); }

  /// Element access; only for host-accessible spaces.
  template <class... I>
  requires(Space::host_accessible && sizeof...(I) == Rank) T& operator()(I... indices) { return view()(indices...); }
  template <class... I>
  requires(Space::host_accessible && sizeof...(I) == Rank) const T& operator()(I... indices) const {
    return view()(indices...);
  }

private:
  void release() noexcept {
    Space::deallocate(data_, bytes());
    data_ = nullptr;
  }
  T* data_ = nullptr;
  Extents<Rank> extents_{};
};

/// A new tensor in memory space DstSpace holding a copy of the contiguous view `source` (any space).
template <class DstSpace = HostSpace, class T, std::size_t Rank, class SrcSpace>
inline Tensor<std::remove_const_t<T>, Rank, DstSpace> clone(const View<T, Rank, SrcSpace>& source) {
  require<dimension_mismatch>(source.is_contiguous(), "clone of a non-contiguous view: copy() it first");
  Tensor<std::remove_const_t<T>, Rank, DstSpace> result(source.extents());
  deep_copy_bytes<DstSpace, SrcSpace>(result.data(), source.data(), result.bytes());
  return result;
}

/// Copies the contiguous view `source` into the contiguous view `destination` of the same extents,
/// across memory spaces.
template <class T, std::size_t Rank, class DstSpace, class U, class SrcSpace>
inline void deep_copy(const View<T, Rank, DstSpace>& destination, const View<U, Rank, SrcSpace>& source) {
  static_assert(std::is_same_v<std::remove_const_t<U>, T>, "deep_copy between different element types");
  require_same_extents(destination, source, "deep_copy");
  require<dimension_mismatch>(destination.is_contiguous() && source.is_contiguous(),
                              "deep_copy needs contiguous views");
  deep_copy_bytes<DstSpace, SrcSpace>(destination.data(), source.data(),
                                      static_cast<std::size_t>(source.size()) * sizeof(T));
}

}  // namespace pnpdist
