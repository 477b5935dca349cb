#pragma once
// Helpers of the raw-scan tests: a fresh temporary directory per test, read options that exercise every
// preprocessing step, and the check that two read scans are the same (line integrals bit for bit, detector
// and geometry).
#include <catch2/catch.hpp>

#include <pnpdist/physics/ct/scan_directory.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace pnpdist::test {

/// An empty directory <temp>/<test>/<name>.
inline std::filesystem::path fresh_scan_dir(const std::string& test, const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / test / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// Read options that exercise every step: defaults; a subset with a crop and binning 2; zinger and ring
/// removal in blocks of 3; a contiguous subset with binning 3.
inline std::vector<ct::ScanReadOptions> scan_read_variants() {
  std::vector<ct::ScanReadOptions> v(4);
  v[1].selection = ProjectionSelection{1, 2, -1};
  v[1].window = DetectorWindow{1, 2, 4, 8, 2};
  v[2].zinger_threshold = 3000;
  v[2].ring_width = 2;
  v[2].block = 3;
  v[3].selection = ProjectionSelection{3, 1, 5};
  v[3].window = DetectorWindow{0, 1, 0, 0, 3};
  return v;
}

inline void require_same(const Tensor<float, 3>& a, const Tensor<float, 3>& b) {
  REQUIRE(a.extents() == b.extents());
  for (index_t i = 0; i < a.size(); ++i) REQUIRE(a.data()[i] == b.data()[i]);
}

inline void require_same(const ct::Scan& a, const ct::Scan& b) {
  REQUIRE(a.raw_projections == b.raw_projections);
  require_same(a.projections, b.projections);
  REQUIRE(a.geometry.beam == b.geometry.beam);
  REQUIRE(a.geometry.detector_rows == b.geometry.detector_rows);
  REQUIRE(a.geometry.detector_cols == b.geometry.detector_cols);
  REQUIRE(a.geometry.vectors == b.geometry.vectors);
}

}  // namespace pnpdist::test
