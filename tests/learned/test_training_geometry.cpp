// The training geometry recorded in LPD weights (include/pnpdist/learned/training_geometry.hpp): JSON round
// trip restores every number exactly, other geometries differ, bad text is named, the one-line description.
#include <catch2/catch.hpp>

#include <pnpdist/learned/ellipse_data.hpp>
#include <pnpdist/learned/training_geometry.hpp>

#include <numbers>

using namespace pnpdist;
using namespace pnpdist::learned;

TEST_CASE("training geometry: JSON round trip, comparison and description", "[learned]") {
  for (const ct::Beam beam : {ct::Beam::parallel, ct::Beam::divergent}) {
    const ct::Geometry2D g = ellipse_geometry(128, 30, beam);
    const ct::Geometry2D back = geometry_from_json(geometry_to_json(g), "test");
    CHECK(same_geometry(g, back, 0.0));
    CHECK(back.vectors == g.vectors);
    CHECK(!same_geometry(g, ellipse_geometry(128, 31, beam)));
    CHECK(!same_geometry(g, ellipse_geometry(64, 30, beam)));
  }
  const ct::Geometry2D g = ellipse_geometry(128, 30);
  CHECK(describe_geometry(g) == "parallel beam, 128 x 128 pixels of 1, 30 views at 0 .. 174 degrees, 183 detector "
                                "columns of 1");
  // The benchmark's unit square at the same size: pixels and detector of 1/128, 128 columns.
  const double pixel = 1.0 / 128;
  const ct::Geometry2D square = ct::parallel_beam_2d(ct::uniform_angles(30, 0.0, std::numbers::pi),
                                                     ct::Detector2D{128, pixel, 0.0},
                                                     ct::VolumeGeometry2D{128, 128, pixel, pixel});
  CHECK(!same_geometry(g, square));
  CHECK(describe_geometry(square) ==
        "parallel beam, 128 x 128 pixels of 0.0078125, 30 views at 0 .. 174 degrees, 128 detector columns of 0.0078125");
  CHECK_THROWS_WITH(geometry_from_json("{\"beam\": \"cone\"}", "weights file 'w'"),
                    Catch::Contains("weights file 'w': not a geometry"));
  CHECK_THROWS_WITH(geometry_from_json("[1, 2", "x"), Catch::Contains("x: not a geometry"));
}
