// Geometry: circular constructors follow ASTRA's vector conventions, degenerate geometries are clear
// errors, vector files round-trip and report malformed rows.
#include <catch2/catch.hpp>

#include <pnpdist/physics/ct/ct.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <numbers>

using namespace pnpdist;
using ct::Beam;

TEST_CASE("Circular geometries give ASTRA's per-view vectors", "[ct][geometry]") {
  const double t = 0.3, c = std::cos(t), s = std::sin(t);
  const auto cone = ct::cone_beam({t}, {4, 6, 1.5, 2.0, 0.5, -0.25}, 100.0, 50.0, {8, 8, 8, 1, 1, 1});
  const auto& e = cone.vectors[0];
  // ASTRA cone -> cone_vec: src = (sin, -cos, 0) SO, det = (-sin, cos, 0) OD, u = (cos, sin, 0) w, v = (0, 0, h).
  CHECK(e[0] == Approx(s * 100));
  CHECK(e[1] == Approx(-c * 100));
  CHECK(e[2] == 0);
  CHECK(e[3] == Approx(-s * 50 + 0.5 * c));
  CHECK(e[4] == Approx(c * 50 + 0.5 * s));
  CHECK(e[5] == Approx(-0.25));
  CHECK(e[6] == Approx(2.0 * c));
  CHECK(e[7] == Approx(2.0 * s));
  CHECK(e[11] == Approx(1.5));
  CHECK(cone.projection_shape() == Extents<3>{1, 4, 6});
  const auto par = ct::parallel_beam_2d({t}, {10, 0.5, 0.0}, {5, 7, 1, 1});
  CHECK(par.vectors[0][0] == Approx(s));
  CHECK(par.vectors[0][1] == Approx(-c));
  CHECK(par.vectors[0][4] == Approx(0.5 * c));
  CHECK(par.sinogram_shape() == Extents<2>{1, 10});
}

TEST_CASE("Degenerate geometries are rejected with clear errors", "[ct][geometry]") {
  const ct::VolumeGeometry2D image{16, 16, 1, 1};
  CHECK_THROWS_AS(ct::parallel_beam_2d({}, {8, 1, 0}, image), invalid_argument);
  CHECK_THROWS_WITH(ct::parallel_beam_2d({}, {8, 1, 0}, image), Catch::Contains("no views"));
  CHECK_THROWS_WITH(ct::parallel_beam_2d({0.0}, {8, 0.0, 0}, image), Catch::Contains("zero-length"));
  CHECK_THROWS_WITH(ct::fan_beam_2d({0.0}, {8, 1, 0}, 5.0, 20.0, image), Catch::Contains("inside"));
  CHECK_THROWS_AS(ct::parallel_beam_2d({0.0}, {0, 1, 0}, image), invalid_argument);
  CHECK_THROWS_AS(ct::parallel_beam_2d({0.0}, {8, 1, 0}, {0, 16, 1, 1}), invalid_argument);
  const ct::VolumeGeometry3D volume{8, 8, 8, 1, 1, 1};
  CHECK_THROWS_WITH(ct::cone_beam({0.0}, {4, 4, 0.0, 1.0, 0, 0}, 50.0, 50.0, volume), Catch::Contains("zero-length"));
  CHECK_THROWS_WITH(ct::cone_beam({0.0}, {4, 4, 1.0, 1.0, 0, 0}, 3.0, 50.0, volume), Catch::Contains("inside"));
  ct::Geometry3D g{Beam::parallel, volume, 4, 4, {{0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}}};
  CHECK_THROWS_WITH(ct::validate(g), Catch::Contains("zero-length ray"));
  g.vectors[0] = {1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};  // ray within the detector plane
  CHECK_THROWS_WITH(ct::validate(g), Catch::Contains("parallel to the detector"));
  g.vectors[0] = {0, 1, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0};  // u parallel to v
  CHECK_THROWS_WITH(ct::validate(g), Catch::Contains("parallel"));
  CHECK_THROWS_AS(ct::make_projector<float>(Serial{}, ct::Geometry3D{Beam::divergent, volume, 4, 4, {}}),
                  invalid_argument);
}

TEST_CASE("Vector files round-trip and malformed rows are io errors", "[ct][geometry]") {
  const ct::VolumeGeometry3D volume{8, 8, 8, 1, 1, 1};
  const auto g =
      ct::cone_beam(ct::uniform_angles(5, 0, 2 * std::numbers::pi), {4, 6, 1.5, 2.0, 0.5, -0.25}, 100.0, 50.0, volume);
  const std::string path = "ct_geometry_roundtrip.txt";
  ct::write_vector_file(path, g);
  const auto back = ct::read_vector_file(path, Beam::divergent, volume, 4, 6);
  REQUIRE(back.views() == 5);
  for (std::size_t k = 0; k < 5; ++k)
    for (std::size_t j = 0; j < 12; ++j) CHECK(back.vectors[k][j] == g.vectors[k][j]);
  {
    std::ofstream out(path);
    out << "# comment\n1 2 3 4 5 6 7 8 9 10 11\n";
  }
  CHECK_THROWS_WITH(ct::read_vector_file(path, Beam::divergent, volume, 4, 6), Catch::Contains("expected 12 numbers"));
  {
    std::ofstream out(path);
    out << "1 2 3 4 5 6 7 8 9 10 11 x\n";
  }
  CHECK_THROWS_AS(ct::read_vector_file(path, Beam::divergent, volume, 4, 6), io_error);
  std::remove(path.c_str());
  CHECK_THROWS_AS(ct::read_vector_file("does_not_exist.txt", Beam::divergent, volume, 4, 6), io_error);
}
