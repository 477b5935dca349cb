#pragma once
// --save-measurements DIR: writes the data of an example as float32 .npy files, so that another program
// (tools/compare_deepinv.py) can run its own reconstruction on exactly the same measurements:
//
//   DIR/truth.npy              the ground truth (the domain shape: 1 x C x H x W image, H x W slice, ...)
//   DIR/measurement_<i>.npy    the noisy measurement of operator i (global index, 0-based), its own shape
//                              (a blurred image 1 x C x H x W; a block of views x bins of the sinogram)
//
// Each rank writes the operators it holds (all of them, or its round-robin share); rank 0 writes the truth.
// Nothing is written without the option.

#include "example_options.hpp"
#include "pnp_example_support.hpp"

#include <pnpdist/io/npy.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

namespace pnpdist_examples {

/// The directory of --save-measurements (empty: no export).
inline std::string& measurement_export_dir() {
  static std::string dir;
  return dir;
}

/// Registers --save-measurements DIR.
inline void add_measurement_export_option(OptionTable& table) {
  table.text("--save-measurements", "DIR",
             "write truth.npy and measurement_<i>.npy (float32, operator i's noisy data) into DIR\n"
             "(for tools/compare_deepinv.py)",
             measurement_export_dir());
}

/// Writes the truth (rank 0) and this rank's measurements (operator share.mine[k] is local.measurement(k))
/// when --save-measurements was given.
template <class Stack, class T, std::size_t R>
void export_measurements(const World& world, const OperatorShare& share, const Stack& local,
                         const pnpdist::View<const T, R>& truth) {
  const std::string& dir = measurement_export_dir();
  if (dir.empty()) return;
  std::filesystem::create_directories(dir);
  const std::filesystem::path root(dir);
  if (world.rank() == 0) pnpdist::write_npy((root / "truth.npy").string(), truth);
  for (std::size_t k = 0; k < share.mine.size(); ++k)
    pnpdist::write_npy((root / ("measurement_" + std::to_string(share.mine[k]) + ".npy")).string(),
                       local.measurement(k).const_view());
  if (world.rank() == 0)
    std::fprintf(stderr, "measurements of %zu operator(s) and the truth written to %s\n", share.mine.size(),
                 dir.c_str());
}

}  // namespace pnpdist_examples
