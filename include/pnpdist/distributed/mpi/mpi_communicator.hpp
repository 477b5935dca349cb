#pragma once
/// \file
/// MpiCommunicator: a Communicator over an MPI communicator (MPI_COMM_WORLD by default), and
/// mpi::Environment, which initializes and finalizes MPI.
///
///     int main(int argc, char** argv) {
///       pnpdist::mpi::Environment env(argc, argv);
///       auto comm = env.world();
///       return pnpdist::run_on_all_ranks(comm, [&] { ... return 0; });   // failure.hpp
///     }
///
/// Buffers: host memory always; device memory (CudaSpace) only when the MPI library is CUDA-aware
/// (mpi_is_cuda_aware(); OpenMPI built with CUDA support), otherwise such a call throws mpi_error naming the
/// alternative (NcclCommunicator). Before handing a device buffer to MPI the device is synchronized, so
/// kernels queued on any stream have finished writing it.
/// split(color, key) makes sub-communicators (MPI_Comm_split), freed with the last copy of the result.
/// Errors: the communicator's error handler is MPI_ERRORS_RETURN; a failed call throws mpi_error with
/// MPI's error string. Buffers longer than 2^30 elements are reduced and broadcast in chunks (MPI counts
/// are int); allgatherv needs every count and their total below 2^31.
///
/// Needs the pnpdist::mpi component (PNPDIST_HAS_MPI). Without it the types exist, Environment's
/// constructor and every operation throw not_compiled, and abort() ends the process with std::exit.

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <source_location>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "pnpdist/backend/cuda/cuda_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/heartbeat.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/view.hpp"

#if defined(PNPDIST_HAS_MPI)
// Only the C API is used: keep the deprecated C++ bindings (and their warnings) out.
#if !defined(OMPI_SKIP_MPICXX)
#define OMPI_SKIP_MPICXX 1
#endif
#if !defined(MPICH_SKIP_MPICXX)
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>
#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif
#endif

namespace pnpdist {

#if defined(PNPDIST_HAS_MPI)
namespace detail {

/// Throws mpi_error naming `call` and MPI's error string unless code == MPI_SUCCESS.
inline void mpi_check(int code, const char* call, std::source_location where = std::source_location::current()) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw mpi_error(std::string(call) + " failed: " + std::string(text, static_cast<std::size_t>(length)), where);
}

template <class T>
inline MPI_Datatype mpi_datatype() {
  using U = std::remove_const_t<T>;
  if constexpr (std::is_same_v<U, float>)
    return MPI_FLOAT;
  else if constexpr (std::is_same_v<U, double>)
    return MPI_DOUBLE;
  else if constexpr (std::is_same_v<U, int>)
    return MPI_INT;
  else if constexpr (std::is_same_v<U, std::int64_t>)
    return MPI_INT64_T;
  else if constexpr (std::is_same_v<U, unsigned char>)
    return MPI_UNSIGNED_CHAR;
  else
    static_assert(sizeof(U) == 0, "MpiCommunicator: unsupported element type");
}

}  // namespace detail
#endif

/// True when the MPI library can take device pointers (OpenMPI's MPIX_Query_cuda_support()).
[[nodiscard]] inline bool mpi_is_cuda_aware() {
#if defined(PNPDIST_HAS_MPI) && defined(MPIX_CUDA_AWARE_SUPPORT) && MPIX_CUDA_AWARE_SUPPORT
  return MPIX_Query_cuda_support() == 1;
#else
  return false;
#endif
}

class MpiCommunicator {
public:
#if defined(PNPDIST_HAS_MPI)
  /// Wraps `comm` (not owned, not freed) and sets its error handler to MPI_ERRORS_RETURN.
  explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
    detail::mpi_check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    detail::mpi_check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    detail::mpi_check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  /// The wrapped MPI communicator.
  [[nodiscard]] MPI_Comm native() const { return comm_; }
#else
  MpiCommunicator() { throw not_compiled("pnpdist::MpiCommunicator: this build has no MPI (link pnpdist::mpi)"); }
#endif

  [[nodiscard]] int rank() const { return rank_; }
  [[nodiscard]] int size() const { return size_; }

  /// The ranks of this communicator that pass the same `color` (>= 0), ranked by `key`, ties by their rank
  /// here (MPI_Comm_split; collective). The new communicator is owned by the returned object and its copies
  /// and freed (MPI_Comm_free, collective: every rank drops its copies in the same order) with the last of
  /// them, unless MPI is finalized by then. Throws invalid_argument for a negative color before any call.
  [[nodiscard]] MpiCommunicator split(int color, int key) const {
    require(color >= 0, [&] {
      return "MpiCommunicator::split: the color must be >= 0, got " + std::to_string(color) + " on rank " +
             std::to_string(rank_);
    });
#if defined(PNPDIST_HAS_MPI)
    auto owned = std::make_shared<OwnedComm>();
    detail::mpi_check(MPI_Comm_split(comm_, color, key, &owned->comm), "MPI_Comm_split");
    MpiCommunicator part(owned->comm);
    part.owned_ = std::move(owned);
    return part;
#else
    (void)key;
    throw not_compiled("pnpdist::MpiCommunicator::split: this build has no MPI (link pnpdist::mpi)");
#endif
  }

  /// buffer <- sum over ranks (in place).
  template <class T, class Space>
  void allreduce_sum(const View<T, 1, Space>& buffer) const {
    prepare<Space>("allreduce_sum");
#if defined(PNPDIST_HAS_MPI)
    const CollectiveBeat beat(CollectiveOperation::allreduce_sum);
    for (index_t begin = 0; begin < buffer.size(); begin += chunk) {
      const int count = static_cast<int>(std::min(chunk, buffer.size() - begin));
      detail::mpi_check(
          MPI_Allreduce(MPI_IN_PLACE, buffer.data() + begin, count, detail::mpi_datatype<T>(), MPI_SUM, comm_),
          "MPI_Allreduce");
    }
#else
    (void)buffer;
#endif
  }
  /// Sum over ranks of a host scalar.
  [[nodiscard]] double allreduce_sum(double value) const {
    allreduce_sum(View<double, 1, HostSpace>(&value, Extents<1>{1}));
    return value;
  }

  /// recv <- send_0, send_1, ..., counts[r] elements from rank r. Throws dimension_mismatch when
  /// counts.size() != size(), send.size() != counts[rank()] or recv.size() != sum(counts).
  template <class T, class Space>
  void allgatherv(const View<const T, 1, Space>& send, const View<T, 1, Space>& recv,
                  std::span<const index_t> counts) const {
    require<dimension_mismatch>(static_cast<int>(counts.size()) == size_, [&] {
      return "MpiCommunicator::allgatherv: " + std::to_string(counts.size()) + " counts for " + std::to_string(size_) +
             " ranks";
    });
    std::vector<int> int_counts(counts.size());
    std::vector<int> displacements(counts.size());
    index_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      require<dimension_mismatch>(counts[r] >= 0 && total + counts[r] <= INT_MAX, [&] {
        return "MpiCommunicator::allgatherv: counts must be >= 0 and total below 2^31, rank " + std::to_string(r) +
               " has " + std::to_string(counts[r]);
      });
      int_counts[r] = static_cast<int>(counts[r]);
      displacements[r] = static_cast<int>(total);
      total += counts[r];
    }
    require<dimension_mismatch>(send.size() == counts[static_cast<std::size_t>(rank_)] && recv.size() == total, [&] {
      return "MpiCommunicator::allgatherv: rank " + std::to_string(rank_) + " sends " + std::to_string(send.size()) +
             " elements (count " + std::to_string(counts[static_cast<std::size_t>(rank_)]) + ") into " +
             std::to_string(recv.size()) + " (total " + std::to_string(total) + ")";
    });
    prepare<Space>("allgatherv");
#if defined(PNPDIST_HAS_MPI)
    const CollectiveBeat beat(CollectiveOperation::allgatherv);
    detail::mpi_check(MPI_Allgatherv(send.data(), static_cast<int>(send.size()), detail::mpi_datatype<T>(), recv.data(),
                                     int_counts.data(), displacements.data(), detail::mpi_datatype<T>(), comm_),
                      "MPI_Allgatherv");
#endif
  }

  /// buffer <- root's buffer.
  template <class T, class Space>
  void broadcast(const View<T, 1, Space>& buffer, int root) const {
    require(root >= 0 && root < size_, [&] {
      return "MpiCommunicator::broadcast: root " + std::to_string(root) + " outside [0, " + std::to_string(size_) + ")";
    });
    prepare<Space>("broadcast");
#if defined(PNPDIST_HAS_MPI)
    const CollectiveBeat beat(CollectiveOperation::broadcast);
    for (index_t begin = 0; begin < buffer.size(); begin += chunk) {
      const int count = static_cast<int>(std::min(chunk, buffer.size() - begin));
      detail::mpi_check(MPI_Bcast(buffer.data() + begin, count, detail::mpi_datatype<T>(), root, comm_), "MPI_Bcast");
    }
#else
    (void)buffer;
#endif
  }

  void barrier() const {
#if defined(PNPDIST_HAS_MPI)
    const CollectiveBeat beat(CollectiveOperation::barrier);
    detail::mpi_check(MPI_Barrier(comm_), "MPI_Barrier");
#endif
  }

#if defined(PNPDIST_HAS_MPI)
  /// The heartbeat slots of the progress watchdog (distributed/progress_watchdog.hpp): one per rank of this
  /// rank's node (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)), in an MPI shared-memory window
  /// (MPI_Win_allocate_shared), so that a watchdog reads its neighbours' progress without calling MPI.
  /// Collective; freed (collectively) when the last copy of `storage` goes.
  [[nodiscard]] ProgressBoard progress_board() const {
    struct SharedSlots {
      MPI_Comm node = MPI_COMM_NULL;
      MPI_Win window = MPI_WIN_NULL;
      ~SharedSlots() {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (finalized) return;
        if (window != MPI_WIN_NULL) MPI_Win_free(&window);
        if (node != MPI_COMM_NULL) MPI_Comm_free(&node);
      }
    };
    auto shared = std::make_shared<SharedSlots>();
    detail::mpi_check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &shared->node),
                      "MPI_Comm_split_type");
    int node_size = 0;
    detail::mpi_check(MPI_Comm_size(shared->node, &node_size), "MPI_Comm_size");
    constexpr MPI_Aint slot_bytes = 64;  // a cache line per rank
    static_assert(sizeof(Heartbeat) <= slot_bytes);
    void* base = nullptr;
    detail::mpi_check(MPI_Win_allocate_shared(slot_bytes, 1, MPI_INFO_NULL, shared->node, &base, &shared->window),
                      "MPI_Win_allocate_shared");
    ProgressBoard board;
    board.own = new (base) Heartbeat{};
    board.own->last_ns.store(heartbeat_clock_ns(), std::memory_order_relaxed);
    // The node's ranks in comm_; the allgather also orders every slot's construction before any read.
    board.ranks.resize(static_cast<std::size_t>(node_size));
    detail::mpi_check(MPI_Allgather(&rank_, 1, MPI_INT, board.ranks.data(), 1, MPI_INT, shared->node), "MPI_Allgather");
    for (int r = 0; r < node_size; ++r) {
      MPI_Aint bytes = 0;
      int unit = 0;
      void* slot = nullptr;
      detail::mpi_check(MPI_Win_shared_query(shared->window, r, &bytes, &unit, &slot), "MPI_Win_shared_query");
      require<mpi_error>(slot != nullptr && reinterpret_cast<std::uintptr_t>(slot) % alignof(Heartbeat) == 0, [&] {
        return "MpiCommunicator::progress_board: the shared slot of node rank " + std::to_string(r) +
               " is missing or misaligned";
      });
      board.slots.push_back(static_cast<const Heartbeat*>(slot));
    }
    board.storage = std::move(shared);
    return board;
  }
#endif

  /// Ends every process of the communicator with exit code `code` (MPI_Abort); stderr is flushed first.
  [[noreturn]] void abort(int code) const {
    std::fflush(stderr);
#if defined(PNPDIST_HAS_MPI)
    MPI_Abort(comm_, code);
#endif
    std::exit(code);  // MPI_Abort does not return; reached only without MPI
  }

private:
  static constexpr index_t chunk = index_t{1} << 30;

  template <class Space>
  void prepare(const char* operation) const {
#if !defined(PNPDIST_HAS_MPI)
    throw not_compiled(std::string("pnpdist::MpiCommunicator::") + operation +
                       ": this build has no MPI (link pnpdist::mpi)");
#else
    if constexpr (!Space::host_accessible) {
      require<mpi_error>(mpi_is_cuda_aware(), [&] {
        return std::string("MpiCommunicator::") + operation +
               ": device buffers need a CUDA-aware MPI; this MPI is not (use NcclCommunicator or host buffers)";
      });
#if defined(PNPDIST_HAS_CUDA)
      PNPDIST_CUDA_CHECK(cudaDeviceSynchronize());
#endif
    }
#endif
  }

#if defined(PNPDIST_HAS_MPI)
  // A communicator made by split(), freed with the last copy of the object that owns it.
  struct OwnedComm {
    MPI_Comm comm = MPI_COMM_NULL;
    OwnedComm() = default;
    OwnedComm(const OwnedComm&) = delete;
    OwnedComm& operator=(const OwnedComm&) = delete;
    ~OwnedComm() {
      int finalized = 0;
      MPI_Finalized(&finalized);
      if (!finalized && comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
    }
  };
  MPI_Comm comm_;
  std::shared_ptr<OwnedComm> owned_;  // null for a wrapped communicator (not owned)
#endif
  int rank_ = 0;
  int size_ = 1;
};

namespace mpi {

/// Initializes MPI (MPI_Init_thread, MPI_THREAD_FUNNELED: only the main thread calls MPI) unless it is
/// already initialized, sets MPI_COMM_WORLD's error handler to MPI_ERRORS_RETURN, and finalizes MPI on
/// destruction if it initialized it. One per process; not copyable.
class Environment {
public:
  Environment(int& argc, char**& argv) { initialize(&argc, &argv); }
  Environment() { initialize(nullptr, nullptr); }
  ~Environment() {
#if defined(PNPDIST_HAS_MPI)
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owns_ && !finalized) MPI_Finalize();
#endif
  }
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  /// MPI_COMM_WORLD.
  [[nodiscard]] MpiCommunicator world() const {
#if defined(PNPDIST_HAS_MPI)
    return MpiCommunicator(MPI_COMM_WORLD);
#else
    return MpiCommunicator();
#endif
  }

private:
  void initialize([[maybe_unused]] int* argc, [[maybe_unused]] char*** argv) {
#if defined(PNPDIST_HAS_MPI)
    int initialized = 0;
    detail::mpi_check(MPI_Initialized(&initialized), "MPI_Initialized");
    if (!initialized) {
      int provided = 0;
      detail::mpi_check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_ = true;
    }
    detail::mpi_check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
#else
    throw not_compiled("pnpdist::mpi::Environment: this build has no MPI (link pnpdist::mpi)");
#endif
  }
  bool owns_ = false;
};

}  // namespace mpi
}  // namespace pnpdist
