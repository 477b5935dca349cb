#pragma once
// ThreadCommunicator: a Communicator whose ranks are the threads of one process, for tests of collective
// code without MPI. make_thread_group(n) returns the n communicators of one group; hand one to each of n
// threads, which then call the collectives in the same order. Every collective publishes the rank's buffer
// and meets the others at a barrier; sums run in rank order. Host buffers only; abort() ends the process.
#include <pnpdist/core/errors.hpp>
#include <pnpdist/tensor/view.hpp>

#include <algorithm>
#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace pnpdist::test {

class ThreadCommunicator {
public:
  [[nodiscard]] int rank() const { return rank_; }
  [[nodiscard]] int size() const { return static_cast<int>(group_->slots.size()); }

  template <class T, class Space>
  void allreduce_sum(const View<T, 1, Space>& buffer) const {
    publish(buffer.data());
    std::vector<T> sum(static_cast<std::size_t>(buffer.size()), T(0));
    for (const void* slot : group_->slots) {
      const T* other = static_cast<const T*>(slot);
      for (index_t i = 0; i < buffer.size(); ++i) sum[static_cast<std::size_t>(i)] += other[i];
    }
    group_->barrier.arrive_and_wait();  // every rank has read every buffer
    std::copy(sum.begin(), sum.end(), buffer.data());
  }

  [[nodiscard]] double allreduce_sum(double value) const {
    allreduce_sum(View<double, 1, HostSpace>(&value, Extents<1>{1}));
    return value;
  }

  template <class T, class Space>
  void allgatherv(const View<const T, 1, Space>& send, const View<T, 1, Space>& recv,
                  std::span<const index_t> counts) const {
    index_t total = 0;
    for (index_t c : counts) total += c;
    require<dimension_mismatch>(
        static_cast<int>(counts.size()) == size() && send.size() == counts[rank_] && recv.size() == total,
        "ThreadCommunicator::allgatherv: counts do not match the buffers");
    publish(send.data());
    T* out = recv.data();
    for (std::size_t r = 0; r < counts.size(); ++r) {
      const T* other = static_cast<const T*>(group_->slots[r]);
      out = std::copy(other, other + counts[r], out);
    }
    group_->barrier.arrive_and_wait();
  }

  template <class T, class Space>
  void broadcast(const View<T, 1, Space>& buffer, int root) const {
    publish(buffer.data());
    std::vector<T> copy(static_cast<const T*>(group_->slots[static_cast<std::size_t>(root)]),
                        static_cast<const T*>(group_->slots[static_cast<std::size_t>(root)]) + buffer.size());
    group_->barrier.arrive_and_wait();
    std::copy(copy.begin(), copy.end(), buffer.data());
  }

  void barrier() const { group_->barrier.arrive_and_wait(); }

  [[noreturn]] void abort(int code) const {
    std::fflush(stderr);
    std::_Exit(code);
  }

private:
  struct Group {
    explicit Group(int n) : slots(static_cast<std::size_t>(n), nullptr), barrier(n) {}
    std::vector<const void*> slots;
    std::barrier<> barrier;
  };

  ThreadCommunicator(std::shared_ptr<Group> group, int rank) : group_(std::move(group)), rank_(rank) {}

  // Publishes this rank's buffer and waits until every rank has published its own.
  void publish(const void* buffer) const {
    group_->slots[static_cast<std::size_t>(rank_)] = buffer;
    group_->barrier.arrive_and_wait();
  }

  std::shared_ptr<Group> group_;
  int rank_ = 0;

  friend std::vector<ThreadCommunicator> make_thread_group(int n);
};

/// The n communicators (ranks 0 .. n-1) of one group of threads.
inline std::vector<ThreadCommunicator> make_thread_group(int n) {
  const auto group = std::make_shared<ThreadCommunicator::Group>(n);
  std::vector<ThreadCommunicator> ranks;
  for (int r = 0; r < n; ++r) ranks.push_back(ThreadCommunicator(group, r));
  return ranks;
}

}  // namespace pnpdist::test
