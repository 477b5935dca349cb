#pragma once
/// \file
/// read_lpd_weights_info(): what a learned primal-dual weights file says about its network and its training,
/// read from the safetensors header alone (no tensor data): the architecture from the tensor shapes (unrolled
/// steps, memories, width), the initial primal and the training geometry from the metadata
/// (initial_primal_key, training_geometry_key; written by train_learned_primal_dual).
///
/// A file without the geometry key is taken to be for ellipse_geometry(128, 30): the shipped
/// weights/lpd_ellipses.safetensors was written before the key existed, and its model card (docs/learned.md)
/// states that geometry; geometry_from_metadata says which case holds. A file without the start key was trained
/// from zero (the paper's start). The training noise (training_noise_key, "<level> relative to the mean absolute
/// data", as train_learned_primal_dual writes it) is likewise the model card's 5% without the key.

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/io/safetensors.hpp"
#include "pnpdist/learned/ellipse_data.hpp"
#include "pnpdist/learned/lpd.hpp"
#include "pnpdist/learned/training_geometry.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

namespace pnpdist::learned {

/// The network and training facts of an LPD weights file.
struct LpdWeightsInfo {
  std::string path;
  LpdConfig config;                     ///< architecture and initial primal; other fields LpdConfig's defaults
  ct::Geometry2D training_geometry;
  bool geometry_from_metadata = false;  ///< false: the shipped weights' documented geometry (see the file comment)
  double training_noise = 0.05;         ///< noise standard deviation relative to the mean absolute data
  bool noise_from_metadata = false;     ///< false: the shipped weights' documented noise
  std::map<std::string, std::string> metadata;
};

/// The metadata key of the training noise and the text after its number.
inline constexpr const char* training_noise_key = "pnpdist.lpd.noise";
inline constexpr const char* training_noise_unit = " relative to the mean absolute data";

/// The metadata value of a training noise level (std::to_string precision, as the program has always written it).
[[nodiscard]] inline std::string training_noise_text(double noise) { return std::to_string(noise) + training_noise_unit; }

/// The level of a training_noise_text value; anything else throws invalid_argument naming `what` and the value.
[[nodiscard]] inline double parse_training_noise(const std::string& text, const std::string& what) {
  char* end = nullptr;
  const double level = std::strtod(text.c_str(), &end);
  require(end != text.c_str() && std::isfinite(level) && level >= 0 && std::string(end) == training_noise_unit, [&] {
    return what + ": metadata " + training_noise_key + " must read '<level >= 0>" + training_noise_unit + "', got '" +
           text + "'";
  });
  return level;
}

/// Reads the header of `path`. Throws io_error / invalid_argument, prefixed by `what` (the option or role that
/// named the file, "--weights F" say), when it does not hold learned primal-dual weights.
[[nodiscard]] inline LpdWeightsInfo read_lpd_weights_info(const std::string& path, const std::string& what) {
  const SafetensorsFile file(path);
  LpdWeightsInfo info;
  info.path = path;
  info.metadata = file.metadata();
  const auto shape = [&](const std::string& name) {
    const SafetensorsEntry* e = file.find(name);
    require<io_error>(e != nullptr && e->shape.size() == 4, [&] {
      return what + ": no tensor '" + name + "' of 4 axes: not learned primal-dual weights";
    });
    return e->shape;
  };
  index_t iterations = 0;
  while (file.find("dual." + std::to_string(iterations) + ".conv1.weight") != nullptr) ++iterations;
  info.config.width = shape("dual.0.conv1.weight")[0];
  info.config.iterations = iterations;
  info.config.dual_memory = shape("dual.0.conv3.weight")[0];
  info.config.primal_memory = shape("primal.0.conv3.weight")[0];
  const auto start = info.metadata.find(initial_primal_key);
  info.config.initial_primal =
      start == info.metadata.end() ? InitialPrimal::zero : parse_initial_primal(start->second, what);
  info.config.validate();
  const auto geometry = info.metadata.find(training_geometry_key);
  info.geometry_from_metadata = geometry != info.metadata.end();
  info.training_geometry = info.geometry_from_metadata
                               ? geometry_from_json(geometry->second, what + ": metadata " + training_geometry_key)
                               : ellipse_geometry(128, 30);
  const auto noise = info.metadata.find(training_noise_key);
  info.noise_from_metadata = noise != info.metadata.end();
  if (info.noise_from_metadata) info.training_noise = parse_training_noise(noise->second, what);
  return info;
}

/// "the weights PATH were trained for <training geometry> [(no geometry in the file: ...)]; <subject> is <geometry>":
/// the text of a geometry mismatch, with `subject` naming the other geometry ("this run's geometry", say).
[[nodiscard]] inline std::string geometry_mismatch_text(const LpdWeightsInfo& info, const ct::Geometry2D& geometry,
                                                        const std::string& subject) {
  return "the weights " + info.path + " were trained for " + describe_geometry(info.training_geometry) +
         (info.geometry_from_metadata ? "" : " (no geometry in the file: the shipped weights' model card)") + "; " +
         subject + " is " + describe_geometry(geometry);
}

}  // namespace pnpdist::learned
