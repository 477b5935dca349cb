#pragma once
/// \file
/// Circular-orbit geometries from a small JSON or YAML description, for scanners that give distances instead
/// of per-view vectors:
///
///   {
///     "beam": "cone",                      // or "parallel"
///     "source_origin": 66.0,               // cone: source to rotation axis
///     "origin_detector": 133.0,            // cone: rotation axis to detector (or "source_detector": SDD)
///     "detector": {"rows": 972, "cols": 768, "pixel_width": 0.1496, "pixel_height": 0.1496,
///                  "offset_u": 0.0, "offset_v": 0.0,
///                  "roll_degrees": 0.0, "pitch_degrees": 0.0, "yaw_degrees": 0.0},
///     "angles": {"count": 1200, "first_degrees": 0.0, "range_degrees": 360.0}
///   }
///
/// or the same fields in a file ending .yaml or .yml (io/yaml.hpp: parsed into the same JSON tree, so that the
/// checks below are one; needs the pnpdist::yaml component, else not_compiled):
///
///   beam: cone
///   source_origin: 66.0
///   origin_detector: 133.0
///   detector: {rows: 972, cols: 768, pixel_width: 0.1496}
///   angles: {count: 1200}
///
/// Lengths are in the units of the volume's voxel size. The views are ct::cone_beam / ct::parallel_beam_3d
/// (geometry.hpp; count angles from first over range, end point excluded) with the detector offsets, then
/// tilted about the detector centre by roll, pitch and yaw (detector_tilt.hpp: roll is the in-plane rotation,
/// positive turning u towards v; tilt_degrees is accepted as the earlier name of roll_degrees, not both).
/// Optional fields: offset_u, offset_v, roll_degrees, pitch_degrees, yaw_degrees, first_degrees (default 0),
/// range_degrees (default 360), and pixel_height (default pixel_width). Any other field is an error (a misspelt
/// optional field is not ignored). Errors: a file that cannot be read or parsed, a missing or mistyped
/// field, or a non-positive size throw io_error naming the file and the field; so do a file longer than
/// ReadLimits::max_header_bytes, JSON or YAML nested deeper than ReadLimits::max_json_depth, a YAML tree whose
/// aliases expand beyond ReadLimits::max_yaml_expanded_bytes, and an angle count whose view vectors would exceed
/// ReadLimits::max_allocation_bytes (all checked before allocating).

#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <numbers>
#include <sstream>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/io/read_limits.hpp"
#include "pnpdist/io/yaml.hpp"
#include "pnpdist/physics/ct/detector_tilt.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

namespace pnpdist::ct {

namespace detail {

/// `value` as JSON text for a message; bytes that are not UTF-8 are replaced (never an exception).
[[nodiscard]] inline std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

inline const nlohmann::json& json_field(const nlohmann::json& object, const std::string& key, const std::string& where,
                                        const std::string& path) {
  require<io_error>(object.is_object() && object.contains(key),
                    [&] { return "ct::read_geometry_description: '" + path + "': field " + where + key + " missing"; });
  return object.at(key);
}

inline double json_number(const nlohmann::json& object, const std::string& key, const std::string& where,
                          const std::string& path, double fallback, bool required, bool positive) {
  if (!required && !(object.is_object() && object.contains(key))) return fallback;
  const nlohmann::json& value = json_field(object, key, where, path);
  require<io_error>(value.is_number() && std::isfinite(value.get<double>()) && (!positive || value.get<double>() > 0),
                    [&] {
                      return "ct::read_geometry_description: '" + path + "': field " + where + key + " must be a " +
                             (positive ? "positive " : "finite ") + "number, got " + json_text(value);
                    });
  return value.get<double>();
}

inline index_t json_count(const nlohmann::json& object, const std::string& key, const std::string& where,
                          const std::string& path) {
  const nlohmann::json& value = json_field(object, key, where, path);
  require<io_error>(value.is_number_integer() && value.get<long long>() >= 1 && value.get<long long>() <= (1LL << 31),
                    [&] {
                      return "ct::read_geometry_description: '" + path + "': field " + where + key +
                             " must be a positive integer, got " + json_text(value);
                    });
  return static_cast<index_t>(value.get<long long>());
}

/// Throws io_error naming the first key of `object` that is not in `known` (a misspelt optional field would
/// otherwise be ignored).
inline void json_known_fields(const nlohmann::json& object, std::initializer_list<const char*> known,
                              const std::string& where, const std::string& path) {
  if (!object.is_object()) return;
  for (const auto& item : object.items()) {
    bool found = false;
    for (const char* k : known) found = found || item.key() == k;
    require<io_error>(found, [&] {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return "ct::read_geometry_description: '" + path + "': field " + where +
             nlohmann::json(item.key()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
             " is not known (" + (where.empty() ? std::string("top level") : where.substr(0, where.size() - 1)) +
             ": " + list + ")";
    });
  }
}

}  // namespace detail

/// Whether `path` names a description (.json, .yaml, .yml) rather than a vectors file.
[[nodiscard]] inline bool is_geometry_description(const std::string& path) {
  const std::string e = std::filesystem::path(path).extension().string();
  return e == ".json" || e == ".yaml" || e == ".yml";
}

namespace detail {

/// The description file at `path` as a JSON tree: its size checked first, then parsed as YAML (.yaml, .yml)
/// or JSON under the depth (and, for YAML, alias expansion) bounds of `limits`.
[[nodiscard]] inline nlohmann::json read_description_tree(const std::string& path, const ReadLimits& limits) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  require<io_error>(static_cast<bool>(in), [&] { return "ct::read_geometry_description: cannot open '" + path + "'"; });
  const std::streamoff size = in.tellg();
  require<io_error>(size >= 0 && static_cast<std::uint64_t>(size) <= limits.max_header_bytes, [&] {
    return "ct::read_geometry_description: '" + path + "' has " + std::to_string(size) +
           " bytes, more than ReadLimits::max_header_bytes (" + std::to_string(limits.max_header_bytes) + ")";
  });
  in.seekg(0);
  std::stringstream text;
  text << in.rdbuf();
  const std::string extension = std::filesystem::path(path).extension().string();
  if (extension == ".yaml" || extension == ".yml")
    return parse_yaml(text.str(), "ct::read_geometry_description: '" + path + "'", limits);
  try {
    // The parser is iterative; the depth is bounded so that the recursive walks of the values (dump in the
    // messages) stay shallow.
    return nlohmann::json::parse(text.str(), [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
      require<io_error>(depth <= limits.max_json_depth, [&] {
        return "ct::read_geometry_description: '" + path + "' nests deeper than ReadLimits::max_json_depth (" +
               std::to_string(limits.max_json_depth) + ")";
      });
      return true;
    });
  } catch (const nlohmann::json::exception& e) {
    throw io_error("ct::read_geometry_description: '" + path + "' is not valid JSON: " + e.what());
  }
}

}  // namespace detail

/// The geometry described by the JSON or YAML file at `path` (file comment), on `volume`.
[[nodiscard]] inline Geometry3D read_geometry_description(const std::string& path, const VolumeGeometry3D& volume,
                                                          const ReadLimits& limits = ReadLimits::from_environment()) {
  const nlohmann::json j = detail::read_description_tree(path, limits);
  const nlohmann::json& beam = detail::json_field(j, "beam", "", path);
  require<io_error>(beam.is_string() && (beam == "cone" || beam == "parallel"), [&] {
    return "ct::read_geometry_description: '" + path + "': field beam must be \"cone\" or \"parallel\", got " +
           detail::json_text(beam);
  });
  const nlohmann::json& d = detail::json_field(j, "detector", "", path);
  const nlohmann::json& a = detail::json_field(j, "angles", "", path);
  detail::json_known_fields(j, {"beam", "source_origin", "origin_detector", "source_detector", "detector", "angles"},
                            "", path);
  detail::json_known_fields(d, {"rows", "cols", "pixel_width", "pixel_height", "offset_u", "offset_v", "roll_degrees",
                                "tilt_degrees", "pitch_degrees", "yaw_degrees"},
                            "detector.", path);
  detail::json_known_fields(a, {"count", "first_degrees", "range_degrees"}, "angles.", path);
  Detector3D detector;
  detector.rows = detail::json_count(d, "rows", "detector.", path);
  detector.cols = detail::json_count(d, "cols", "detector.", path);
  detector.pixel_width = detail::json_number(d, "pixel_width", "detector.", path, 0, true, true);
  detector.pixel_height = detail::json_number(d, "pixel_height", "detector.", path, detector.pixel_width, false, true);
  detector.offset_u = detail::json_number(d, "offset_u", "detector.", path, 0, false, false);
  detector.offset_v = detail::json_number(d, "offset_v", "detector.", path, 0, false, false);
  // roll_degrees, or tilt_degrees, its earlier name (not both), pitch_degrees, yaw_degrees.
  require<io_error>(!(d.contains("roll_degrees") && d.contains("tilt_degrees")), [&] {
    return "ct::read_geometry_description: '" + path +
           "': fields detector.roll_degrees and detector.tilt_degrees (its earlier name) are both given";
  });
  DetectorTilt tilt;
  tilt.roll_degrees = detail::json_number(d, d.contains("tilt_degrees") ? "tilt_degrees" : "roll_degrees",
                                          "detector.", path, 0, false, false);
  tilt.pitch_degrees = detail::json_number(d, "pitch_degrees", "detector.", path, 0, false, false);
  tilt.yaw_degrees = detail::json_number(d, "yaw_degrees", "detector.", path, 0, false, false);
  const index_t count = detail::json_count(a, "count", "angles.", path);
  const index_t view_shape[2] = {count, 12};
  (void)checked_allocation_bytes("ct::read_geometry_description: '" + path + "': field angles.count", view_shape,
                                 sizeof(double), limits);
  const double first =
      detail::json_number(a, "first_degrees", "angles.", path, 0, false, false) * std::numbers::pi / 180;
  const double range =
      detail::json_number(a, "range_degrees", "angles.", path, 360, false, true) * std::numbers::pi / 180;
  const std::vector<double> angles = uniform_angles(count, first, first + range);
  Geometry3D g;
  if (beam == "cone") {
    const double so = detail::json_number(j, "source_origin", "", path, 0, true, true);
    const bool has_od = j.contains("origin_detector");
    const double od = has_od ? detail::json_number(j, "origin_detector", "", path, 0, true, true)
                             : detail::json_number(j, "source_detector", "", path, 0, true, true) - so;
    require<io_error>(od > 0, [&] {
      return "ct::read_geometry_description: '" + path + "': field source_detector must exceed source_origin";
    });
    g = cone_beam(angles, detector, so, od, volume);
  } else {
    g = parallel_beam_3d(angles, detector, volume);
  }
  return tilt_detector(std::move(g), tilt);
}

}  // namespace pnpdist::ct
