#pragma once
/// \file
/// SolverRanks: the group of processes a PnP solve runs on, as the iteration loop and the checkpoint
/// agreement see it. A solve is distributed exactly when its physics or its denoiser exposes a
/// `communicator()` satisfying the Communicator concept (DistributedPhysics, DistributedDenoiser); a type
/// whose communicator() returns something that is not a Communicator is rejected at compile time, and a
/// physics and a denoiser on communicators of different sizes or ranks are rejected at run time: a
/// distributed run never silently continues as one rank.
///
/// Every member function that communicates is collective: every rank must call it in the same order.

#include <cstdint>
#include <string>
#include <utility>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/distributed/communicator.hpp"

namespace pnpdist {

/// True when X exposes a communicator (X is then distributed and it must be a Communicator).
template <class X>
concept ExposesCommunicator = requires(const X& x) {
  x.communicator();
};

/// True when X exposes a communicator satisfying the Communicator concept.
template <class X>
concept Distributed = ExposesCommunicator<X> && requires(const X& x) {
  requires Communicator<std::remove_cvref_t<decltype(x.communicator())>>;
};

/// The ranks of a solve on physics P and denoiser D (see the file comment).
template <class P, class D>
class SolverRanks {
  static_assert(!ExposesCommunicator<P> || Distributed<P>,
                "PnPSolver: the physics' communicator() does not return a Communicator");
  static_assert(!ExposesCommunicator<D> || Distributed<D>,
                "PnPSolver: the denoiser's communicator() does not return a Communicator");

public:
  /// Throws invalid_argument when physics and denoiser are distributed over groups of different size or rank.
  SolverRanks(const P& physics, const D& prior) : physics_(&physics), prior_(&prior) {
    if constexpr (Distributed<P>) {
      rank_ = static_cast<int>(physics.communicator().rank());
      size_ = static_cast<int>(physics.communicator().size());
    } else if constexpr (Distributed<D>) {
      rank_ = static_cast<int>(prior.communicator().rank());
      size_ = static_cast<int>(prior.communicator().size());
    }
    if constexpr (Distributed<P> && Distributed<D>) {
      const int prior_rank = static_cast<int>(prior.communicator().rank());
      const int prior_size = static_cast<int>(prior.communicator().size());
      require(prior_rank == rank_ && prior_size == size_, [&] {
        return "PnPSolver: the physics runs on rank " + std::to_string(rank_) + " of " + std::to_string(size_) +
               " but the denoiser on rank " + std::to_string(prior_rank) + " of " + std::to_string(prior_size) +
               "; both must use the same group of processes";
      });
    }
  }

  [[nodiscard]] int rank() const { return rank_; }
  [[nodiscard]] int size() const { return size_; }
  [[nodiscard]] static constexpr bool distributed() { return Distributed<P> || Distributed<D>; }

  /// Sum over the ranks of a host double (identity on one process). Collective.
  [[nodiscard]] double allreduce_sum(double value) const {
    if constexpr (Distributed<P>) {
      return physics_->communicator().allreduce_sum(value);
    } else if constexpr (Distributed<D>) {
      return prior_->communicator().allreduce_sum(value);
    } else {
      return value;
    }
  }

  /// The minimum over the ranks of a non-negative integer below 2^48, by one allreduce per bit. Collective.
  [[nodiscard]] index_t min(index_t value) const {
    index_t prefix = 0;  // the bits of the minimum found so far (identical on every rank)
    for (int bit = 47; bit >= 0; --bit) {
      const bool matches = (value >> bit) == (prefix >> bit);  // agrees with the prefix and has this bit 0
      if (allreduce_sum(matches ? 1.0 : 0.0) == 0) prefix |= index_t{1} << bit;
    }
    return prefix;
  }

private:
  const P* physics_;
  const D* prior_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace pnpdist
