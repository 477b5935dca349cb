// observe::progress: which iterations print a line (every one on a terminal or when asked; otherwise the
// first, one per interval of solve time, and the last) and what a line says.
#include <catch2/catch.hpp>

#include <pnpdist/solvers/observers.hpp>

#include <cstdio>
#include <string>
#include <vector>

using namespace pnpdist;

namespace {

/// The lines `progress` prints for iterations first..last of `max`, each taking `seconds`.
std::vector<std::string> printed_lines(observe::Progress progress, std::FILE* file, index_t first, index_t last,
                                       index_t max, double seconds) {
  progress.begin(first, max);
  const float pixel = 0;
  for (index_t k = first; k <= last; ++k) {
    IterationRecord r;
    r.iteration = k;
    r.iteration_seconds = seconds;
    r.psnr = 20.0 + static_cast<double>(k);
    r.relative_change = 1e-3;
    progress(r, View<const float, 1>(&pixel, Extents<1>{1}));
  }
  std::rewind(file);
  std::vector<std::string> lines;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), file) != nullptr) lines.emplace_back(buffer);
  return lines;
}

}  // namespace

TEST_CASE("progress: in a log, the first iteration, one line per interval and the last", "[solvers][progress]") {
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  // 1 s per iteration, a line every 2.5 s: iterations 1, 4 (3 s after the last line), 7, 10 (the last).
  const auto lines = printed_lines(observe::progress(true, false, 2.5, file), file, 1, 10, 10, 1.0);
  std::fclose(file);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].rfind("iteration 1/10  PSNR 21.00 dB  relative change 1.00e-03", 0) == 0);
  CHECK(lines[1].rfind("iteration 4/10  PSNR 24.00 dB", 0) == 0);
  CHECK(lines[2].rfind("iteration 7/10", 0) == 0);
  CHECK(lines[3].rfind("iteration 10/10", 0) == 0);
  CHECK(lines[1].find("1 s/it  ETA 0m 06s") != std::string::npos);
}

TEST_CASE("progress: every iteration when asked, none when disabled, resumed runs count from the resume",
          "[solvers][progress]") {
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  CHECK(printed_lines(observe::progress(true, true, 100.0, file), file, 1, 6, 6, 1.0).size() == 6);
  std::FILE* quiet = std::tmpfile();
  REQUIRE(quiet != nullptr);
  CHECK(printed_lines(observe::progress(false, true, 0.0, quiet), quiet, 1, 6, 6, 1.0).empty());
  std::FILE* resumed = std::tmpfile();
  REQUIRE(resumed != nullptr);
  const auto lines = printed_lines(observe::progress(true, false, 100.0, resumed), resumed, 4, 6, 6, 2.0);
  REQUIRE(lines.size() == 2);  // the first iteration after the resume and the last
  CHECK(lines[0].rfind("iteration 4/6", 0) == 0);
  CHECK(lines[0].find("2 s/it  ETA 0m 04s") != std::string::npos);
  std::fclose(file);
  std::fclose(quiet);
  std::fclose(resumed);
}
