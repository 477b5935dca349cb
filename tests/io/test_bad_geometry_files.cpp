// The CT geometry readers on crafted bad files: the JSON and YAML orbit description (read_geometry_description) and
// the 12-column vector file (read_vector_file) check their sizes against ReadLimits before allocating, and
// only io_error escapes, naming the file and the field.
#include <catch2/catch.hpp>

#include <pnpdist/physics/ct/geometry_description.hpp>
#include <pnpdist/physics/ct/vector_file.hpp>

#include <string>
#include <vector>

#include "io/bad_input_support.hpp"

using pnpdist::io_error;
using pnpdist::ReadLimits;
using pnpdist::test::require_error;
using pnpdist::test::write_file;

namespace {

const pnpdist::ct::VolumeGeometry3D volume{8, 8, 8, 1.0, 1.0, 1.0};

std::string cone_description(const std::string& count) {
  return R"({"beam": "cone", "source_origin": 40.0, "origin_detector": 20.0,
             "detector": {"rows": 6, "cols": 7, "pixel_width": 2.0}, "angles": {"count": )" +
         count + "}}";
}

}  // namespace

TEST_CASE("read_geometry_description: an angle count beyond the allocation limit is refused before allocating",
          "[io][ct][bad-input]") {
  const std::string path = write_file("many_views.json", cone_description("2147483648"));
  require_error<io_error>([&] { (void)pnpdist::ct::read_geometry_description(path, volume); },
                          {path, "field angles.count", "needs 206158430208 bytes", "allocation limit"});
  ReadLimits limits;
  limits.max_allocation_bytes = 1000;
  const std::string eleven = write_file("eleven_views.json", cone_description("11"));
  require_error<io_error>([&] { (void)pnpdist::ct::read_geometry_description(eleven, volume, limits); },
                          {eleven, "field angles.count", "needs 1056 bytes"});
  CHECK(pnpdist::ct::read_geometry_description(write_file("ten_views.json", cone_description("10")), volume, limits)
            .views() == 10);
}

TEST_CASE("read_geometry_description: deep nesting and long files are io_errors", "[io][ct][bad-input]") {
  const std::string deep = write_file("deep.json", std::string(100000, '[') + std::string(100000, ']'));
  require_error<io_error>([&] { (void)pnpdist::ct::read_geometry_description(deep, volume); },
                          {deep, "nests deeper than ReadLimits::max_json_depth (64)"});
  ReadLimits limits;
  limits.max_header_bytes = 100;
  const std::string long_file = write_file("long.json", cone_description("3") + std::string(200, ' '));
  require_error<io_error>([&] { (void)pnpdist::ct::read_geometry_description(long_file, volume, limits); },
                          {long_file, "more than ReadLimits::max_header_bytes (100)"});
  const std::string bad_count = write_file("bad_count.json", cone_description("-3"));
  require_error<io_error>([&] { (void)pnpdist::ct::read_geometry_description(bad_count, volume); },
                          {bad_count, "field angles.count must be a positive integer, got -3"});
}

TEST_CASE("read_vector_file: views beyond the allocation limit and bad numbers are io_errors", "[io][ct][bad-input]") {
  std::string rows;
  for (int k = 0; k < 3; ++k) rows += "40 0 0  -20 0 0  0 1 0  0 0 1\n";
  const std::string path = write_file("three_views.txt", rows);
  ReadLimits limits;
  limits.max_allocation_bytes = 200;  // two views of 96 bytes
  require_error<io_error>(
      [&] { (void)pnpdist::ct::read_vector_file(path, pnpdist::ct::Beam::divergent, volume, 6, 7, limits); },
      {path, "line 3", "needs 288 bytes", "allocation limit of 200"});
  CHECK(pnpdist::ct::read_vector_file(path, pnpdist::ct::Beam::divergent, volume, 6, 7).views() == 3);
  const std::string bad = write_file("bad_number.txt", "40 0 0 -20 0 0 0 1 0 0 0 1e999\n");
  require_error<io_error>([&] { (void)pnpdist::ct::read_vector_file(bad, pnpdist::ct::Beam::divergent, volume, 6, 7); },
                          {bad, "line 1", "not a number: '1e999'"});
}

#if defined(PNPDIST_HAS_YAML)
TEST_CASE("read_geometry_description: YAML descriptions give the errors of JSON ones", "[io][ct][bad-input][yaml]") {
  const auto error = [&](const std::string& name, const std::string& text, std::initializer_list<std::string> parts) {
    const std::string path = write_file(name, text);
    std::vector<std::string> all{path};
    all.insert(all.end(), parts.begin(), parts.end());
    std::string message;
    try {
      (void)pnpdist::ct::read_geometry_description(path, volume);
    } catch (const io_error& e) {
      message = e.what();
    }
    for (const std::string& p : all) CHECK_THAT(message, Catch::Matchers::Contains(p));
  };
  const std::string cone = "beam: cone\nsource_origin: 40.0\norigin_detector: 20.0\n";
  error("missing.yaml", cone + "detector: {rows: 6, pixel_width: 2.0}\nangles: {count: 3}\n",
        {"field detector.cols missing"});
  error("wrong_type.yml", cone + "detector: {rows: '6', cols: 7, pixel_width: 2.0}\nangles: {count: 3}\n",
        {"field detector.rows must be a positive integer, got \"6\""});
  error("negative.yaml", cone + "detector:\n  rows: 6\n  cols: 7\n  pixel_width: -2.0\nangles: {count: 3}\n",
        {"field detector.pixel_width must be a positive number, got -2.0"});
  error("infinite.yaml", cone + "detector: {rows: 6, cols: 7, pixel_width: .inf}\nangles: {count: 3}\n",
        {"field detector.pixel_width must be a positive number, got \".inf\""});
  error("beam.yaml", "beam: fan\n", {"field beam must be \"cone\" or \"parallel\", got \"fan\""});
  // A fuzz finding: a value that is not UTF-8 made the message's JSON dump throw nlohmann's type_error.
  error("not_utf8.yaml", "beam: co\xF8" "e\n", {"line 1", "a scalar is not valid UTF-8"});
  error("malformed.yaml", cone + "detector: {rows: 6, cols: 7\n", {"is not valid YAML", "line "});
  error("many_views.yaml", cone + "detector: {rows: 6, cols: 7, pixel_width: 2.0}\nangles: {count: 2147483648}\n",
        {"field angles.count", "needs 206158430208 bytes", "allocation limit"});
  error("deep.yaml", std::string(100000, '[') + std::string(100000, ']'),
        {"nests deeper than ReadLimits::max_json_depth (64)"});
  // Nested aliases: 10^10 leaves from 600 bytes, refused by the expansion budget.
  std::string bomb = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int l = 1; l <= 10; ++l) {
    const std::string name = std::to_string(l), previous = std::to_string(l - 1);
    bomb.append("a").append(name).append(": &a").append(name).append(" [");
    for (int k = 0; k < 10; ++k) bomb.append(k ? ", *a" : "*a").append(previous);
    bomb.append("]\n");
  }
  error("laughs.yaml", bomb, {"line 6", "aliases expanded, exceeds ReadLimits::max_yaml_expanded_bytes (4194304"});
  // A description that uses anchors and aliases as intended is read like its expanded form.
  const std::string aliased = write_file("aliased.yaml", cone + R"(detector:
  rows: &n 6
  cols: *n
  pixel_width: &pixel 0.1496
  pixel_height: *pixel
angles: {count: 3, range_degrees: 180}
)");
  const std::string expanded = write_file("expanded.yaml", cone + R"(detector:
  rows: 6
  cols: 6
  pixel_width: 0.1496
  pixel_height: 0.1496
angles: {count: 3, range_degrees: 180}
)");
  const auto a = pnpdist::ct::read_geometry_description(aliased, volume);
  const auto b = pnpdist::ct::read_geometry_description(expanded, volume);
  REQUIRE(a.views() == 3);
  CHECK(a.projection_shape() == b.projection_shape());
  for (std::size_t k = 0; k < 3; ++k)
    for (std::size_t i = 0; i < 12; ++i) REQUIRE(a.vectors[k][i] == b.vectors[k][i]);
  ReadLimits tight;
  tight.max_yaml_expanded_bytes = 200;  // the description is charged 16 bytes per node plus its text
  require_error<io_error>([&] { (void)pnpdist::ct::read_geometry_description(aliased, volume, tight); },
                          {aliased, "exceeds ReadLimits::max_yaml_expanded_bytes (200"});
  ReadLimits limits;
  limits.max_header_bytes = 100;
  const std::string long_file = write_file("long.yaml", cone + std::string(200, '#'));
  require_error<io_error>([&] { (void)pnpdist::ct::read_geometry_description(long_file, volume, limits); },
                          {long_file, "more than ReadLimits::max_header_bytes (100)"});
}
#else
TEST_CASE("read_geometry_description: YAML without the pnpdist::yaml component is not_compiled", "[io][ct][yaml]") {
  const std::string path = write_file("g.yaml", "beam: parallel\n");
  require_error<pnpdist::not_compiled>([&] { (void)pnpdist::ct::read_geometry_description(path, volume); },
                                       {path, "pnpdist::yaml"});
}
#endif
