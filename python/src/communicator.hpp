#pragma once
// The communicator of the distributed bindings, as the main extension sees it: an abstract group of processes
// (Communicator) that the MPI extension (pnpdist._pnpdist_mpi) implements over MPI. The main extension thus
// compiles the distributed physics and solves without MPI headers or libmpi; only the MPI extension links MPI.
// CommunicatorRef is a shared handle satisfying the library's Communicator concept (distributed/communicator.hpp)
// on host buffers of float, double, int and index_t, so DistributedPhysics and PnPSolver take it as they take
// MpiCommunicator. Every collective must be called by every rank in the same order (as for MPI).
// require_on_every_rank and require_same_on_every_rank (distributed.hpp) check arguments collectively, so that
// every rank raises instead of one raising and the others waiting in the next collective.

#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::python {

/// A group of processes (see the file comment). Implementations throw pnpdist errors (mpi_error) on failure.
class Communicator {
public:
  virtual ~Communicator() = default;
  [[nodiscard]] virtual int rank() const = 0;
  [[nodiscard]] virtual int size() const = 0;
  /// Throws mpi_error when the communicator cannot be used from the calling thread now (MPI finalized, or a
  /// thread MPI does not allow); called with the GIL held before any collective a binding starts.
  virtual void check_usable() const = 0;
  virtual void allreduce_sum(float* data, index_t count) const = 0;
  virtual void allreduce_sum(double* data, index_t count) const = 0;
  virtual void allreduce_sum(int* data, index_t count) const = 0;
  virtual void allreduce_sum(std::int64_t* data, index_t count) const = 0;
  virtual void allgatherv(const float* send, float* recv, std::span<const index_t> counts) const = 0;
  /// `bytes` bytes at `data` <- root's.
  virtual void broadcast_bytes(void* data, index_t bytes, int root) const = 0;
  virtual void barrier() const = 0;
  [[noreturn]] virtual void abort(int code) const = 0;
  /// The ranks passing the same `color` (>= 0), ranked by `key`, ties by their rank here: a new group owned by
  /// the result (MPI_Comm_split; collective). The binding checks the arguments on every rank first.
  [[nodiscard]] virtual std::shared_ptr<Communicator> split(int color, int key) const = 0;
};

/// A shared Communicator satisfying the library's Communicator concept on host buffers.
class CommunicatorRef {
public:
  explicit CommunicatorRef(std::shared_ptr<const Communicator> impl) : impl_(std::move(impl)) {}

  [[nodiscard]] int rank() const { return impl_->rank(); }
  [[nodiscard]] int size() const { return impl_->size(); }
  [[nodiscard]] const Communicator& get() const { return *impl_; }
  [[nodiscard]] std::shared_ptr<Communicator> shared() const { return std::const_pointer_cast<Communicator>(impl_); }

  template <class T>
  void allreduce_sum(const View<T, 1, HostSpace>& buffer) const {
    if constexpr (std::is_same_v<T, index_t>)
      impl_->allreduce_sum(reinterpret_cast<std::int64_t*>(buffer.data()), buffer.size());
    else
      impl_->allreduce_sum(buffer.data(), buffer.size());
  }
  [[nodiscard]] double allreduce_sum(double value) const {
    impl_->allreduce_sum(&value, 1);
    return value;
  }
  void allgatherv(const View<const float, 1, HostSpace>& send, const View<float, 1, HostSpace>& recv,
                  std::span<const index_t> counts) const {
    impl_->allgatherv(send.data(), recv.data(), counts);
  }
  template <class T>
  void broadcast(const View<T, 1, HostSpace>& buffer, int root) const {
    impl_->broadcast_bytes(buffer.data(), buffer.size() * static_cast<index_t>(sizeof(T)), root);
  }
  void barrier() const { impl_->barrier(); }
  [[noreturn]] void abort(int code) const { impl_->abort(code); }

private:
  std::shared_ptr<const Communicator> impl_;
};

static_assert(sizeof(index_t) == sizeof(std::int64_t), "index_t is reduced as a 64-bit integer");

}  // namespace pnpdist::python
