#pragma once
// Command-line parsing shared by the examples.
//
//  - OptionTable: a declarative table of typed options (integers, numbers, text, choices, 0|1 switches,
//    comma-separated per-axis lists and number lists, flags without a value). --help is generated from the table with every
//    option's default (the value before parsing), and options_json() gives every resolved value as one JSON
//    object (nlohmann::ordered_json, in the table's order) whose keys are the flag names with '_' for '-' (--patch-size -> "patch_size"). schema() describes
//    every option as data (flag, key, type, default, bounds, choices, help): the examples print it for
//    --options-json, and the runner (tools/pnpdist_runner/options.py) checks its configs against it.
//    parse() reads argv with CLI11 (each entry one CLI11 option whose callback is the entry's check), so
//    "--name value" and "--name=value" are both accepted.
// Bad input throws pnpdist::invalid_argument naming the option and the value.

#include <pnpdist/core/errors.hpp>
#include <pnpdist/core/types.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace pnpdist_examples {

/// The finite number `text` given for `option`.
inline double parse_number(const std::string& option, const char* text) {
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || !std::isfinite(value))
    throw pnpdist::invalid_argument(option + ": '" + text + "' is not a finite number");
  return value;
}

/// The integer `text` given for `option`.
inline long long parse_integer(const std::string& option, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end == text.c_str() || *end != '\0' || errno == ERANGE)
    throw pnpdist::invalid_argument(option + ": '" + text + "' is not an integer");
  return value;
}

/// `value` as text for messages and descriptions ("%.10g": 0.01, 1e+30).
inline std::string number_text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

/// A comma-separated list of N integers, or one integer used on every axis ("448" -> {448, 448}).
template <std::size_t N>
inline std::array<pnpdist::index_t, N> parse_integer_list(const std::string& option, const std::string& text) {
  std::vector<std::string> parts(1);
  for (const char c : text) {
    if (c == ',')
      parts.emplace_back();
    else
      parts.back() += c;
  }
  if (parts.size() != 1 && parts.size() != N)
    throw pnpdist::invalid_argument(option + ": '" + text + "' needs 1 or " + std::to_string(N) +
                                    " comma-separated integers");
  std::array<pnpdist::index_t, N> values{};
  for (std::size_t d = 0; d < N; ++d)
    values[d] = static_cast<pnpdist::index_t>(parse_integer(option, parts[parts.size() == 1 ? 0 : d]));
  return values;
}

/// A declarative command-line table (see the file comment).
class OptionTable {
public:
  /// An option's value as JSON (objects keep their keys' order).
  using Json = nlohmann::ordered_json;

  /// `usage` is printed first by --help (program name and purpose), `epilogue` after the options.
  explicit OptionTable(std::string usage, std::string epilogue = {})
      : usage_(std::move(usage)), epilogue_(std::move(epilogue)) {}

  /// A general option "--name METAVAR": set(text) parses and stores the value (throwing invalid_argument),
  /// value() gives the current value as JSON, shown() as plain text for --help (value() as JSON text by
  /// default). Its schema type is "text" (the metavar says what the text may be).
  void add(const std::string& name, const std::string& metavar, const std::string& help,
           std::function<void(const std::string&)> set, std::function<Json()> value,
           std::function<std::string()> shown = {}) {
    add_typed(name, metavar, help, std::move(set), std::move(value), std::move(shown), "text", nlohmann::json::object());
  }

  /// --name N: an integer in [low, high].
  void integer(const std::string& name, const std::string& help, pnpdist::index_t& target, pnpdist::index_t low = 0,
               pnpdist::index_t high = std::numeric_limits<pnpdist::index_t>::max(), const std::string& metavar = "N") {
    add_typed(
        name, metavar, help,
        [&target, name, low, high](const std::string& text) {
          const long long value = parse_integer(name, text);
          if (value < low || value > high)
            throw pnpdist::invalid_argument(name + ": " + text + " is outside [" + std::to_string(low) + ", " +
                                            std::to_string(high) + "]");
          target = static_cast<pnpdist::index_t>(value);
        },
        [&target] { return Json(target); }, [&target] { return std::to_string(target); }, "integer", bounds(low, high));
  }

  /// --name X: a finite number in [low, high].
  void number(const std::string& name, const std::string& help, double& target, double low = 0,
              double high = std::numeric_limits<double>::max(), const std::string& metavar = "X") {
    add_typed(
        name, metavar, help,
        [&target, name, low, high](const std::string& text) {
          const double value = parse_number(name, text.c_str());
          if (value < low || value > high)
            throw pnpdist::invalid_argument(name + ": " + text + " is outside [" + number_text(low) + ", " +
                                            number_text(high) + "]");
          target = value;
        },
        [&target] { return Json(target); }, [&target] { return number_text(target); }, "number", bounds(low, high));
  }

  /// --name TEXT: any text (a path, say); shown as `none` when empty.
  void text(const std::string& name, const std::string& metavar, const std::string& help, std::string& target) {
    add(
        name, metavar, help, [&target](const std::string& text) { target = text; },
        [&target] { return Json(target); }, [&target] { return target.empty() ? std::string("none") : target; });
  }

  /// --name a|b|c: one of `choices`.
  void choice(const std::string& name, const std::string& help, std::string& target, std::vector<std::string> choices) {
    std::string metavar;
    for (const std::string& c : choices) metavar += (metavar.empty() ? "" : "|") + c;
    add_typed(
        name, metavar, help,
        [&target, name, choices, metavar](const std::string& text) {
          for (const std::string& c : choices)
            if (c == text) {
              target = text;
              return;
            }
          throw pnpdist::invalid_argument(name + ": '" + text + "' is not one of " + metavar);
        },
        [&target] { return Json(target); }, [&target] { return target; }, "choice", {{"choices", choices}});
  }

  /// --name 0|1 (also true|false).
  void boolean(const std::string& name, const std::string& help, bool& target) {
    add_typed(
        name, "0|1", help,
        [&target, name](const std::string& text) {
          if (text == "1" || text == "true")
            target = true;
          else if (text == "0" || text == "false")
            target = false;
          else
            throw pnpdist::invalid_argument(name + ": '" + text + "' is not 0 or 1");
        },
        [&target] { return Json(target); }, [&target] { return std::string(target ? "1" : "0"); }, "boolean",
        nlohmann::json::object());
  }

  /// --name P or P,P,...: N non-negative integers (one value is used on every axis). JSON: a number when
  /// all are equal, otherwise an array.
  template <std::size_t N>
  void integer_list(const std::string& name, const std::string& metavar, const std::string& help,
                    std::array<pnpdist::index_t, N>& target) {
    add_typed(
        name, metavar, help,
        [&target, name](const std::string& text) {
          const auto values = parse_integer_list<N>(name, text);
          for (const pnpdist::index_t v : values)
            if (v < 0) throw pnpdist::invalid_argument(name + ": '" + text + "' has a negative value");
          target = values;
        },
        [&target] { return list_value(target); },
        [&target] {
          std::string s;
          for (std::size_t d = 0; d < N; ++d) s += (d ? "," : "") + std::to_string(target[d]);
          return s;
        },
        "integer_list", {{"length", N}, {"minimum", 0}});
  }

  /// --name a,b,...: a non-empty comma-separated list of finite numbers, each in [low, high].
  void number_list(const std::string& name, const std::string& help, std::vector<double>& target, double low = 0,
                   double high = std::numeric_limits<double>::max()) {
    add_typed(
        name, "X,X,...", help,
        [&target, name, low, high](const std::string& text) {
          std::vector<double> values;
          std::string item;
          for (std::size_t i = 0; i <= text.size(); ++i) {
            if (i < text.size() && text[i] != ',') {
              item += text[i];
              continue;
            }
            const double value = parse_number(name, item.c_str());
            if (value < low || value > high)
              throw pnpdist::invalid_argument(name + ": " + item + " is outside [" + number_text(low) + ", " +
                                              number_text(high) + "]");
            values.push_back(value);
            item.clear();
          }
          target = std::move(values);
        },
        [&target] { return Json(target); },
        [&target] {
          std::string s;
          for (const double v : target) {
            if (!s.empty()) s += ',';
            s += number_text(v);
          }
          return s;
        },
        "number_list", bounds(low, high));
  }

  /// --name without a value: sets target to true.
  void flag(const std::string& name, const std::string& help, bool& target) {
    entries_.push_back(Entry{name, "", help, [&target](const std::string&) { target = true; },
                             [&target] { return Json(target); }, "", "flag",
                             nlohmann::json::object(), nlohmann::json(false), true, false});
  }

  /// The flags answered before anything else is read: --help / -h prints help(), --options-json schema(), on
  /// stdout. Returns true when argv holds one of them (the first one found is answered). run_example answers them
  /// before MPI starts; parse() too, for programs without run_example.
  bool answer_early_flags(int argc, char** argv) const {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        std::fputs(help().c_str(), stdout);
        return true;
      }
      if (arg == "--options-json") {
        std::fputs((schema().dump(2) + "\n").c_str(), stdout);
        return true;
      }
    }
    return false;
  }

  /// Adds a check across options (a combination the per-option checks cannot see), run by parse() after the whole
  /// command line is read, in the order added; it throws to refuse the command line (an option error: exit 2).
  void add_check(std::function<void()> check) { checks_.push_back(std::move(check)); }

  /// Parses argv with CLI11 ("--name value" or "--name=value"), in the command line's order: each option's value
  /// goes through the table's check as it is read (a repeated option: the last value wins, every one checked),
  /// then the checks across options run (add_check). The early flags (answer_early_flags) are answered first, then
  /// the program exits with 0; an unknown option, a missing value or a bad value throws invalid_argument naming
  /// the option.
  void parse(int argc, char** argv) {
    if (answer_early_flags(argc, argv)) std::exit(0);
    CLI::App app;
    app.set_help_flag();  // no CLI11 help: answer_early_flags prints help(), generated from the table
    for (Entry& e : entries_) {
      if (e.is_flag) {
        const auto set = [&e] {
          e.given = true;
          e.set("");
        };
        app.add_flag_callback(e.name, set)->trigger_on_parse();
        continue;
      }
      const auto set = [&e](const CLI::results_t& values) {
        e.given = true;
        for (const std::string& value : values) e.set(value);
        return true;
      };
      app.add_option(e.name, set)->expected(1)->trigger_on_parse();
    }
    try {
      app.parse(argc, argv);
    } catch (const CLI::ArgumentMismatch& error) {  // "--size: 1 required ... missing": the option's name first
      const std::string what = error.what();
      throw pnpdist::invalid_argument(what.substr(0, what.find(':')) + " needs a value (see --help)");
    } catch (const CLI::ExtrasError&) {
      const std::vector<std::string> extras = app.remaining();
      throw pnpdist::invalid_argument("unknown option '" + (extras.empty() ? std::string() : extras.front()) +
                                      "' (see --help)");
    } catch (const CLI::ParseError& error) {
      throw pnpdist::invalid_argument(error.what());
    }
    for (const auto& check : checks_) check();
  }

  /// Whether parse() saw `name` on the command line (a default value is not "given").
  [[nodiscard]] bool given(const std::string& name) const {
    for (const Entry& e : entries_)
      if (e.name == name) return e.given;
    throw pnpdist::invalid_argument("internal: option " + name + " is not registered");
  }

  /// The --help text: usage, every option with its metavar, help and default, epilogue.
  [[nodiscard]] std::string help() const {
    std::string out = usage_ + "\n\nOptions (defaults in brackets):\n";
    for (const Entry& e : entries_) {
      std::string head = "  " + e.name + (e.metavar.empty() ? "" : " " + e.metavar);
      if (head.size() < 30)
        head.resize(30, ' ');
      else
        head += "\n" + std::string(30, ' ');
      std::string body = e.help;
      if (!e.is_flag) body += " [" + e.default_text + "]";
      // Continuation lines of the help text are indented under its first line.
      std::string indented;
      for (const char c : body) indented += c == '\n' ? std::string("\n") + std::string(30, ' ') : std::string(1, c);
      out += head + indented + "\n";
    }
    out += "  --help                      this text\n";
    out += "  --options-json              these options as JSON (types, defaults, bounds; for tools)\n";
    if (!epilogue_.empty()) out += "\n" + epilogue_ + "\n";
    return out;
  }

  /// Every option as data: {"usage": ..., "options": [{"flag": "--size", "key": "size", "type": "integer",
  /// "metavar": "N", "default": 512, "minimum": 1, "maximum": ..., "help": ...}, ...]}. Types: integer and
  /// number (inclusive "minimum"/"maximum"), choice ("choices"), boolean (0|1), integer_list ("length": 1
  /// value or that many), number_list (comma-separated numbers within "minimum"/"maximum"), flag (no value), text (anything the metavar describes; checked by the program).
  /// "default" is the value before parsing, as --help shows it.
  [[nodiscard]] nlohmann::json schema() const {
    nlohmann::json options = nlohmann::json::array();
    for (const Entry& e : entries_) {
      nlohmann::json option = {{"flag", e.name},       {"key", key_of(e.name)},      {"type", e.type},
                               {"metavar", e.metavar}, {"default", e.default_value}, {"help", e.help}};
      option.update(e.constraints);
      options.push_back(std::move(option));
    }
    return {{"schema", "pnpdist.options/1"}, {"usage", usage_}, {"options", std::move(options)}};
  }

  /// Every option's resolved value, {"size": 256, "patch_size": [8, 256, 256], ...} in the table's order; with
  /// `keep`, only the options whose name ("--size") it accepts.
  [[nodiscard]] Json options_json(const std::function<bool(const std::string&)>& keep = {}) const {
    Json out = Json::object();
    for (const Entry& e : entries_)
      if (!keep || keep(e.name)) out[key_of(e.name)] = e.value();
    return out;
  }

  /// One number when all values are equal, otherwise the array.
  template <std::size_t N>
  static Json list_value(const std::array<pnpdist::index_t, N>& values) {
    bool equal = true;
    for (std::size_t d = 1; d < N; ++d) equal = equal && values[d] == values[0];
    return equal ? Json(values[0]) : Json(values);
  }

private:
  struct Entry {
    std::string name, metavar, help;
    std::function<void(const std::string&)> set;
    std::function<Json()> value;
    std::string default_text;
    std::string type;            // schema(): integer, number, choice, boolean, integer_list, number_list, flag, text
    nlohmann::json constraints;  // schema(): minimum, maximum, choices, length
    nlohmann::json default_value;
    bool is_flag;
    bool given = false;
  };

  /// {"minimum": low, "maximum": high}, without the maximum when it is the type's largest value (no bound).
  template <class V>
  static nlohmann::json bounds(V low, V high) {
    nlohmann::json out = {{"minimum", low}};
    if (high < std::numeric_limits<V>::max()) out["maximum"] = high;
    return out;
  }

  /// "--patch-size" -> "patch_size".
  static std::string key_of(const std::string& flag) {
    std::string key = flag.substr(2);
    for (char& c : key)
      if (c == '-') c = '_';
    return key;
  }

  void add_typed(const std::string& name, const std::string& metavar, const std::string& help,
                 std::function<void(const std::string&)> set, std::function<Json()> value,
                 std::function<std::string()> shown, std::string type, nlohmann::json constraints) {
    nlohmann::json default_value = value();
    std::string default_text = shown ? shown() : default_value.dump();
    entries_.push_back(Entry{name, metavar, help, std::move(set), std::move(value), std::move(default_text),
                             std::move(type), std::move(constraints), std::move(default_value), false, false});
  }

  std::string usage_, epilogue_;
  std::vector<Entry> entries_;
  std::vector<std::function<void()>> checks_;
};

}  // namespace pnpdist_examples
