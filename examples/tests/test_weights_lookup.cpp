// The weights lookup of the examples (weights_lookup.hpp): the order --weights, $PNPDIST_WEIGHTS_DIR, the
// default directories in turn, and the errors naming the places looked at.
#include "../weights_lookup.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace fs = std::filesystem;
using pnpdist_examples::find_weights;

namespace {

struct Dirs {
  fs::path root = fs::temp_directory_path() / ("pnpdist_weights_lookup_" + std::to_string(::getpid()));
  fs::path install = root / "install", source = root / "source", environment = root / "environment";
  Dirs() {
    fs::remove_all(root);
    for (const fs::path& dir : {install, source, environment}) fs::create_directories(dir);
  }
  ~Dirs() { fs::remove_all(root); }
  static std::string touch(const fs::path& file) {
    std::ofstream(file) << "x";
    return file.string();
  }
};

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const pnpdist::io_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("weights lookup: the first default directory holding the file wins", "[examples][unit]") {
  Dirs d;
  const std::string in_source = Dirs::touch(d.source / "w.safetensors");
  CHECK(find_weights("w.safetensors", "", nullptr, {d.install, d.source}) == in_source);
  const std::string in_install = Dirs::touch(d.install / "w.safetensors");
  CHECK(find_weights("w.safetensors", "", nullptr, {d.install, d.source}) == in_install);
  CHECK(find_weights("w.safetensors", "", "", {d.install, d.source}) == in_install);  // empty = unset
}

TEST_CASE("weights lookup: --weights, then PNPDIST_WEIGHTS_DIR, come before the defaults", "[examples][unit]") {
  Dirs d;
  Dirs::touch(d.install / "w.safetensors");
  const std::string in_environment = Dirs::touch(d.environment / "w.safetensors");
  const std::string chosen = Dirs::touch(d.root / "chosen.safetensors");
  const std::string environment = d.environment.string();
  CHECK(find_weights("w.safetensors", "", environment.c_str(), {d.install}) == in_environment);
  CHECK(find_weights("w.safetensors", chosen, environment.c_str(), {d.install}) == chosen);
}

TEST_CASE("weights lookup: a file missing where the user pointed is an error naming it", "[examples][unit]") {
  Dirs d;
  Dirs::touch(d.install / "w.safetensors");
  const std::string missing = (d.root / "missing.safetensors").string();
  CHECK_THAT(message_of([&] { find_weights("w.safetensors", missing, nullptr, {d.install}); }),
             Catch::Contains("--weights") && Catch::Contains(missing));
  const std::string empty_dir = d.environment.string();  // exists, but without the file
  CHECK_THAT(message_of([&] { find_weights("w.safetensors", "", empty_dir.c_str(), {d.install}); }),
             Catch::Contains("PNPDIST_WEIGHTS_DIR=" + empty_dir) &&
                 Catch::Contains((d.environment / "w.safetensors").string()));
  const std::string no_dir = (d.root / "no_such_dir").string();
  CHECK_THAT(message_of([&] { find_weights("w.safetensors", "", no_dir.c_str(), {d.install}); }),
             Catch::Contains("PNPDIST_WEIGHTS_DIR=" + no_dir));
}

TEST_CASE("weights lookup: nothing found names every place looked at and the ways out", "[examples][unit]") {
  Dirs d;
  const std::string message = message_of([&] { find_weights("w.safetensors", "", nullptr, {d.install, d.source}); });
  CHECK_THAT(message, Catch::Contains((d.install / "w.safetensors").string()) &&
                          Catch::Contains((d.source / "w.safetensors").string()) && Catch::Contains("--weights") &&
                          Catch::Contains("PNPDIST_WEIGHTS_DIR") && Catch::Contains("--denoiser tv"));
}

TEST_CASE("weights lookup: the installation's directory is next to the running program", "[examples][unit]") {
  const auto dirs = pnpdist_examples::default_weights_dirs();
  REQUIRE(dirs.size() == 1);
  const fs::path program = fs::read_symlink("/proc/self/exe");
  CHECK(dirs[0] == (program.parent_path() / PNPDIST_INSTALL_WEIGHTS_DIR).lexically_normal());
}

TEST_CASE("weights lookup: another network's file is named as such, without the DRUNet way out", "[examples][unit]") {
  Dirs d;
  const std::string message = message_of([&] {
    find_weights("lpd.safetensors", "", nullptr, {d.install}, "the learned primal-dual weights", " (--method lpd)");
  });
  CHECK_THAT(message, Catch::StartsWith("the learned primal-dual weights lpd.safetensors were not found") &&
                          Catch::Contains("set PNPDIST_WEIGHTS_DIR (--method lpd)") &&
                          !Catch::Contains("--denoiser tv"));
}
