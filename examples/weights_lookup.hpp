#pragma once
// Where the examples find their DRUNet weights file (docs/examples.md, "Weights"), first match wins:
//
//   1. --weights PATH                          that file
//   2. $PNPDIST_WEIGHTS_DIR/NAME               when the variable is set and not empty
//   3. share/pnpdist/weights/NAME, found from the program's own location (PNPDIST_INSTALL_WEIGHTS_DIR: that
//      directory relative to the program's directory): the installation's, so a moved or DESTDIR-staged
//      installation still finds it; for a program in the build tree, the source tree's weights/, which
//      examples/CMakeLists.txt links there. No path of the source tree is compiled into the programs.
//
// Steps 1 and 2 are the user's choice: a file missing there is an error naming it, never a fall-through.
// When step 3 does not hold the file the error names the place looked at.

#include <pnpdist/core/errors.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#if !defined(PNPDIST_INSTALL_WEIGHTS_DIR)
#define PNPDIST_INSTALL_WEIGHTS_DIR "../share/pnpdist/weights"
#endif

namespace pnpdist_examples {

/// Step 3: the weights directory next to the running program (none when the program's path cannot be read).
inline std::vector<std::filesystem::path> default_weights_dirs() {
  std::vector<std::filesystem::path> dirs;
  std::error_code error;
  const std::filesystem::path program = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) dirs.push_back((program.parent_path() / PNPDIST_INSTALL_WEIGHTS_DIR).lexically_normal());
  return dirs;
}

/// The weights file `name` by the order above, with the environment directory and the default directories
/// given (environment_dir: nullptr or "" when unset). Throws pnpdist::io_error when the file is not found; its
/// message calls the file `what` and ends with `alternative` (the DRUNet prior's by default).
inline std::string find_weights(const std::string& name, const std::string& explicit_file, const char* environment_dir,
                                const std::vector<std::filesystem::path>& default_dirs,
                                const std::string& what = "the DRUNet weights",
                                const std::string& alternative = ", or choose --denoiser tv") {
  namespace fs = std::filesystem;
  if (!explicit_file.empty()) {
    if (!fs::is_regular_file(explicit_file)) throw pnpdist::io_error("--weights: no file '" + explicit_file + "'");
    return explicit_file;
  }
  if (environment_dir != nullptr && *environment_dir != '\0') {
    const fs::path file = fs::path(environment_dir) / name;
    if (!fs::is_regular_file(file))
      throw pnpdist::io_error("PNPDIST_WEIGHTS_DIR=" + std::string(environment_dir) + ": no file '" + file.string() +
                              "'");
    return file.string();
  }
  std::string looked;
  for (const fs::path& dir : default_dirs) {
    const fs::path file = dir / name;
    if (fs::is_regular_file(file)) return file.string();
    looked += "\n  " + file.string();
  }
  throw pnpdist::io_error(what + " " + name + " were not found; looked for (PNPDIST_WEIGHTS_DIR unset):" + looked +
                          "\npass --weights PATH, set PNPDIST_WEIGHTS_DIR" + alternative);
}

/// find_weights with $PNPDIST_WEIGHTS_DIR and default_weights_dirs().
inline std::string find_weights(const std::string& name, const std::string& explicit_file,
                                const std::string& what = "the DRUNet weights",
                                const std::string& alternative = ", or choose --denoiser tv") {
  return find_weights(name, explicit_file, std::getenv("PNPDIST_WEIGHTS_DIR"), default_weights_dirs(), what,
                      alternative);
}

}  // namespace pnpdist_examples
