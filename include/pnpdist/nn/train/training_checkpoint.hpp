#pragma once
/// \file
/// Checkpoint and resume of a training run: the parameters, Adam's moments and step count, in the solvers'
/// checkpoint file (solvers/checkpoint.hpp: written to `path.tmp`, fsynced and renamed, the previous one kept
/// as `path.prev`, an FNV-1a checksum), so a run killed at any moment resumes from the last complete
/// checkpoint. The iterate holds values, first and second moments (3 x P elements of T, extents {3, P});
/// `iteration` is the number of optimizer steps taken; `options_hash` identifies the run (network and
/// training options that change the result) and a checkpoint of another run is refused. Restoring writes the
/// exact bits saved: training on from a checkpoint gives the same weights as a run that was never stopped.

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/nn/train/adam.hpp"
#include "pnpdist/nn/train/parameters.hpp"
#include "pnpdist/solvers/checkpoint.hpp"

namespace pnpdist::nn::train {

/// Writes the state of a run atomically (see the file comment).
template <class T>
inline void save_training_checkpoint(const std::string& path, const ParameterStore<T>& store, Adam<T>& adam,
                                     std::uint64_t options_hash, double elapsed_seconds) {
  Checkpoint c;
  c.options_hash = options_hash;
  c.iteration = adam.steps();
  c.step = std::numeric_limits<double>::quiet_NaN();
  c.elapsed_seconds = elapsed_seconds;
  c.value_size = sizeof(T);
  c.extents = {3, store.size()};
  const std::size_t bytes = static_cast<std::size_t>(store.size()) * sizeof(T);
  c.data.resize(3 * bytes);
  if (bytes > 0) {
    std::memcpy(c.data.data(), store.values().data(), bytes);
    std::memcpy(c.data.data() + bytes, adam.first_moment().data(), bytes);
    std::memcpy(c.data.data() + 2 * bytes, adam.second_moment().data(), bytes);
  }
  write_checkpoint(path, c);
}

/// Restores a run from `path` (or its `.prev` when `path` is unreadable); returns the elapsed seconds it
/// recorded. Throws io_error naming the file when it belongs to another run (options hash), another
/// element type or another parameter count.
template <class T>
inline double load_training_checkpoint(const std::string& path, ParameterStore<T>& store, Adam<T>& adam,
                                       std::uint64_t options_hash) {
  const Checkpoint c = read_checkpoint_or_previous(path);
  require<io_error>(c.options_hash == options_hash, [&] {
    return "training checkpoint " + path +
           " belongs to another run (different network or training options); remove it or start with the same "
           "options";
  });
  require<io_error>(c.value_size == sizeof(T), [&] {
    return "training checkpoint " + path + " holds " + std::to_string(c.value_size) + "-byte values, this run trains " +
           std::to_string(sizeof(T)) + "-byte ones";
  });
  const std::vector<index_t> expected{3, store.size()};
  require<io_error>(c.extents == expected, [&] {
    return "training checkpoint " + path + " holds a state of extents " + shape_to_string(c.extents) + ", expected " +
           shape_to_string(expected);
  });
  const std::size_t bytes = static_cast<std::size_t>(store.size()) * sizeof(T);
  if (bytes > 0) {
    std::memcpy(store.values().data(), c.data.data(), bytes);
    std::memcpy(adam.first_moment().data(), c.data.data() + bytes, bytes);
    std::memcpy(adam.second_moment().data(), c.data.data() + 2 * bytes, bytes);
  }
  adam.set_steps(c.iteration);
  return c.elapsed_seconds;
}

}  // namespace pnpdist::nn::train
