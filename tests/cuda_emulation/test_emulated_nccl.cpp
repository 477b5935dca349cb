// Covers: (no kernels: NcclCommunicator's collective calls, with MPI standing in for NCCL)
// NcclCommunicator on the Cuda executor run by the CPU emulation of CUDA, with MPI standing in for NCCL:
// this executable defines PNPDIST_HAS_NCCL and links MPI, and the emulator's <nccl.h> serves the NCCL calls
// of distributed/nccl/nccl_communicator.hpp with MPI collectives on MPI_COMM_WORLD (see
// docs/cuda_emulation.md). It runs under mpirun -np 1, 2 and 3 with the MPI main of tests/distributed, and
// checks the communicator's allreduce / allgatherv / broadcast on emulated device buffers against closed
// forms and against MpiCommunicator on host buffers, and a DistributedDenoiser over it against the
// single-process TiledDenoiser (bit for bit: the reassembly sums one value with zeros).

#include <cuda_runtime.h>
#include <nccl.h>
#include <catch2/catch.hpp>

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/distributed/distributed_denoiser.hpp>
#include <pnpdist/distributed/mpi/mpi_communicator.hpp>
#include <pnpdist/distributed/nccl/nccl_communicator.hpp>
#include <pnpdist/priors/tv_denoiser.hpp>
#include <pnpdist/tensor/tensor.hpp>
#include <pnpdist/tiling/tiled_denoiser.hpp>

#include <cstdint>
#include <vector>

namespace {

using pnpdist::Cuda;
using pnpdist::CudaSpace;
using pnpdist::Extents;
using pnpdist::HostSpace;
using pnpdist::index_t;
using pnpdist::MpiCommunicator;
using pnpdist::NcclCommunicator;
using pnpdist::Tensor;

/// Rank r's value at i: exactly representable, so sums over ranks are exact in any order.
template <class T>
T value(int rank, index_t i) {
  return static_cast<T>((rank + 1) * 1000 + i % 97);
}

template <class T>
Tensor<T, 1, HostSpace> host_values(int rank, index_t n) {
  Tensor<T, 1, HostSpace> t(Extents<1>{n});
  for (index_t i = 0; i < n; ++i) t.data()[i] = value<T>(rank, i);
  return t;
}

template <class T>
std::vector<T> to_vector(const pnpdist::View<const T, 1, CudaSpace>& v) {
  const Tensor<T, 1, HostSpace> host = pnpdist::clone<HostSpace>(v);
  return std::vector<T>(host.data(), host.data() + host.size());
}

template <class T>
std::vector<T> to_vector(const pnpdist::View<const T, 1, HostSpace>& v) {
  return std::vector<T>(v.data(), v.data() + v.size());
}

}  // namespace

TEMPLATE_TEST_CASE("NcclCommunicator (MPI substitute for NCCL): allreduce_sum on emulated device buffers",
                   "[cuda-emulated][nccl]", float, double, int, std::int64_t) {
  const MpiCommunicator world;
  const NcclCommunicator nccl(world, Cuda{});
  REQUIRE(nccl.rank() == world.rank());
  REQUIRE(nccl.size() == world.size());
  const int p = world.size();
  const index_t n = 1000;

  Tensor<TestType, 1, HostSpace> host = host_values<TestType>(world.rank(), n);
  Tensor<TestType, 1, CudaSpace> device = pnpdist::clone<CudaSpace>(host.const_view());
  nccl.allreduce_sum(device.view());
  world.allreduce_sum(host.view());
  const std::vector<TestType> got = to_vector<TestType>(device.const_view());
  const std::vector<TestType> mpi = to_vector<TestType>(host.const_view());
  REQUIRE(got == mpi);
  for (index_t i = 0; i < n; ++i) {
    // sum over r of (r + 1) * 1000 + i % 97 = 1000 p (p + 1) / 2 + p (i % 97)
    const TestType expected = static_cast<TestType>(1000 * p * (p + 1) / 2 + p * (i % 97));
    REQUIRE(got[static_cast<std::size_t>(i)] == expected);
  }
  CHECK(nccl.allreduce_sum(static_cast<double>(world.rank() + 1)) == static_cast<double>(p * (p + 1) / 2));
  nccl.barrier();
}

TEST_CASE("NcclCommunicator (MPI substitute for NCCL): allgatherv on emulated device buffers",
          "[cuda-emulated][nccl]") {
  const MpiCommunicator world;
  const NcclCommunicator nccl(world, Cuda{});
  const int p = world.size();
  // Rank r contributes 3 r + base elements: all counts differ, and rank 0 sends nothing when base is 0.
  for (const index_t base : {index_t{1}, index_t{0}}) {
    std::vector<index_t> counts(static_cast<std::size_t>(p));
    index_t total = 0;
    for (int r = 0; r < p; ++r) total += counts[static_cast<std::size_t>(r)] = 3 * r + base;
    const index_t mine = counts[static_cast<std::size_t>(world.rank())];
    const Tensor<double, 1, HostSpace> send_host = host_values<double>(world.rank(), mine);
    const Tensor<double, 1, CudaSpace> send = pnpdist::clone<CudaSpace>(send_host.const_view());
    Tensor<double, 1, CudaSpace> recv(Extents<1>{total});
    Tensor<double, 1, HostSpace> recv_host(Extents<1>{total});
    nccl.allgatherv(send.const_view(), recv.view(), counts);
    world.allgatherv(send_host.const_view(), recv_host.view(), counts);
    const std::vector<double> got = to_vector<double>(recv.const_view());
    REQUIRE(got == to_vector<double>(recv_host.const_view()));
    index_t at = 0;
    for (int r = 0; r < p; ++r)
      for (index_t i = 0; i < counts[static_cast<std::size_t>(r)]; ++i, ++at)
        REQUIRE(got[static_cast<std::size_t>(at)] == value<double>(r, i));
  }
  // Wrong counts are rejected before any communication, on every rank alike.
  std::vector<index_t> too_few(static_cast<std::size_t>(p) + 1, 1);
  Tensor<double, 1, CudaSpace> one(Extents<1>{1});
  Tensor<double, 1, CudaSpace> all(Extents<1>{p + 1});
  CHECK_THROWS_AS(nccl.allgatherv(one.const_view(), all.view(), too_few), pnpdist::dimension_mismatch);
}

TEST_CASE("NcclCommunicator (MPI substitute for NCCL): broadcast on emulated device buffers", "[cuda-emulated][nccl]") {
  const MpiCommunicator world;
  const NcclCommunicator nccl(world, Cuda{});
  const index_t n = 257;
  for (int root = 0; root < world.size(); ++root) {
    Tensor<float, 1, HostSpace> host = host_values<float>(world.rank(), n);
    Tensor<float, 1, CudaSpace> device = pnpdist::clone<CudaSpace>(host.const_view());
    nccl.broadcast(device.view(), root);
    world.broadcast(host.view(), root);
    const std::vector<float> got = to_vector<float>(device.const_view());
    REQUIRE(got == to_vector<float>(host.const_view()));
    for (index_t i = 0; i < n; ++i) REQUIRE(got[static_cast<std::size_t>(i)] == value<float>(root, i));
  }
  Tensor<float, 1, CudaSpace> device(Extents<1>{1});
  CHECK_THROWS(nccl.broadcast(device.view(), world.size()));
}

TEST_CASE("emulator's <nccl.h> (MPI substitute for NCCL) rejects host buffers and a foreign rank layout",
          "[cuda-emulated][nccl]") {
  const MpiCommunicator world;
  ncclUniqueId id{};
  REQUIRE(ncclGetUniqueId(&id) == ncclSuccess);
  ncclComm_t comm = nullptr;
  CHECK(ncclCommInitRank(&comm, world.size() + 1, id, world.rank()) == ncclInvalidArgument);
  REQUIRE(ncclCommInitRank(&comm, world.size(), id, world.rank()) == ncclSuccess);
  std::vector<double> host(4, 1.0);
  CHECK(ncclAllReduce(host.data(), host.data(), host.size(), ncclFloat64, ncclSum, comm, nullptr) ==
        ncclInvalidArgument);
  CHECK(ncclBroadcast(host.data(), host.data(), host.size(), ncclFloat64, 0, comm, nullptr) == ncclInvalidArgument);
  CHECK(ncclCommDestroy(comm) == ncclSuccess);
}

TEST_CASE("DistributedDenoiser over NcclCommunicator (MPI substitute for NCCL) on Cuda equals TiledDenoiser",
          "[cuda-emulated][nccl]") {
  const MpiCommunicator world;
  const NcclCommunicator nccl(world, Cuda{});
  const Extents<4> shape{1, 2, 23, 19};
  const pnpdist::PatchTiler<2> tiler(10, 2);
  Tensor<float, 4, HostSpace> x_host(shape);
  for (index_t i = 0; i < x_host.size(); ++i) x_host.data()[i] = static_cast<float>((i * 37) % 101) / 101.0f;
  const Tensor<float, 4, CudaSpace> x = pnpdist::clone<CudaSpace>(x_host.const_view());
  using Tv = pnpdist::TVDenoiser<float, 4, Cuda>;

  Tensor<float, 4, CudaSpace> single(shape);
  auto reference = pnpdist::tiled(Tv(Cuda{}, 10), tiler);
  reference.denoise(x.const_view(), 0.1f, single.view());
  Tensor<float, 4, CudaSpace> y(shape);
  auto distributed = pnpdist::distribute_denoiser(Tv(Cuda{}, 10), tiler, nccl, 0);
  distributed.denoise(x.const_view(), 0.1f, y.view());

  const Tensor<float, 4, HostSpace> got = pnpdist::clone<HostSpace>(y.const_view());
  const Tensor<float, 4, HostSpace> expected = pnpdist::clone<HostSpace>(single.const_view());
  index_t differing = 0;
  for (index_t i = 0; i < got.size(); ++i) differing += got.data()[i] != expected.data()[i] ? 1 : 0;
  CHECK(differing == 0);
  // The denoiser did something (not the identity): the comparison is not vacuous.
  index_t changed = 0;
  for (index_t i = 0; i < got.size(); ++i) changed += got.data()[i] != x_host.data()[i] ? 1 : 0;
  CHECK(changed > got.size() / 2);
}
