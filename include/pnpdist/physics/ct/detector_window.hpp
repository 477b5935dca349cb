#pragma once
/// \file
/// Geometry of a changed detector, for vector geometries (geometry.hpp):
///   window_detector(g, row, col, rows, cols, b)  the detector after cropping rows x cols pixels from
///       (row, col) and binning b x b (trailing pixels that fill no block dropped, as
///       preprocessing::bin_detector does): binned pixel (r, c) is centred on the mean of the centres of the
///       pixels it averages, and u, v grow by b;
///   shift_detector(g, columns)  every detector moved by `columns` pixels along its u vector (d += columns u):
///       the correction for a centre of rotation found `columns` pixels away from where the vectors put it.
/// Both keep the volume and the beam, and are exact for any vector geometry.

#include <cmath>
#include <string>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

namespace pnpdist::ct {

[[nodiscard]] inline Geometry3D window_detector(const Geometry3D& g, index_t row, index_t col, index_t rows,
                                                index_t cols, index_t binning) {
  require(row >= 0 && col >= 0 && rows >= 1 && cols >= 1 && row + rows <= g.detector_rows &&
              col + cols <= g.detector_cols && binning >= 1 && rows / binning >= 1 && cols / binning >= 1,
          [&] {
            return "ct::window_detector: window " + std::to_string(rows) + " x " + std::to_string(cols) + " at (" +
                   std::to_string(row) + ", " + std::to_string(col) + ") binned " + std::to_string(binning) +
                   " on a detector of " + std::to_string(g.detector_rows) + " x " + std::to_string(g.detector_cols);
          });
  Geometry3D out = g;
  out.detector_rows = rows / binning;
  out.detector_cols = cols / binning;
  const double b = static_cast<double>(binning);
  // Binned pixel (r', c') covers old pixels col + b c' .. col + b c' + b - 1: centre at old column
  // col + b c' + (b - 1) / 2. The new detector centre is that of c' = (C' - 1) / 2.
  const double du = static_cast<double>(col) + 0.5 * (b - 1) + b * 0.5 * static_cast<double>(out.detector_cols - 1) -
                    0.5 * static_cast<double>(g.detector_cols - 1);
  const double dv = static_cast<double>(row) + 0.5 * (b - 1) + b * 0.5 * static_cast<double>(out.detector_rows - 1) -
                    0.5 * static_cast<double>(g.detector_rows - 1);
  for (auto& e : out.vectors) {
    for (std::size_t k = 0; k < 3; ++k) {
      e[3 + k] += du * e[6 + k] + dv * e[9 + k];
      e[6 + k] *= b;
      e[9 + k] *= b;
    }
  }
  validate(out);
  return out;
}

[[nodiscard]] inline Geometry3D shift_detector(const Geometry3D& g, double columns) {
  require(std::isfinite(columns), "ct::shift_detector: the shift must be finite");
  Geometry3D out = g;
  for (auto& e : out.vectors)
    for (std::size_t k = 0; k < 3; ++k) e[3 + k] += columns * e[6 + k];
  validate(out);
  return out;
}

}  // namespace pnpdist::ct
