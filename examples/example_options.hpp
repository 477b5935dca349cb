#pragma once
// Command-line parsing shared by the examples: every option is "--name value" with a finite number, plus
// --help / -h. Bad input throws pnpdist::invalid_argument naming the option.

#include <pnpdist/core/errors.hpp>

#include <cmath>
#include <cstdlib>
#include <string>

namespace pnpdist_examples {

/// The finite number `text` given for `option`.
inline double parse_number(const std::string& option, const char* text) {
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || !std::isfinite(value))
    throw pnpdist::invalid_argument(option + ": '" + text + "' is not a finite number");
  return value;
}

/// Calls set(name, value) for every "--name value" pair; set returns false for an unknown name. --help and
/// -h call print_help() and exit(0).
template <class PrintHelp, class Set>
inline void parse_options(int argc, char** argv, const PrintHelp& print_help, const Set& set) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_help();
      std::exit(0);
    }
    if (i + 1 >= argc) throw pnpdist::invalid_argument("unknown option or missing value: '" + arg + "' (see --help)");
    if (!set(arg, parse_number(arg, argv[++i])))
      throw pnpdist::invalid_argument("unknown option '" + arg + "' (see --help)");
  }
}

}  // namespace pnpdist_examples
