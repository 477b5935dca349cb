// The geometric self-ensemble (include/pnpdist/learned/dihedral_ensemble.hpp): the 8 symmetries of the square
// against their definitions (numpy.rot90's turn, transposes, flips; inverses; a quarter turn of order 4); the
// sinogram symmetries found for the ellipse geometries hold for images other than the one they were found with
// (A T x = S_T A x); geometries a quarter turn does not map onto themselves are refused, naming the symmetry; the
// ensemble of an exactly equivariant reconstruction (FBP) is that reconstruction, and of a reconstruction that
// adds a fixed pattern P it adds the mean of the T^-1 P computed here.
#include <catch2/catch.hpp>

#include <pnpdist/learned/dihedral_ensemble.hpp>
#include <pnpdist/learned/ellipse_data.hpp>
#include <pnpdist/physics/ct/fbp.hpp>
#include <pnpdist/physics/ct/projector.hpp>
#include <pnpdist/tensor/random.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace pnpdist;
using namespace pnpdist::learned;

namespace {

using Projector = ct::JosephProjector2D<double, Serial>;

std::vector<double> transformed(Dihedral t, index_t n, const std::vector<double>& in) {
  std::vector<double> out(in.size());
  apply_dihedral(t, n, in.data(), out.data());
  return out;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (const double x : v) m = std::max(m, std::abs(x));
  return m;
}

}  // namespace

TEST_CASE("dihedral symmetries: their definitions, inverses and a quarter turn of order 4", "[learned]") {
  // 0 1 2 / 3 4 5 / 6 7 8
  const std::vector<double> a{0, 1, 2, 3, 4, 5, 6, 7, 8};
  CHECK(transformed(Dihedral::identity, 3, a) == a);
  CHECK(transformed(Dihedral::rotate90, 3, a) == std::vector<double>{2, 5, 8, 1, 4, 7, 0, 3, 6});  // numpy.rot90
  CHECK(transformed(Dihedral::rotate180, 3, a) == std::vector<double>{8, 7, 6, 5, 4, 3, 2, 1, 0});
  CHECK(transformed(Dihedral::rotate270, 3, a) == std::vector<double>{6, 3, 0, 7, 4, 1, 8, 5, 2});
  CHECK(transformed(Dihedral::transpose, 3, a) == std::vector<double>{0, 3, 6, 1, 4, 7, 2, 5, 8});
  CHECK(transformed(Dihedral::flip_rows, 3, a) == std::vector<double>{6, 7, 8, 3, 4, 5, 0, 1, 2});
  CHECK(transformed(Dihedral::flip_cols, 3, a) == std::vector<double>{2, 1, 0, 5, 4, 3, 8, 7, 6});
  CHECK(transformed(Dihedral::antitranspose, 3, a) == std::vector<double>{8, 5, 2, 7, 4, 1, 6, 3, 0});
  std::vector<double> b(16);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<double>(i * i % 7);
  for (const Dihedral t : all_dihedral) CHECK(transformed(inverse(t), 4, transformed(t, 4, b)) == b);
  std::vector<double> turned = b;
  for (int k = 0; k < 4; ++k) turned = transformed(Dihedral::rotate90, 4, turned);
  CHECK(turned == b);
}

TEST_CASE("sinogram symmetries of the ellipse geometries hold for other images", "[learned]") {
  for (const auto& g : {ellipse_geometry(24, 10), ellipse_geometry(24, 12, ct::Beam::divergent)}) {
    const Projector A(Serial{}, g);
    const index_t n = g.volume.rows, cols = g.detector_cols;
    Tensor<double, 2> x(g.volume.shape()), p(g.sinogram_shape()), tp(g.sinogram_shape());
    fill_uniform(Serial{}, x.view(), 7, 1, 0.0, 1.0);
    A.apply(x.const_view(), p.view());
    std::vector<double> image(x.data(), x.data() + x.size());
    for (const Dihedral t : all_dihedral) {
      const auto s = find_sinogram_symmetry(A, t);
      REQUIRE(s.has_value());
      const std::vector<double> tx = transformed(t, n, image);
      A.apply(View<const double, 2>(tx.data(), g.volume.shape()), tp.view());
      std::vector<double> mapped(static_cast<std::size_t>(p.size()));
      apply_sinogram_symmetry(*s, cols, p.data(), mapped.data());
      std::vector<double> difference(mapped.size());
      for (std::size_t i = 0; i < mapped.size(); ++i) difference[i] = mapped[i] - tp.data()[i];
      INFO(to_string(t));
      CHECK(max_abs(difference) <= 1e-12 * max_abs(mapped));
    }
  }
}

TEST_CASE("geometries a quarter turn does not map onto themselves have no ensemble", "[learned]") {
  const auto fan = ellipse_geometry(16, 10, ct::Beam::divergent);  // 36 degrees between views over [0, 2 pi)
  const Projector A(Serial{}, fan);
  CHECK_FALSE(find_sinogram_symmetry(A, Dihedral::rotate90).has_value());
  CHECK(find_sinogram_symmetry(A, Dihedral::rotate180).has_value());
  CHECK_THROWS_WITH(DihedralEnsemble<double>(A), Catch::Contains("not symmetric under rotate90 of the image"));
  const auto odd = ellipse_geometry(16, 9);  // 20 degrees over [0, pi): a quarter turn is 4.5 views
  CHECK_THROWS_WITH(DihedralEnsemble<double>(Projector(Serial{}, odd)), Catch::Contains("rotate90"));
}

TEST_CASE("the ensemble of FBP is FBP, and of FBP plus a pattern it is FBP plus the pattern averaged over the symmetries",
          "[learned]") {
  const auto g = ellipse_geometry(20, 8);
  const Projector A(Serial{}, g);
  const index_t n = g.volume.rows;
  const DihedralEnsemble<double> ensemble(A);
  Tensor<double, 2> x(g.volume.shape()), y(g.sinogram_shape()), f(g.volume.shape());
  fill_uniform(Serial{}, x.view(), 3, 0, 0.0, 1.0);
  A.apply(x.const_view(), y.view());
  ct::fbp<double>(Serial{}, g, y.const_view(), f.view(), ct::Filter::ram_lak);
  const auto fbp = [&](const double* sinogram, double* image) {
    ct::fbp<double>(Serial{}, g, View<const double, 2>(sinogram, g.sinogram_shape()),
                    View<double, 2>(image, g.volume.shape()), ct::Filter::ram_lak);
  };
  std::vector<double> mean(static_cast<std::size_t>(f.size()));
  ensemble.reconstruct(fbp, y.data(), mean.data());
  std::vector<double> difference(mean.size());
  for (std::size_t i = 0; i < mean.size(); ++i) difference[i] = mean[i] - f.data()[i];
  CHECK(max_abs(difference) <= 1e-12 * max_abs(std::vector<double>(f.data(), f.data() + f.size())));

  std::vector<double> pattern(mean.size());
  for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<double>(i % 13) - 6;
  const auto biased = [&](const double* sinogram, double* image) {
    fbp(sinogram, image);
    for (std::size_t i = 0; i < pattern.size(); ++i) image[i] += pattern[i];
  };
  ensemble.reconstruct(biased, y.data(), mean.data());
  std::vector<double> expected(f.data(), f.data() + f.size());
  for (const Dihedral t : all_dihedral) {
    const std::vector<double> back = transformed(inverse(t), n, pattern);
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] += back[i] / 8;
  }
  for (std::size_t i = 0; i < mean.size(); ++i) difference[i] = mean[i] - expected[i];
  CHECK(max_abs(difference) <= 1e-12 * max_abs(expected));
}
