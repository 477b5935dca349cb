#pragma once
/// \file
/// Collectives on host buffers over any Communicator (distributed/communicator.hpp), for code whose data live
/// on the host whatever the communicator (the host training layers of learned/lpd_training.hpp):
///
///     allgatherv_from_host(comm, send, recv, counts)   recv = concatenation over ranks r of send_r
///
/// A communicator of host buffers (SelfCommunicator, MpiCommunicator) exchanges them directly. One of device
/// buffers only (communicator_space_t names its space: NcclCommunicator, CudaSpace) exchanges staging buffers
/// of that space: the send buffer is copied in, the collective enqueued on the communicator's executor, its
/// stream synchronized and the result copied out, so `recv` is complete on return either way. An allgatherv
/// moves values without arithmetic: every communicator delivers the same bits.

#include <span>
#include <type_traits>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/distributed/communicator.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

/// A Communicator of the memory space it names (communicator_space_t): host communicators, NcclCommunicator.
template <class C>
concept AnySpaceCommunicator = Communicator<C, communicator_space_t<C>>;

/// recv <- send_0, ..., send_{size-1} over `comm`, counts[r] values from rank r, host buffers whatever the
/// communicator's space (collective; see the file comment).
template <AnySpaceCommunicator C, class T>
void allgatherv_from_host(const C& comm, const View<const T, 1, HostSpace>& send, const View<T, 1, HostSpace>& recv,
                          std::span<const index_t> counts) {
  using Space = communicator_space_t<C>;
  if constexpr (std::is_same_v<Space, HostSpace>) {
    comm.allgatherv(send, recv, counts);
  } else {
    const Tensor<T, 1, Space> staged_send = clone<Space>(send);
    Tensor<T, 1, Space> staged_recv(recv.extents());
    comm.allgatherv(staged_send.const_view(), staged_recv.view(), counts);
    synchronize(comm.executor());
    deep_copy(recv, staged_recv.const_view());
  }
}

}  // namespace pnpdist
