// allgatherv_from_host (distributed/host_exchange.hpp) on the test world (MPI_COMM_WORLD under mpirun, or one
// process): the concatenation of rank-dependent pieces in rank order, against the closed form; which memory
// space each communicator exchanges. The staged path of a device communicator runs in
// tests/cuda_emulation/test_emulated_nccl_training.cpp (NcclCommunicator, MPI standing in for NCCL).
#include <pnpdist/distributed/host_exchange.hpp>
#include <pnpdist/distributed/nccl/nccl_communicator.hpp>

#include <catch2/catch.hpp>
#include <type_traits>
#include <vector>

#include "distributed/test_world.hpp"

using namespace pnpdist;

static_assert(std::is_same_v<communicator_space_t<SelfCommunicator>, HostSpace>);
static_assert(std::is_same_v<communicator_space_t<MpiCommunicator>, HostSpace>);
static_assert(std::is_same_v<communicator_space_t<NcclCommunicator>, CudaSpace>);
static_assert(AnySpaceCommunicator<SelfCommunicator> && AnySpaceCommunicator<MpiCommunicator> &&
              AnySpaceCommunicator<NcclCommunicator>);

TEST_CASE("allgatherv_from_host concatenates host pieces in rank order", "[distributed][mpi]") {
  const auto comm = test::world();
  const int p = comm.size();
  const int r = comm.rank();
  std::vector<index_t> counts(static_cast<std::size_t>(p));
  index_t total = 0;
  for (int q = 0; q < p; ++q) total += (counts[static_cast<std::size_t>(q)] = 2 * q + 1);
  std::vector<float> send(static_cast<std::size_t>(2 * r + 1));
  for (std::size_t k = 0; k < send.size(); ++k) send[k] = 1.0f / static_cast<float>(5 + 11 * r + k);
  std::vector<float> recv(static_cast<std::size_t>(total), -1.0f);
  allgatherv_from_host(comm, View<const float, 1, HostSpace>(send.data(), Extents<1>{2 * r + 1}),
                       View<float, 1, HostSpace>(recv.data(), Extents<1>{total}), counts);
  std::size_t e = 0;
  for (int q = 0; q < p; ++q)
    for (int k = 0; k < 2 * q + 1; ++k) REQUIRE(recv[e++] == 1.0f / static_cast<float>(5 + 11 * q + k));
}
