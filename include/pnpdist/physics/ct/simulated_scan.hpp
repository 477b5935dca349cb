#pragma once
/// \file
/// A simulated raw scan of a volume, written in a layout that read_scan reads (scan_directory.hpp), chosen by
/// SimulatedScanOptions::format:
///
///   tiff            DIR: 16-bit TIFF projections, darks and flats (scan_000000.tif, di000000.tif,
///                   io000000.tif), flat_positions.txt (with a drift) and the 12-column vectors file
///   nexus           one NXtomo file (path.nxs / .h5): every frame in /entry/instrument/detector/data (uint16,
///                   one chunk per frame) in the order darks, flats, projections, flats after (with a drift),
///                   split by /entry/instrument/detector/image_key (2 dark, 1 flat, 0 projection); links
///                   /entry/data/data and /entry/data/image_key; NX_class attributes and /entry/definition
///                   "NXtomo"; for a CircularScan also the angles, distances and pixel sizes of
///                   nexus_geometry.hpp (lengths in length_unit), with /entry/data/rotation_angle
///   data_exchange   one file (APS Data Exchange): /exchange/data, /exchange/data_dark, /exchange/data_white
///                   (the ScanLayout's hdf5_data, hdf5_dark, hdf5_flat: pass ScanLayout::data_exchange()),
///                   flat_positions.txt beside it; for a CircularScan also /exchange/theta (degrees), pixel
///                   sizes and distances (NexusGeometryFields::data_exchange(), lengths in length_unit)
///
/// NeXus and Data Exchange files without a CircularScan also write the vectors file beside the file; a file of
/// a CircularScan records its geometry instead (read_scan reads it). The three hold the same counts.
///
///   counts = I(k) g(r, c) exp(-y) + dark,    y = the Joseph line integrals of the volume,
///
/// with I(k) = I0 (1 + drift k / N) the source intensity at projection k of N, g a fixed per-pixel gain
/// pattern uniform in [1 - gain_variation, 1 + gain_variation], and noise that of photon counting: each
/// count is drawn from a normal of mean and variance lambda (the Poisson law's; close to it for lambda above
/// about 20), rounded and clamped to [0, 65535]. Flats are taken at position 0 (and, with a drift, at
/// position N, listed in flat_positions.txt). The projections are simulated with the detector shifted by
/// `centre_of_rotation_shift` columns along u, while the vectors file holds the unshifted (nominal) geometry:
/// the data's centre of rotation is off by that many columns, as on a real scanner before calibration.
/// Optional zingers: that many random pixels per projection are saturated (65535).
/// Deterministic: the noise depends only on the seed and the frame (Philox streams), never on the executor or
/// the format. Memory: the projections of one block of 16 views (HDF5: plus one frame).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/philox.hpp"
#include "pnpdist/io/hdf5_writer.hpp"
#include "pnpdist/io/tiff.hpp"
#include "pnpdist/physics/ct/detector_window.hpp"
#include "pnpdist/physics/ct/nexus_geometry.hpp"
#include "pnpdist/physics/ct/projector.hpp"
#include "pnpdist/physics/ct/scan_directory.hpp"
#include "pnpdist/physics/ct/vector_file.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/random.hpp"

namespace pnpdist::ct {

/// The layouts write_simulated_scan writes (file comment).
enum class ScanFormat { tiff, nexus, data_exchange };

struct SimulatedScanOptions {
  double incident_counts = 20000;  ///< I0: open-beam counts per pixel (before gain and dark)
  double dark_counts = 100;        ///< mean dark counts per pixel
  double gain_variation = 0.05;    ///< per-pixel gain in [1 - v, 1 + v]
  double drift = 0;                ///< relative change of the source intensity over the scan
  index_t dark_frames = 2;
  index_t flat_frames = 2;              ///< per flat position
  double centre_of_rotation_shift = 0;  ///< columns along u (file comment)
  index_t zingers = 0;                  ///< saturated pixels per projection
  std::uint64_t seed = 0;
  ScanFormat format = ScanFormat::tiff;  ///< where the frames go (file comment)
  std::string length_unit = "mm";        ///< NeXus metadata: the unit of the volume's lengths
};

namespace detail {

/// Noisy 16-bit counts lambda = intensity gain exp(-y) + dark, one item per pixel.
struct CountsKernel {
  const float* y;  // line integrals (nullptr: open beam)
  const float* gain;
  const float* z;  // standard normal draws
  std::uint16_t* out;
  double intensity, dark;
  PNPDIST_HOST_DEVICE void operator()(index_t i) const {
    const double lambda =
        intensity * static_cast<double>(gain[i]) * (y ? std::exp(-static_cast<double>(y[i])) : 1.0) + dark;
    const double v = std::round(lambda + std::sqrt(lambda) * static_cast<double>(z[i]));
    out[i] = static_cast<std::uint16_t>(v < 0 ? 0.0 : v > 65535.0 ? 65535.0 : v);
  }
};

inline std::string numbered_name(const std::string& dir, const std::string& prefix, index_t k, const std::string& ext) {
  char number[32];
  std::snprintf(number, sizeof number, "%06lld", static_cast<long long>(k));
  return (std::filesystem::path(dir) / (prefix + number + ext)).string();
}

}  // namespace detail

namespace detail {

enum class FrameKind { dark, flat, projection };

/// Simulates the frames of the scan (file comment) and hands each to `sink(kind, index within its kind,
/// position, counts)`: the darks, the flats at position 0, the projections, then (with a drift) the flats at
/// position N. `counts` is a (1, rows, cols) view, valid during the call.
template <class Exec, class Sink>
inline void simulate_frames(const Exec& exec, const Geometry3D& nominal, const View<const float, 3, HostSpace>& volume,
                            const SimulatedScanOptions& o, Sink&& sink) {
  require(o.incident_counts > 0 && o.dark_counts >= 0 && o.gain_variation >= 0 && o.gain_variation < 1 &&
              o.drift > -1 && o.dark_frames >= 1 && o.flat_frames >= 1 && o.zingers >= 0,
          "ct::write_simulated_scan: needs incident_counts > 0, dark_counts >= 0, gain_variation in [0, 1), "
          "drift > -1, at least one dark and one flat frame, zingers >= 0");
  require<dimension_mismatch>(volume.extents() == nominal.volume.shape() && volume.is_contiguous(), [&] {
    return "ct::write_simulated_scan: volume " + to_string(volume.extents()) + " for a geometry of " +
           to_string(nominal.volume.shape());
  });
  const index_t rows = nominal.detector_rows, cols = nominal.detector_cols, pixels = rows * cols;
  const index_t views = nominal.views();
  Tensor<float, 1> gain(Extents<1>{pixels});
  if (o.gain_variation > 0)
    fill_uniform(exec, gain.view(), o.seed, 1, static_cast<float>(1 - o.gain_variation),
                 static_cast<float>(1 + o.gain_variation));
  else
    fill(exec, gain.view(), 1.0f);
  Tensor<float, 1> z(Extents<1>{pixels});
  Tensor<std::uint16_t, 3> counts(Extents<3>{1, rows, cols});
  const auto intensity = [&](double position) {
    return o.incident_counts * (1 + o.drift * position / static_cast<double>(views));
  };
  const auto open_frame = [&](FrameKind kind, index_t index, double position, std::uint64_t stream) {
    fill_normal(exec, z.view(), o.seed, stream, 0.0f, 1.0f);
    for_each(exec, pixels,
             CountsKernel{nullptr, gain.data(), z.data(), counts.data(),
                          kind == FrameKind::dark ? 0.0 : intensity(position), o.dark_counts});
    sink(kind, index, position, counts.const_view());
  };
  for (index_t f = 0; f < o.dark_frames; ++f)
    open_frame(FrameKind::dark, f, 0.0, 0x200000u + static_cast<std::uint64_t>(f));
  const auto flats_at = [&](index_t p) {
    for (index_t f = 0; f < o.flat_frames; ++f) {
      const index_t frame = p * o.flat_frames + f;
      open_frame(FrameKind::flat, frame, p == 0 ? 0.0 : static_cast<double>(views),
                 0x300000u + static_cast<std::uint64_t>(frame));
    }
  };
  flats_at(0);

  // Projections through the shifted detector, 16 views at a time.
  const Geometry3D actual = shift_detector(nominal, o.centre_of_rotation_shift);
  constexpr index_t block = 16;
  for (index_t first = 0; first < views; first += block) {
    const index_t n = std::min(block, views - first);
    const JosephProjector3D<float, Exec> projector(exec, select_views(actual, first, n));
    Tensor<float, 3> y(Extents<3>{n, rows, cols});
    projector.apply(volume, y.view());
    for (index_t k = 0; k < n; ++k) {
      const index_t view = first + k;
      fill_normal(exec, z.view(), o.seed, 0x100000u + static_cast<std::uint64_t>(view), 0.0f, 1.0f);
      for_each(exec, pixels,
               CountsKernel{y.data() + k * pixels, gain.data(), z.data(), counts.data(),
                            intensity(static_cast<double>(view)), o.dark_counts});
      const PhiloxStream spots{o.seed, 0x400000u + static_cast<std::uint64_t>(view)};
      for (index_t s = 0; s < o.zingers; ++s) {
        const auto u = spots.uniform2d(static_cast<std::uint64_t>(s));
        const index_t pixel = std::min(pixels - 1, static_cast<index_t>(u.v[0] * static_cast<double>(pixels)));
        counts.data()[pixel] = 65535;
      }
      sink(FrameKind::projection, view, static_cast<double>(view), counts.const_view());
    }
  }
  if (o.drift != 0) flats_at(1);
}

/// `path` with its parent directory created (a directory itself when `is_directory`).
inline void create_output(const std::string& path, bool is_directory) {
  namespace fs = std::filesystem;
  const fs::path dir = is_directory ? fs::path(path) : fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty()) fs::create_directories(dir, ec);
  require<io_error>(dir.empty() || fs::is_directory(dir),
                    [&] { return "ct::write_simulated_scan: cannot create '" + dir.string() + "'"; });
}

/// Writes (with a drift) or removes DIR/<layout.flat_positions>.
inline void write_flat_positions(const std::string& dir, const ScanLayout& layout, const std::vector<double>& at,
                                 bool drift) {
  const std::string path = (std::filesystem::path(dir) / layout.flat_positions).string();
  std::error_code ec;
  if (!drift) {
    std::filesystem::remove(path, ec);
    return;
  }
  std::ofstream out(path);
  for (const double p : at) out << p << '\n';
  require<io_error>(static_cast<bool>(out), [&] { return "ct::write_simulated_scan: cannot write '" + path + "'"; });
}

/// The simulated scan in o.format (write_simulated_scan); `orbit`, when given, is recorded as metadata.
template <class Exec>
inline void write_simulated_scan(const Exec& exec, const std::string& path, const Geometry3D& nominal,
                                 const CircularScan* orbit, const View<const float, 3, HostSpace>& volume,
                                 const SimulatedScanOptions& o, const ScanLayout& layout) {
  namespace fs = std::filesystem;
  require(orbit == nullptr || o.format != ScanFormat::data_exchange ||
              (orbit->detector.offset_u == 0 && orbit->detector.offset_v == 0),
          "ct::write_simulated_scan: Data Exchange records no detector offsets; write NeXus or TIFF instead");
  create_output(path, o.format == ScanFormat::tiff);
  const std::string dir = o.format == ScanFormat::tiff ? path : fs::path(path).parent_path().string();
  const index_t views = nominal.views(), rows = nominal.detector_rows, cols = nominal.detector_cols;
  const index_t flats = o.flat_frames * (o.drift != 0 ? 2 : 1);
  std::vector<double> flat_positions;
  const auto frame = [&](const View<const std::uint16_t, 3, HostSpace>& counts) {
    return View<const std::uint16_t, 2, HostSpace>(counts.data(), Extents<2>{rows, cols});
  };
  if (o.format == ScanFormat::tiff) {
    simulate_frames(exec, nominal, volume, o, [&](FrameKind kind, index_t i, double at, const auto& counts) {
      if (kind == FrameKind::flat) flat_positions.push_back(at);
      const std::string& prefix = kind == FrameKind::dark   ? layout.dark_prefix
                                  : kind == FrameKind::flat ? layout.flat_prefix
                                                            : layout.projection_prefix;
      write_tiff(numbered_name(path, prefix, i, layout.extension), counts);
    });
  } else if (o.format == ScanFormat::data_exchange) {
    Hdf5Writer out(path);
    out.create_stack<std::uint16_t>(layout.hdf5_dark, o.dark_frames, rows, cols);
    out.create_stack<std::uint16_t>(layout.hdf5_flat, flats, rows, cols);
    out.create_stack<std::uint16_t>(layout.hdf5_data, views, rows, cols, {.chunk_views = 1});
    simulate_frames(exec, nominal, volume, o, [&](FrameKind kind, index_t i, double at, const auto& counts) {
      if (kind == FrameKind::flat) flat_positions.push_back(at);
      out.write_frame(kind == FrameKind::dark   ? layout.hdf5_dark
                      : kind == FrameKind::flat ? layout.hdf5_flat
                                                : layout.hdf5_data,
                      i, frame(counts));
    });
    if (orbit)
      write_nexus_geometry(out, *orbit, orbit->angles_degrees, o.length_unit, NexusGeometryFields::data_exchange());
    out.flush();
  } else {
    // NXtomo: every frame in /entry/instrument/detector/data, split by image_key (0 projection, 1 flat, 2 dark).
    const std::string data = "/entry/instrument/detector/data", keys_at = "/entry/instrument/detector/image_key";
    Hdf5Writer out(path);
    out.create_stack<std::uint16_t>(data, o.dark_frames + flats + views, rows, cols, {.chunk_views = 1});
    std::vector<std::int32_t> keys;
    std::vector<double> angles;
    simulate_frames(exec, nominal, volume, o, [&](FrameKind kind, index_t i, double, const auto& counts) {
      out.write_frame(data, static_cast<index_t>(keys.size()), frame(counts));
      keys.push_back(kind == FrameKind::projection ? 0 : kind == FrameKind::flat ? 1 : 2);
      if (orbit) {
        const std::vector<double>& a = orbit->angles_degrees;
        angles.push_back(kind == FrameKind::projection ? a[static_cast<std::size_t>(i)]
                         : kind == FrameKind::flat && i >= o.flat_frames ? a.back()
                                                                         : a.front());
      }
    });
    out.write(keys_at, std::span<const std::int32_t>(keys));
    for (const auto& [name, nx_class] :
         {std::pair{"/entry", "NXentry"}, std::pair{"/entry/instrument", "NXinstrument"},
          std::pair{"/entry/instrument/detector", "NXdetector"}, std::pair{"/entry/data", "NXdata"}})
      out.set_attribute(name, "NX_class", nx_class);
    out.write_text("/entry/definition", "NXtomo");
    out.set_attribute("/entry/data", "signal", "data");
    if (layout.hdf5_data != data) out.link(data, layout.hdf5_data);
    if (!layout.hdf5_image_key.empty() && layout.hdf5_image_key != keys_at) out.link(keys_at, layout.hdf5_image_key);
    if (orbit) {
      const NexusGeometryFields fields;
      write_nexus_geometry(out, *orbit, angles, o.length_unit, fields);
      out.link(fields.rotation_angle, "/entry/data/rotation_angle");
    }
    out.flush();
  }
  if (o.format != ScanFormat::nexus) write_flat_positions(dir, layout, flat_positions, o.drift != 0);
  if (o.format == ScanFormat::tiff || orbit == nullptr)
    write_vector_file((fs::path(dir) / layout.vectors).string(), nominal);
}

}  // namespace detail

/// Writes the simulated scan of `volume` (shape nominal.volume.shape()) seen through `nominal` to `path` in
/// o.format (file comment; parent directories created, existing files of the layout overwritten). Exec: a host
/// executor.
template <class Exec>
inline void write_simulated_scan(const Exec& exec, const std::string& path, const Geometry3D& nominal,
                                 const View<const float, 3, HostSpace>& volume, const SimulatedScanOptions& o = {},
                                 const ScanLayout& layout = {}) {
  detail::write_simulated_scan(exec, path, nominal, nullptr, volume, o, layout);
}

/// write_simulated_scan of the circular orbit `orbit`: a NeXus or Data Exchange file also records its angles,
/// distances and pixel sizes (nexus_geometry.hpp) and has no vectors file beside it.
template <class Exec>
inline void write_simulated_scan(const Exec& exec, const std::string& path, const CircularScan& orbit,
                                 const VolumeGeometry3D& grid, const View<const float, 3, HostSpace>& volume,
                                 const SimulatedScanOptions& o = {}, const ScanLayout& layout = {}) {
  detail::write_simulated_scan(exec, path, circular_geometry(orbit, grid), &orbit, volume, o, layout);
}

}  // namespace pnpdist::ct
