// Communicator semantics on the test world (MPI_COMM_WORLD under mpirun, or one process), checked against
// closed forms in the rank count: sums of rank-dependent values, the concatenation of rank-dependent
// pieces, the root's buffer.
#include <pnpdist/distributed/communicator.hpp>
#include <pnpdist/distributed/nccl/nccl_communicator.hpp>
#include <pnpdist/tensor/owning_tensor.hpp>

#include <catch2/catch.hpp>
#include <utility>
#include <vector>

#include "distributed/test_world.hpp"

using namespace pnpdist;

static_assert(Communicator<SelfCommunicator>);
static_assert(Communicator<SelfCommunicator, CudaSpace>);
static_assert(Communicator<MpiCommunicator>);
static_assert(Communicator<MpiCommunicator, CudaSpace>);
static_assert(Communicator<NcclCommunicator, CudaSpace>);

TEST_CASE("allreduce_sum adds every rank's buffer, in place, on every rank", "[distributed][mpi]") {
  const auto comm = test::world();
  const int p = comm.size();
  const int r = comm.rank();
  std::vector<float> f(1000);
  std::vector<double> d(7);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>((r + 1) * static_cast<int>(i % 13));
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = (i == static_cast<std::size_t>(r) % d.size()) ? 0.5 : 0.0;
  comm.allreduce_sum(View<float, 1, HostSpace>(f.data(), Extents<1>{1000}));
  comm.allreduce_sum(View<double, 1, HostSpace>(d.data(), Extents<1>{7}));
  for (std::size_t i = 0; i < f.size(); ++i)
    REQUIRE(f[i] == static_cast<float>(p * (p + 1) / 2 * static_cast<int>(i % 13)));
  double total = 0;
  for (const double v : d) total += v;
  CHECK(total == 0.5 * p);
  CHECK(comm.allreduce_sum(static_cast<double>(r) + 0.25) == p * (p - 1) / 2.0 + 0.25 * p);
}

TEST_CASE("allgatherv concatenates pieces of different sizes in rank order", "[distributed][mpi]") {
  const auto comm = test::world();
  const int p = comm.size();
  const int r = comm.rank();
  std::vector<index_t> counts(static_cast<std::size_t>(p));
  index_t total = 0;
  for (int q = 0; q < p; ++q) total += (counts[static_cast<std::size_t>(q)] = q);  // rank 0 sends nothing
  std::vector<double> send(static_cast<std::size_t>(r));
  for (int k = 0; k < r; ++k) send[static_cast<std::size_t>(k)] = 100.0 * r + k;
  std::vector<double> recv(static_cast<std::size_t>(total), -1.0);
  comm.allgatherv(View<const double, 1, HostSpace>(send.data(), Extents<1>{r}),
                  View<double, 1, HostSpace>(recv.data(), Extents<1>{total}), counts);
  std::size_t e = 0;
  for (int q = 0; q < p; ++q)
    for (int k = 0; k < q; ++k) REQUIRE(recv[e++] == 100.0 * q + k);
  // A count that does not match what this rank sends is refused on every rank before any communication.
  std::vector<index_t> wrong(static_cast<std::size_t>(p), 1);
  CHECK_THROWS_AS(comm.allgatherv(View<const double, 1, HostSpace>(send.data(), Extents<1>{r}),
                                  View<double, 1, HostSpace>(recv.data(), Extents<1>{total}),
                                  std::span<const index_t>(wrong.data(), wrong.size() - 1)),
                  dimension_mismatch);
}

TEST_CASE("broadcast copies the root's buffer to every rank, and barrier returns", "[distributed][mpi]") {
  const auto comm = test::world();
  const int root = comm.size() - 1;
  std::vector<float> b(33, static_cast<float>(comm.rank()));
  comm.broadcast(View<float, 1, HostSpace>(b.data(), Extents<1>{33}), root);
  for (const float v : b) REQUIRE(v == static_cast<float>(root));
  comm.barrier();
  CHECK_THROWS_AS(comm.broadcast(View<float, 1, HostSpace>(b.data(), Extents<1>{33}), comm.size()), invalid_argument);
}

TEST_CASE("split groups the ranks of one color, ranked by key", "[distributed][mpi]") {
  const auto world = test::world();
  const int p = world.size();
  const int r = world.rank();
  // Two colors by parity, ranked in decreasing world rank: the members are q = r mod 2, r mod 2 + 2, ...
  const auto part = world.split(r % 2, p - r);
  std::vector<int> members;
  for (int q = p - 1; q >= 0; --q)
    if (q % 2 == r % 2) members.push_back(q);
  REQUIRE(part.size() == static_cast<int>(members.size()));
  CHECK(members[static_cast<std::size_t>(part.rank())] == r);
  std::vector<double> mine{static_cast<double>(r)}, all(members.size(), -1.0);
  const std::vector<index_t> counts(members.size(), 1);
  part.allgatherv(View<const double, 1, HostSpace>(mine.data(), Extents<1>{1}),
                  View<double, 1, HostSpace>(all.data(), Extents<1>{part.size()}), counts);
  for (std::size_t k = 0; k < members.size(); ++k) CHECK(all[k] == static_cast<double>(members[k]));
  double sum = 0;
  for (const int q : members) sum += q;
  CHECK(part.allreduce_sum(static_cast<double>(r)) == sum);
  std::vector<float> b(5, static_cast<float>(r));
  part.broadcast(View<float, 1, HostSpace>(b.data(), Extents<1>{5}), 0);
  for (const float v : b) CHECK(v == static_cast<float>(members.front()));
  // A copy works on the same group, and splitting a part again by one color gives the part.
  const auto copy = part;
  CHECK(copy.allreduce_sum(1.0) == static_cast<double>(members.size()));
  const auto again = part.split(0, 0);
  CHECK(again.size() == part.size());
  CHECK(again.rank() == part.rank());
  // A negative color (MPI_UNDEFINED's meaning: no group) is refused on every rank before any call.
  CHECK_THROWS_AS(world.split(-1, 0), invalid_argument);
  world.barrier();
}

#if defined(PNPDIST_TEST_WITH_MPI)
namespace {
extern "C" int count_deletion(MPI_Comm, int, void*, void* counter) {
  ++*static_cast<int*>(counter);
  return MPI_SUCCESS;
}
}  // namespace

TEST_CASE("a split communicator is freed with its last copy, and only then", "[distributed][mpi]") {
  const auto world = test::world();
  int deletions = 0, keyval = MPI_KEYVAL_INVALID;
  // The attribute's delete callback runs when MPI frees the communicator it is attached to.
  REQUIRE(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, count_deletion, &keyval, &deletions) == MPI_SUCCESS);
  {
    auto part = world.split(world.rank() % 2, 0);
    REQUIRE(MPI_Comm_set_attr(part.native(), keyval, nullptr) == MPI_SUCCESS);
    { const auto copy = part; }
    CHECK(deletions == 0);
    CHECK(part.allreduce_sum(1.0) == static_cast<double>(part.size()));
    const auto moved = std::move(part);
    CHECK(deletions == 0);
  }
  CHECK(deletions == 1);
  // The world is wrapped, not owned: its copies going frees nothing.
  { const auto copy = world; }
  CHECK(deletions == 1);
  world.barrier();
  REQUIRE(MPI_Comm_free_keyval(&keyval) == MPI_SUCCESS);
}
#endif

TEST_CASE("flat_view refuses strided buffers", "[distributed][unit]") {
  Tensor<float, 2> t(Extents<2>{4, 5});
  CHECK(flat_view(t.view()).size() == 20);
  CHECK_THROWS_AS(flat_view(subview(t.view(), Extents<2>{0, 1}, Extents<2>{4, 3})), dimension_mismatch);
}

#if defined(PNPDIST_TEST_WITH_MPI) && !defined(PNPDIST_HAS_NCCL)
TEST_CASE("NcclCommunicator says it was not compiled", "[distributed][mpi]") {
  CHECK_THROWS_AS(NcclCommunicator(test::world(), Cuda{}), not_compiled);
}
#endif
#if !defined(PNPDIST_HAS_MPI)
TEST_CASE("MpiCommunicator and mpi::Environment say they were not compiled", "[distributed][unit]") {
  CHECK_THROWS_AS(MpiCommunicator(), not_compiled);
  CHECK_THROWS_AS(mpi::Environment(), not_compiled);
}
#endif
