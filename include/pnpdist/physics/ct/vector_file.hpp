#pragma once
/// \file
/// Reading and writing 12-column geometry vector files (one view per line: source or ray direction, detector
/// centre, u, v; ASTRA `cone_vec` / `parallel3d_vec` order), the format of published cone-beam data sets.
/// Blank lines and lines starting with '#' are skipped; numbers are separated by white space or commas.
/// The views read are bounded by ReadLimits::max_allocation_bytes (96 bytes each), checked before each is
/// stored.

#include <array>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/io/read_limits.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

namespace pnpdist::ct {

/// The geometry of the views stored in `path` (one 12-number row per view) for the given beam, volume
/// and detector. Throws io_error when the file cannot be read, a row does not hold exactly 12 numbers or the
/// views exceed the allocation limit, invalid_argument when the geometry is degenerate (validate()).
[[nodiscard]] inline Geometry3D read_vector_file(const std::string& path, Beam beam, const VolumeGeometry3D& volume,
                                                 index_t detector_rows, index_t detector_cols,
                                                 const ReadLimits& limits = ReadLimits::from_environment()) {
  std::ifstream in(path);
  if (!in) throw io_error("ct::read_vector_file: cannot open '" + path + "'");
  Geometry3D g{beam, volume, detector_rows, detector_cols, {}};
  std::string line;
  index_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    for (char& c : line)
      if (c == ',' || c == ';' || c == '\t' || c == '\r') c = ' ';
    const std::size_t first = line.find_first_not_of(' ');
    if (first == std::string::npos || line[first] == '#') continue;
    std::istringstream fields(line);
    std::array<double, 12> row{};
    std::size_t n = 0;
    double value = 0;
    std::string token;
    while (fields >> token) {
      std::size_t used = 0;
      try {
        value = std::stod(token, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != token.size())
        throw io_error("ct::read_vector_file: '" + path + "' line " + std::to_string(line_number) +
                       ": not a number: '" + token + "'");
      if (n < 12) row[n] = value;
      ++n;
    }
    if (n != 12)
      throw io_error("ct::read_vector_file: '" + path + "' line " + std::to_string(line_number) +
                     ": expected 12 numbers, got " + std::to_string(n));
    require_within_allocation_limit("ct::read_vector_file: '" + path + "' line " + std::to_string(line_number),
                                    (g.vectors.size() + 1) * sizeof(row), limits);
    g.vectors.push_back(row);
  }
  validate(g);
  return g;
}

/// Writes the views of `geometry` as a 12-column vector file (17 significant digits, readable by
/// read_vector_file and numpy.loadtxt). Throws io_error when the file cannot be written.
inline void write_vector_file(const std::string& path, const Geometry3D& geometry) {
  std::ofstream out(path);
  if (!out) throw io_error("ct::write_vector_file: cannot open '" + path + "' for writing");
  out.precision(17);
  for (const auto& row : geometry.vectors) {
    for (std::size_t i = 0; i < row.size(); ++i) out << (i ? " " : "") << row[i];
    out << '\n';
  }
  if (!out) throw io_error("ct::write_vector_file: writing '" + path + "' failed");
}

}  // namespace pnpdist::ct
