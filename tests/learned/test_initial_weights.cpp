// train_learned_primal_dual --initial-weights: a run starts from the file's weights (with a learning rate too
// small to move float weights, its weights after one step equal the file's to 1e-9, while the seeded
// initialisation is far from them), records the file in its metadata, refuses a file of another network or
// geometry (exit 1, naming both) and a checkpoint of a run without those initial weights.
// --conv-precision bf16: the run's weights differ from the float run's, its metadata records the precision,
// a float run refuses its checkpoint and an unknown precision is refused (exit 2).
#include <catch2/catch.hpp>

#include <pnpdist/backend/serial.hpp>
#include <pnpdist/io/safetensors.hpp>
#include <pnpdist/learned/ellipse_data.hpp>
#include <pnpdist/learned/lpd.hpp>
#include <pnpdist/physics/ct/projector.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using namespace pnpdist;
using namespace pnpdist::learned;

namespace {

const std::filesystem::path work = std::filesystem::temp_directory_path() / "pnpdist_initial_weights";
const std::string small = " --size 16 --angles 6 --iterations 2 --width 4 --validation 1 --threads 1 ";

// Each test case has its own directory: CTest runs them in parallel.
const std::filesystem::path bf16_work = std::filesystem::temp_directory_path() / "pnpdist_conv_precision";

int train(const std::string& arguments, const std::string& log, const std::filesystem::path& dir = work) {
  const std::string command = std::string("OMP_WAIT_POLICY=passive ") + PNPDIST_TRAIN_LPD + small + arguments +
                              " > " + (dir / log).string() + " 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const std::string& log, const std::filesystem::path& dir = work) {
  std::ifstream in(dir / log);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The largest difference between the parameters of two weights files of the small network.
double max_difference(const std::string& a, const std::string& b) {
  const auto projector = ct::make_projector<float>(Serial{}, ellipse_geometry(16, 6));
  const ProjectorLayer layer(projector, 1.0);
  LpdConfig config;
  config.iterations = 2;
  config.width = 4;
  LearnedPrimalDual first(layer, config), second(layer, config);
  first.load(a);
  second.load(b);
  double worst = 0;
  for (std::size_t i = 0; i < first.parameters().values().size(); ++i)
    worst = std::max(worst, static_cast<double>(std::abs(first.parameters().values()[i] -
                                                          second.parameters().values()[i])));
  return worst;
}

}  // namespace

TEST_CASE("train_learned_primal_dual --initial-weights starts from the file's weights", "[learned]") {
  std::filesystem::remove_all(work);
  std::filesystem::create_directories(work);
  const std::string a = (work / "a.safetensors").string(), b = (work / "b.safetensors").string(),
                    c = (work / "c.safetensors").string();
  const int status_a = train("--steps 5 --validate-every 5 --output " + a, "a.log");
  const int status_b =
      train("--steps 1 --validate-every 1 --lr 1e-12 --initial-weights " + a + " --output " + b, "b.log");
  const int status_c = train("--steps 1 --validate-every 1 --lr 1e-12 --output " + c, "c.log");
  INFO(read_text("a.log") << read_text("b.log") << read_text("c.log"));
  REQUIRE(status_a == 0);
  REQUIRE(status_b == 0);
  REQUIRE(status_c == 0);
  CHECK(max_difference(a, b) <= 1e-9);
  CHECK(max_difference(a, c) > 1e-3);  // the seeded initialisation is not the trained network
  CHECK(SafetensorsFile(b).metadata().at("pnpdist.lpd.initial_weights") == a);

  // Another network or geometry than the file's: refused before training, naming both.
  CHECK(train("--steps 1 --width 8 --initial-weights " + a, "width.log") == 1);
  CHECK(read_text("width.log").find("the file holds a network of 2 steps, memories 5/5, width 4, initial primal "
                                    "zero, this run trains one of 2 steps, memories 5/5, width 8") != std::string::npos);
  CHECK(train("--steps 1 --size 24 --initial-weights " + a, "size.log") == 1);
  CHECK(read_text("size.log").find("--initial-weights " + a + ": trained for parallel beam, 16 x 16") !=
        std::string::npos);

  // A checkpoint of the run without initial weights is not resumed by the run with them.
  const std::string checkpoint = (work / "run.ckpt").string();
  REQUIRE(train("--steps 4 --stop-at 2 --checkpoint " + checkpoint, "stop.log") == 0);
  CHECK(train("--steps 4 --checkpoint " + checkpoint + " --initial-weights " + a, "resume.log") == 1);
  CHECK(read_text("resume.log").find("belongs to another run") != std::string::npos);
}

TEST_CASE("train_learned_primal_dual --conv-precision bf16 trains in mixed precision", "[learned]") {
  const auto& dir = bf16_work;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string low = (dir / "bf16.safetensors").string(), full = (dir / "f32.safetensors").string();
  const std::string checkpoint = (dir / "bf16.ckpt").string();
  const int status = train("--steps 4 --stop-at 2 --conv-precision bf16 --checkpoint " + checkpoint, "stop.log", dir);
  if (status == 1 && read_text("stop.log", dir).find("not available on this CPU") != std::string::npos) {
    WARN("skipped: " << read_text("stop.log", dir));  // no bf16 convolution in oneDNN on this CPU
    return;
  }
  INFO(read_text("stop.log", dir));
  REQUIRE(status == 0);
  // A float run does not resume the bf16 checkpoint; the bf16 run does.
  CHECK(train("--steps 4 --checkpoint " + checkpoint, "float_resume.log", dir) == 1);
  CHECK(read_text("float_resume.log", dir).find("belongs to another run") != std::string::npos);
  REQUIRE(train("--steps 4 --conv-precision bf16 --checkpoint " + checkpoint + " --output " + low, "bf16.log", dir) == 0);
  REQUIRE(train("--steps 4 --output " + full, "f32.log", dir) == 0);
  const double difference = max_difference(low, full);
  CHECK(difference > 0);      // the convolutions ran in bf16
  CHECK(difference < 1e-2);   // four small steps from the same initialisation
  CHECK(SafetensorsFile(low).metadata().at("pnpdist.lpd.conv_precision").rfind("bf16", 0) == 0);
  CHECK(SafetensorsFile(full).metadata().count("pnpdist.lpd.conv_precision") == 0);
  CHECK(train("--steps 1 --conv-precision fp16", "bad.log", dir) == 2);
  CHECK(read_text("bad.log", dir).find("--conv-precision") != std::string::npos);
}
