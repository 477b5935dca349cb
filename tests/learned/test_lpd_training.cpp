// A short training run of a small learned primal-dual (3 steps, memories 5, width 8) at 64 x 64 with 30
// angles and 5% noise: 200 Adam steps (batch 1, lr 1e-3 with cosine decay) must lower the mean validation
// loss over 8 held-out phantoms to at most 70% of the initial network's (measured: 3.85e-2 -> 1.85e-2, 48%).
#include <catch2/catch.hpp>

#include <pnpdist/learned/lpd_training.hpp>
#include <pnpdist/physics/ct/projector.hpp>

#include "support/host_executors.hpp"

using namespace pnpdist;
using namespace pnpdist::learned;

TEST_CASE("training a small learned primal-dual for 200 steps lowers the validation loss by 30%", "[learned][slow]") {
#if defined(PNPDIST_HAS_OPENMP)
  const OpenMP exec{2};
#else
  const Serial exec{};
#endif
  const auto projector = ct::make_projector<float>(exec, ellipse_geometry(64, 30));
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  LpdConfig config;
  config.iterations = 3;
  config.width = 8;
  LearnedPrimalDual net(layer, config);
  nn::train::AdamOptions adam;
  adam.total_steps = 200;
  LpdTrainer trainer(exec, net, EllipseDataOptions{}, adam, 1);
  const LpdEvaluation before = trainer.evaluate(DataSplit::validation, 8);
  for (int t = 0; t < 200; ++t) trainer.step();
  const LpdEvaluation after = trainer.evaluate(DataSplit::validation, 8);
  INFO("validation loss " << before.loss << " -> " << after.loss << ", PSNR " << before.psnr << " -> " << after.psnr);
  CHECK(after.loss <= 0.7 * before.loss);
  CHECK(after.psnr > before.psnr + 1.5);
}
