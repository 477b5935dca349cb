#pragma once
/// \file
/// resume_checkpoint: the ranks of a solve agree on the checkpoint to resume from (solvers/checkpoint.hpp
/// for the files, solvers/solver_ranks.hpp for the ranks).
///
///   - no rank has its file: a fresh start (nullopt);
///   - some ranks have theirs and others not: invalid_argument on every rank;
///   - ranks killed between their renames hold checkpoints of different iterations: all go back to the
///     oldest one, which the others kept as `.prev`;
///   - a corrupt or invalid file is replaced by the `.prev` the rank kept, with a warning on stderr
///     (read_checkpoint_or_previous); when that cannot be read either, io_error naming both problems;
///   - a file that does not match this solve (element size, rank layout, shape, options hash, state size)
///     throws invalid_argument naming the file and the mismatch; so does a checkpoint past the solve's
///     max_iterations (resuming would return a later iterate than the one asked for);
///   - a checkpoint path that is a directory throws io_error.
/// An error on one rank is thrown on every rank (a rank that threw alone would leave the others waiting in a
/// collective call). Collective.

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/solvers/checkpoint.hpp"

namespace pnpdist {

/// What a checkpoint must hold to be resumed by a solve.
struct CheckpointExpectation {
  std::uint32_t value_size = 0;
  std::vector<index_t> extents;
  std::uint64_t options_hash = 0;
  std::size_t state_bytes = 0;  ///< x and the algorithm's extra tensors
  index_t max_iterations = std::numeric_limits<index_t>::max();  ///< the last iteration the solve may reach
  bool has_step = false;  ///< the algorithm restores a step from the checkpoint: it must be finite and positive
};

/// The checkpoint this rank resumes from, or nullopt for a fresh start (see the file comment).
template <class Ranks>
[[nodiscard]] std::optional<Checkpoint> resume_checkpoint(const Ranks& ranks, const std::string& file,
                                                          const CheckpointExpectation& expected) {
  const int rank = ranks.rank();
  const int size = ranks.size();
  const bool exists = !file.empty() && checkpoint_exists(file);
  const double present = ranks.allreduce_sum(exists ? 1.0 : 0.0);
  require(present == 0 || present == size, [&] {
    return "PnP solver: checkpoint " + file + (exists ? " exists" : " is missing") + " but only " +
           std::to_string(static_cast<int>(present)) + " of " + std::to_string(size) + " ranks have theirs";
  });
  if (present == 0) return std::nullopt;

  Checkpoint c;
  std::string problem;
  bool io_problem = false;
  try {
    c = read_checkpoint_or_previous(file);
  } catch (const io_error& e) {
    problem = e.message();
    io_problem = true;
  }
  const double read_failures = ranks.allreduce_sum(problem.empty() ? 0.0 : 1.0);
  if (read_failures == 0) {
    const double sum = ranks.allreduce_sum(static_cast<double>(c.iteration));
    if (sum != static_cast<double>(c.iteration) * size) {
      const index_t common = ranks.min(c.iteration);
      if (c.iteration != common) {
        const std::string previous = previous_checkpoint_path(file);
        try {
          c = read_checkpoint(previous);
          if (c.iteration != common)
            problem = "PnP solver: the ranks' checkpoints are at different iterations and " + previous +
                      " holds iteration " + std::to_string(c.iteration) + ", not the common " + std::to_string(common);
        } catch (const io_error& e) {
          problem =
              "PnP solver: the ranks' checkpoints are at different iterations and the previous one cannot be "
              "read: " +
              e.message();
        }
      }
    }
  }
  if (problem.empty() && expected.has_step && !(std::isfinite(c.step) && c.step > 0)) {
    problem = "checkpoint " + file + ": invalid step " + std::to_string(c.step) +
              " for an algorithm that resumes with its step (corrupt file)";
    io_problem = true;
  }
  const auto mismatch = [&](const std::string& what) {
    if (problem.empty()) problem = "PnP solver: checkpoint " + file + " does not match this solve: " + what;
  };
  if (problem.empty()) {
    if (c.value_size != expected.value_size)
      mismatch("element size " + std::to_string(c.value_size) + " bytes, expected " +
               std::to_string(expected.value_size));
    if (c.ranks != size || c.rank != rank)
      mismatch("written by rank " + std::to_string(c.rank) + " of " + std::to_string(c.ranks) + ", this is rank " +
               std::to_string(rank) + " of " + std::to_string(size));
    if (c.extents != expected.extents) mismatch("its iterate has another shape than the domain");
    if (c.options_hash != expected.options_hash)
      mismatch(
          "it was written with other options (algorithm, step, sigma, schedule, relaxation, clip or power "
          "method settings) or for another problem (the fingerprint of its data, operator, initial point and prior "
          "differs)");
    if (c.iteration > expected.max_iterations)
      mismatch("it holds iteration " + std::to_string(c.iteration) + ", beyond max_iterations " +
               std::to_string(expected.max_iterations) + " (raise max_iterations or remove the checkpoint)");
    if (c.data.size() != expected.state_bytes)
      mismatch("its state holds " + std::to_string(c.data.size()) + " bytes, this solve's " +
               std::to_string(expected.state_bytes));
  }
  const double failures = ranks.allreduce_sum(problem.empty() ? 0.0 : 1.0);
  if (io_problem) throw io_error(problem);
  if (!problem.empty()) throw invalid_argument(problem);
  require(failures == 0, [&] {
    return "PnP solver: the checkpoint of another rank cannot be resumed from (this rank's is " + file + ")";
  });
  return c;
}

}  // namespace pnpdist
