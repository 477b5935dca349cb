// LpdReconstructor (learned/lpd_reconstructor.hpp): trained weights as a reconstruction method. The references
// are independent of the class: the network built and loaded by hand and fed s y, ct::fbp of y for the start,
// and for the self-ensemble the mean of T^-1 LPD(A T x) over numpy's 8 symmetries applied to the image (not to
// the sinogram).
#include <catch2/catch.hpp>

#include <pnpdist/learned/ellipse_data.hpp>
#include <pnpdist/learned/lpd_reconstructor.hpp>
#include <pnpdist/learned/lpd_weights_info.hpp>
#include <pnpdist/learned/training_geometry.hpp>
#include <pnpdist/physics/ct/fbp.hpp>
#include <pnpdist/physics/ct/projector.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "lpd_test_support.hpp"

namespace {

using namespace pnpdist;
using namespace pnpdist::learned;
using lpd_test::random_vector;
using Projector = ct::JosephProjector2D<float, Serial>;

/// Weights of a tiny LPD with random parameters (every PReLU sees both signs) for `projector`, saved with the
/// start `start`; returns the file's path.
std::string tiny_weights(const Projector& projector, const ct::Geometry2D& geometry, InitialPrimal start) {
  const ProjectorLayer layer(projector, 1.0);
  LpdConfig config = lpd_test::tiny_config();
  config.initial_primal = start;
  LearnedPrimalDual net(layer, config,
                        start == InitialPrimal::fbp ? fbp_start(Serial{}, layer, geometry) : PrimalStart<float>{});
  auto& values = net.parameters().values();
  values = random_vector<float>(net.parameters().size(), 21);
  for (float& v : values) v *= 0.5f;
  const auto dir = std::filesystem::temp_directory_path() / "pnpdist_test_lpd_reconstructor";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / ("tiny_" + to_string(start) + ".safetensors")).string();
  net.save(path);
  return path;
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (const float x : v) m = std::max(m, std::abs(static_cast<double>(x)));
  return m;
}

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  return m;
}

/// A measured sinogram: the projection of ellipse phantom `index` of the test split.
std::vector<float> measured(const Projector& projector, const ct::Geometry2D& geometry, std::uint64_t index,
                            std::vector<float>* truth = nullptr) {
  const Tensor<float, 2> x =
      ellipse_phantom<float>(Serial{}, EllipseDataOptions{}, DataSplit::test, index, geometry.volume.shape());
  Tensor<float, 2> y(geometry.sinogram_shape());
  projector.apply(x.const_view(), y.view());
  if (truth) truth->assign(x.data(), x.data() + x.size());
  return {y.data(), y.data() + y.size()};
}

}  // namespace

TEST_CASE("LpdReconstructor: the network on s y, with the start of its weights", "[learned][lpd_reconstructor]") {
  const ct::Geometry2D geometry = ellipse_geometry(16, 8);
  const Projector projector(Serial{}, geometry);
  const double scale = inverse_operator_norm(projector);
  const index_t image = geometry.volume.rows * geometry.volume.cols;
  for (const InitialPrimal start : {InitialPrimal::zero, InitialPrimal::fbp}) {
    INFO("initial primal " << to_string(start));
    const std::string path = tiny_weights(projector, geometry, start);
    LpdReconstructor lpd(Serial{}, projector, scale, geometry, read_lpd_weights_info(path, "test"));
    CHECK(lpd.config().initial_primal == start);
    CHECK(lpd.scale() == static_cast<float>(scale));
    CHECK(lpd.description().find(std::to_string(lpd.parameter_count()) + " parameters") != std::string::npos);

    // The reference: the network built and loaded by hand, fed g = s y.
    const ProjectorLayer layer(projector, scale);
    LearnedPrimalDual net(layer, lpd.config(),
                          start == InitialPrimal::fbp ? fbp_start(Serial{}, layer, geometry) : PrimalStart<float>{});
    net.load(path);
    const std::vector<float> y = measured(projector, geometry, 0);
    std::vector<float> g(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) g[i] = layer.scale() * y[i];
    std::vector<float> expected(static_cast<std::size_t>(image)), x(expected.size()), scaled(expected.size());
    net.forward(Serial{}, 1, g.data(), expected.data());
    lpd.reconstruct(Serial{}, 1, y.data(), x.data());
    CHECK(max_abs(expected) > 0);
    CHECK(x == expected);
    lpd.reconstruct_scaled(Serial{}, 1, g.data(), scaled.data());
    CHECK(scaled == expected);

    // The start: ct::fbp of y (Ram-Lak), or zeros.
    std::vector<float> x0(expected.size(), 7.0f), reference(expected.size(), 0.0f);
    lpd.initial_primal(y.data(), x0.data());
    if (start == InitialPrimal::fbp) {
      Tensor<float, 2> y_tensor(geometry.sinogram_shape());
      std::copy(y.begin(), y.end(), y_tensor.data());
      ct::fbp<float>(Serial{}, geometry, y_tensor.const_view(),
                     View<float, 2, HostSpace>(reference.data(), geometry.volume.shape()), ct::Filter::ram_lak);
    }
    INFO("largest difference from the reference start " << max_difference(x0, reference));
    CHECK(max_difference(x0, reference) <= 1e-6 * std::max(1.0, max_abs(reference)));
  }
}

TEST_CASE("LpdReconstructor: a batch equals its sinograms one by one", "[learned][lpd_reconstructor]") {
  const ct::Geometry2D geometry = ellipse_geometry(16, 8);
  const Projector projector(Serial{}, geometry);
  LpdReconstructor lpd(Serial{}, projector, inverse_operator_norm(projector), geometry,
                       read_lpd_weights_info(tiny_weights(projector, geometry, InitialPrimal::fbp), "test"));
  const index_t image = geometry.volume.rows * geometry.volume.cols;
  std::vector<float> batch = measured(projector, geometry, 1);
  const std::vector<float> second = measured(projector, geometry, 2);
  batch.insert(batch.end(), second.begin(), second.end());
  for (const bool ensemble : {false, true}) {
    INFO("self-ensemble " << ensemble);
    std::vector<float> both(static_cast<std::size_t>(2 * image)), one(static_cast<std::size_t>(image));
    lpd.reconstruct(Serial{}, 2, batch.data(), both.data(), ensemble);
    for (index_t n = 0; n < 2; ++n) {
      lpd.reconstruct(Serial{}, 1, batch.data() + n * lpd.layer().sinogram_size(), one.data(), ensemble);
      CHECK(std::equal(one.begin(), one.end(), both.begin() + n * image));
    }
  }
  std::vector<float> x(static_cast<std::size_t>(image));
  CHECK_THROWS_AS(lpd.reconstruct(Serial{}, 0, batch.data(), x.data()), invalid_argument);
}

TEST_CASE("LpdReconstructor: the self-ensemble is the mean of T^-1 LPD(A T x) over the symmetries of the square",
          "[learned][lpd_reconstructor]") {
  const ct::Geometry2D geometry = ellipse_geometry(16, 8);
  const Projector projector(Serial{}, geometry);
  LpdReconstructor lpd(Serial{}, projector, inverse_operator_norm(projector), geometry,
                       read_lpd_weights_info(tiny_weights(projector, geometry, InitialPrimal::fbp), "test"));
  const index_t n = geometry.volume.rows;
  std::vector<float> truth;
  const std::vector<float> y = measured(projector, geometry, 3, &truth);
  std::vector<float> ensemble(truth.size());
  lpd.reconstruct(Serial{}, 1, y.data(), ensemble.data(), true);

  // The reference transforms the image, projects it and transforms the network's output back.
  std::vector<double> sum(truth.size(), 0.0);
  std::vector<float> plain(truth.size());
  for (const Dihedral t : all_dihedral) {
    Tensor<float, 2> tx(geometry.volume.shape()), ty(geometry.sinogram_shape());
    apply_dihedral(t, n, truth.data(), tx.data());
    projector.apply(tx.const_view(), ty.view());
    std::vector<float> estimate(truth.size()), back(truth.size());
    lpd.reconstruct(Serial{}, 1, ty.data(), estimate.data());
    apply_dihedral(inverse(t), n, estimate.data(), back.data());
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += back[i];
    if (t == Dihedral::identity) plain = estimate;
  }
  std::vector<float> expected(truth.size());
  for (std::size_t i = 0; i < sum.size(); ++i) expected[i] = static_cast<float>(sum[i] / 8);
  INFO("largest difference " << max_difference(ensemble, expected) << " of max " << max_abs(expected));
  CHECK(max_difference(ensemble, expected) <= 1e-4 * max_abs(expected));
  CHECK(max_difference(ensemble, plain) > 1e-3 * max_abs(expected));  // the ensemble is not the plain network
}

TEST_CASE("LpdReconstructor: a geometry without the symmetries runs, but refuses the self-ensemble",
          "[learned][lpd_reconstructor]") {
  const ct::Geometry2D geometry = ellipse_geometry(16, 7);  // an odd number of parallel views
  const Projector projector(Serial{}, geometry);
  LpdReconstructor lpd(Serial{}, projector, inverse_operator_norm(projector), geometry,
                       read_lpd_weights_info(tiny_weights(projector, geometry, InitialPrimal::fbp), "test"));
  const std::vector<float> y = measured(projector, geometry, 0);
  std::vector<float> x(static_cast<std::size_t>(lpd.layer().image_size()));
  lpd.reconstruct(Serial{}, 1, y.data(), x.data());
  CHECK(max_abs(x) > 0);
  CHECK_THROWS_WITH(lpd.reconstruct(Serial{}, 1, y.data(), x.data(), true),
                    Catch::Contains("self-ensemble: the geometry is not symmetric under"));
}
