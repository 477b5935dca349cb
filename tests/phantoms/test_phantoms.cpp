// Phantoms: exact line integrals against closed forms (chords of discs, balls, rotated ellipses), rasterized
// areas, the walnut-like phantom's determinism and its projections against the Joseph projector.
#include <catch2/catch.hpp>

#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/ct.hpp>

#include <cmath>
#include <numbers>

using namespace pnpdist;

TEST_CASE("Line integrals of ellipses and ellipsoids match closed forms", "[phantom]") {
  const std::vector<phantom::Ellipse> disc = {{2.0, 0.5, 0.5, 0.1, -0.2, 0.0}};
  // Horizontal line y = -0.2 + 0.3 at scale 10: distance 0.3 from the centre, chord 2 sqrt(0.25 - 0.09) * 10.
  const double o[2] = {-50.0, 10 * (-0.2 + 0.3)}, d[2] = {3.0, 0.0};
  CHECK(phantom::line_integral(disc, 10.0, o, d) == Approx(2.0 * 2 * std::sqrt(0.25 - 0.09) * 10));
  const double miss[2] = {-50.0, 10 * (-0.2 + 0.6)};
  CHECK(phantom::line_integral(disc, 10.0, miss, d) == 0.0);
  // An ellipse rotated by 90 degrees: a line along x through its centre crosses its b axis.
  const std::vector<phantom::Ellipse> rotated = {{1.0, 0.6, 0.2, 0.0, 0.0, std::numbers::pi / 2}};
  const double oc[2] = {-5.0, 0.0};
  CHECK(phantom::line_integral(rotated, 1.0, oc, d) == Approx(0.4));
  const std::vector<phantom::Ellipsoid> ball = {{1.5, 0.4, 0.4, 0.8, 0.0, 0.0, 0.1, 0.3}};
  const double o3[3] = {0.0, 0.0, -9.0}, d3[3] = {0.0, 0.0, 0.5};
  CHECK(phantom::line_integral(ball, 2.0, o3, d3) == Approx(1.5 * 2 * 0.8 * 2.0));
}

TEST_CASE("Rasterized discs have the right mass", "[phantom]") {
  const ct::VolumeGeometry2D grid{64, 64, 1, 1};
  const std::vector<phantom::Ellipse> disc = {{1.0, 0.5, 0.5, 0.0, 0.0, 0.0}};
  const auto image = phantom::rasterize<double>(Serial{}, disc, grid, phantom::fitted_scale(grid), 4);
  double mass = 0;
  for (index_t i = 0; i < image.size(); ++i) mass += image.data()[i];
  CHECK(mass == Approx(std::numbers::pi * 16 * 16).epsilon(0.01));
}

// The definition written out per sub-sample (rotation evaluated at every sample, as before the rasterizers took a
// rotation table): the rasterized images must equal it bit for bit, in 2D and 3D, on rotated shapes.
TEST_CASE("Rasterized ellipses and ellipsoids equal the per-sample definition bit for bit", "[phantom]") {
  const ct::VolumeGeometry2D grid{24, 20, 1, 1};
  const std::vector<phantom::Ellipse> shapes = {{1.0, 0.7, 0.4, 0.1, -0.05, 0.3},
                                                {-0.6, 0.3, 0.5, -0.2, 0.15, 2.1},
                                                {0.25, 0.2, 0.1, 0.3, 0.3, -1.2}};
  const double scale = phantom::fitted_scale(grid);
  const int ss = 3;
  const auto image = phantom::rasterize<float>(Serial{}, shapes, grid, scale, ss);
  for (index_t iy = 0; iy < grid.rows; ++iy)
    for (index_t ix = 0; ix < grid.cols; ++ix) {
      double sum = 0;
      for (int sy = 0; sy < ss; ++sy)
        for (int sx = 0; sx < ss; ++sx) {
          const double x = (static_cast<double>(ix) - 0.5 * static_cast<double>(grid.cols - 1) + (sx + 0.5) / ss - 0.5) /
                           scale;
          const double y = (static_cast<double>(iy) - 0.5 * static_cast<double>(grid.rows - 1) + (sy + 0.5) / ss - 0.5) /
                           scale;
          for (const phantom::Ellipse& e : shapes) {
            const double c = std::cos(e.phi), s = std::sin(e.phi);
            const double u = (c * (x - e.x0) + s * (y - e.y0)) / e.a, v = (-s * (x - e.x0) + c * (y - e.y0)) / e.b;
            if (u * u + v * v <= 1.0) sum += e.value;
          }
        }
      REQUIRE(image(iy, ix) == static_cast<float>(sum / (ss * ss)));
    }

  const ct::VolumeGeometry3D grid3{6, 8, 7, 1, 1, 1};
  const std::vector<phantom::Ellipsoid> solids = {{1.0, 0.7, 0.4, 0.5, 0.1, -0.05, 0.0, 0.4},
                                                  {-0.5, 0.3, 0.5, 0.3, -0.2, 0.15, 0.1, 1.9}};
  const double scale3 = 3.0;
  const auto volume = phantom::rasterize<double>(Serial{}, solids, grid3, scale3, 2);
  for (index_t iz = 0; iz < grid3.slices; ++iz)
    for (index_t iy = 0; iy < grid3.rows; ++iy)
      for (index_t ix = 0; ix < grid3.cols; ++ix) {
        double sum = 0;
        for (int sz = 0; sz < 2; ++sz)
          for (int sy = 0; sy < 2; ++sy)
            for (int sx = 0; sx < 2; ++sx) {
              const double x = (static_cast<double>(ix) - 0.5 * static_cast<double>(grid3.cols - 1) + (sx + 0.5) / 2 - 0.5) /
                               scale3;
              const double y = (static_cast<double>(iy) - 0.5 * static_cast<double>(grid3.rows - 1) + (sy + 0.5) / 2 - 0.5) /
                               scale3;
              const double z =
                  (static_cast<double>(iz) - 0.5 * static_cast<double>(grid3.slices - 1) + (sz + 0.5) / 2 - 0.5) / scale3;
              for (const phantom::Ellipsoid& e : solids) {
                const double c = std::cos(e.phi), s = std::sin(e.phi);
                const double u = (c * (x - e.x0) + s * (y - e.y0)) / e.a,
                             v = (-s * (x - e.x0) + c * (y - e.y0)) / e.b, w = (z - e.z0) / e.c;
                if (u * u + v * v + w * w <= 1.0) sum += e.value;
              }
            }
        REQUIRE(volume(iz, iy, ix) == sum / 8);
      }
}

TEST_CASE("The walnut-like phantom is deterministic and its projections are analytic", "[phantom]") {
  const auto a = phantom::walnut(3), b = phantom::walnut(3), c = phantom::walnut(4);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].x0 == b[i].x0);
  CHECK(a.back().x0 != c.back().x0);
  const index_t n = 32;
  const ct::VolumeGeometry3D volume{n, n, n, 1, 1, 1};
  const auto g =
      ct::cone_beam(ct::uniform_angles(6, 0, 2 * std::numbers::pi), {n, n, 2.0, 2.0, 0, 0}, 4.0 * n, 4.0 * n, volume);
  const double scale = phantom::fitted_scale(volume);
  const auto x = phantom::rasterize<float>(Serial{}, a, volume, scale, 2);
  const auto A = ct::make_projector<float>(Serial{}, g);
  Tensor<float, 3> y(A.range_shape());
  A.apply(x.const_view(), y.view());
  const auto exact = phantom::analytic_projections(a, scale, g);
  double num = 0, den = 0;
  for (index_t i = 0; i < y.size(); ++i) {
    num += (y.data()[i] - exact.data()[i]) * (y.data()[i] - exact.data()[i]);
    den += exact.data()[i] * exact.data()[i];
  }
  CHECK(std::sqrt(num / den) < 0.1);
}
