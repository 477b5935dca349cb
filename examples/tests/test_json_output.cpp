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
