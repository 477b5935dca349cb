// Run under mpirun by check_failure.cmake: rank 1 (rank 0 when alone) throws while the others wait in a
// barrier. run_on_all_ranks must end the whole job, non-zero, with "pnpdist: rank 1 of N: ..." on stderr.
#include <pnpdist/distributed/failure.hpp>
#include <pnpdist/distributed/mpi/mpi_communicator.hpp>

int main(int argc, char** argv) {
  pnpdist::mpi::Environment environment(argc, argv);
  const pnpdist::MpiCommunicator world = environment.world();
  return pnpdist::run_on_all_ranks(world, [&] {
    if (world.rank() == 1 % world.size()) throw pnpdist::invalid_argument("deliberate failure");
    world.barrier();  // never completes: the failing rank does not enter it
    return 0;
  });
}
