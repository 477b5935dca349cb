// The JSON pieces of result.json built with nlohmann-json: the options as resolved (OptionTable::options_json,
// also the checkpoint fingerprint) and the iteration records (records_json): types, key order, escaping, and
// NaN and infinities written as null.
#include "../example_options.hpp"
#include "../iteration_records.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <limits>
#include <string>
#include <vector>

using pnpdist_examples::OptionTable;

TEST_CASE("options_json: every resolved value with its JSON type, in the table's order") {
  OptionTable table("usage");
  pnpdist::index_t size = 64;
  double noise = 0.01, zero = 0;
  std::string text = "a \"quoted\"\nline\\", mode = "b";
  bool on = true, flag = false;
  std::array<pnpdist::index_t, 3> equal{8, 8, 8}, mixed{8, 16, 32};
  table.integer("--size", "h", size);
  table.number("--noise", "h", noise);
  table.number("--zero", "h", zero);
  table.text("--text", "T", "h", text);
  table.choice("--mode", "h", mode, {"a", "b"});
  table.boolean("--on", "h", on);
  table.integer_list<3>("--patch-size", "P", "h", equal);
  table.integer_list<3>("--overlap", "P", "h", mixed);
  table.flag("--quiet", "h", flag);

  const OptionTable::Json json = table.options_json();
  const std::string dumped = json.dump();
  CHECK(dumped ==
        R"({"size":64,"noise":0.01,"zero":0.0,"text":"a \"quoted\"\nline\\","mode":"b","on":true,"patch_size":8,)"
        R"("overlap":[8,16,32],"quiet":false})");
  CHECK(nlohmann::json::parse(dumped)["text"] == text);

  const char* argv[] = {"prog", "--size", "128", "--quiet", "--noise", "2.5e-3"};
  table.parse(6, const_cast<char**>(argv));
  const OptionTable::Json parsed = table.options_json();
  CHECK(parsed["size"] == 128);
  CHECK(parsed["quiet"] == true);
  CHECK(parsed["noise"].get<double>() == 2.5e-3);

  const OptionTable::Json kept = table.options_json([](const std::string& name) { return name != "--quiet"; });
  CHECK(kept.size() == json.size() - 1);
  CHECK_FALSE(kept.contains("quiet"));
}

namespace {

/// The message parse() throws for `args` (empty when it accepts them), with a fresh table of one option each kind.
std::string parse_error(std::vector<std::string> args, pnpdist::index_t* size_out = nullptr, bool* given = nullptr) {
  OptionTable table("usage");
  pnpdist::index_t size = 64;
  double noise = 0.01;
  bool quiet = false;
  std::string mode = "a";
  std::array<pnpdist::index_t, 2> patch{};
  table.integer("--size", "h", size, 8, 4096);
  table.number("--noise", "h", noise, 0.0);
  table.flag("--quiet", "h", quiet);
  table.choice("--mode", "h", mode, {"a", "b"});
  table.integer_list<2>("--patch-size", "P", "h", patch);
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  try {
    table.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const pnpdist::error& e) {
    return e.message();
  }
  if (size_out) *size_out = size;
  if (given) *given = table.given("--size");
  return {};
}

}  // namespace

TEST_CASE("parse: --name value and --name=value, unknown options, missing and bad values refused by name") {
  pnpdist::index_t size = 0;
  bool given = false;
  CHECK(parse_error({"--size", "16"}, &size, &given).empty());
  CHECK((size == 16 && given));
  CHECK(parse_error({"--size=32", "--noise=-0"}, &size).empty());
  CHECK(size == 32);
  CHECK(parse_error({"--size", "16", "--size", "24"}, &size).empty());  // repeated: the last value wins
  CHECK(size == 24);
  CHECK(parse_error({"--quiet"}, &size, &given).empty());
  CHECK((size == 64 && !given));
  CHECK(parse_error({"--size", "16", "--size", "abc"}) == "--size: 'abc' is not an integer");  // every value checked
  CHECK(parse_error({"--size", "4"}) == "--size: 4 is outside [8, 4096]");
  CHECK(parse_error({"--size=4"}) == "--size: 4 is outside [8, 4096]");
  CHECK(parse_error({"--noise", "-1"}) == "--noise: -1 is outside [0, 1.797693135e+308]");
  CHECK(parse_error({"--noise", "-inf"}) == "--noise: '-inf' is not a finite number");
  CHECK(parse_error({"--mode", "c"}) == "--mode: 'c' is not one of a|b");
  CHECK(parse_error({"--patch-size", "1,2,3"}) == "--patch-size: '1,2,3' needs 1 or 2 comma-separated integers");
  CHECK(parse_error({"--size"}) == "--size needs a value (see --help)");
  CHECK(parse_error({"--quiet", "--mode"}) == "--mode needs a value (see --help)");
  CHECK(parse_error({"--bogus", "3"}) == "unknown option '--bogus' (see --help)");
  CHECK(parse_error({"--size", "16", "stray"}) == "unknown option 'stray' (see --help)");
  CHECK(parse_error({"--siz", "16"}) == "unknown option '--siz' (see --help)");  // no prefix matching
}

TEST_CASE("records_json: counts as integers, NaN and infinities as null") {
  using pnpdist_examples::record_field_count;
  using pnpdist_examples::record_fields;
  pnpdist::IterationRecord r;
  r.iteration = 3;
  r.wall_seconds = 1.5;
  r.psnr = std::numeric_limits<double>::quiet_NaN();
  r.ssim = std::numeric_limits<double>::infinity();
  r.relative_change = -std::numeric_limits<double>::infinity();
  r.peak_rss_gradient_bytes = std::size_t{12345678901};  // more than 10 digits: written whole
  r.data_step_iterations = 7;
  const std::vector<std::vector<std::array<double, record_field_count>>> all{{pnpdist_examples::record_values(r)}, {}};

  const nlohmann::ordered_json json = pnpdist_examples::records_json(all);
  const std::string dumped = json.dump();
  CHECK(dumped.find("nan") == std::string::npos);
  CHECK(dumped.find("inf") == std::string::npos);
  const nlohmann::json back = nlohmann::json::parse(dumped);
  REQUIRE(back.size() == 2);
  CHECK(back[1].empty());
  const nlohmann::json& record = back[0][0];
  CHECK(record.size() == record_field_count);
  CHECK(json[0][0].begin().key() == record_fields[0]);
  CHECK(record["iteration"].is_number_integer());
  CHECK(record["iteration"] == 3);
  CHECK(record["wall_seconds"] == 1.5);
  CHECK(record["psnr"].is_null());
  CHECK(record["ssim"].is_null());
  CHECK(record["relative_change"].is_null());
  CHECK(record["peak_rss_gradient_bytes"].is_number_integer());
  CHECK(record["peak_rss_gradient_bytes"] == 12345678901LL);
  CHECK(record["data_step_iterations"] == 7);
}
