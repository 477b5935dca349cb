#pragma once
/// \file
/// The Denoiser concept: a map D_sigma from a tensor of rank D::rank to one of the same shape, for a noise
/// standard deviation sigma (in the units of the data, e.g. 25/255 for 8-bit images scaled to [0, 1]).
///
///     d.denoise(x, sigma, y)   y = D_sigma(x), overwriting y
///
/// Contract: x and y have the same shape and live in the memory space of d's executor; x is only read and
/// must not overlap y; denoise may reuse buffers the denoiser owns (so it is a non-const member, and one
/// instance must not be used from several threads at once). Image denoisers take N x C x H x W (rank 4)
/// tensors, volume denoisers N x C x D x H x W (rank 5). Denoisers that need spatial sizes divisible by
/// some number (DRUNet: 8) pad internally and report the number through size_multiple(), so that a tiler
/// can choose tiles the denoiser processes without padding.

#include <concepts>
#include <cstddef>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

/// True when D declares the member types and rank a denoiser needs.
template <class D>
concept DenoiserTraits = requires {
  typename D::value_type;
  typename D::executor_type;
  { D::rank } -> std::convertible_to<std::size_t>;
} && Executor<typename D::executor_type>;

/// A denoiser (see the file comment for the contract).
template <class D>
concept Denoiser = DenoiserTraits<D> &&
    requires(D& d, const D& cd,
             View<const typename D::value_type, D::rank, typename D::executor_type::memory_space> x,
             typename D::value_type sigma,
             View<typename D::value_type, D::rank, typename D::executor_type::memory_space> y) {
  { cd.executor() } -> std::convertible_to<typename D::executor_type>;
  d.denoise(x, sigma, y);
};

namespace detail {

template <class>
inline constexpr bool not_a_denoiser = false;

/// Where D is not a Denoiser, a static_assert here names the first requirement it misses (one readable message
/// instead of the concept's notes); returns true either way, so that a caller's
/// `static_assert(check_denoiser<D>())` adds no second error. PnPSolver checks its prior with it.
template <class D>
constexpr bool check_denoiser() {
  if constexpr (!requires { typename D::value_type; })
    static_assert(not_a_denoiser<D>,
                  "pnpdist::Denoiser: the prior type has no member type value_type (the element type of its tensors)");
  else if constexpr (!requires { typename D::executor_type; })
    static_assert(not_a_denoiser<D>,
                  "pnpdist::Denoiser: the prior type has no member type executor_type (Serial, OpenMP, Cuda, ...)");
  else if constexpr (!Executor<typename D::executor_type>)
    static_assert(not_a_denoiser<D>, "pnpdist::Denoiser: the prior type's executor_type is not an Executor");
  else if constexpr (!requires { { D::rank } -> std::convertible_to<std::size_t>; })
    static_assert(not_a_denoiser<D>,
                  "pnpdist::Denoiser: the prior type has no static constexpr std::size_t rank (4: N x C x H x W "
                  "tensors, 5: N x C x D x H x W)");
  else if constexpr (!requires(const D& d) { { d.executor() } -> std::convertible_to<typename D::executor_type>; })
    static_assert(not_a_denoiser<D>,
                  "pnpdist::Denoiser: the prior type has no const member executor() returning its executor_type");
  else if constexpr (!Denoiser<D>)
    static_assert(not_a_denoiser<D>,
                  "pnpdist::Denoiser: the prior type has no non-const member denoise(x, sigma, y) taking "
                  "x = View<const value_type, rank, Space>, sigma = value_type, y = View<value_type, rank, Space> "
                  "(Space = executor_type::memory_space)");
  return true;
}

}  // namespace detail

/// The number every spatial size given to d should be a multiple of to avoid internal padding:
/// d.size_multiple() where the denoiser declares it, 1 otherwise.
template <DenoiserTraits D>
[[nodiscard]] inline index_t denoiser_size_multiple(const D& d) {
  if constexpr (requires { { d.size_multiple() } -> std::convertible_to<index_t>; }) {
    return d.size_multiple();
  } else {
    return 1;
  }
}

}  // namespace pnpdist
