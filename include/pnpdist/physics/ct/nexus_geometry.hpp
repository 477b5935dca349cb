#pragma once
/// \file
/// Circular-orbit geometry as NeXus (NXtomo) files record it: rotation angles, distances and pixel sizes
/// instead of per-view vectors.
///
///   CircularScan orbit{...};                      beam, angles in degrees, detector, distances (volume units)
///   Geometry3D g = circular_geometry(orbit, volume);  ct::cone_beam / ct::parallel_beam_3d of those views
///   write_nexus_geometry(writer, orbit, frame_angles, "mm")   the NXtomo fields below
///   has_nexus_geometry(file); read_nexus_geometry(file, frames, projection_frames, rows, cols, "mm")
///                                                 the orbit back, lengths converted to the volume's unit
///
/// The fields (NeXus base classes NXsample, NXdetector, NXsource; every number carries a `units` attribute):
///
///   /entry/sample/rotation_angle           float64 per frame of /entry/data/data (darks and flats
///                                          included), "degree" (or "rad")
///   /entry/instrument/detector/x_pixel_size   column width |u| (a length: "m", "cm", "mm", "um", "nm")
///   /entry/instrument/detector/y_pixel_size   row height |v|
///   /entry/instrument/detector/distance       rotation axis (sample) to detector
///   /entry/instrument/source/distance         source to sample; negative, as NXsource has it (upstream of
///                                             the sample); absent for a parallel beam
///   /entry/instrument/detector/beam_center_x  optional (absent: 0 offset): where the central ray meets the
///   /entry/instrument/detector/beam_center_y  detector, from the centre of the first column / row, in
///                                             "pixel" (written so) or a length; the detector offsets are
///                                             ((cols - 1) / 2 - beam_center_x) pixel_width and likewise in v
///   /entry/instrument/detector/x_rotation_axis_pixel_position   optional, read only: the column where the
///                                             rotation axis projects, in pixels counted from the detector's
///                                             centre (units "pixel" or none); offset_u = -value pixel_width.
///                                             Given with beam_center_x, the two must agree (to 1e-9 pixel)
///
/// The same orbit in a Data Exchange file: NexusGeometryFields::data_exchange() (/exchange/theta, the detector's
/// pixel_size_x / actual_pixel_size_x, ...), read and written by the same functions with the same checks.
///
/// with NX_class attributes on the groups, the attribute definition = "NXtomo" on /entry and a link
/// /entry/data/rotation_angle. Angles are degrees in the description and in the file so that a scan written
/// here and read back gives the same doubles (degrees to radians: t * (pi / 180), in circular_geometry only).

#include <cmath>
#include <numbers>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/io/hdf5.hpp"
#include "pnpdist/io/hdf5_writer.hpp"
#include "pnpdist/io/read_limits.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

namespace pnpdist::ct {

/// A circular orbit about z described by distances (file comment); lengths in the units of the volume's voxel
/// size.
struct CircularScan {
  Beam beam = Beam::divergent;
  std::vector<double> angles_degrees;  ///< one per projection (uniform_angles(count, 0.0, 360.0): a full turn)
  Detector3D detector;                 ///< rows, cols, pixel sizes, offsets
  double source_origin = 0;            ///< cone: source to rotation axis
  double origin_detector = 0;          ///< cone: rotation axis to detector
};

/// Where a file records its orbit: the NeXus fields (file comment) by default, data_exchange() for Data Exchange.
struct NexusGeometryFields {
  std::string rotation_angle = "/entry/sample/rotation_angle";
  std::string x_pixel_size = "/entry/instrument/detector/x_pixel_size";  ///< cone beams; parallel ones too
  std::string y_pixel_size = "/entry/instrument/detector/y_pixel_size";  ///< unless parallel_* is set
  std::string parallel_x_pixel_size;  ///< parallel beams: the pixel on the sample plane (empty: x_pixel_size)
  std::string parallel_y_pixel_size;  ///< (empty: y_pixel_size)
  std::string detector_distance = "/entry/instrument/detector/distance";
  std::string source_distance = "/entry/instrument/source/distance";
  std::string beam_center_x = "/entry/instrument/detector/beam_center_x";  ///< optional (empty: not recorded)
  std::string beam_center_y = "/entry/instrument/detector/beam_center_y";
  /// Optional (empty: not read): the column where the rotation axis projects, in pixels from the detector's
  /// centre (NXtomo as ESRF's tools write it); the horizontal offset is -value * pixel_width (file comment).
  std::string rotation_axis_pixel_position = "/entry/instrument/detector/x_rotation_axis_pixel_position";
  bool source_distance_negative = true;  ///< written upstream-negative, as NXsource has it (read: its magnitude)
  bool angles_default_degrees = false;   ///< angles without a units attribute are degrees (else an error)

  /// Data Exchange (APS, dxfile): /exchange/theta (one angle per projection; degrees unless its units attribute
  /// says otherwise), /measurement/instrument/detector/pixel_size_x and _y (the detector's pixel: cone beams)
  /// and actual_pixel_size_x and _y (the pixel on the sample plane: parallel beams), and, for a cone beam,
  /// /measurement/instrument/detector/distance and /measurement/instrument/source/distance (positive; these two
  /// are not fields of the dxfile reference: named here after NXdetector and NXsource).
  [[nodiscard]] static NexusGeometryFields data_exchange() {
    NexusGeometryFields f;
    const std::string detector = "/measurement/instrument/detector/";
    f.rotation_angle = "/exchange/theta";
    f.x_pixel_size = detector + "pixel_size_x";
    f.y_pixel_size = detector + "pixel_size_y";
    f.parallel_x_pixel_size = detector + "actual_pixel_size_x";
    f.parallel_y_pixel_size = detector + "actual_pixel_size_y";
    f.detector_distance = detector + "distance";
    f.source_distance = "/measurement/instrument/source/distance";
    f.beam_center_x.clear();  // Data Exchange defines no detector offset
    f.beam_center_y.clear();
    f.rotation_axis_pixel_position.clear();
    f.source_distance_negative = false;
    f.angles_default_degrees = true;
    return f;
  }

  /// The pixel size fields of a `beam` orbit (x, y).
  [[nodiscard]] std::pair<const std::string&, const std::string&> pixel_sizes(Beam beam) const {
    const bool sample_plane = beam == Beam::parallel && !parallel_x_pixel_size.empty();
    return {sample_plane ? parallel_x_pixel_size : x_pixel_size, sample_plane ? parallel_y_pixel_size : y_pixel_size};
  }
};

/// The views of `orbit` on `volume` (ct::cone_beam or ct::parallel_beam_3d).
[[nodiscard]] inline Geometry3D circular_geometry(const CircularScan& orbit, const VolumeGeometry3D& volume) {
  std::vector<double> angles;
  angles.reserve(orbit.angles_degrees.size());
  for (const double a : orbit.angles_degrees) angles.push_back(a * (std::numbers::pi / 180));
  return orbit.beam == Beam::parallel
             ? parallel_beam_3d(angles, orbit.detector, volume)
             : cone_beam(angles, orbit.detector, orbit.source_origin, orbit.origin_detector, volume);
}

namespace detail {

/// Metres per `unit` (m, cm, mm, um / µm / micron, nm and their long names); 0 for anything else.
[[nodiscard]] inline double metres_per(const std::string& unit) {
  static const std::pair<const char*, double> units[] = {
      {"m", 1.0},       {"metre", 1.0},       {"meter", 1.0},       {"cm", 1e-2},    {"centimetre", 1e-2},
      {"centimeter", 1e-2}, {"mm", 1e-3},     {"millimetre", 1e-3}, {"millimeter", 1e-3}, {"um", 1e-6},
      {"\u00b5m", 1e-6}, {"micron", 1e-6},   {"micrometre", 1e-6}, {"micrometer", 1e-6}, {"nm", 1e-9},
      {"nanometre", 1e-9}, {"nanometer", 1e-9}};
  for (const auto& [name, metres] : units)
    if (unit == name || unit == std::string(name) + "s") return metres;
  return 0;
}

/// The scalar length `name` of `file` in `unit` (io_error for a missing or unknown unit, more than one value, or
/// a non-finite one).
[[nodiscard]] inline double nexus_length(const std::string& file, const std::string& name, const std::string& unit) {
  const Hdf5Numbers n = read_hdf5_numbers(file, name);
  const std::string where = "ct::read_nexus_geometry: '" + file + "' dataset '" + name + "'";
  require<io_error>(n.values.size() == 1 && std::isfinite(n.values[0]), [&] {
    return where + " must hold one finite number, holds " + std::to_string(n.values.size()) + " values";
  });
  require<io_error>(!n.units.empty(), [&] { return where + " has no units attribute (a length: m, cm, mm, um, nm)"; });
  const double from = metres_per(n.units), to = metres_per(unit);
  require<io_error>(from > 0, [&] { return where + ": units '" + n.units + "' are not a length (m, cm, mm, um, nm)"; });
  require(to > 0, [&] { return "ct::read_nexus_geometry: length unit '" + unit + "' is not a length"; });
  return n.values[0] * (from / to);
}

/// The detector offset (length_unit) recorded as the beam centre `name` of a detector `pixels` wide with pixels of
/// `pixel` (length_unit): 0 when `name` is empty or absent. The beam centre is where the central ray (through the
/// rotation axis, perpendicular to the detector) meets the detector, counted from the centre of the first pixel:
/// in pixels ("pixel", "pixels") or as a length; the offset moves the detector centre from that point,
/// ((pixels - 1) / 2) pixel - centre.
[[nodiscard]] inline double nexus_detector_offset(const std::string& file, const std::string& name, index_t pixels,
                                                  double pixel, const std::string& unit) {
  if (name.empty() || !hdf5_has(file, name)) return 0;
  const double half = 0.5 * static_cast<double>(pixels - 1);
  const Hdf5Numbers n = read_hdf5_numbers(file, name);
  if (n.units == "pixel" || n.units == "pixels") {
    require<io_error>(n.values.size() == 1 && std::isfinite(n.values[0]), [&] {
      return "ct::read_nexus_geometry: '" + file + "' dataset '" + name + "' must hold one finite number, holds " +
             std::to_string(n.values.size()) + " values";
    });
    return (half - n.values[0]) * pixel;
  }
  return half * pixel - nexus_length(file, name, unit);
}

}  // namespace detail

/// Whether `file` records a geometry in `fields`: its rotation angles and a pixel size exist.
[[nodiscard]] inline bool has_nexus_geometry(const std::string& file, const NexusGeometryFields& fields = {}) {
  return hdf5_has(file, fields.rotation_angle) &&
         (hdf5_has(file, fields.x_pixel_size) ||
          (!fields.parallel_x_pixel_size.empty() && hdf5_has(file, fields.parallel_x_pixel_size)));
}

/// The orbit recorded in `file` (file comment) for a detector of rows x cols: the projections are the frames
/// `projection_frames` of the `frames` frames of the data set (empty: all of them), lengths converted to
/// `length_unit` (the unit of the volume's voxel size). A source distance makes it a cone beam, its absence a
/// parallel beam; y_pixel_size defaults to x_pixel_size. Throws io_error naming the file and the dataset for
/// another number of angles than frames, a missing or unknown unit, a non-positive pixel size or detector
/// distance, a zero source distance, a source distance without a detector distance, a rotation axis position
/// that is not one number of pixels or disagrees with beam_center_x, and angles or view vectors
/// (96 bytes per projection) beyond limits.max_allocation_bytes (checked before the vectors are made).
[[nodiscard]] inline CircularScan read_nexus_geometry(const std::string& file, index_t frames,
                                                      const std::vector<index_t>& projection_frames, index_t rows,
                                                      index_t cols, const std::string& length_unit = "mm",
                                                      const NexusGeometryFields& fields = {},
                                                      const ReadLimits& limits = ReadLimits::from_environment()) {
  const auto where = [&](const std::string& name) {
    return "ct::read_nexus_geometry: '" + file + "' dataset '" + name + "'";
  };
  CircularScan orbit;
  const Hdf5Numbers angles = read_hdf5_numbers(file, fields.rotation_angle, limits);
  require<io_error>(static_cast<index_t>(angles.values.size()) == frames, [&] {
    return where(fields.rotation_angle) + " holds " + std::to_string(angles.values.size()) + " angles for " +
           std::to_string(frames) + " frames";
  });
  // Each projection becomes a 12-number view vector (circular_geometry).
  const index_t views[2] = {projection_frames.empty() ? frames : static_cast<index_t>(projection_frames.size()), 12};
  (void)checked_allocation_bytes(where(fields.rotation_angle) + ": the view vectors", views, sizeof(double), limits);
  const bool degrees = angles.units == "degree" || angles.units == "degrees" || angles.units == "deg";
  const bool radians = angles.units == "rad" || angles.units == "radian" || angles.units == "radians";
  const bool default_degrees = angles.units.empty() && fields.angles_default_degrees;
  require<io_error>(degrees || radians || default_degrees, [&] {
    return where(fields.rotation_angle) + (angles.units.empty() ? " has no units attribute"
                                                                : ": units '" + angles.units + "' are not an angle") +
           " (degree or rad)";
  });
  const auto angle = [&](std::size_t i) {
    const double a = angles.values[i];
    require<io_error>(std::isfinite(a), [&] { return where(fields.rotation_angle) + ": angle " + std::to_string(i) + " is not finite"; });
    return radians ? a * (180 / std::numbers::pi) : a;
  };
  if (projection_frames.empty())
    for (std::size_t i = 0; i < angles.values.size(); ++i) orbit.angles_degrees.push_back(angle(i));
  else
    for (const index_t f : projection_frames) orbit.angles_degrees.push_back(angle(static_cast<std::size_t>(f)));

  const auto positive = [&](const std::string& name, double value, const char* what) {
    require<io_error>(value > 0, [&] { return where(name) + ": " + what + " must be positive, got " + std::to_string(value); });
    return value;
  };
  orbit.detector.rows = rows;
  orbit.detector.cols = cols;
  orbit.beam = hdf5_has(file, fields.source_distance) ? Beam::divergent : Beam::parallel;
  const auto [x_pixel_size, y_pixel_size] = fields.pixel_sizes(orbit.beam);
  orbit.detector.pixel_width =
      positive(x_pixel_size, detail::nexus_length(file, x_pixel_size, length_unit), "the pixel size");
  orbit.detector.pixel_height =
      hdf5_has(file, y_pixel_size)
          ? positive(y_pixel_size, detail::nexus_length(file, y_pixel_size, length_unit), "the pixel size")
          : orbit.detector.pixel_width;
  if (orbit.beam == Beam::divergent) {
    require<io_error>(hdf5_has(file, fields.detector_distance), [&] {
      return "ct::read_nexus_geometry: '" + file + "' has a source distance ('" + fields.source_distance +
             "') but no detector distance ('" + fields.detector_distance + "')";
    });
    orbit.source_origin = positive(fields.source_distance,
                                   std::abs(detail::nexus_length(file, fields.source_distance, length_unit)),
                                   "the source distance (either sign)");
    orbit.origin_detector = positive(fields.detector_distance,
                                     detail::nexus_length(file, fields.detector_distance, length_unit),
                                     "the detector distance");
  }
  orbit.detector.offset_u =
      detail::nexus_detector_offset(file, fields.beam_center_x, cols, orbit.detector.pixel_width, length_unit);
  if (!fields.rotation_axis_pixel_position.empty() && hdf5_has(file, fields.rotation_axis_pixel_position)) {
    const std::string& name = fields.rotation_axis_pixel_position;
    const Hdf5Numbers axis = read_hdf5_numbers(file, name, limits);
    require<io_error>(axis.values.size() == 1 && std::isfinite(axis.values[0]), [&] {
      return where(name) + " must hold one finite number, holds " + std::to_string(axis.values.size()) + " values";
    });
    require<io_error>(axis.units.empty() || axis.units == "pixel" || axis.units == "pixels",
                      [&] { return where(name) + ": units '" + axis.units + "' are not pixels"; });
    const double offset = -axis.values[0] * orbit.detector.pixel_width;
    const bool has_centre = !fields.beam_center_x.empty() && hdf5_has(file, fields.beam_center_x);
    require<io_error>(!has_centre || std::abs(offset - orbit.detector.offset_u) <= 1e-9 * orbit.detector.pixel_width,
                      [&] {
                        return where(name) + " puts the rotation axis " + std::to_string(axis.values[0]) +
                               " pixels from the detector's centre, '" + fields.beam_center_x + "' " +
                               std::to_string(-orbit.detector.offset_u / orbit.detector.pixel_width) +
                               ": they disagree";
                      });
    orbit.detector.offset_u = offset;
  }
  orbit.detector.offset_v =
      detail::nexus_detector_offset(file, fields.beam_center_y, rows, orbit.detector.pixel_height, length_unit);
  return orbit;
}

/// Writes the NeXus fields of `orbit` (file comment) with lengths in `length_unit`; `frame_angles` holds one
/// angle (degrees) per frame of the data set, darks and flats included. Detector offsets are written as the
/// beam centre in pixels (beam_center_x, beam_center_y); with fields that have none (Data Exchange) an offset
/// throws invalid_argument.
inline void write_nexus_geometry(Hdf5Writer& out, const CircularScan& orbit, std::span<const double> frame_angles,
                                 const std::string& length_unit, const NexusGeometryFields& fields = {}) {
  require((orbit.detector.offset_u == 0 && orbit.detector.offset_v == 0) ||
              !(fields.beam_center_x.empty() || fields.beam_center_y.empty()),
          "ct::write_nexus_geometry: these fields record no detector offsets (Data Exchange has none); write a "
          "vectors file instead");
  const auto length = [&](const std::string& name, double value) {
    out.write_scalar(name, value);
    out.set_attribute(name, "units", length_unit);
  };
  out.write(fields.rotation_angle, frame_angles);
  out.set_attribute(fields.rotation_angle, "units", "degree");
  const auto [x_pixel_size, y_pixel_size] = fields.pixel_sizes(orbit.beam);
  length(x_pixel_size, orbit.detector.pixel_width);
  length(y_pixel_size, orbit.detector.pixel_height);
  if (orbit.beam == Beam::divergent) {
    length(fields.detector_distance, orbit.origin_detector);
    length(fields.source_distance, fields.source_distance_negative ? -orbit.source_origin : orbit.source_origin);
  }
  if (orbit.detector.offset_u != 0 || orbit.detector.offset_v != 0) {
    const auto centre = [&](const std::string& name, index_t pixels, double offset, double pixel) {
      out.write_scalar(name, 0.5 * static_cast<double>(pixels - 1) - offset / pixel);
      out.set_attribute(name, "units", "pixel");
    };
    centre(fields.beam_center_x, orbit.detector.cols, orbit.detector.offset_u, orbit.detector.pixel_width);
    centre(fields.beam_center_y, orbit.detector.rows, orbit.detector.offset_v, orbit.detector.pixel_height);
  }
}

}  // namespace pnpdist::ct
