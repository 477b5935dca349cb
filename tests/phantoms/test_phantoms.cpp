// Phantoms: exact line integrals against closed forms (chords of discs, balls, rotated ellipses), rasterized
// areas, the walnut-like phantom's determinism and its projections against the Joseph projector.
#include <catch2/catch.hpp>

#include <pnpdist/core/philox.hpp>
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

namespace {

/// The rasterizer's definition written out per sub-sample (rotation evaluated at every sample, every shape
/// tested at every sample).
std::vector<double> rasterized_by_definition(const std::vector<phantom::Ellipse>& shapes,
                                             const ct::VolumeGeometry2D& grid, double scale, int ss) {
  std::vector<double> image;
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
      image.push_back(sum / (ss * ss));
    }
  return image;
}

}  // namespace

// The rasterized images must equal the per-sample definition bit for bit, in 2D and 3D, on rotated shapes (the
// rasterizers compute the rotations once and skip shapes whose bounding box excludes a sample).
TEST_CASE("Rasterized ellipses and ellipsoids equal the per-sample definition bit for bit", "[phantom]") {
  const ct::VolumeGeometry2D grid{24, 20, 1, 1};
  const std::vector<phantom::Ellipse> shapes = {{1.0, 0.7, 0.4, 0.1, -0.05, 0.3},
                                                {-0.6, 0.3, 0.5, -0.2, 0.15, 2.1},
                                                {0.25, 0.2, 0.1, 0.3, 0.3, -1.2}};
  const double scale = phantom::fitted_scale(grid);
  const int ss = 3;
  const auto image = phantom::rasterize<float>(Serial{}, shapes, grid, scale, ss);
  const auto expected = rasterized_by_definition(shapes, grid, scale, ss);
  for (index_t i = 0; i < image.size(); ++i)
    REQUIRE(image.data()[i] == static_cast<float>(expected[static_cast<std::size_t>(i)]));

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

TEST_CASE("Bounding-box culling leaves random and boundary-touching ellipses bit for bit unchanged", "[phantom]") {
  // 80 random ellipses of every size and angle, some far outside the grid, plus axis-aligned ones whose boundary
  // passes exactly through sub-samples (u = 1 at a sample: on the edge of the bounding box).
  const ct::VolumeGeometry2D grid{40, 52, 1, 1};
  const double scale = phantom::fitted_scale(grid);
  const int ss = 2;
  const PhiloxStream random{7, 3};
  std::uint64_t block = 0;
  const auto uniform = [&] { return random.uniform2d(block++).v[0]; };
  std::vector<phantom::Ellipse> shapes;
  for (int k = 0; k < 80; ++k)
    shapes.push_back({uniform() - 0.5, 0.01 + 1.5 * uniform() * uniform(), 0.01 + 1.5 * uniform() * uniform(),
                      2.4 * uniform() - 1.2, 2.4 * uniform() - 1.2, 7 * uniform() - 3.5});
  const double step = 1.0 / (ss * scale);  // the sub-sample spacing in phantom units
  const double x0 = (0.5 / ss - 0.5 - 0.5 * static_cast<double>(grid.cols - 1)) / scale;  // the first sample's x
  const double y0 = (0.5 / ss - 0.5 - 0.5 * static_cast<double>(grid.rows - 1)) / scale;
  shapes.push_back({0.75, 6 * step, 4 * step, x0 + 20 * step, y0 + 30 * step, 0.0});
  shapes.push_back({-0.5, 3 * step, 7 * step, x0 + 41 * step, y0 + 12 * step, 0.0});
  const auto image = phantom::rasterize<double>(Serial{}, shapes, grid, scale, ss);
  const auto expected = rasterized_by_definition(shapes, grid, scale, ss);
  index_t differences = 0;
  for (index_t i = 0; i < image.size(); ++i) differences += image.data()[i] != expected[static_cast<std::size_t>(i)];
  CHECK(differences == 0);
  const auto box = phantom::shape_table(shapes).boxes;
  CHECK(box[4 * 80 + 1] >= x0 + 26 * step);  // the box holds the boundary sample
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
