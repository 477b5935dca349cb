// Raw scans: window_detector puts binned pixels on the mean of their pixels' centres; the centre of rotation
// is recovered within 0.25 column for shifts up to 20 columns (cone and parallel beams, noisy data); a
// simulated raw scan (16-bit counts, dark and flat frames, a drifting source, zingers, a shifted centre of
// rotation) read, preprocessed, corrected and reconstructed with FDK matches FDK of the ideal line integrals
// to 30 dB; inconsistent directories give io_errors naming the file.
#include <catch2/catch.hpp>

#include "support/host_executors.hpp"

#include <pnpdist/metrics/psnr.hpp>
#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/centre_of_rotation.hpp>
#include <pnpdist/physics/ct/centre_of_rotation_refinement.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/physics/ct/detector_window.hpp>
#include <pnpdist/physics/ct/scan_directory.hpp>
#include <pnpdist/physics/ct/simulated_scan.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/reductions.hpp>

#include <tiffio.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

using namespace pnpdist;
namespace fs = std::filesystem;

namespace {

constexpr double pi = std::numbers::pi;

const test::FastHostExecutor exec = test::fast_host_executor();

// The walnut-like phantom on size^3 voxels filling the unit cube, and a cone-beam orbit over 360 degrees
// with magnification 2 (source and detector 2 from the centre), detector pixels of 2 / size.
struct Setup {
  ct::VolumeGeometry3D volume;
  Tensor<float, 3> truth;
  Setup(index_t size)
      : volume{size,
               size,
               size,
               1.0 / static_cast<double>(size),
               1.0 / static_cast<double>(size),
               1.0 / static_cast<double>(size)} {
    truth = phantom::rasterize<float>(exec, phantom::walnut(0), volume, phantom::fitted_scale(volume));
  }
  [[nodiscard]] ct::Geometry3D cone(index_t views, index_t rows, index_t cols) const {
    const double pixel = 2.0 / static_cast<double>(volume.cols);
    return ct::cone_beam(ct::uniform_angles(views, 0.0, 2 * pi), ct::Detector3D{rows, cols, pixel, pixel, 0.0, 0.0},
                         2.0, 2.0, volume);
  }
  [[nodiscard]] Tensor<float, 3> project(const ct::Geometry3D& g) const {
    Tensor<float, 3> y(g.projection_shape());
    ct::JosephProjector3D<float, std::remove_const_t<decltype(exec)>>(exec, g).apply(truth.const_view(), y.view());
    return y;
  }
};

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / "pnpdist_test_scan" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string io_message(const auto& action) {
  try {
    action();
  } catch (const io_error& e) {
    return e.what();
  }
  return "no io_error";
}

}  // namespace

TEST_CASE("window_detector centres binned pixels on their pixels' mean", "[ct][scan]") {
  const auto g = ct::cone_beam({0.3, 2.0}, {10, 14, 0.5, 0.7, 0.2, -0.1}, 5.0, 3.0, {4, 4, 4, 0.1, 0.1, 0.1});
  const index_t row = 1, col = 2, rows = 9, cols = 11, b = 3;
  const auto w = ct::window_detector(g, row, col, rows, cols, b);
  REQUIRE(w.detector_rows == 3);
  REQUIRE(w.detector_cols == 3);
  const auto centre = [](const ct::Geometry3D& geo, std::size_t view, double r, double c, std::size_t axis) {
    const auto& e = geo.vectors[view];
    return e[3 + axis] + (c - 0.5 * static_cast<double>(geo.detector_cols - 1)) * e[6 + axis] +
           (r - 0.5 * static_cast<double>(geo.detector_rows - 1)) * e[9 + axis];
  };
  for (std::size_t view = 0; view < 2; ++view)
    for (index_t r = 0; r < 3; ++r)
      for (index_t c = 0; c < 3; ++c)
        for (std::size_t axis = 0; axis < 3; ++axis) {
          double mean = 0;
          for (index_t i = 0; i < b; ++i)
            for (index_t j = 0; j < b; ++j)
              mean += centre(g, view, static_cast<double>(row + b * r + i), static_cast<double>(col + b * c + j), axis);
          mean /= static_cast<double>(b * b);
          REQUIRE(centre(w, view, static_cast<double>(r), static_cast<double>(c), axis) == Approx(mean).margin(1e-12));
        }
  const auto s = ct::shift_detector(g, 2.5);
  CHECK(s.vectors[1][3] == Approx(g.vectors[1][3] + 2.5 * g.vectors[1][6]));
  CHECK_THROWS_AS(ct::window_detector(g, 5, 0, 6, 14, 1), invalid_argument);
}

TEST_CASE("The centre of rotation is recovered within 0.25 column", "[ct][scan][centre_of_rotation]") {
  const Setup setup(32);
  SECTION("cone beam") {
    const ct::Geometry3D nominal = setup.cone(120, 6, 96);
    for (const double shift : {-20.0, -11.3, -2.6, 0.0, 0.4, 7.75, 20.0}) {
      Tensor<float, 3> y = setup.project(ct::shift_detector(nominal, shift));
      add_gaussian_noise(exec, y.view(), 0.01f, 3, 0);
      const auto found = ct::estimate_centre_of_rotation(nominal, y.const_view(), {.max_shift = 24});
      INFO("shift " << shift << " found " << found.shift << " pairs " << found.pairs);
      CHECK(std::abs(found.shift - shift) < 0.25);
    }
  }
  SECTION("parallel beam") {
    const double pixel = 1.5 / 32.0;
    const auto nominal = ct::parallel_beam_3d(ct::uniform_angles(90, 0.0, 2 * pi),
                                              ct::Detector3D{4, 72, pixel, pixel, 0.0, 0.0}, setup.volume);
    for (const double shift : {-20.0, -5.5, 3.2, 20.0}) {
      Tensor<float, 3> y = setup.project(ct::shift_detector(nominal, shift));
      add_gaussian_noise(exec, y.view(), 0.01f, 4, 0);
      const auto found = ct::estimate_centre_of_rotation(nominal, y.const_view(), {.max_shift = 24});
      INFO("shift " << shift << " found " << found.shift);
      CHECK(std::abs(found.shift - shift) < 0.25);
    }
  }
  SECTION("a short scan has no conjugates") {
    const Setup small(8);
    const double pixel = 0.25;
    const auto g = ct::cone_beam(ct::uniform_angles(10, 0.0, 0.5), ct::Detector3D{4, 16, pixel, pixel, 0.0, 0.0}, 2.0,
                                 2.0, small.volume);
    const Tensor<float, 3> y = small.project(g);
    CHECK_THROWS_AS(ct::estimate_centre_of_rotation(g, y.const_view()), invalid_argument);
  }
}

TEST_CASE("The reprojection error refines a rough centre of rotation", "[ct][scan][centre_of_rotation]") {
  const Setup setup(32);
  const ct::Geometry3D nominal = setup.cone(90, 16, 80);
  for (const auto& [shift, start] : {std::pair{-9.4, -10.2}, std::pair{4.3, 4.9}}) {  // starts 0.8 and 0.6 off
    Tensor<float, 3> y = setup.project(ct::shift_detector(nominal, shift));
    add_gaussian_noise(exec, y.view(), 0.01f, 5, 0);
    const auto found = ct::refine_centre_of_rotation(exec, nominal, y.const_view(), start);
    INFO("shift " << shift << " start " << start << " refined " << found.shift << " error " << found.mismatch);
    CHECK(std::abs(found.shift - shift) < 0.25);
  }
}

TEST_CASE("A simulated raw scan reconstructs like its ideal line integrals", "[ct][scan]") {
  const Setup setup(32);
  const ct::Geometry3D nominal = setup.cone(90, 40, 64);
  const double shift = 6.5;
  const fs::path dir = fresh_dir("round_trip");
  ct::SimulatedScanOptions options;
  options.centre_of_rotation_shift = shift;
  options.drift = -0.1;
  options.zingers = 3;
  options.seed = 11;
  ct::write_simulated_scan(exec, dir.string(), nominal, setup.truth.const_view(), options);
  CHECK(fs::exists(dir / "flat_positions.txt"));

  ct::ScanReadOptions read;
  read.zinger_threshold = 3000;  // counts: zingers are 65535, open beam about 20000
  read.block = 7;
  read.threads = 2;
  ct::Scan scan = ct::read_scan(exec, dir.string(), setup.volume, read);
  REQUIRE(scan.projections.extents() == nominal.projection_shape());
  REQUIRE(scan.raw_projections == 90);

  const auto found = ct::estimate_centre_of_rotation(scan.geometry, scan.projections.const_view());
  INFO("centre of rotation found at " << found.shift << " for " << shift);
  CHECK(std::abs(found.shift - shift) < 0.25);
  const ct::Geometry3D corrected = ct::shift_detector(scan.geometry, found.shift);

  // The reference: FDK of the exact (noise-free) line integrals through the true geometry.
  const ct::Geometry3D actual = ct::shift_detector(nominal, shift);
  const Tensor<float, 3> ideal = setup.project(actual);
  Tensor<float, 3> reference(setup.volume.shape()), raw(setup.volume.shape()), uncorrected(setup.volume.shape());
  ct::fdk<float>(exec, actual, ideal.const_view(), reference.view());
  ct::fdk<float>(exec, corrected, scan.projections.const_view(), raw.view());
  ct::fdk<float>(exec, scan.geometry, scan.projections.const_view(), uncorrected.view());
  const double range = static_cast<double>(max_value(exec, setup.truth.const_view()));
  const double psnr_raw = psnr(exec, raw.const_view(), reference.const_view(), range);
  const double psnr_uncorrected = psnr(exec, uncorrected.const_view(), reference.const_view(), range);
  INFO("PSNR against FDK of the ideal line integrals: " << psnr_raw << " dB (without the centre correction "
                                                        << psnr_uncorrected << " dB)");
  CHECK(psnr_raw > 30.0);
  CHECK(psnr_uncorrected < psnr_raw - 6.0);

  // Subset and binning: the geometry follows the data.
  read.selection = ProjectionSelection{1, 2, 20};
  read.window = DetectorWindow{4, 0, 32, 64, 2};
  const ct::Scan part = ct::read_scan(exec, dir.string(), setup.volume, read);
  CHECK(part.projections.extents() == Extents<3>{20, 16, 32});
  CHECK(part.geometry.vectors[3] == ct::window_detector(ct::select_views(nominal, 7, 1), 4, 0, 32, 64, 2).vectors[0]);
}

TEST_CASE("Multi-page stacks read like numbered files", "[ct][scan]") {
  const Setup setup(8);
  const auto g = ct::cone_beam(ct::uniform_angles(5, 0.0, 2 * pi), ct::Detector3D{6, 12, 0.25, 0.25, 0.0, 0.0}, 2.0,
                               2.0, setup.volume);
  const fs::path numbered = fresh_dir("numbered"), pages = fresh_dir("pages");
  ct::SimulatedScanOptions o;
  o.drift = 0.2;
  ct::write_simulated_scan(exec, numbered.string(), g, setup.truth.const_view(), o);
  // The same frames as three multi-page files (16-bit, values as read), with the same vectors and positions.
  for (const auto& [prefix, stack] : {std::pair{"scan_", "scan.tif"}, {"di", "di.tif"}, {"io", "io.tif"}}) {
    const Tensor<float, 3> frames = ProjectionStack::files(list_numbered_files(numbered.string(), prefix, ".tif"))
                                        .read(ProjectionSelection{}, DetectorWindow{});
    Tensor<std::uint16_t, 3> counts(frames.extents());
    for (index_t i = 0; i < frames.size(); ++i) counts.data()[i] = static_cast<std::uint16_t>(frames.data()[i]);
    write_tiff((pages / stack).string(), counts.const_view());
  }
  fs::copy_file(numbered / "scan_geom.geom", pages / "scan_geom.geom");
  fs::copy_file(numbered / "flat_positions.txt", pages / "flat_positions.txt");
  const ct::Scan a = ct::read_scan(exec, numbered.string(), setup.volume);
  const ct::Scan b = ct::read_scan(exec, pages.string(), setup.volume);
  REQUIRE(a.projections.extents() == b.projections.extents());
  for (index_t i = 0; i < a.projections.size(); ++i) REQUIRE(a.projections.data()[i] == b.projections.data()[i]);
  // The geometry as a description instead of the vectors file: the same views.
  fs::remove(pages / "scan_geom.geom");
  std::ofstream(pages / "scan_geometry.json")
      << R"({"beam": "cone", "source_origin": 2, "origin_detector": 2, "detector": {"rows": 6, "cols": 12,
             "pixel_width": 0.25}, "angles": {"count": 5}})";
  const ct::Scan c = ct::read_scan(exec, pages.string(), setup.volume);
  for (std::size_t k = 0; k < 5; ++k)
    for (std::size_t i = 0; i < 12; ++i)
      REQUIRE(c.geometry.vectors[k][i] == Approx(a.geometry.vectors[k][i]).margin(1e-12));
  fs::copy_file(numbered / "di000000.tif", pages / "di000000.tif");  // both layouts: ambiguous
  CHECK(io_message([&] { (void)ct::read_scan(exec, pages.string(), setup.volume); }).find("holds both") !=
        std::string::npos);
}

TEST_CASE("Geometry descriptions give the circular orbits of geometry.hpp", "[ct][scan][geometry]") {
  const fs::path dir = fresh_dir("description");
  const ct::VolumeGeometry3D volume{8, 8, 8, 0.25, 0.25, 0.25};
  const auto write = [&](const std::string& text) {
    const std::string path = (dir / "g.json").string();
    std::ofstream(path) << text;
    return path;
  };
  const std::string cone = write(R"({"beam": "cone", "source_origin": 6, "source_detector": 10,
      "detector": {"rows": 5, "cols": 7, "pixel_width": 0.5, "pixel_height": 0.25, "offset_u": 0.1},
      "angles": {"count": 12, "first_degrees": 10, "range_degrees": 200}})");
  const auto g = ct::read_geometry_description(cone, volume);
  const auto expected = ct::cone_beam(ct::uniform_angles(12, 10 * pi / 180, 210 * pi / 180),
                                      ct::Detector3D{5, 7, 0.25, 0.5, 0.1, 0.0}, 6.0, 4.0, volume);
  REQUIRE(g.views() == 12);
  CHECK(g.projection_shape() == expected.projection_shape());
  for (std::size_t k = 0; k < 12; ++k)
    for (std::size_t i = 0; i < 12; ++i) REQUIRE(g.vectors[k][i] == Approx(expected.vectors[k][i]).margin(1e-12));
  // A tilt turns u and v in the detector plane: lengths kept, u turned by the angle towards v.
  const auto tilted = ct::read_geometry_description(
      write(R"({"beam": "parallel", "detector": {"rows": 4, "cols": 6, "pixel_width": 2, "pixel_height": 1,
               "tilt_degrees": 30}, "angles": {"count": 3}})"),
      volume);
  const auto flat = ct::parallel_beam_3d(ct::uniform_angles(3, 0, 2 * pi), {4, 6, 1.0, 2.0, 0.0, 0.0}, volume);
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& t = tilted.vectors[k];
    const auto& f = flat.vectors[k];
    const double uu = t[6] * f[6] + t[7] * f[7] + t[8] * f[8], uv = t[6] * f[9] + t[7] * f[10] + t[8] * f[11];
    CHECK(std::hypot(t[6], t[7], t[8]) == Approx(2.0));
    CHECK(std::hypot(t[9], t[10], t[11]) == Approx(1.0));
    CHECK(uu / 4.0 == Approx(std::cos(pi / 6)));  // u' . u / |u|^2
    CHECK(uv / 2.0 == Approx(std::sin(pi / 6)));  // u' . v / (|u| |v|)
  }
  const auto message = [&](const std::string& text) {
    return io_message([&] { (void)ct::read_geometry_description(write(text), volume); });
  };
  CHECK(message(R"({"beam": "cone", "source_origin": 6, "origin_detector": 4, "detector": {"rows": 5,
      "pixel_width": 0.5}, "angles": {"count": 12}})")
            .find("field detector.cols missing") != std::string::npos);
  CHECK(message(R"({"beam": "fan"})").find("field beam") != std::string::npos);
  CHECK(message(R"({"beam": "parallel", "detector": {"rows": 5, "cols": 2, "pixel_width": -1},
      "angles": {"count": 3}})")
            .find("detector.pixel_width must be a positive number") != std::string::npos);
  CHECK(message("{not json").find("not valid JSON") != std::string::npos);
}

#if defined(PNPDIST_HAS_YAML)
TEST_CASE("YAML descriptions give the geometry of the same JSON description, bit for bit",
          "[ct][scan][geometry][yaml]") {
  const fs::path dir = fresh_dir("description_yaml");
  const ct::VolumeGeometry3D volume{8, 8, 8, 0.25, 0.25, 0.25};
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream((dir / name).string()) << text;
    return (dir / name).string();
  };
  const auto identical = [](const ct::Geometry3D& a, const ct::Geometry3D& b) {
    REQUIRE(a.beam == b.beam);
    REQUIRE(a.projection_shape() == b.projection_shape());
    REQUIRE(a.vectors.size() == b.vectors.size());
    for (std::size_t k = 0; k < a.vectors.size(); ++k)
      for (std::size_t i = 0; i < 12; ++i) REQUIRE(a.vectors[k][i] == b.vectors[k][i]);
  };
  // Every field, with digits that are not exact in binary; block style, flow style and the defaults.
  const ct::Geometry3D json = ct::read_geometry_description(
      write("g.json", R"({"beam": "cone", "source_origin": 6.1, "source_detector": 10.3,
          "detector": {"rows": 5, "cols": 7, "pixel_width": 0.1496, "pixel_height": 0.2, "offset_u": 0.1,
                       "offset_v": -0.3, "tilt_degrees": 1.7},
          "angles": {"count": 12, "first_degrees": 10.1, "range_degrees": 200.3}})"),
      volume);
  identical(json, ct::read_geometry_description(write("g.yaml", R"(# the same orbit in YAML
beam: cone
source_origin: 6.1
source_detector: 10.3
detector:
  rows: 5
  cols: 7
  pixel_width: 0.1496
  pixel_height: 0.2
  offset_u: 0.1
  offset_v: -0.3
  tilt_degrees: 1.7
angles: {count: 12, first_degrees: 10.1, range_degrees: 200.3}
)"),
                                                volume));
  identical(ct::read_geometry_description(
                write("p.json", R"({"beam": "parallel", "detector": {"rows": 4, "cols": 6, "pixel_width": 0.3},
                                   "angles": {"count": 9}})"),
                volume),
            ct::read_geometry_description(
                write("p.yml", "beam: parallel\ndetector: {rows: 4, cols: 6, pixel_width: 0.3}\nangles: {count: 9}\n"),
                volume));
}

TEST_CASE("A scan directory's geometry may be scan_geometry.yaml, not both it and scan_geometry.json",
          "[ct][scan][geometry][yaml]") {
  const Setup setup(8);
  const auto g = ct::cone_beam(ct::uniform_angles(5, 0.0, 2 * pi), ct::Detector3D{6, 12, 0.25, 0.25, 0.0, 0.0}, 2.0,
                               2.0, setup.volume);
  const fs::path dir = fresh_dir("yaml_scan");
  ct::write_simulated_scan(exec, dir.string(), g, setup.truth.const_view(), {});
  const ct::Scan listed = ct::read_scan(exec, dir.string(), setup.volume);
  fs::remove(dir / "scan_geom.geom");
  std::ofstream(dir / "scan_geometry.json") << R"({"beam": "cone", "source_origin": 2, "origin_detector": 2,
      "detector": {"rows": 6, "cols": 12, "pixel_width": 0.25}, "angles": {"count": 5}})";
  const ct::Scan json = ct::read_scan(exec, dir.string(), setup.volume);
  std::ofstream(dir / "scan_geometry.yaml")
      << "beam: cone\nsource_origin: 2\norigin_detector: 2\ndetector: {rows: 6, cols: 12, pixel_width: 0.25}\n"
         "angles: {count: 5}\n";
  CHECK(io_message([&] { (void)ct::read_scan(exec, dir.string(), setup.volume); })
            .find("holds both scan_geometry.json and scan_geometry.yaml") != std::string::npos);
  fs::remove(dir / "scan_geometry.json");
  const ct::Scan yaml = ct::read_scan(exec, dir.string(), setup.volume);
  REQUIRE(yaml.geometry.vectors == json.geometry.vectors);
  for (std::size_t k = 0; k < 5; ++k)
    for (std::size_t i = 0; i < 12; ++i)
      REQUIRE(yaml.geometry.vectors[k][i] == Approx(listed.geometry.vectors[k][i]).margin(1e-12));
  for (index_t i = 0; i < yaml.projections.size(); ++i)
    REQUIRE(yaml.projections.data()[i] == listed.projections.data()[i]);
  // A YAML description named explicitly, and one that does not describe the projections.
  ct::ScanReadOptions named;
  named.vectors_file = (dir / "scan_geometry.yaml").string();
  REQUIRE(ct::read_scan(exec, dir.string(), setup.volume, named).geometry.vectors == json.geometry.vectors);
  std::ofstream(dir / "scan_geometry.yaml")
      << "beam: cone\nsource_origin: 2\norigin_detector: 2\ndetector: {rows: 6, cols: 12, pixel_width: 0.25}\n"
         "angles: {count: 4}\n";
  CHECK(io_message([&] { (void)ct::read_scan(exec, dir.string(), setup.volume); }).find("holds 4 vectors") !=
        std::string::npos);
}
#endif

TEST_CASE("Simulated scans are deterministic in their seed", "[ct][scan]") {
  const Setup setup(8);
  const auto g = ct::cone_beam(ct::uniform_angles(4, 0.0, 2 * pi), ct::Detector3D{6, 12, 0.25, 0.25, 0.0, 0.0}, 2.0,
                               2.0, setup.volume);
  const auto bytes = [](const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  ct::SimulatedScanOptions o;
  o.seed = 5;
  o.zingers = 2;
  const fs::path a = fresh_dir("seed_a"), b = fresh_dir("seed_b"), c = fresh_dir("seed_c");
  ct::write_simulated_scan(exec, a.string(), g, setup.truth.const_view(), o);
  ct::write_simulated_scan(Serial{}, b.string(), g, setup.truth.const_view(), o);  // another executor
  o.seed = 6;
  ct::write_simulated_scan(exec, c.string(), g, setup.truth.const_view(), o);
  for (const char* name : {"scan_000002.tif", "di000001.tif", "io000000.tif"}) {
    CHECK(bytes(a / name) == bytes(b / name));
    CHECK(bytes(a / name) != bytes(c / name));
  }
}

TEST_CASE("Inconsistent scan directories give io_errors naming the file", "[ct][scan]") {
  const Setup setup(8);
  const double pixel = 0.25;
  const auto g = ct::cone_beam(ct::uniform_angles(6, 0.0, 2 * pi), ct::Detector3D{6, 12, pixel, pixel, 0.0, 0.0}, 2.0,
                               2.0, setup.volume);
  const auto fresh = [&](const std::string& name) {
    const fs::path dir = fresh_dir(name);
    ct::write_simulated_scan(exec, dir.string(), g, setup.truth.const_view());
    return dir;
  };
  const auto read = [&](const fs::path& dir) { return ct::read_scan(exec, dir.string(), setup.volume); };
  SECTION("consistent") { CHECK(read(fresh("ok")).projections.extent(0) == 6); }
  SECTION("missing projection") {
    const fs::path dir = fresh("missing");
    fs::remove(dir / "scan_000003.tif");
    CHECK(io_message([&] { (void)read(dir); }).find("scan_000003.tif is missing") != std::string::npos);
  }
  SECTION("vectors file with another count") {
    const fs::path dir = fresh("vectors");
    std::vector<std::string> lines;
    {
      std::ifstream in(dir / "scan_geom.geom");
      for (std::string line; std::getline(in, line);) lines.push_back(line);
    }
    std::ofstream out(dir / "scan_geom.geom", std::ios::trunc);
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) out << lines[i] << '\n';
    out.close();
    const std::string m = io_message([&] { (void)read(dir); });
    CHECK(m.find("scan_geom.geom' holds 5 vectors") != std::string::npos);
    CHECK(m.find("6 projections") != std::string::npos);
  }
  SECTION("wrong bit depth") {
    const fs::path dir = fresh("bits");
    TIFF* t = TIFFOpen((dir / "scan_000002.tif").string().c_str(), "w");
    REQUIRE(t != nullptr);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 12u);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, 6u);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, uint16_t{32});
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, uint16_t{1});
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, uint16_t{SAMPLEFORMAT_UINT});
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 6u);
    std::vector<std::uint32_t> row(12, 5);
    for (uint32_t r = 0; r < 6; ++r) REQUIRE(TIFFWriteScanline(t, row.data(), r, 0) == 1);
    TIFFClose(t);
    const std::string m = io_message([&] { (void)read(dir); });
    CHECK(m.find("scan_000002.tif") != std::string::npos);
    CHECK(m.find("BitsPerSample 32") != std::string::npos);
  }
  SECTION("truncated projection") {
    const fs::path dir = fresh("truncated");
    fs::resize_file(dir / "scan_000004.tif", fs::file_size(dir / "scan_000004.tif") / 2);
    CHECK(io_message([&] { (void)read(dir); }).find("scan_000004.tif") != std::string::npos);
  }
  SECTION("dark frames of another shape") {
    const fs::path dir = fresh("dark");
    Tensor<std::uint16_t, 3> odd(Extents<3>{1, 6, 10});
    fill(Serial{}, odd.view(), std::uint16_t{100});
    write_tiff((dir / "di000001.tif").string(), odd.const_view());
    CHECK(io_message([&] { (void)read(dir); }).find("di000001.tif") != std::string::npos);
  }
}
