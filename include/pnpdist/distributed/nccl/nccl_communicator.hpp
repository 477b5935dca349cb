#pragma once
/// \file
/// NcclCommunicator: a Communicator over NCCL for device buffers (CudaSpace), set up from an
/// MpiCommunicator: rank 0 creates the NCCL unique id and broadcasts it over MPI, then every rank joins
/// (ncclCommInitRank). Select the rank's device (cudaSetDevice) before constructing it.
///
///     pnpdist::NcclCommunicator nccl(env.world(), pnpdist::Cuda{stream});
///
/// Operations are enqueued on the executor's stream, in order with the kernels of that stream: a buffer
/// written by a kernel on the stream may be passed directly, and its result is ready for the next kernel
/// on the stream. allreduce_sum(double) (a host scalar) and barrier() synchronize the stream.
/// allgatherv is one NCCL group of broadcasts (NCCL has no allgatherv). abort() aborts the NCCL
/// communicator, then the MPI job.
/// Each call beats the progress heartbeat (core/heartbeat.hpp) on entry and exit, as MpiCommunicator's do, so
/// the rank-progress watchdog sees a rank in an NCCL call as waiting in a collective. The enqueuing calls return
/// before the collective completes: a rank blocked later in a stream synchronization of its own, waiting for an
/// enqueued collective, counts as outside any collective call.
///
/// Needs the pnpdist::nccl and pnpdist::mpi components (PNPDIST_HAS_NCCL, PNPDIST_HAS_MPI); otherwise the
/// constructor throws not_compiled. The handle is shared by copies and destroyed with the last one.

#include <cstdint>
#include <memory>
#include <source_location>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pnpdist/backend/cuda/cuda_executor.hpp"
#include "pnpdist/backend/cuda/cuda_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/heartbeat.hpp"
#include "pnpdist/distributed/mpi/mpi_communicator.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

#if defined(PNPDIST_HAS_NCCL) && defined(PNPDIST_HAS_MPI)
#define PNPDIST_NCCL_AVAILABLE 1
#include <cuda_runtime.h>
#include <nccl.h>
#endif

namespace pnpdist {

#if defined(PNPDIST_NCCL_AVAILABLE)
namespace detail {

inline void nccl_check(ncclResult_t result, const char* call,
                       std::source_location where = std::source_location::current()) {
  if (result == ncclSuccess) return;
  throw mpi_error(std::string(call) + " failed: " + ncclGetErrorString(result), where);
}

template <class T>
inline ncclDataType_t nccl_datatype() {
  using U = std::remove_const_t<T>;
  if constexpr (std::is_same_v<U, float>)
    return ncclFloat32;
  else if constexpr (std::is_same_v<U, double>)
    return ncclFloat64;
  else if constexpr (std::is_same_v<U, int>)
    return ncclInt32;
  else if constexpr (std::is_same_v<U, std::int64_t>)
    return ncclInt64;
  else if constexpr (std::is_same_v<U, unsigned char>)
    return ncclUint8;
  else
    static_assert(sizeof(U) == 0, "NcclCommunicator: unsupported element type");
}

/// Owns an ncclComm_t.
struct NcclHandle {
  ncclComm_t comm = nullptr;
  ~NcclHandle() {
    if (comm != nullptr) (void)ncclCommDestroy(comm);
  }
};

}  // namespace detail
#endif

class NcclCommunicator {
public:
  /// Its buffers are device buffers (communicator_space_t, distributed/communicator.hpp).
  using memory_space = CudaSpace;

  /// Joins the NCCL communicator of the ranks of `mpi` (collective over mpi). Operations run on exec.stream.
  NcclCommunicator(MpiCommunicator mpi, Cuda exec) : mpi_(std::move(mpi)), exec_(exec) {
#if defined(PNPDIST_NCCL_AVAILABLE)
    ncclUniqueId id{};
    if (mpi_.rank() == 0) detail::nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    mpi_.broadcast(View<unsigned char, 1, HostSpace>(reinterpret_cast<unsigned char*>(&id),
                                                     Extents<1>{static_cast<index_t>(sizeof(id))}),
                   0);
    handle_ = std::make_shared<detail::NcclHandle>();
    detail::nccl_check(ncclCommInitRank(&handle_->comm, mpi_.size(), id, mpi_.rank()), "ncclCommInitRank");
#else
    throw not_compiled("pnpdist::NcclCommunicator: this build has no NCCL (link pnpdist::nccl and pnpdist::mpi)");
#endif
  }

  [[nodiscard]] int rank() const { return mpi_.rank(); }
  [[nodiscard]] int size() const { return mpi_.size(); }
  [[nodiscard]] const MpiCommunicator& mpi() const { return mpi_; }
  /// The executor whose stream the operations are enqueued on.
  [[nodiscard]] const Cuda& executor() const { return exec_; }

  /// buffer <- sum over ranks (in place, enqueued on the stream).
  template <class T>
  void allreduce_sum(const View<T, 1, CudaSpace>& buffer) const {
    const CollectiveBeat beat(CollectiveOperation::allreduce_sum);
    enqueue_allreduce_sum(buffer);
  }

  /// Sum over ranks of a host scalar (through a device scalar; synchronizes the stream).
  [[nodiscard]] double allreduce_sum(double value) const {
    const CollectiveBeat beat(CollectiveOperation::allreduce_sum);
    return sum_host_scalar(value);
  }

  /// recv <- send_0, ..., send_{size-1}; counts[r] elements from rank r (one group of broadcasts).
  template <class T>
  void allgatherv([[maybe_unused]] const View<const T, 1, CudaSpace>& send,
                  [[maybe_unused]] const View<T, 1, CudaSpace>& recv, std::span<const index_t> counts) const {
    const CollectiveBeat beat(CollectiveOperation::allgatherv);
    require<dimension_mismatch>(static_cast<int>(counts.size()) == size(),
                                "NcclCommunicator::allgatherv: one count per rank");
    index_t total = 0;
    for (const index_t c : counts) total += c;
    require<dimension_mismatch>(
        send.size() == counts[static_cast<std::size_t>(rank())] && recv.size() == total,
        "NcclCommunicator::allgatherv: send must hold counts[rank] elements and recv their sum");
#if defined(PNPDIST_NCCL_AVAILABLE)
    detail::nccl_check(ncclGroupStart(), "ncclGroupStart");
    index_t displacement = 0;
    for (int r = 0; r < size(); ++r) {
      const index_t count = counts[static_cast<std::size_t>(r)];
      detail::nccl_check(ncclBroadcast(send.data(), recv.data() + displacement, static_cast<std::size_t>(count),
                                       detail::nccl_datatype<T>(), r, handle_->comm, stream()),
                         "ncclBroadcast");
      displacement += count;
    }
    detail::nccl_check(ncclGroupEnd(), "ncclGroupEnd");
#endif
  }

  /// buffer <- root's buffer (enqueued on the stream).
  template <class T>
  void broadcast([[maybe_unused]] const View<T, 1, CudaSpace>& buffer, int root) const {
    require(root >= 0 && root < size(), "NcclCommunicator::broadcast: root outside the communicator");
    const CollectiveBeat beat(CollectiveOperation::broadcast);
#if defined(PNPDIST_NCCL_AVAILABLE)
    detail::nccl_check(ncclBroadcast(buffer.data(), buffer.data(), static_cast<std::size_t>(buffer.size()),
                                     detail::nccl_datatype<T>(), root, handle_->comm, stream()),
                       "ncclBroadcast");
#endif
  }

  /// Returns once every rank has reached it and this rank's stream is idle.
  void barrier() const {
    const CollectiveBeat beat(CollectiveOperation::barrier);
    (void)sum_host_scalar(0.0);
  }

  /// Aborts the NCCL communicator (unblocking pending operations), then the MPI job.
  [[noreturn]] void abort(int code) const {
#if defined(PNPDIST_NCCL_AVAILABLE)
    if (handle_ && handle_->comm != nullptr) {
      (void)ncclCommAbort(handle_->comm);
      handle_->comm = nullptr;
    }
#endif
    mpi_.abort(code);
  }

private:
  template <class T>
  void enqueue_allreduce_sum([[maybe_unused]] const View<T, 1, CudaSpace>& buffer) const {
#if defined(PNPDIST_NCCL_AVAILABLE)
    detail::nccl_check(ncclAllReduce(buffer.data(), buffer.data(), static_cast<std::size_t>(buffer.size()),
                                     detail::nccl_datatype<T>(), ncclSum, handle_->comm, stream()),
                       "ncclAllReduce");
#endif
  }

  /// Sum over ranks of a host scalar through a device scalar; synchronizes the stream.
  [[nodiscard]] double sum_host_scalar(double value) const {
    Tensor<double, 1, CudaSpace> scalar(Extents<1>{1});
    deep_copy(scalar.view(), View<const double, 1, HostSpace>(&value, Extents<1>{1}));
    enqueue_allreduce_sum(scalar.view());
    synchronize(exec_);
    deep_copy(View<double, 1, HostSpace>(&value, Extents<1>{1}), scalar.const_view());
    return value;
  }

#if defined(PNPDIST_NCCL_AVAILABLE)
  [[nodiscard]] cudaStream_t stream() const { return static_cast<cudaStream_t>(exec_.stream); }
  std::shared_ptr<detail::NcclHandle> handle_;
#endif
  MpiCommunicator mpi_;
  Cuda exec_;
};

}  // namespace pnpdist
