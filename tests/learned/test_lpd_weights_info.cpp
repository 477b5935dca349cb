// What LPD weights files say about their training (include/pnpdist/learned/lpd_weights_info.hpp): the training
// noise's metadata text round trip and its refusals, and both shipped files (the default one records its noise,
// the first one has no metadata and takes the model card's 5%).
#include <catch2/catch.hpp>

#include <pnpdist/learned/lpd_weights_info.hpp>

#include <string>

using namespace pnpdist;
using namespace pnpdist::learned;

TEST_CASE("training noise: metadata text round trip and refusals", "[learned]") {
  for (const double level : {0.0, 0.05, 0.1, 0.0123456, 2.5})
    CHECK(parse_training_noise(training_noise_text(level), "test") == Approx(level).margin(5e-7));  // 6 decimals
  CHECK(training_noise_text(0.05) == "0.050000 relative to the mean absolute data");
  for (const std::string bad : {"", "0.05", "abc relative to the mean absolute data",
                                "-0.01 relative to the mean absolute data", "nan relative to the mean absolute data",
                                "0.05 relative to the peak", "0.05 relative to the mean absolute data!"})
    CHECK_THROWS_WITH(parse_training_noise(bad, "--weights f"),
                      Catch::StartsWith("--weights f: metadata pnpdist.lpd.noise must read") &&
                          Catch::Contains("got '" + bad + "'"));
}

TEST_CASE("training noise of the shipped LPD weights", "[learned]") {
  const std::string dir = PNPDIST_WEIGHTS_DIR;
  const LpdWeightsInfo fbp = read_lpd_weights_info(dir + "/lpd_ellipses_fbp.safetensors", "default");
  CHECK(fbp.noise_from_metadata);
  CHECK(fbp.training_noise == Approx(0.05).epsilon(1e-9));
  const LpdWeightsInfo first = read_lpd_weights_info(dir + "/lpd_ellipses.safetensors", "first");
  CHECK_FALSE(first.noise_from_metadata);
  CHECK(first.training_noise == 0.05);
}
