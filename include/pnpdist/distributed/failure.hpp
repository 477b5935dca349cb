#pragma once
/// \file
/// Failure handling for collective code: an exception on one rank must end the whole job with a message
/// naming the rank, never leave the other ranks waiting in a collective call forever.
///
///     return pnpdist::run_on_all_ranks(comm, [&] { ...; return 0; });
///
/// run_on_all_ranks(comm, fn) returns fn()'s result. When fn throws on any rank, that rank writes
/// "pnpdist: rank R of N: <what()>" to stderr as one line and calls comm.abort(1), which ends every process
/// of the group (MPI_Abort for MpiCommunicator, so ranks blocked in a collective are killed too, and
/// mpirun exits non-zero).

#include <cstdio>
#include <exception>
#include <string>
#include <utility>

namespace pnpdist {

/// Writes "pnpdist: rank R of N: message" to stderr as one line and flushes it.
template <class Comm>
inline void report_rank_message(const Comm& comm, const std::string& message) {
  const std::string line =
      "pnpdist: rank " + std::to_string(comm.rank()) + " of " + std::to_string(comm.size()) + ": " + message + "\n";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

/// Writes "pnpdist: rank R of N: message" to stderr and aborts the group with exit code `code`.
template <class Comm>
[[noreturn]] inline void abort_with_message(const Comm& comm, const std::string& message, int code = 1) {
  report_rank_message(comm, message);
  comm.abort(code);
}

/// fn() on this rank; any exception escaping it aborts the group with a message naming the rank.
template <class Comm, class Fn>
inline decltype(auto) run_on_all_ranks(const Comm& comm, Fn&& fn) {
  try {
    return std::forward<Fn>(fn)();
  } catch (const std::exception& e) {
    abort_with_message(comm, e.what());
  } catch (...) {
    abort_with_message(comm, "unknown exception");
  }
}

}  // namespace pnpdist
