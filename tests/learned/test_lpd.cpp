// Learned primal-dual (include/pnpdist/learned/): the projector layer's gradient is the matched adjoint
// (dot-product test), the whole network's backward pass against central finite differences in double
// (parallel and fan beam), output and gradients against PyTorch fixtures, the ellipse data (deterministic,
// disjoint splits, 5% noise), configuration errors,
// and resuming a training run from a checkpoint gives bitwise the weights of an uninterrupted run (and is
// refused in another convolution precision).
#include <catch2/catch.hpp>

#include <pnpdist/learned/lpd_training.hpp>
#include <pnpdist/io/npy.hpp>
#include <pnpdist/physics/ct/projector.hpp>
#include <pnpdist/tensor/random.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "lpd_test_support.hpp"

using namespace pnpdist;
using namespace pnpdist::learned;
using namespace lpd_test;


TEST_CASE("projector layer: backward of the projection is the scaled adjoint and vice versa", "[learned]") {
  const auto projector = ct::make_projector<double>(Serial{}, ellipse_geometry(12, 7));
  const ProjectorLayer layer(projector, 0.3);
  const index_t batch = 2;
  const auto x = random_vector<double>(batch * layer.image_size(), 1);
  const auto dy = random_vector<double>(batch * layer.sinogram_size(), 2);
  std::vector<double> y(dy.size()), dx(x.size(), 0.0), ty(dy.size(), 0.0);
  layer.forward(batch, x.data(), y.data());
  layer.backward_forward(batch, dy.data(), dx.data());
  CHECK(dot(y, dy) == Approx(dot(x, dx)).epsilon(1e-12));
  layer.backward_adjoint(batch, x.data(), ty.data());
  CHECK(ty == y);
  std::vector<double> adj(x.size());
  layer.adjoint(batch, dy.data(), adj.data());
  CHECK(adj == dx);
  CHECK_THROWS_AS(ProjectorLayer(projector, -1.0), invalid_argument);
  CHECK(inverse_operator_norm(projector) > 0);
}

TEST_CASE("learned primal-dual: backward equals finite differences, parallel beam", "[learned]") {
  check_lpd_gradient(ellipse_geometry(16, 5));
}

TEST_CASE("learned primal-dual: backward equals finite differences, fan beam", "[learned]") {
  check_lpd_gradient(ellipse_geometry(12, 4, ct::Beam::divergent));
}

TEST_CASE("learned primal-dual: output and parameter gradients equal PyTorch's (tools/make_lpd_fixtures.py)",
          "[learned]") {
  const std::string dir = PNPDIST_LEARNED_FIXTURES;
  const ExplicitProjector matrix(Extents<2>{6, 7}, Extents<2>{5, 9},
                                 read_npy<double, 2>(dir + "/lpd_tiny_matrix.npy"));
  const ProjectorLayer layer(matrix, 1.0);
  LearnedPrimalDual net(layer, tiny_config());
  net.parameters().load_safetensors(dir + "/lpd_tiny.safetensors");
  const auto data = read_npy<double, 3>(dir + "/lpd_tiny_data.npy");
  const auto expected = read_npy<double, 3>(dir + "/lpd_tiny_output.npy");
  const auto cotangent = read_npy<double, 3>(dir + "/lpd_tiny_cotangent.npy");
  const auto gradient = read_npy<double, 1>(dir + "/lpd_tiny_gradient.npy");
  std::vector<double> out(static_cast<std::size_t>(expected.size()));
  net.forward(Serial{}, 2, data.data(), out.data());
  for (index_t i = 0; i < expected.size(); ++i)
    CHECK(out[static_cast<std::size_t>(i)] == Approx(expected.data()[i]).margin(1e-10));
  net.parameters().zero_gradients();
  net.backward(Serial{}, cotangent.data());
  REQUIRE(gradient.size() == net.parameters().size());
  for (index_t i = 0; i < gradient.size(); ++i)
    CHECK(net.parameters().gradients()[static_cast<std::size_t>(i)] == Approx(gradient.data()[i]).margin(1e-10));
}

TEST_CASE("learned primal-dual: the paper's configuration by default, bad options are named", "[learned]") {
  const LpdConfig c;
  CHECK(c.iterations == 10);
  CHECK(c.primal_memory == 5);
  CHECK(c.dual_memory == 5);
  CHECK(c.width == 32);
  const auto projector = ct::make_projector<float>(Serial{}, ellipse_geometry(16, 4));
  const ProjectorLayer layer(projector, 1.0);
  // 10 x (dual: 7->32->32->5, primal: 6->32->32->5 convolutions with biases, two PReLUs of 32 slopes each).
  CHECK(LearnedPrimalDual(layer, c).parameters().size() == 253220);
  LpdConfig bad = c;
  bad.projected_channel = 5;
  CHECK_THROWS_WITH(LearnedPrimalDual(layer, bad), Catch::Contains("projected_channel"));
  bad = c;
  bad.iterations = 0;
  CHECK_THROWS_WITH(LearnedPrimalDual(layer, bad), Catch::Contains("iterations"));
}

TEST_CASE("ellipse data: deterministic, disjoint splits, noise 5% of the mean absolute data", "[learned]") {
  const auto projector = ct::make_projector<double>(Serial{}, ellipse_geometry(32, 30));
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  EllipseDataOptions o;
  o.seed = 3;
  std::vector<double> a(static_cast<std::size_t>(layer.image_size())), b(a.size());
  std::vector<double> ga(static_cast<std::size_t>(layer.sinogram_size())), gb(ga.size()), clean(ga.size());
  ellipse_sample(Serial{}, layer, o, DataSplit::train, 4, a.data(), ga.data());
  ellipse_sample(Serial{}, layer, o, DataSplit::train, 4, b.data(), gb.data());
  CHECK(a == b);
  CHECK(ga == gb);
  ellipse_sample(Serial{}, layer, o, DataSplit::validation, 4, b.data(), gb.data());
  CHECK(a != b);
  ellipse_sample(Serial{}, layer, o, DataSplit::test, 4, b.data(), gb.data());
  CHECK(a != b);
  layer.forward(1, a.data(), clean.data());
  double noise = 0, mean_abs = 0;
  for (std::size_t i = 0; i < ga.size(); ++i) {
    noise += (ga[i] - clean[i]) * (ga[i] - clean[i]);
    mean_abs += std::abs(clean[i]);
  }
  noise = std::sqrt(noise / static_cast<double>(ga.size()));
  mean_abs /= static_cast<double>(ga.size());
  CHECK(noise / mean_abs == Approx(0.05).epsilon(0.1));
  o.noise = -1;
  CHECK_THROWS_WITH(ellipse_sample(Serial{}, layer, o, DataSplit::train, 0, a.data(), ga.data()),
                    Catch::Contains("noise"));
}

TEST_CASE("training: resuming from a checkpoint gives bitwise the weights of an uninterrupted run", "[learned]") {
  const auto dir = std::filesystem::temp_directory_path() / "pnpdist_test_lpd_resume";
  std::filesystem::create_directories(dir);
  const std::string checkpoint = (dir / "run.ckpt").string();
  const auto projector = ct::make_projector<float>(Serial{}, ellipse_geometry(16, 6));
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  nn::train::AdamOptions adam;
  adam.total_steps = 6;
  const EllipseDataOptions data{};
  LearnedPrimalDual whole(layer, tiny_config());
  LpdTrainer uninterrupted(Serial{}, whole, data, adam, 2);
  for (int t = 0; t < 6; ++t) uninterrupted.step();
  {
    LearnedPrimalDual first(layer, tiny_config());
    LpdTrainer run(Serial{}, first, data, adam, 2);
    for (int t = 0; t < 3; ++t) run.step();
    run.save(checkpoint, 0.0);
  }
  LearnedPrimalDual second(layer, tiny_config());
  LpdTrainer resumed(Serial{}, second, data, adam, 2);
  resumed.resume(checkpoint);
  CHECK(resumed.steps_done() == 3);
  for (int t = 0; t < 3; ++t) resumed.step();
  CHECK(second.parameters().values() == whole.parameters().values());
  CHECK(whole.parameters().values() != LearnedPrimalDual(layer, tiny_config()).parameters().values());
  nn::train::AdamOptions other = adam;
  other.learning_rate = 2e-3;
  LpdTrainer mismatched(Serial{}, second, data, other, 2);
  CHECK_THROWS_WITH(mismatched.resume(checkpoint), Catch::Contains("another run"));

  // bf16 training convolutions change the weights: the float run's checkpoint is refused in bf16, and a bf16
  // run resumes its own checkpoint bitwise too (where oneDNN has bf16 convolutions: AVX-512 with bf16, or AMX).
  if (nn::train::conv3_train_uses_onednn<Serial, float>()) try {
    const std::uint64_t float_hash = resumed.options_hash();
    nn::train::set_train_conv_precision(nn::train::ConvPrecision::bf16);
    CHECK(resumed.options_hash() != float_hash);
    LearnedPrimalDual low(layer, tiny_config());
    LpdTrainer bf16_run(Serial{}, low, data, adam, 2);
    CHECK_THROWS_WITH(bf16_run.resume(checkpoint), Catch::Contains("another run"));
    LearnedPrimalDual low_whole(layer, tiny_config());
    LpdTrainer bf16_uninterrupted(Serial{}, low_whole, data, adam, 2);
    for (int t = 0; t < 4; ++t) bf16_uninterrupted.step();
    for (int t = 0; t < 2; ++t) bf16_run.step();
    bf16_run.save(checkpoint, 0.0);
    LearnedPrimalDual low_second(layer, tiny_config());
    LpdTrainer bf16_resumed(Serial{}, low_second, data, adam, 2);
    bf16_resumed.resume(checkpoint);
    for (int t = 0; t < 2; ++t) bf16_resumed.step();
    CHECK(low_second.parameters().values() == low_whole.parameters().values());
    nn::train::set_train_conv_precision(nn::train::ConvPrecision::f32);
    CHECK_THROWS_WITH(resumed.resume(checkpoint), Catch::Contains("another run"));
  } catch (const invalid_argument& e) {
    nn::train::set_train_conv_precision(nn::train::ConvPrecision::f32);
    REQUIRE_THAT(e.what(), Catch::StartsWith("bf16 training convolutions are not available on this CPU"));
    WARN("bf16 part skipped: " << e.what());
  }
  std::filesystem::remove_all(dir);
}
