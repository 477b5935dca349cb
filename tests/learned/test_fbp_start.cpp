// The FBP start of learned primal-dual (include/pnpdist/learned/fbp_start.hpp, LpdConfig::initial_primal):
// the backward pass against central finite differences with f0 = FBP(g / s) (parallel and fan beam); with
// every update block zeroed the network returns the FBP of the data (ct::fbp of the unscaled sinogram), which
// approximates the phantom; the start is recorded in the weights' metadata and weights of the other start are
// refused; the checkpoint options hash tells the starts apart.
#include <catch2/catch.hpp>

#include <pnpdist/learned/fbp_start.hpp>
#include <pnpdist/learned/lpd_training.hpp>
#include <pnpdist/physics/ct/fbp.hpp>
#include <pnpdist/physics/ct/projector.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "lpd_test_support.hpp"

using namespace pnpdist;
using namespace pnpdist::learned;
using namespace lpd_test;

namespace {

LpdConfig with_start(LpdConfig c, InitialPrimal start) {
  c.initial_primal = start;
  return c;
}

std::filesystem::path temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("FBP start: backward equals finite differences, parallel beam", "[learned]") {
  check_lpd_gradient(ellipse_geometry(16, 5), InitialPrimal::fbp);
}

TEST_CASE("FBP start: backward equals finite differences, fan beam", "[learned]") {
  check_lpd_gradient(ellipse_geometry(12, 4, ct::Beam::divergent), InitialPrimal::fbp);
}

TEST_CASE("FBP start: with the update blocks zeroed the network returns the FBP of the data", "[learned]") {
  for (const ct::Beam beam : {ct::Beam::parallel, ct::Beam::divergent}) {
    const ct::Geometry2D geometry = ellipse_geometry(48, beam == ct::Beam::parallel ? 60 : 120, beam);
    const auto projector = ct::make_projector<double>(Serial{}, geometry);
    const ProjectorLayer layer(projector, inverse_operator_norm(projector));
    LearnedPrimalDual net(layer, with_start(tiny_config(), InitialPrimal::fbp), fbp_start(Serial{}, layer));
    std::fill(net.parameters().values().begin(), net.parameters().values().end(), 0.0);
    std::vector<double> truth(static_cast<std::size_t>(layer.image_size())), out(truth.size());
    std::vector<double> g(static_cast<std::size_t>(layer.sinogram_size()));
    EllipseDataOptions data;
    data.noise = 0;
    data.interior = true;  // phantoms inside the field of view of every view
    ellipse_sample(Serial{}, layer, data, DataSplit::test, 1, truth.data(), g.data());
    net.forward(Serial{}, 1, g.data(), out.data());
    // Independently: the FBP of the unscaled sinogram y = g / s.
    Tensor<double, 2> y(layer.sinogram_shape()), expected(layer.image_shape());
    for (index_t i = 0; i < y.size(); ++i) y.data()[i] = g[static_cast<std::size_t>(i)] / layer.scale();
    ct::fbp<double>(Serial{}, geometry, y.const_view(), expected.view());
    for (index_t i = 0; i < expected.size(); ++i)
      REQUIRE(out[static_cast<std::size_t>(i)] == Approx(expected.data()[i]).margin(1e-12));
    // The scaling is that of the image: FBP of noiseless data is close to the phantom (PSNR against its range),
    // while FBP of the scaled data g itself would be off by the factor s.
    const double psnr = range_psnr<double>(layer.image_size(), out.data(), truth.data());
    INFO("beam " << (beam == ct::Beam::parallel ? "parallel" : "fan") << ": FBP start PSNR " << psnr << " dB, s = "
                 << layer.scale());
    CHECK(psnr > 28.0);  // measured 33.4 dB (parallel) and 37.3 dB (fan)
    CHECK(layer.scale() < 0.2);
    // With the zero start the zeroed network returns zero.
    LearnedPrimalDual zero(layer, tiny_config());
    std::fill(zero.parameters().values().begin(), zero.parameters().values().end(), 0.0);
    zero.forward(Serial{}, 1, g.data(), out.data());
    CHECK(std::all_of(out.begin(), out.end(), [](double v) { return v == 0.0; }));
  }
}

TEST_CASE("FBP start: every primal channel starts at f0 (batch of two)", "[learned]") {
  const ct::Geometry2D geometry = ellipse_geometry(16, 8);
  const auto projector = ct::make_projector<double>(Serial{}, geometry);
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  // One step whose primal block passes channel 1 of the memory to channel 0 (its last convolution's centre
  // tap), all else zero: the output is channel 1 of f0 = f0 itself, item by item.
  LpdConfig c = with_start(tiny_config(), InitialPrimal::fbp);
  c.iterations = 1;
  c.width = 2;
  LearnedPrimalDual net(layer, c, fbp_start(Serial{}, layer));
  auto& store = net.parameters();
  std::fill(store.values().begin(), store.values().end(), 0.0);
  // primal.0: conv1 (width <- Mp + 1), PReLU, conv2, PReLU, conv3 (Mp <- width): route input channel 1 through
  // hidden channel 0 (identity PReLU slopes 1) to output channel 0.
  const auto set = [&](const std::string& name, std::size_t index, double value) {
    const long k = store.find(name);
    REQUIRE(k >= 0);
    store.value(static_cast<std::size_t>(k))[index] = value;
  };
  const index_t in = c.primal_memory + 1;
  set("primal.0.conv1.weight", static_cast<std::size_t>((0 * in + 1) * 9 + 4), 1.0);
  set("primal.0.conv2.weight", static_cast<std::size_t>((0 * c.width + 0) * 9 + 4), 1.0);
  set("primal.0.conv3.weight", static_cast<std::size_t>((0 * c.width + 0) * 9 + 4), 1.0);
  for (const char* prelu : {"primal.0.prelu1.weight", "primal.0.prelu2.weight"})
    for (std::size_t j = 0; j < static_cast<std::size_t>(c.width); ++j) set(prelu, j, 1.0);
  const auto g = random_vector<double>(2 * layer.sinogram_size(), 7);
  std::vector<double> out(static_cast<std::size_t>(2 * layer.image_size()));
  net.forward(Serial{}, 2, g.data(), out.data());
  Tensor<double, 2> y(layer.sinogram_shape()), f0(layer.image_shape());
  for (index_t n = 0; n < 2; ++n) {
    for (index_t i = 0; i < y.size(); ++i)
      y.data()[i] = g[static_cast<std::size_t>(n * y.size() + i)] / layer.scale();
    ct::fbp<double>(Serial{}, geometry, y.const_view(), f0.view());
    for (index_t i = 0; i < f0.size(); ++i)  // f0 (channel 0) + f0 (channel 1, passed on)
      REQUIRE(out[static_cast<std::size_t>(n * f0.size() + i)] == Approx(2 * f0.data()[i]).margin(1e-10));
  }
}

TEST_CASE("FBP start: recorded in the weights, weights of the other start are refused", "[learned]") {
  const auto dir = temp_dir("pnpdist_test_lpd_fbp_start");
  const auto projector = ct::make_projector<float>(Serial{}, ellipse_geometry(16, 6));
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  LearnedPrimalDual zero(layer, tiny_config());
  LearnedPrimalDual fbp(layer, with_start(tiny_config(), InitialPrimal::fbp), fbp_start(Serial{}, layer));
  const std::string zero_file = (dir / "zero.safetensors").string(), fbp_file = (dir / "fbp.safetensors").string();
  const std::string bare_file = (dir / "bare.safetensors").string();
  zero.save(zero_file, {{"note", "kept"}});
  fbp.save(fbp_file);
  zero.parameters().save_safetensors(bare_file);  // no metadata: a file written before the option existed
  CHECK(SafetensorsFile(zero_file).metadata().at(initial_primal_key) == "zero");
  CHECK(SafetensorsFile(fbp_file).metadata().at(initial_primal_key) == "fbp");
  CHECK(SafetensorsFile(bare_file).metadata().empty());

  LearnedPrimalDual other_zero(layer, with_start(tiny_config(), InitialPrimal::zero));
  CHECK(other_zero.load(zero_file).at("note") == "kept");
  CHECK(other_zero.parameters().values() == zero.parameters().values());
  other_zero.load(bare_file);
  CHECK_THROWS_WITH(other_zero.load(fbp_file),
                    Catch::Contains("trained with initial primal fbp, this network starts from zero"));
  LearnedPrimalDual other_fbp(layer, with_start(tiny_config(), InitialPrimal::fbp), fbp_start(Serial{}, layer));
  other_fbp.load(fbp_file);
  CHECK(other_fbp.parameters().values() == fbp.parameters().values());
  CHECK_THROWS_WITH(other_fbp.load(zero_file),
                    Catch::Contains("trained with initial primal zero, this network starts from fbp"));
  CHECK_THROWS_WITH(other_fbp.load(bare_file),
                    Catch::Contains("trained with initial primal zero, this network starts from fbp"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("FBP start: configuration errors and the checkpoint options hash", "[learned]") {
  const auto projector = ct::make_projector<float>(Serial{}, ellipse_geometry(16, 6));
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  CHECK_THROWS_WITH(LearnedPrimalDual(layer, with_start(tiny_config(), InitialPrimal::fbp)),
                    Catch::Contains("initial_primal fbp needs the function"));
  CHECK_THROWS_WITH(LearnedPrimalDual(layer, tiny_config(), fbp_start(Serial{}, layer)),
                    Catch::Contains("initial_primal is zero"));
  CHECK(parse_initial_primal("fbp", "x") == InitialPrimal::fbp);
  CHECK_THROWS_WITH(parse_initial_primal("sirt", "--initial-primal"), Catch::Contains("'sirt' is neither"));
  CHECK_THROWS_AS(fbp_start(Serial{}, layer, ellipse_geometry(16, 7)), dimension_mismatch);

  // A checkpoint of a zero-start run is refused by an FBP-start run of otherwise the same options.
  const auto dir = temp_dir("pnpdist_test_lpd_fbp_hash");
  const std::string checkpoint = (dir / "run.ckpt").string();
  nn::train::AdamOptions adam;
  adam.total_steps = 2;
  LearnedPrimalDual zero(layer, tiny_config());
  LearnedPrimalDual fbp(layer, with_start(tiny_config(), InitialPrimal::fbp), fbp_start(Serial{}, layer));
  LpdTrainer zero_run(Serial{}, zero, EllipseDataOptions{}, adam, 1);
  LpdTrainer fbp_run(Serial{}, fbp, EllipseDataOptions{}, adam, 1);
  CHECK(zero_run.options_hash() != fbp_run.options_hash());
  zero_run.step();
  zero_run.save(checkpoint, 0.0);
  CHECK_THROWS_WITH(fbp_run.resume(checkpoint), Catch::Contains("another run"));
  // A training step with the FBP start gives a finite loss and changes the weights.
  const std::vector<float> before = fbp.parameters().values();
  CHECK(std::isfinite(fbp_run.step()));
  CHECK(fbp.parameters().values() != before);
  std::filesystem::remove_all(dir);
}
