#pragma once
/// \file
/// The Communicator concept: a group of `size()` processes (ranks) that exchange buffers of one memory
/// space. Every operation is collective: all ranks of the group call it, in the same order, with matching
/// arguments.
///
///     c.rank(), c.size()                      this process's rank in [0, size) and the group size
///     c.allreduce_sum(buffer)                 buffer <- elementwise sum over ranks of buffer (in place)
///     c.allreduce_sum(double value)           the sum over ranks of a host scalar
///     c.allgatherv(send, recv, counts)        recv = concatenation over ranks r of send_r, counts[r] elements
///                                             each (displacements: the prefix sums of counts)
///     c.broadcast(buffer, root)               buffer <- root's buffer
///     c.barrier()                             returns once every rank has entered it
///     c.abort(code)                           ends every process of the group with exit code `code`; no return
///
/// Buffers are contiguous rank-1 views View<T, 1, Space> of float, double, int or index_t elements in the
/// memory space the communicator supports: SelfCommunicator and MpiCommunicator take host buffers (and
/// device buffers when MPI is CUDA-aware), NcclCommunicator device buffers (it names them: memory_space,
/// see communicator_space_t; host_exchange.hpp moves host buffers over it). A failed call throws mpi_error.
///
/// Determinism: the sum over ranks is a float sum whose grouping depends on the number of ranks (and on
/// the MPI implementation's reduction algorithm); an element that is nonzero on exactly one rank is
/// reduced exactly.

#include <concepts>
#include <span>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

/// A communicator exchanging buffers of memory space Space (see the file comment).
template <class C, class Space = HostSpace>
concept Communicator = std::copy_constructible<C> &&
    requires(const C& c, View<float, 1, Space> f, View<double, 1, Space> d, View<const float, 1, Space> cf,
             std::span<const index_t> counts, double value, int root) {
  { c.rank() } -> std::convertible_to<int>;
  { c.size() } -> std::convertible_to<int>;
  c.allreduce_sum(f);
  c.allreduce_sum(d);
  { c.allreduce_sum(value) } -> std::convertible_to<double>;
  c.allgatherv(cf, f, counts);
  c.broadcast(f, root);
  c.barrier();
  c.abort(root);
};

/// The memory space whose buffers a communicator must be given: C::memory_space where C names one (a
/// communicator of device buffers only, NcclCommunicator: CudaSpace), HostSpace otherwise.
template <class C>
struct communicator_space {
  using type = HostSpace;
};
template <class C>
requires requires { typename C::memory_space; }
struct communicator_space<C> {
  using type = typename C::memory_space;
};
template <class C>
using communicator_space_t = typename communicator_space<C>::type;

/// The flat contiguous view of a contiguous view of any rank, for communication. Throws dimension_mismatch
/// for a strided view.
template <class T, std::size_t Rank, class Space>
[[nodiscard]] inline View<T, 1, Space> flat_view(const View<T, Rank, Space>& view) {
  require<dimension_mismatch>(view.is_contiguous(), [&] {
    return "communication needs a contiguous buffer, got a strided view of extents " + to_string(view.extents());
  });
  return View<T, 1, Space>(view.data(), Extents<1>{view.size()});
}

}  // namespace pnpdist
