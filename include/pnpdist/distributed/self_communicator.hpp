#pragma once
/// \file
/// SelfCommunicator: the group of one process. Always built; every collective is the identity (allgatherv
/// copies send to recv), so code written for a Communicator runs unchanged without MPI. Accepts buffers
/// of any memory space.

#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

struct SelfCommunicator {
  [[nodiscard]] int rank() const { return 0; }
  [[nodiscard]] int size() const { return 1; }
  /// The group of this process again, as MpiCommunicator::split gives a group of one; color must be >= 0.
  [[nodiscard]] SelfCommunicator split(int color, int /*key*/) const {
    require(color >= 0,
            [&] { return "SelfCommunicator::split: the color must be >= 0, got " + std::to_string(color); });
    return {};
  }

  template <class T, class Space>
  void allreduce_sum(const View<T, 1, Space>& /*buffer*/) const {}
  [[nodiscard]] double allreduce_sum(double value) const { return value; }

  /// recv <- send; counts must be {send.size()} and recv.size() == counts[0].
  template <class T, class Space>
  void allgatherv(const View<const T, 1, Space>& send, const View<T, 1, Space>& recv,
                  std::span<const index_t> counts) const {
    require<dimension_mismatch>(counts.size() == 1 && counts[0] == send.size() && recv.size() == send.size(), [&] {
      return "SelfCommunicator::allgatherv: " + std::to_string(send.size()) + " elements sent, " +
             std::to_string(recv.size()) + " received, " + std::to_string(counts.size()) + " counts";
    });
    deep_copy(recv, send);
  }

  template <class T, class Space>
  void broadcast(const View<T, 1, Space>& /*buffer*/, int root) const {
    require(root == 0, [&] { return "SelfCommunicator::broadcast: root " + std::to_string(root) + " is not rank 0"; });
  }
  void barrier() const {}

  /// Ends the process with exit code `code` (stderr flushed first).
  [[noreturn]] void abort(int code) const {
    std::fflush(stderr);
    std::exit(code);
  }
};

}  // namespace pnpdist
