#pragma once
/// \file
/// A raw cone- or parallel-beam scan stored as a directory (the layout of published scans such as the FIPS
/// walnut data sets), read and preprocessed into line integrals with its geometry:
///
///   DIR/scan_000000.tif ...   projections, one single-page TIFF each (8/16-bit counts or 32-bit float),
///                             numbered consecutively from any start; or one multi-page DIR/scan.tif
///   DIR/di000000.tif ...      dark frames (averaged); or one multi-page DIR/di.tif
///   DIR/io000000.tif ...      flat frames; or one multi-page DIR/io.tif
///   DIR/flat_positions.txt    optional: one number per flat frame, the scan position (projection index) at
///                             which it was taken (index in the numbered projections: 0 the first,
///                             N after the last of N); frames at one position are averaged, and each projection's
///                             flat interpolates between positions. Without it all flats are averaged.
///   DIR/scan_geom.geom        one 12-number ASTRA cone_vec / parallel3d_vec row per projection
///                             (vector_file.hpp), in the units of the volume's voxel size; or, without it,
///   DIR/scan_geometry.json    a circular orbit described by distances (geometry_description.hpp), or
///   DIR/scan_geometry.yaml    the same description in YAML (both: refused as ambiguous)
///
/// Or, instead of the TIFF series, one HDF5/NeXus file DIR/scan.h5 (or any HDF5 file given as `dir` itself:
/// then its directory holds the geometry files): the projections are the 3-D dataset /entry/data/data (views,
/// rows, cols); when /entry/data/image_key exists (NeXus NXtomo: one integer per frame, 0 projection, 1 flat,
/// 2 dark, 3 invalid and skipped) it splits that dataset, and each flat's position is the number of projections
/// before it; without it the darks and flats are the datasets /entry/data/dark and /entry/data/flat (positions
/// from flat_positions.txt as above). The dataset paths are fields of ScanLayout (Data Exchange files:
/// ScanLayout::data_exchange(), /exchange/data, /exchange/data_dark, /exchange/data_white; chosen by itself
/// for a file that has /exchange/data and not the default /entry/data/data). Needs the pnpdist::hdf5 component.
///
/// Geometry: ScanReadOptions::vectors_file when given; else, when the HDF5 file records a NeXus or Data Exchange
/// geometry (nexus_geometry.hpp: rotation angles, distances and pixel sizes with units), the circular orbit it
/// describes,
/// lengths converted to ScanReadOptions::length_unit (a vectors or description file beside it as well is an
/// error: name the one to use); else the vectors or description file in the directory.
///
/// read_scan streams the projections in blocks: (optional) zinger removal on the counts, dark/flat
/// correction, -log with a floor (preprocessing/), then (optional) ring reduction over all of them, and
/// returns the line integrals of the selected projections with the geometry of the selected views, cropped
/// and binned like the data. Memory: the result, one block of raw projections and the dark and flat
/// fields. Inconsistent directories throw io_error naming the file (and the HDF5 dataset): a missing projection (gap
/// in the numbering), a vectors file with another number of rows than projections, dark or flat frames of another
/// shape, a positions file with another number of entries than flat frames, an image_key of another length than the
/// frames or without projections, darks or flats, a directory holding both TIFF series and scan.h5.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/io/hdf5.hpp"
#include "pnpdist/io/projection_stack.hpp"
#include "pnpdist/io/read_limits.hpp"
#include "pnpdist/physics/ct/detector_window.hpp"
#include "pnpdist/physics/ct/geometry.hpp"
#include "pnpdist/physics/ct/geometry_description.hpp"
#include "pnpdist/physics/ct/nexus_geometry.hpp"
#include "pnpdist/physics/ct/vector_file.hpp"
#include "pnpdist/preprocessing/flat_field.hpp"
#include "pnpdist/preprocessing/rings.hpp"
#include "pnpdist/preprocessing/zingers.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist::ct {

/// File names of a scan directory (file comment).
struct ScanLayout {
  std::string projection_prefix = "scan_";
  std::string dark_prefix = "di";
  std::string flat_prefix = "io";
  std::string extension = ".tif";
  std::string projection_stack = "scan.tif";  ///< multi-page alternatives to the numbered files
  std::string dark_stack = "di.tif";
  std::string flat_stack = "io.tif";
  std::string vectors = "scan_geom.geom";
  std::string geometry_description = "scan_geometry.json";  ///< used when there is no vectors file
  std::string geometry_description_yaml = "scan_geometry.yaml";  ///< its YAML form (not both)
  std::string flat_positions = "flat_positions.txt";
  std::string hdf5_file = "scan.h5";                     ///< HDF5/NeXus alternative to the TIFF series
  std::string hdf5_data = "/entry/data/data";            ///< its frames (views, rows, cols)
  std::string hdf5_image_key = "/entry/data/image_key";  ///< used when present: 0 projection, 1 flat, 2 dark, 3 skip
  std::string hdf5_dark = "/entry/data/dark";            ///< without an image key: the dark frames
  std::string hdf5_flat = "/entry/data/flat";            ///< without an image key: the flat frames
  NexusGeometryFields nexus;                             ///< where a NeXus file records its geometry

  /// The Data Exchange layout (APS, tomopy): /exchange/data, /exchange/data_dark, /exchange/data_white, the
  /// geometry fields of NexusGeometryFields::data_exchange().
  [[nodiscard]] static ScanLayout data_exchange() {
    ScanLayout l;
    l.hdf5_data = "/exchange/data";
    l.hdf5_dark = "/exchange/data_dark";
    l.hdf5_flat = "/exchange/data_white";
    l.hdf5_image_key = "";
    l.nexus = NexusGeometryFields::data_exchange();
    return l;
  }
};

/// How to read and preprocess a scan.
struct ScanReadOptions {
  Beam beam = Beam::divergent;
  ProjectionSelection selection;  ///< which projections (and views)
  DetectorWindow window;          ///< crop and binning, applied to projections, darks, flats and geometry
  std::string vectors_file;       ///< instead of DIR/<layout.vectors>: a vectors file or a .json/.yaml description
  float zinger_threshold = 0;     ///< > 0: remove_outliers on the binned counts with this threshold
  float log_floor = 1e-4f;        ///< minus_log's floor on the transmission
  index_t ring_width = 0;         ///< > 0: reduce_rings on the line integrals with this half-width
  index_t block = 32;             ///< projections per block
  int threads = 1;                ///< TIFF reading threads (an HDF5 file is read by one)
  std::string length_unit = "mm";  ///< NeXus geometry: the unit of the volume's voxel size (lengths converted to it)
};

/// A preprocessed scan: line integrals (views, rows, cols) and their geometry.
struct Scan {
  Geometry3D geometry;
  Tensor<float, 3> projections;
  index_t raw_projections = 0;  ///< projections in the directory
};

namespace detail {

/// The numbered series `DIR/<prefix>NNN<ext>`, or, without one, the multi-page `DIR/<stack>`. Throws io_error
/// when there is neither, or both.
inline ProjectionStack open_series(const std::string& dir, const std::string& prefix, const std::string& stack,
                                   const ScanLayout& layout) {
  const std::vector<std::string> files = list_numbered_files(dir, prefix, layout.extension, false);
  const std::filesystem::path multipage = std::filesystem::path(dir) / stack;
  const bool has_stack = std::filesystem::exists(multipage);
  require<io_error>(files.empty() || !has_stack, [&] {
    return "ct::read_scan: '" + dir + "' holds both " + prefix + "<number>" + layout.extension + " files and " + stack;
  });
  require<io_error>(!files.empty() || has_stack, [&] {
    return "ct::read_scan: no file " + prefix + "<number>" + layout.extension + " nor " + stack + " in '" + dir + "'";
  });
  return has_stack ? ProjectionStack::multipage(multipage.string()) : ProjectionStack::files(files);
}

/// The projection, dark and flat series of a scan and where they are (file comment).
struct ScanSeries {
  std::string dir;   ///< holds the geometry and positions files
  std::string name;  ///< the projections, for messages
  std::optional<ProjectionStack> projections, darks, flats;
  std::optional<std::vector<double>> flat_positions;  ///< from an image_key
  std::string hdf5;                                   ///< the HDF5 file ("" for TIFF series)
  index_t frames = 0;                                 ///< HDF5: frames of the data set
  std::vector<index_t> projection_frames;             ///< HDF5 with an image_key: the projections' frames
  NexusGeometryFields geometry_fields;                ///< HDF5: where the file records its orbit
};

/// The HDF5 series of `file` (file comment). A file without the default layout's data path but with
/// /exchange/data is read as Data Exchange.
inline ScanSeries open_hdf5_series(const std::string& file, const ScanLayout& given) {
  const ScanLayout exchange = ScanLayout::data_exchange();
  const bool is_exchange = given.hdf5_data == ScanLayout{}.hdf5_data && hdf5_has(file, exchange.hdf5_data) &&
                           !hdf5_has(file, given.hdf5_data);
  const ScanLayout& layout = is_exchange ? exchange : given;
  ScanSeries s;
  s.dir = std::filesystem::path(file).parent_path().string();
  s.hdf5 = file;
  s.geometry_fields = layout.nexus;
  if (layout.hdf5_image_key.empty() || !hdf5_has(file, layout.hdf5_image_key)) {
    s.projections = ProjectionStack::hdf5(file, layout.hdf5_data);
    s.frames = s.projections->size();
    s.darks = ProjectionStack::hdf5(file, layout.hdf5_dark);
    s.flats = ProjectionStack::hdf5(file, layout.hdf5_flat);
    s.name = s.projections->describe();
    return s;
  }
  const std::vector<std::int64_t> keys = read_hdf5_integers(file, layout.hdf5_image_key);
  const std::string key = "'" + file + "' dataset '" + layout.hdf5_image_key + "'";
  const index_t frames = s.frames = Hdf5Dataset(file, layout.hdf5_data).views();
  require<io_error>(static_cast<index_t>(keys.size()) == frames, [&] {
    return "ct::read_scan: " + key + " holds " + std::to_string(keys.size()) + " keys for the " +
           std::to_string(frames) + " frames of '" + layout.hdf5_data + "'";
  });
  std::vector<index_t> projections, darks, flats;
  s.flat_positions.emplace();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto frame = static_cast<index_t>(i);
    switch (keys[i]) {
      case 0:
        projections.push_back(frame);
        break;
      case 1:
        flats.push_back(frame);
        s.flat_positions->push_back(static_cast<double>(projections.size()));
        break;
      case 2:
        darks.push_back(frame);
        break;
      case 3:
        break;
      default:
        throw io_error("ct::read_scan: " + key + " holds " + std::to_string(keys[i]) + " at frame " +
                       std::to_string(i) + " (0 projection, 1 flat, 2 dark, 3 invalid)");
    }
  }
  for (const auto& [list, what] :
       {std::pair{&projections, "projection (0)"}, std::pair{&darks, "dark (2)"}, std::pair{&flats, "flat (1)"}})
    require<io_error>(!list->empty(), [&] { return "ct::read_scan: " + key + " holds no " + what + " frame"; });
  s.projection_frames = projections;
  s.projections = ProjectionStack::hdf5(file, layout.hdf5_data, std::move(projections));
  s.darks = ProjectionStack::hdf5(file, layout.hdf5_data, std::move(darks));
  s.flats = ProjectionStack::hdf5(file, layout.hdf5_data, std::move(flats));
  s.name = s.projections->describe();
  return s;
}

/// The series of `path`: an HDF5 file (a regular file, or a missing one named *.h5, *.hdf5, *.nxs, *.nx5), a
/// directory holding layout.hdf5_file, or a directory of TIFF series.
inline ScanSeries open_scan_series(const std::string& path, const ScanLayout& layout) {
  namespace fs = std::filesystem;
  const std::string extension = fs::path(path).extension().string();
  if (fs::is_regular_file(path) ||
      (!fs::exists(path) && (extension == ".h5" || extension == ".hdf5" || extension == ".nxs" || extension == ".nx5")))
    return open_hdf5_series(path, layout);
  const fs::path hdf5 = fs::path(path) / layout.hdf5_file;
  if (!layout.hdf5_file.empty() && fs::exists(hdf5)) {
    require<io_error>(list_numbered_files(path, layout.projection_prefix, layout.extension, false).empty() &&
                          !fs::exists(fs::path(path) / layout.projection_stack),
                      [&] {
                        return "ct::read_scan: '" + path + "' holds both " + layout.hdf5_file + " and " +
                               layout.projection_prefix + "<number>" + layout.extension + " or " +
                               layout.projection_stack + " files";
                      });
    return open_hdf5_series(hdf5.string(), layout);
  }
  ScanSeries s;
  s.dir = path;
  s.name = "'" + path + "' (" + layout.projection_prefix + "*" + layout.extension + ")";
  s.projections = open_series(path, layout.projection_prefix, layout.projection_stack, layout);
  s.darks = open_series(path, layout.dark_prefix, layout.dark_stack, layout);
  s.flats = open_series(path, layout.flat_prefix, layout.flat_stack, layout);
  return s;
}

/// The frames of a dark or flat series through the window (rows x cols after binning).
inline Tensor<float, 3> read_frames(const ProjectionStack& frames, const ProjectionStack& projections,
                                    const DetectorWindow& window, const char* what) {
  require<io_error>(frames.rows() == projections.rows() && frames.cols() == projections.cols(), [&] {
    return std::string("ct::read_scan: ") + what + " frames " + frames.describe() + " are " +
           std::to_string(frames.rows()) + " x " + std::to_string(frames.cols()) + ", the projections " +
           std::to_string(projections.rows()) + " x " + std::to_string(projections.cols());
  });
  return frames.read(ProjectionSelection{}, window);
}

inline std::vector<double> read_positions(const std::string& path, index_t count) {
  std::ifstream in(path);
  require<io_error>(static_cast<bool>(in), [&] { return "ct::read_scan: cannot open '" + path + "'"; });
  std::vector<double> out;
  std::string token;
  while (in >> token) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(token, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    require<io_error>(used == token.size() && std::isfinite(v),
                      [&] { return "ct::read_scan: '" + path + "': not a number: '" + token + "'"; });
    out.push_back(v);
  }
  require<io_error>(static_cast<index_t>(out.size()) == count, [&] {
    return "ct::read_scan: '" + path + "' holds " + std::to_string(out.size()) + " positions for " +
           std::to_string(count) + " flat frames";
  });
  return out;
}

/// The geometry of every projection of `series`: o.vectors_file when given, else the NeXus geometry recorded in
/// the HDF5 file, else DIR/<layout.vectors> or DIR/<layout.geometry_description> (file comment).
inline Geometry3D scan_geometry(const ScanSeries& series, const ProjectionStack& stack, const VolumeGeometry3D& volume,
                                const ScanReadOptions& o, const ScanLayout& layout) {
  namespace fs = std::filesystem;
  std::string vectors = o.vectors_file;
  const std::string listed = (fs::path(series.dir) / layout.vectors).string();
  const std::string described = (fs::path(series.dir) / layout.geometry_description).string();
  const std::string described_yaml = (fs::path(series.dir) / layout.geometry_description_yaml).string();
  if (vectors.empty() && !series.hdf5.empty() && has_nexus_geometry(series.hdf5, series.geometry_fields)) {
    for (const std::string& beside : {listed, described, described_yaml})
      require<io_error>(!fs::exists(beside), [&] {
        return "ct::read_scan: '" + series.hdf5 + "' records its geometry and '" + beside +
               "' holds another: name the one to use (ScanReadOptions::vectors_file)";
      });
    const Geometry3D g = circular_geometry(read_nexus_geometry(series.hdf5, series.frames, series.projection_frames,
                                                               stack.rows(), stack.cols(), o.length_unit,
                                                               series.geometry_fields),
                                           volume);
    require<io_error>(g.views() == stack.size(), [&] {
      return "ct::read_scan: '" + series.hdf5 + "' records " + std::to_string(g.views()) + " angles, " + series.name +
             " " + std::to_string(stack.size()) + " projections";
    });
    return g;
  }
  if (vectors.empty() && !fs::exists(listed)) {
    const bool json = fs::exists(described), yaml = fs::exists(described_yaml);
    require<io_error>(!(json && yaml), [&] {
      return "ct::read_scan: '" + series.dir + "' holds both " + layout.geometry_description + " and " +
             layout.geometry_description_yaml + ": name the one to use (ScanReadOptions::vectors_file)";
    });
    if (json || yaml) vectors = json ? described : described_yaml;
  }
  if (vectors.empty()) vectors = listed;
  const Geometry3D all = is_geometry_description(vectors)
                             ? read_geometry_description(vectors, volume)
                             : read_vector_file(vectors, o.beam, volume, stack.rows(), stack.cols());
  require<io_error>(all.detector_rows == stack.rows() && all.detector_cols == stack.cols(), [&] {
    return "ct::read_scan: '" + vectors + "' describes a detector of " + std::to_string(all.detector_rows) + " x " +
           std::to_string(all.detector_cols) + ", the projections are " + std::to_string(stack.rows()) + " x " +
           std::to_string(stack.cols());
  });
  require<io_error>(all.views() == stack.size(), [&] {
    return "ct::read_scan: '" + vectors + "' holds " + std::to_string(all.views()) + " vectors, " + series.name + " " +
           std::to_string(stack.size()) + " projections";
  });
  return all;
}

}  // namespace detail

/// Reads and preprocesses the scan in `dir` for reconstruction on `volume` (file comment). Exec: a host
/// executor (the result lives in host memory).
template <class Exec>
[[nodiscard]] inline Scan read_scan(const Exec& exec, const std::string& dir, const VolumeGeometry3D& volume,
                                    const ScanReadOptions& o = {}, const ScanLayout& layout = {}) {
  namespace fs = std::filesystem;
  const detail::ScanSeries series = detail::open_scan_series(dir, layout);
  const ProjectionStack& stack = *series.projections;
  const DetectorWindow window = stack.resolve(o.window);
  const std::vector<index_t> which = stack.indices(o.selection);
  // The result, checked before the geometry (96 bytes per view) and the fields are read.
  (void)checked_allocation_bytes("ct::read_scan: the line integrals of " + series.name,
                                 std::span<const index_t>(stack.shape(o.selection, o.window)), sizeof(float),
                                 ReadLimits::from_environment());

  // Geometry: one vector per projection in the directory, then the selected views, cropped and binned.
  const Geometry3D all = detail::scan_geometry(series, stack, volume, o, layout);
  Geometry3D selected{all.beam, all.volume, all.detector_rows, all.detector_cols, {}};
  for (const index_t i : which) selected.vectors.push_back(all.vectors[static_cast<std::size_t>(i)]);
  Scan scan;
  scan.raw_projections = stack.size();
  scan.geometry = window_detector(selected, window.row, window.col, window.rows, window.cols, window.binning);
  const index_t rows = scan.geometry.detector_rows, cols = scan.geometry.detector_cols;

  // Dark and flat fields through the same window.
  preprocessing::FlatFields<> fields;
  {
    const Tensor<float, 3> darks = detail::read_frames(*series.darks, stack, window, "dark");
    fields.dark = Tensor<float, 2>(Extents<2>{rows, cols});
    preprocessing::average_frames(exec, darks.const_view(), fields.dark.view());
  }
  {
    const Tensor<float, 3> flats = detail::read_frames(*series.flats, stack, window, "flat");
    const fs::path positions_path = fs::path(series.dir) / layout.flat_positions;
    const std::vector<double> at = series.flat_positions ? *series.flat_positions
                                   : fs::exists(positions_path)
                                       ? detail::read_positions(positions_path.string(), flats.extent(0))
                                       : std::vector<double>(static_cast<std::size_t>(flats.extent(0)), 0.0);
    std::map<double, std::vector<index_t>> groups;
    for (std::size_t i = 0; i < at.size(); ++i) groups[at[i]].push_back(static_cast<index_t>(i));
    fields.flats = Tensor<float, 3>(Extents<3>{static_cast<index_t>(groups.size()), rows, cols});
    index_t g = 0;
    for (const auto& [position, members] : groups) {
      Tensor<float, 3> frames(Extents<3>{static_cast<index_t>(members.size()), rows, cols});
      for (std::size_t m = 0; m < members.size(); ++m)
        for (index_t i = 0; i < rows * cols; ++i)
          frames.data()[static_cast<index_t>(m) * rows * cols + i] = flats.data()[members[m] * rows * cols + i];
      preprocessing::average_frames(
          exec, frames.const_view(),
          View<float, 2, HostSpace>(fields.flats.data() + g * rows * cols, Extents<2>{rows, cols}));
      fields.positions.push_back(position);
      ++g;
    }
  }

  // Projections, block by block.
  scan.projections = Tensor<float, 3>(Extents<3>{static_cast<index_t>(which.size()), rows, cols});
  Tensor<float, 3> cleaned;
  stack.for_each_block(
      o.selection, window, o.block,
      [&](index_t first, View<const float, 3, HostSpace> block) {
        const index_t n = block.extent(0);
        const View<float, 3, HostSpace> out(&scan.projections(first, 0, 0), block.extents());
        if (o.zinger_threshold > 0) {
          preprocessing::remove_outliers(exec, block, out, o.zinger_threshold);
        } else {
          copy(exec, block, out);
        }
        std::vector<double> positions;
        for (index_t k = 0; k < n; ++k)
          positions.push_back(static_cast<double>(which[static_cast<std::size_t>(first + k)]));
        preprocessing::flat_field_correct(exec, fields, out, positions);
        preprocessing::minus_log(exec, out, o.log_floor);
      },
      o.threads);
  if (o.ring_width > 0) preprocessing::reduce_rings(exec, scan.projections.view(), o.ring_width);
  return scan;
}

}  // namespace pnpdist::ct
