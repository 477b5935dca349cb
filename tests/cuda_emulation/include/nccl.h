#pragma once
/// \file
/// <nccl.h> of the CPU emulation of CUDA. This is a substitute, not NCCL: NCCL has no emulation, so the
/// subset of its API the library calls (distributed/nccl/nccl_communicator.hpp) is served by MPI on
/// MPI_COMM_WORLD behind the same interface, on emulated device memory (which is host memory). The
/// library's NCCL communicator thus runs unchanged in the emulated build when it defines PNPDIST_HAS_NCCL
/// and links MPI.
///
///   - ncclGetUniqueId fills the id with fixed bytes; ncclCommInitRank only checks that (nranks, rank) are
///     MPI_COMM_WORLD's size and rank (ncclInvalidArgument otherwise): one communicator per process.
///   - ncclAllReduce (ncclSum only) is MPI_Allreduce (MPI_IN_PLACE when sendbuff == recvbuff);
///     ncclBroadcast is MPI_Bcast (the root copies sendbuff to recvbuff first). Each call runs to completion
///     when called, like every emulated operation; the stream is only checked.
///   - ncclGroupStart / ncclGroupEnd are no-ops: every rank issues the calls of a group in the same order,
///     so running them one by one cannot deadlock.
///   - Buffers must lie inside emulated device allocations (ncclInvalidArgument otherwise).

#include <mpi.h>

#include <cstddef>
#include <cstring>
#include <mutex>

#include "pnpdist_cuda_emulator/runtime.hpp"

#define NCCL_UNIQUE_ID_BYTES 128
typedef struct {
  char internal[NCCL_UNIQUE_ID_BYTES];
} ncclUniqueId;

typedef enum {
  ncclSuccess = 0,
  ncclUnhandledCudaError = 1,
  ncclSystemError = 2,
  ncclInternalError = 3,
  ncclInvalidArgument = 4,
  ncclInvalidUsage = 5,
  ncclRemoteError = 6,
} ncclResult_t;

typedef enum {
  ncclInt8 = 0,
  ncclUint8 = 1,
  ncclInt32 = 2,
  ncclUint32 = 3,
  ncclInt64 = 4,
  ncclUint64 = 5,
  ncclFloat16 = 6,
  ncclFloat32 = 7,
  ncclFloat64 = 8,
} ncclDataType_t;

typedef enum { ncclSum = 0, ncclProd = 1, ncclMax = 2, ncclMin = 3 } ncclRedOp_t;

struct ncclComm {
  int nranks = 0;
  int rank = 0;
};
typedef struct ncclComm* ncclComm_t;

namespace pnpdist_cuda_emulator::nccl {

/// The MPI datatype and element size of `type` (MPI_DATATYPE_NULL for the types the substitute lacks).
inline MPI_Datatype mpi_datatype(ncclDataType_t type, std::size_t& bytes) {
  switch (type) {
    case ncclInt8:
      bytes = 1;
      return MPI_INT8_T;
    case ncclUint8:
      bytes = 1;
      return MPI_UINT8_T;
    case ncclInt32:
      bytes = 4;
      return MPI_INT32_T;
    case ncclUint32:
      bytes = 4;
      return MPI_UINT32_T;
    case ncclInt64:
      bytes = 8;
      return MPI_INT64_T;
    case ncclUint64:
      bytes = 8;
      return MPI_UINT64_T;
    case ncclFloat32:
      bytes = 4;
      return MPI_FLOAT;
    case ncclFloat64:
      bytes = 8;
      return MPI_DOUBLE;
    default:
      bytes = 0;
      return MPI_DATATYPE_NULL;
  }
}

/// True when [p, p + bytes) lies inside one emulated device allocation.
inline bool on_device(const void* p, std::size_t bytes) {
  std::lock_guard<std::mutex> lock(pnpdist_cuda_emulator::device().mutex);
  return pnpdist_cuda_emulator::inside_device_allocation(p, bytes);
}

inline bool usable(const ncclComm* comm, cudaStream_t stream) {
  return comm != nullptr && pnpdist_cuda_emulator::valid_stream(stream);
}

}  // namespace pnpdist_cuda_emulator::nccl

inline const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess:
      return "no error";
    case ncclUnhandledCudaError:
      return "unhandled cuda error";
    case ncclSystemError:
      return "unhandled system error";
    case ncclInternalError:
      return "internal error";
    case ncclInvalidArgument:
      return "invalid argument";
    case ncclInvalidUsage:
      return "invalid usage";
    case ncclRemoteError:
      return "remote process exited or there was a network error";
  }
  return "unknown result code";
}

inline ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  if (id == nullptr) return ncclInvalidArgument;
  std::memset(id->internal, 0x5a, sizeof(id->internal));
  return ncclSuccess;
}

inline ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId /*id*/, int rank) {
  if (comm == nullptr) return ncclInvalidArgument;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized == 0) return ncclInvalidUsage;
  int world_size = 0;
  int world_rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  if (nranks != world_size || rank != world_rank) return ncclInvalidArgument;
  *comm = new ncclComm{nranks, rank};
  return ncclSuccess;
}

inline ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  delete comm;
  return ncclSuccess;
}

inline ncclResult_t ncclCommAbort(ncclComm_t comm) { return ncclCommDestroy(comm); }

inline ncclResult_t ncclGroupStart() { return ncclSuccess; }
inline ncclResult_t ncclGroupEnd() { return ncclSuccess; }

inline ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, std::size_t count, ncclDataType_t datatype,
                                  ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream) {
  namespace emu = pnpdist_cuda_emulator::nccl;
  std::size_t bytes = 0;
  const MPI_Datatype type = emu::mpi_datatype(datatype, bytes);
  if (!emu::usable(comm, stream) || type == MPI_DATATYPE_NULL || op != ncclSum) return ncclInvalidArgument;
  if (count == 0) return ncclSuccess;
  if (!emu::on_device(sendbuff, count * bytes) || !emu::on_device(recvbuff, count * bytes)) return ncclInvalidArgument;
  const int n = static_cast<int>(count);
  const int rc = sendbuff == recvbuff ? MPI_Allreduce(MPI_IN_PLACE, recvbuff, n, type, MPI_SUM, MPI_COMM_WORLD)
                                      : MPI_Allreduce(sendbuff, recvbuff, n, type, MPI_SUM, MPI_COMM_WORLD);
  return rc == MPI_SUCCESS ? ncclSuccess : ncclSystemError;
}

inline ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, std::size_t count, ncclDataType_t datatype,
                                  int root, ncclComm_t comm, cudaStream_t stream) {
  namespace emu = pnpdist_cuda_emulator::nccl;
  std::size_t bytes = 0;
  const MPI_Datatype type = emu::mpi_datatype(datatype, bytes);
  if (!emu::usable(comm, stream) || type == MPI_DATATYPE_NULL || root < 0 || root >= comm->nranks)
    return ncclInvalidArgument;
  if (count == 0) return ncclSuccess;
  if (!emu::on_device(recvbuff, count * bytes)) return ncclInvalidArgument;
  if (comm->rank == root) {
    if (!emu::on_device(sendbuff, count * bytes)) return ncclInvalidArgument;
    if (sendbuff != recvbuff) std::memmove(recvbuff, sendbuff, count * bytes);
  }
  const int rc = MPI_Bcast(recvbuff, static_cast<int>(count), type, root, MPI_COMM_WORLD);
  return rc == MPI_SUCCESS ? ncclSuccess : ncclSystemError;
}
