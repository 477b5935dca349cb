#pragma once
// The main of an example that runs on one process or under mpirun:
//
//   World                                      MpiCommunicator when MPI is built, else SelfCommunicator
//   run_example(argc, argv, name, table,       MPI (when built) or one process, --help before MPI starts,
//               progress_timeout, body)        option errors reported once, exceptions abort every rank, a
//                                              rank without progress for --progress-timeout s aborts them too

#include <pnpdist/core/errors.hpp>
#include <pnpdist/distributed/failure.hpp>
#include <pnpdist/distributed/mpi/mpi_communicator.hpp>
#include <pnpdist/distributed/progress_watchdog.hpp>
#include <pnpdist/distributed/self_communicator.hpp>

#include "example_options.hpp"

#include <cstdio>
#include <exception>
#include <string>

namespace pnpdist_examples {

#if defined(PNPDIST_HAS_MPI)
using World = pnpdist::MpiCommunicator;
#else
using World = pnpdist::SelfCommunicator;
#endif

/// The message of an exception (without the source location debug builds append to pnpdist::error::what()).
inline std::string error_message(const std::exception& e) {
  if (const auto* error = dynamic_cast<const pnpdist::error*>(&e)) return error->message();
  return e.what();
}

/// Runs body(world) on every rank: --help and --options-json are answered before MPI starts; option errors are reported
/// once (by rank 0) and every rank exits with 2; any other exception ends a single process with status 1 and aborts
/// every rank of a larger group with a message naming the rank (pnpdist::run_on_all_ranks). `progress_timeout` (read
/// after parsing; the table's --progress-timeout) > 0 watches every rank's progress for the whole run
/// (pnpdist::watch_progress): a rank without progress for that long aborts every rank, 124.
template <class Body>
int run_example(int argc, char** argv, const char* name, OptionTable& table, const double& progress_timeout,
                Body&& body) {
  if (table.answer_early_flags(argc, argv)) return 0;
#if defined(PNPDIST_HAS_MPI)
  pnpdist::mpi::Environment environment(argc, argv);
  const World world = environment.world();
#else
  const World world;
#endif
  try {
    table.parse(argc, argv);
  } catch (const std::exception& e) {
    if (world.rank() == 0) std::fprintf(stderr, "%s: %s\n", name, error_message(e).c_str());
    return 2;
  }
  const auto watch = pnpdist::watch_progress(world, progress_timeout);
  if (world.size() > 1) return pnpdist::run_on_all_ranks(world, [&] { return body(world); });
  try {  // one process: no other rank to release, so report and return instead of aborting
    return body(world);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, error_message(e).c_str());
    return 1;
  }
}

}  // namespace pnpdist_examples
