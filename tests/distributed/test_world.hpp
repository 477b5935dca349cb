#pragma once
// The communicator the distribution tests run on: MPI_COMM_WORLD in the MPI build of the tests (run under
// mpirun -np 1..4), the one-process SelfCommunicator otherwise. Every test case is collective: all ranks
// run the same test cases in the same order.
#include <pnpdist/distributed/self_communicator.hpp>

#if defined(PNPDIST_TEST_WITH_MPI)
#include <pnpdist/distributed/mpi/mpi_communicator.hpp>
#endif

namespace pnpdist::test {

#if defined(PNPDIST_TEST_WITH_MPI)
using WorldCommunicator = MpiCommunicator;
inline MpiCommunicator world() { return MpiCommunicator(); }
#else
using WorldCommunicator = SelfCommunicator;
inline SelfCommunicator world() { return SelfCommunicator{}; }
#endif

}  // namespace pnpdist::test
