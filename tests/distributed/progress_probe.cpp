// Run by check_failure.cmake: every rank watches progress with a timeout of T seconds (argv[2]),
// makes progress for 3 T (a barrier every T / 10), prints "progress made" from rank 0, then rank 1 (rank 0
// when alone) stops making progress while the others wait in a barrier. The job must end within a few
// seconds of the timeout, non-zero, with the rank named. Modes (argv[1]):
//   stop    rank 1 raises SIGSTOP on itself (it cannot report; the waiting ranks name it)
//   sleep   rank 1 sleeps forever outside any collective call
//   self    no MPI: one process (SelfCommunicator) whose iteration never ends
#include <pnpdist/core/heartbeat.hpp>
#include <pnpdist/distributed/failure.hpp>
#include <pnpdist/distributed/mpi/mpi_communicator.hpp>
#include <pnpdist/distributed/progress_watchdog.hpp>
#include <pnpdist/distributed/self_communicator.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

template <class Comm>
int probe(const Comm& comm, const std::string& mode, double timeout) {
  const auto watch = pnpdist::watch_progress(comm, timeout);
  const auto tick = std::chrono::duration<double>(timeout / 10);
  for (int i = 0; i < 30; ++i) {
    std::this_thread::sleep_for(tick);
    pnpdist::heartbeat();
    comm.barrier();
  }
  if (comm.rank() == 0) {
    std::printf("progress made for %.1f s\n", 3 * timeout);
    std::fflush(stdout);
  }
  if (comm.rank() == 1 % comm.size()) {
    if (mode == "stop") std::raise(SIGSTOP);
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  comm.barrier();  // never completes
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fputs("usage: progress_probe stop|sleep|self SECONDS\n", stderr);
    return 2;
  }
  const std::string mode = argv[1];
  const double timeout = std::atof(argv[2]);
  if (mode == "self") return probe(pnpdist::SelfCommunicator{}, mode, timeout);
  pnpdist::mpi::Environment environment(argc, argv);
  const pnpdist::MpiCommunicator world = environment.world();
  return pnpdist::run_on_all_ranks(world, [&] { return probe(world, mode, timeout); });
}
