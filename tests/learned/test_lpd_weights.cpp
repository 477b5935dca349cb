// The shipped learned primal-dual weights (docs/learned.md#model-card): they load into the paper's network and,
// on the first 4 test phantoms (128 x 128, 30 angles, 5% noise; a split training never drew from), reconstruct
// better than FBP. weights/lpd_ellipses.safetensors (zero start, no metadata): measured 32.85 dB against
// 26.77 dB; weights/lpd_ellipses_fbp.safetensors (FBP start, 116,000 steps), built from its own metadata:
// measured 38.85 dB against 26.77 dB.
#include <catch2/catch.hpp>

#include <pnpdist/learned/fbp_start.hpp>
#include <pnpdist/learned/lpd_training.hpp>
#include <pnpdist/learned/lpd_weights_info.hpp>
#include <pnpdist/physics/ct/projector.hpp>

#include "lpd_sample_support.hpp"

#include <string>
#include <vector>

using namespace pnpdist;
using namespace pnpdist::learned;

TEST_CASE("shipped LPD weights: the paper's network beats FBP on held-out ellipse phantoms", "[learned]") {
#if defined(PNPDIST_HAS_OPENMP)
  const OpenMP exec{2};
#else
  const Serial exec{};
#endif
  const auto projector = ct::make_projector<float>(exec, ellipse_geometry(128, 30));
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  LearnedPrimalDual net(layer, LpdConfig{});
  net.parameters().load_safetensors(std::string(PNPDIST_WEIGHTS_DIR) + "/lpd_ellipses.safetensors");
  const auto [lpd, fbp] = lpd_test::mean_psnrs(exec, layer, net, 4);
  INFO("LPD " << lpd << " dB, FBP " << fbp << " dB");
  CHECK(lpd >= 32.0);
  CHECK(lpd >= fbp + 5.0);
}

TEST_CASE("shipped FBP-start LPD weights: built from their metadata, well above FBP on held-out phantoms",
          "[learned]") {
#if defined(PNPDIST_HAS_OPENMP)
  const OpenMP exec{2};
#else
  const Serial exec{};
#endif
  const std::string path = std::string(PNPDIST_WEIGHTS_DIR) + "/lpd_ellipses_fbp.safetensors";
  const LpdWeightsInfo info = read_lpd_weights_info(path, path);
  REQUIRE(info.geometry_from_metadata);
  REQUIRE(info.config.initial_primal == InitialPrimal::fbp);
  REQUIRE(same_geometry(info.training_geometry, ellipse_geometry(128, 30)));
  const auto projector = ct::make_projector<float>(exec, info.training_geometry);
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  LearnedPrimalDual net(layer, info.config, fbp_start(exec, layer));
  net.load(path);
  REQUIRE(net.parameters().size() == 253220);
  const auto [lpd, fbp] = lpd_test::mean_psnrs(exec, layer, net, 4);
  INFO("LPD " << lpd << " dB, FBP " << fbp << " dB");
  CHECK(lpd >= 36.5);
  CHECK(lpd >= fbp + 10.0);
}
