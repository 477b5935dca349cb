#pragma once
/// \file
/// The geometry a learned reconstruction was trained for, as text in a weights file's safetensors metadata
/// (key training_geometry_key, written by train_learned_primal_dual), its comparison with the geometry of a
/// run and a one-line description for messages.
///
/// geometry_to_json() writes the beam, the image grid (rows, cols, pixel sizes), the detector column count and
/// every view's six numbers (ct::Geometry2D) with 17 significant digits, so geometry_from_json() restores them
/// exactly. same_geometry() compares two geometries number by number within a relative tolerance.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

namespace pnpdist::learned {

/// The safetensors metadata key of the training geometry (geometry_to_json text).
inline constexpr const char* training_geometry_key = "pnpdist.lpd.geometry";

/// The geometry as compact JSON: {"beam", "image": [rows, cols, pixel_y, pixel_x], "detector_cols", "views"}.
[[nodiscard]] inline std::string geometry_to_json(const ct::Geometry2D& g) {
  nlohmann::ordered_json j = {{"beam", g.beam == ct::Beam::parallel ? "parallel" : "fan"},
                              {"image", {g.volume.rows, g.volume.cols, g.volume.pixel_size_y, g.volume.pixel_size_x}},
                              {"detector_cols", g.detector_cols},
                              {"views", g.vectors}};
  return j.dump();
}

/// The geometry of geometry_to_json() text; throws invalid_argument naming `what` when the text is not one.
[[nodiscard]] inline ct::Geometry2D geometry_from_json(const std::string& text, const std::string& what) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    ct::Geometry2D g;
    const std::string beam = j.at("beam").get<std::string>();
    require(beam == "parallel" || beam == "fan", "beam '" + beam + "' is neither parallel nor fan");
    g.beam = beam == "parallel" ? ct::Beam::parallel : ct::Beam::divergent;
    const auto& image = j.at("image");
    require(image.is_array() && image.size() == 4, "'image' is not [rows, cols, pixel_y, pixel_x]");
    g.volume = {image[0].get<index_t>(), image[1].get<index_t>(), image[2].get<double>(), image[3].get<double>()};
    g.detector_cols = j.at("detector_cols").get<index_t>();
    g.vectors = j.at("views").get<std::vector<std::array<double, 6>>>();
    ct::validate(g);
    return g;
  } catch (const std::exception& e) {
    throw invalid_argument(what + ": not a geometry (" + e.what() + ")");
  }
}

/// Whether a and b have the same beam, image grid, detector column count and views, every number equal within
/// `tolerance` relative to max(1, |a|, |b|).
[[nodiscard]] inline bool same_geometry(const ct::Geometry2D& a, const ct::Geometry2D& b, double tolerance = 1e-9) {
  const auto close = [&](double x, double y) {
    return std::abs(x - y) <= tolerance * std::max({1.0, std::abs(x), std::abs(y)});
  };
  if (a.beam != b.beam || a.volume.rows != b.volume.rows || a.volume.cols != b.volume.cols ||
      a.detector_cols != b.detector_cols || a.views() != b.views() ||
      !close(a.volume.pixel_size_y, b.volume.pixel_size_y) || !close(a.volume.pixel_size_x, b.volume.pixel_size_x))
    return false;
  for (std::size_t k = 0; k < a.vectors.size(); ++k)
    for (std::size_t i = 0; i < 6; ++i)
      if (!close(a.vectors[k][i], b.vectors[k][i])) return false;
  return true;
}

/// One line: "parallel beam, 128 x 128 pixels of 1, 30 views at 0 .. 174 degrees, 183 detector columns of 1"
/// (fan beams add the source's distance from the centre). The view angles are those of the detector's
/// column direction; the first view's detector spacing is given.
[[nodiscard]] inline std::string describe_geometry(const ct::Geometry2D& g) {
  const auto number = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", v);
    return std::string(text);
  };
  const auto degrees = [](const std::array<double, 6>& e) {
    double t = std::atan2(e[5], e[4]) * 180.0 / std::numbers::pi;
    return t < -1e-9 ? t + 360.0 : std::max(t, 0.0);
  };
  std::string s = g.beam == ct::Beam::parallel ? "parallel beam" : "fan beam";
  if (g.beam == ct::Beam::divergent && !g.vectors.empty())
    s += " (source at " + number(std::hypot(g.vectors[0][0], g.vectors[0][1])) + " from the centre)";
  s += ", " + std::to_string(g.volume.rows) + " x " + std::to_string(g.volume.cols) + " pixels of " +
       number(g.volume.pixel_size_y) +
       (g.volume.pixel_size_x != g.volume.pixel_size_y ? " x " + number(g.volume.pixel_size_x) : std::string());
  s += ", " + std::to_string(g.views()) + " views";
  if (!g.vectors.empty())
    s += " at " + number(degrees(g.vectors.front())) + " .. " + number(degrees(g.vectors.back())) + " degrees";
  s += ", " + std::to_string(g.detector_cols) + " detector columns";
  if (!g.vectors.empty()) s += " of " + number(std::hypot(g.vectors[0][4], g.vectors[0][5]));
  return s;
}

}  // namespace pnpdist::learned
