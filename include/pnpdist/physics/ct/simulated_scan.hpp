#pragma once
/// \file
/// A simulated raw scan of a volume, written in the layout that read_scan reads (scan_directory.hpp): 16-bit
/// TIFF projections holding detector counts, dark and flat frames, and the 12-column vectors file.
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
/// Deterministic: the noise depends only on the seed and the file (Philox streams), never on the executor.
/// Memory: the projections of one block of 16 views.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/philox.hpp"
#include "pnpdist/io/tiff.hpp"
#include "pnpdist/physics/ct/detector_window.hpp"
#include "pnpdist/physics/ct/projector.hpp"
#include "pnpdist/physics/ct/scan_directory.hpp"
#include "pnpdist/physics/ct/vector_file.hpp"
#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/random.hpp"

namespace pnpdist::ct {

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

/// Writes the simulated scan of `volume` (shape nominal.volume.shape()) seen through `nominal` into `dir`
/// (created if needed; existing files of the layout are overwritten). Exec: a host executor.
template <class Exec>
inline void write_simulated_scan(const Exec& exec, const std::string& dir, const Geometry3D& nominal,
                                 const View<const float, 3, HostSpace>& volume, const SimulatedScanOptions& o = {},
                                 const ScanLayout& layout = {}) {
  require(o.incident_counts > 0 && o.dark_counts >= 0 && o.gain_variation >= 0 && o.gain_variation < 1 &&
              o.drift > -1 && o.dark_frames >= 1 && o.flat_frames >= 1 && o.zingers >= 0,
          "ct::write_simulated_scan: needs incident_counts > 0, dark_counts >= 0, gain_variation in [0, 1), "
          "drift > -1, at least one dark and one flat frame, zingers >= 0");
  require<dimension_mismatch>(volume.extents() == nominal.volume.shape() && volume.is_contiguous(), [&] {
    return "ct::write_simulated_scan: volume " + to_string(volume.extents()) + " for a geometry of " +
           to_string(nominal.volume.shape());
  });
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  require<io_error>(std::filesystem::is_directory(dir),
                    [&] { return "ct::write_simulated_scan: cannot create '" + dir + "'"; });
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
  const auto write_frame = [&](const std::string& path, const float* y, double intensity, std::uint64_t stream) {
    fill_normal(exec, z.view(), o.seed, stream, 0.0f, 1.0f);
    for_each(exec, pixels, detail::CountsKernel{y, gain.data(), z.data(), counts.data(), intensity, o.dark_counts});
    write_tiff(path, counts.const_view());
  };
  const auto intensity = [&](double position) {
    return o.incident_counts * (1 + o.drift * position / static_cast<double>(views));
  };

  for (index_t f = 0; f < o.dark_frames; ++f)
    write_frame(detail::numbered_name(dir, layout.dark_prefix, f, layout.extension), nullptr, 0.0,
                0x200000u + static_cast<std::uint64_t>(f));
  const index_t positions = o.drift != 0 ? 2 : 1;
  std::ofstream position_file;
  const std::string position_path = (std::filesystem::path(dir) / layout.flat_positions).string();
  if (positions == 2) {
    position_file.open(position_path);
    require<io_error>(static_cast<bool>(position_file),
                      [&] { return "ct::write_simulated_scan: cannot write '" + position_path + "'"; });
  } else {
    std::filesystem::remove(position_path, ec);
  }
  for (index_t p = 0; p < positions; ++p)
    for (index_t f = 0; f < o.flat_frames; ++f) {
      const index_t frame = p * o.flat_frames + f;
      const double at = p == 0 ? 0.0 : static_cast<double>(views);
      write_frame(detail::numbered_name(dir, layout.flat_prefix, frame, layout.extension), nullptr, intensity(at),
                  0x300000u + static_cast<std::uint64_t>(frame));
      if (positions == 2) position_file << at << '\n';
    }

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
               detail::CountsKernel{y.data() + k * pixels, gain.data(), z.data(), counts.data(),
                                    intensity(static_cast<double>(view)), o.dark_counts});
      const PhiloxStream spots{o.seed, 0x400000u + static_cast<std::uint64_t>(view)};
      for (index_t s = 0; s < o.zingers; ++s) {
        const auto u = spots.uniform2d(static_cast<std::uint64_t>(s));
        const index_t pixel = std::min(pixels - 1, static_cast<index_t>(u.v[0] * static_cast<double>(pixels)));
        counts.data()[pixel] = 65535;
      }
      write_tiff(detail::numbered_name(dir, layout.projection_prefix, view, layout.extension), counts.const_view());
    }
  }
  write_vector_file((std::filesystem::path(dir) / layout.vectors).string(), nominal);
}

}  // namespace pnpdist::ct
