// Geometry from NeXus and Data Exchange metadata: a simulated NXtomo or Data Exchange file records its orbit
// (rotation angles, distances, pixel sizes with units) and read_scan builds the same cone- or parallel-beam
// geometry from it as from the vectors file of the TIFF directory; other length and angle units convert; an
// explicit vectors file wins; detector offsets come from the beam centre or NXtomo's x_rotation_axis_pixel_position;
// inconsistent metadata gives io_errors naming the file and the dataset.
#include <catch2/catch.hpp>

#include "io/bad_input_support.hpp"
#include "physics/ct/scan_support.hpp"
#include "support/host_executors.hpp"

#include <pnpdist/io/hdf5_writer.hpp>
#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/nexus_geometry.hpp>
#include <pnpdist/physics/ct/scan_directory.hpp>
#include <pnpdist/physics/ct/simulated_scan.hpp>

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <span>
#include <string>
#include <vector>

using namespace pnpdist;
namespace fs = std::filesystem;

namespace {

const test::FastHostExecutor exec = test::fast_host_executor();

const ct::VolumeGeometry3D volume{8, 8, 8, 0.125, 0.125, 0.125};

ct::CircularScan orbit(ct::Beam beam) {
  return {beam, ct::uniform_angles(9, 10.0, 370.0), ct::Detector3D{6, 12, 0.3, 0.25, 0, 0}, 2.5, 1.5};
}

// The simulation of `o` in `format` at dir/name; lengths written in `unit`.
std::string simulate(const fs::path& dir, const std::string& name, const ct::CircularScan& o,
                     ct::ScanFormat format = ct::ScanFormat::nexus, const std::string& unit = "mm") {
  static const Tensor<float, 3> truth =
      phantom::rasterize<float>(exec, phantom::walnut(0), volume, phantom::fitted_scale(volume));
  ct::SimulatedScanOptions options;
  options.format = format;
  options.length_unit = unit;
  options.drift = -0.1;
  const fs::path path = dir / name;
  fs::remove_all(path);
  const ct::ScanLayout layout =
      format == ct::ScanFormat::data_exchange ? ct::ScanLayout::data_exchange() : ct::ScanLayout{};
  ct::write_simulated_scan(exec, path.string(), o, volume, truth.const_view(), options, layout);
  return path.string();
}

fs::path fresh_dir(const std::string& name) { return test::fresh_scan_dir("pnpdist_test_nexus_geometry", name); }

// Replaces dataset `name` of `file` by `values` with the units attribute `units` (none when empty).
void rewrite(const std::string& file, const std::string& name, const std::vector<double>& values,
             const std::string& units) {
  const hid_t h = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(h >= 0);
  if (H5Lexists(h, name.c_str(), H5P_DEFAULT) > 0) REQUIRE(H5Ldelete(h, name.c_str(), H5P_DEFAULT) >= 0);
  H5Fclose(h);
  Hdf5Writer out(file, {.append = true});
  if (values.size() == 1)
    out.write_scalar(name, values[0]);
  else
    out.write(name, std::span<const double>(values));
  if (!units.empty()) out.set_attribute(name, "units", units);
  out.flush();
}

void require_close(const ct::Geometry3D& a, const ct::Geometry3D& b) {
  REQUIRE(a.beam == b.beam);
  REQUIRE(a.views() == b.views());
  for (std::size_t k = 0; k < a.vectors.size(); ++k)
    for (std::size_t i = 0; i < 12; ++i)
      REQUIRE(std::abs(a.vectors[k][i] - b.vectors[k][i]) <= 1e-12 * std::max(1.0, std::abs(b.vectors[k][i])));
}

}  // namespace

TEST_CASE("read_scan builds the geometry a NeXus file records", "[ct][scan][hdf5]") {
  const fs::path dir = fresh_dir("records");
  for (const ct::Beam beam : {ct::Beam::divergent, ct::Beam::parallel}) {
    const ct::CircularScan o = orbit(beam);
    const std::string tiff = simulate(dir, "tiff", o, ct::ScanFormat::tiff);
    const std::string nexus = simulate(dir, "nexus/scan.nxs", o);
    CHECK(ct::has_nexus_geometry(nexus));
    CHECK_FALSE(fs::exists(dir / "nexus" / "scan_geom.geom"));
    CHECK(hdf5_has(nexus, "/entry/instrument/source/distance") == (beam == ct::Beam::divergent));
    ct::ScanReadOptions read;
    read.beam = beam;
    const ct::Scan expected = ct::read_scan(exec, tiff, volume, read);
    const ct::Scan got = ct::read_scan(exec, nexus, volume);  // beam from the file
    test::require_same(got, expected);  // beam, geometry and line integrals bit-identical
    CHECK(got.geometry.vectors == ct::circular_geometry(o, volume).vectors);
    // The source distance is stored upstream (negative), as NXsource has it.
    if (beam == ct::Beam::divergent)
      CHECK(read_hdf5_numbers(nexus, "/entry/instrument/source/distance").values == std::vector<double>{-2.5});
  }
  // Other units: micrometres in the file, radians for the angles; selections and windows apply.
  const ct::CircularScan o = orbit(ct::Beam::divergent);
  const std::string um = simulate(dir, "um/scan.nxs", o, ct::ScanFormat::nexus, "um");
  CHECK(read_hdf5_numbers(um, "/entry/instrument/detector/x_pixel_size").values == std::vector<double>{0.25});
  CHECK(read_hdf5_numbers(um, "/entry/instrument/detector/x_pixel_size").units == "um");
  ct::ScanReadOptions in_um;
  in_um.length_unit = "um";
  CHECK(ct::read_scan(exec, um, volume, in_um).geometry.vectors == ct::circular_geometry(o, volume).vectors);
  std::vector<double> radians = read_hdf5_numbers(um, "/entry/sample/rotation_angle").values;
  for (double& a : radians) a *= std::numbers::pi / 180;
  rewrite(um, "/entry/sample/rotation_angle", radians, "rad");
  require_close(ct::read_scan(exec, um, volume, in_um).geometry, ct::circular_geometry(o, volume));
  const std::string metres = simulate(dir, "m/scan.nxs", o, ct::ScanFormat::nexus, "m");
  ct::CircularScan in_mm = o;
  in_mm.detector.pixel_width *= 1e3, in_mm.detector.pixel_height *= 1e3;
  in_mm.source_origin *= 1e3, in_mm.origin_detector *= 1e3;
  require_close(ct::read_scan(exec, metres, volume).geometry, ct::circular_geometry(in_mm, volume));
  ct::ScanReadOptions subset;
  subset.selection = ProjectionSelection{1, 3, -1};
  subset.window = DetectorWindow{0, 2, 6, 8, 2};
  subset.length_unit = "um";
  const ct::Geometry3D full = ct::circular_geometry(o, volume);
  require_close(ct::read_scan(exec, um, volume, subset).geometry,
                ct::window_detector(ct::Geometry3D{full.beam, volume, 6, 12, {full.vectors[1], full.vectors[4], full.vectors[7]}},
                                    0, 2, 6, 8, 2));
}

TEST_CASE("An explicit vectors file wins over the NeXus geometry", "[ct][scan][hdf5]") {
  const fs::path dir = fresh_dir("explicit");
  const ct::CircularScan o = orbit(ct::Beam::divergent);
  const std::string nexus = simulate(dir, "nexus/scan.nxs", o);
  ct::CircularScan other = o;
  other.source_origin = 4.0;
  ct::write_vector_file((dir / "other.geom").string(), ct::circular_geometry(other, volume));
  ct::ScanReadOptions read;
  read.vectors_file = (dir / "other.geom").string();
  CHECK(ct::read_scan(exec, nexus, volume, read).geometry.vectors == ct::circular_geometry(other, volume).vectors);
  // A vectors file beside the file, not named: ambiguous.
  fs::copy_file(dir / "other.geom", dir / "nexus" / "scan_geom.geom");
  test::require_error<io_error>([&] { (void)ct::read_scan(exec, nexus, volume); },
                                {"'" + nexus + "' records its geometry and", "scan_geom.geom' holds another"});
}

TEST_CASE("Inconsistent NeXus geometry gives io_errors naming the file and the dataset", "[ct][scan][hdf5]") {
  const fs::path dir = fresh_dir("errors");
  const ct::CircularScan o = orbit(ct::Beam::divergent);
  const auto read = [&](const std::string& file) { (void)ct::read_scan(exec, file, volume); };
  const auto fresh = [&](const std::string& name) { return simulate(dir, name + "/scan.nxs", o); };
  SECTION("another number of angles than frames") {
    const std::string f = fresh("count");
    std::vector<double> angles = read_hdf5_numbers(f, "/entry/sample/rotation_angle").values;
    REQUIRE(angles.size() == 2 + 4 + 9);
    angles.pop_back();
    rewrite(f, "/entry/sample/rotation_angle", angles, "degree");
    test::require_error<io_error>(
        [&] { read(f); }, {"'" + f + "' dataset '/entry/sample/rotation_angle' holds 14 angles for 15 frames"});
  }
  SECTION("non-positive distances and pixel sizes") {
    const std::string f = fresh("distance");
    rewrite(f, "/entry/instrument/detector/distance", {0.0}, "mm");
    test::require_error<io_error>([&] { read(f); }, {"'" + f + "' dataset '/entry/instrument/detector/distance'",
                                                     "the detector distance must be positive, got 0"});
    rewrite(f, "/entry/instrument/detector/distance", {1.5}, "mm");
    rewrite(f, "/entry/instrument/detector/y_pixel_size", {-0.3}, "mm");
    test::require_error<io_error>([&] { read(f); },
                                  {"dataset '/entry/instrument/detector/y_pixel_size': the pixel size must be positive"});
    rewrite(f, "/entry/instrument/detector/y_pixel_size", {0.3}, "mm");
    rewrite(f, "/entry/instrument/source/distance", {0.0}, "mm");
    test::require_error<io_error>([&] { read(f); }, {"'/entry/instrument/source/distance': the source distance"});
  }
  SECTION("missing or unknown units") {
    const std::string f = fresh("units");
    rewrite(f, "/entry/instrument/detector/x_pixel_size", {0.25}, "");
    test::require_error<io_error>(
        [&] { read(f); }, {"'" + f + "' dataset '/entry/instrument/detector/x_pixel_size' has no units attribute"});
    rewrite(f, "/entry/instrument/detector/x_pixel_size", {0.25}, "furlong");
    test::require_error<io_error>([&] { read(f); }, {"x_pixel_size': units 'furlong' are not a length"});
    rewrite(f, "/entry/instrument/detector/x_pixel_size", {0.25}, "mm");
    const std::vector<double> angles = read_hdf5_numbers(f, "/entry/sample/rotation_angle").values;
    rewrite(f, "/entry/sample/rotation_angle", angles, "");
    test::require_error<io_error>([&] { read(f); }, {"'/entry/sample/rotation_angle' has no units attribute"});
    rewrite(f, "/entry/sample/rotation_angle", angles, "percent");
    test::require_error<io_error>([&] { read(f); }, {"units 'percent' are not an angle (degree or rad)"});
  }
  SECTION("view vectors beyond the allocation limit, refused before they are made") {
    const std::string f = fresh("limit");
    ReadLimits small;
    small.max_allocation_bytes = 1000;  // the 15 angles need 120 bytes, the 15 view vectors 1440
    test::require_error<io_error>(
        [&] { (void)ct::read_nexus_geometry(f, 15, {}, 6, 12, "mm", {}, small); },
        {"'" + f + "' dataset '/entry/sample/rotation_angle': the view vectors", "shape (15, 12) needs 1440 bytes"});
    small.max_allocation_bytes = 864;  // the 9 projections' vectors need exactly that
    const std::vector<index_t> projections = {6, 7, 8, 9, 10, 11, 12, 13, 14};
    CHECK(ct::read_nexus_geometry(f, 15, projections, 6, 12, "mm", {}, small).angles_degrees.size() == 9);
  }
  SECTION("a source distance without a detector distance") {
    const std::string f = fresh("source");
    const hid_t h = H5Fopen(f.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(H5Ldelete(h, "/entry/instrument/detector/distance", H5P_DEFAULT) >= 0);
    H5Fclose(h);
    test::require_error<io_error>([&] { read(f); }, {"'" + f + "' has a source distance", "but no detector distance"});
  }
}

TEST_CASE("read_scan builds the geometry a Data Exchange file records", "[ct][scan][hdf5][exchange]") {
  const fs::path dir = fresh_dir("exchange");
  const ct::ScanLayout layout = ct::ScanLayout::data_exchange();
  for (const ct::Beam beam : {ct::Beam::divergent, ct::Beam::parallel}) {
    const ct::CircularScan o = orbit(beam);
    const std::string tiff = simulate(dir, "tiff", o, ct::ScanFormat::tiff);
    const std::string dx = simulate(dir, "dx/scan.h5", o, ct::ScanFormat::data_exchange);
    CHECK(ct::has_nexus_geometry(dx, ct::NexusGeometryFields::data_exchange()));
    CHECK_FALSE(fs::exists(dir / "dx" / "scan_geom.geom"));
    // The fields written: one angle per projection in degrees, the pixel on the sample plane for a parallel
    // beam, the detector's pixel and positive distances for a cone beam.
    CHECK(read_hdf5_numbers(dx, "/exchange/theta").values == o.angles_degrees);
    const std::string detector = "/measurement/instrument/detector/";
    CHECK(hdf5_has(dx, detector + "actual_pixel_size_x") == (beam == ct::Beam::parallel));
    CHECK(hdf5_has(dx, detector + "pixel_size_x") == (beam == ct::Beam::divergent));
    if (beam == ct::Beam::divergent) {
      CHECK(read_hdf5_numbers(dx, "/measurement/instrument/source/distance").values == std::vector<double>{2.5});
      CHECK(read_hdf5_numbers(dx, detector + "distance").units == "mm");
    }
    ct::ScanReadOptions read;
    read.beam = beam;
    const ct::Scan expected = ct::read_scan(exec, tiff, volume, read);
    // Beam, geometry and line integrals bit-identical, with the layout named and found by itself.
    test::require_same(ct::read_scan(exec, dx, volume, {}, layout), expected);
    test::require_same(ct::read_scan(exec, dx, volume), expected);
    CHECK(ct::read_scan(exec, dx, volume).geometry.vectors == ct::circular_geometry(o, volume).vectors);
  }
  const ct::CircularScan o = orbit(ct::Beam::parallel);
  const std::string dx = simulate(dir, "dx/scan.h5", o, ct::ScanFormat::data_exchange);
  const std::vector<double> theta = read_hdf5_numbers(dx, "/exchange/theta").values;
  // Data Exchange angles without units are degrees; radians convert.
  rewrite(dx, "/exchange/theta", theta, "");
  CHECK(ct::read_scan(exec, dx, volume).geometry.vectors == ct::circular_geometry(o, volume).vectors);
  std::vector<double> radians = theta;
  for (double& a : radians) a *= std::numbers::pi / 180;
  rewrite(dx, "/exchange/theta", radians, "rad");
  require_close(ct::read_scan(exec, dx, volume).geometry, ct::circular_geometry(o, volume));
  // Another number of angles than projections, and a parallel beam without the sample-plane pixel size.
  radians.pop_back();
  rewrite(dx, "/exchange/theta", radians, "rad");
  test::require_error<io_error>([&] { (void)ct::read_scan(exec, dx, volume); },
                                {"'" + dx + "' dataset '/exchange/theta' holds 8 angles for 9 frames"});
  rewrite(dx, "/exchange/theta", theta, "degree");
  const hid_t h = H5Fopen(dx.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(H5Ldelete(h, "/measurement/instrument/detector/actual_pixel_size_y", H5P_DEFAULT) >= 0);
  H5Fclose(h);
  ct::CircularScan square = o;
  square.detector.pixel_height = square.detector.pixel_width;  // y defaults to x
  CHECK(ct::read_scan(exec, dx, volume).geometry.vectors == ct::circular_geometry(square, volume).vectors);
  rewrite(dx, "/measurement/instrument/detector/actual_pixel_size_x", {-0.3}, "mm");
  test::require_error<io_error>(
      [&] { (void)ct::read_scan(exec, dx, volume); },
      {"'/measurement/instrument/detector/actual_pixel_size_x': the pixel size must be positive"});
  // Precedence as for NeXus: an explicit vectors file wins, one beside the file is ambiguous.
  ct::write_vector_file((dir / "other.geom").string(), ct::circular_geometry(o, volume));
  ct::ScanReadOptions named;
  named.beam = ct::Beam::parallel;
  named.vectors_file = (dir / "other.geom").string();
  CHECK(ct::read_scan(exec, dx, volume, named).geometry.vectors == ct::circular_geometry(o, volume).vectors);
  fs::copy_file(dir / "other.geom", dir / "dx" / "scan_geom.geom");
  test::require_error<io_error>([&] { (void)ct::read_scan(exec, dx, volume); },
                                {"'" + dx + "' records its geometry and", "scan_geom.geom' holds another"});
}

TEST_CASE("NeXus files record detector offsets as the beam centre", "[ct][scan][hdf5]") {
  const fs::path dir = fresh_dir("offsets");
  for (const ct::Beam beam : {ct::Beam::divergent, ct::Beam::parallel}) {
    ct::CircularScan o = orbit(beam);
    o.detector.offset_u = 0.75;   // 3 columns of 0.25
    o.detector.offset_v = -0.15;  // -0.5 rows of 0.3
    const std::string tiff = simulate(dir, "tiff", o, ct::ScanFormat::tiff);
    const std::string nexus = simulate(dir, "nexus/scan.nxs", o);
    // Where the central ray meets the detector, from the first pixel's centre: column 5.5 - 3, row 2.5 + 0.5.
    const Hdf5Numbers x = read_hdf5_numbers(nexus, "/entry/instrument/detector/beam_center_x");
    CHECK(x.values == std::vector<double>{2.5});
    CHECK(x.units == "pixel");
    CHECK(read_hdf5_numbers(nexus, "/entry/instrument/detector/beam_center_y").values == std::vector<double>{3.0});
    ct::ScanReadOptions read;
    read.beam = beam;
    const ct::Scan got = ct::read_scan(exec, nexus, volume);
    test::require_same(got, ct::read_scan(exec, tiff, volume, read));  // bit-identical to the vectors file's
    CHECK(got.geometry.vectors == ct::circular_geometry(o, volume).vectors);
    CHECK(got.geometry.vectors != ct::circular_geometry(orbit(beam), volume).vectors);
  }
  // The beam centre as a length (from the first pixel's centre), and only along x (y: no offset).
  ct::CircularScan o = orbit(ct::Beam::divergent);
  o.detector.offset_u = 0.75;
  o.detector.offset_v = -0.15;
  const std::string nexus = simulate(dir, "length/scan.nxs", o);
  rewrite(nexus, "/entry/instrument/detector/beam_center_x", {0.000625}, "m");  // 2.5 columns of 0.25 mm
  const hid_t h = H5Fopen(nexus.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(H5Ldelete(h, "/entry/instrument/detector/beam_center_y", H5P_DEFAULT) >= 0);
  H5Fclose(h);
  ct::CircularScan only_u = o;
  only_u.detector.offset_v = 0;
  require_close(ct::read_scan(exec, nexus, volume).geometry, ct::circular_geometry(only_u, volume));
  rewrite(nexus, "/entry/instrument/detector/beam_center_x", {2.5}, "furlong");
  test::require_error<io_error>(
      [&] { (void)ct::read_scan(exec, nexus, volume); },
      {"'" + nexus + "' dataset '/entry/instrument/detector/beam_center_x': units 'furlong' are not a length"});
  rewrite(nexus, "/entry/instrument/detector/beam_center_x", {2.5, 3.5}, "pixel");
  test::require_error<io_error>([&] { (void)ct::read_scan(exec, nexus, volume); },
                                {"beam_center_x' must hold one finite number, holds 2 values"});
  // Data Exchange has no field for an offset: the writer refuses it.
  CHECK_THROWS_AS(simulate(dir, "dx/scan.h5", o, ct::ScanFormat::data_exchange), invalid_argument);
}

TEST_CASE("NXtomo's x_rotation_axis_pixel_position gives the horizontal detector offset", "[ct][scan][hdf5]") {
  // The column where the rotation axis projects, in pixels from the detector's centre: offset_u = -value * |u|.
  const fs::path dir = fresh_dir("rotation_axis");
  const std::string field = "/entry/instrument/detector/x_rotation_axis_pixel_position";
  for (const ct::Beam beam : {ct::Beam::divergent, ct::Beam::parallel}) {
    ct::CircularScan o = orbit(beam);
    o.detector.offset_u = 0.75;  // 3 columns of 0.25: the axis projects 3 columns left of the detector's centre
    const std::string tiff = simulate(dir, "tiff", o, ct::ScanFormat::tiff);
    const std::string nexus = simulate(dir, "nexus/scan.nxs", o);
    // Beside a beam centre that agrees: read as before.
    rewrite(nexus, field, {-3.0}, "pixel");
    ct::ScanReadOptions read;
    read.beam = beam;
    const ct::Scan reference = ct::read_scan(exec, tiff, volume, read);
    test::require_same(ct::read_scan(exec, nexus, volume), reference);
    // Alone (no beam centre; without units): the same geometry and line integrals, bit for bit.
    const hid_t h = H5Fopen(nexus.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(H5Ldelete(h, "/entry/instrument/detector/beam_center_x", H5P_DEFAULT) >= 0);
    H5Fclose(h);
    rewrite(nexus, field, {-3.0}, "");
    const ct::Scan got = ct::read_scan(exec, nexus, volume);
    test::require_same(got, reference);
    CHECK(got.geometry.vectors == ct::circular_geometry(o, volume).vectors);
    // Another value moves the detector: 1.5 columns the other way.
    rewrite(nexus, field, {1.5}, "pixels");
    ct::CircularScan moved = o;
    moved.detector.offset_u = -0.375;
    CHECK(ct::read_scan(exec, nexus, volume).geometry.vectors == ct::circular_geometry(moved, volume).vectors);
  }
  // Errors: a disagreeing beam centre, a length, more than one value.
  const std::string nexus = simulate(dir, "errors/scan.nxs", [] {
    ct::CircularScan o = orbit(ct::Beam::divergent);
    o.detector.offset_u = 0.75;
    return o;
  }());
  rewrite(nexus, field, {-2.0}, "pixel");
  test::require_error<io_error>([&] { (void)ct::read_scan(exec, nexus, volume); },
                                {"'" + nexus + "' dataset '" + field + "' puts the rotation axis -2",
                                 "beam_center_x' -3", "they disagree"});
  rewrite(nexus, field, {-3.0}, "mm");
  test::require_error<io_error>([&] { (void)ct::read_scan(exec, nexus, volume); }, {"units 'mm' are not pixels"});
  rewrite(nexus, field, {-3.0, -3.0}, "pixel");
  test::require_error<io_error>([&] { (void)ct::read_scan(exec, nexus, volume); },
                                {"x_rotation_axis_pixel_position' must hold one finite number, holds 2 values"});
}
