// parse_yaml: YAML documents as the JSON tree of the same content (core-schema scalars, doubles bit-identical to
// nlohmann-json's parse of the same digits), and hostile documents (deep nesting, nested aliases) refused by
// ReadLimits before they grow. Built twice: with the pnpdist::yaml component, and without it (test_yaml_not_compiled),
// where parse_yaml must throw not_compiled naming the component.
#include <catch2/catch.hpp>

#include <pnpdist/io/yaml.hpp>

#include <sys/resource.h>

#include <chrono>
#include <string>

#include "io/bad_input_support.hpp"

using pnpdist::io_error;
using pnpdist::ReadLimits;
using pnpdist::test::require_error;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PNPDIST_TEST_HAS_ASAN 1
#endif
#endif
#if !defined(PNPDIST_TEST_HAS_ASAN)
#define PNPDIST_TEST_HAS_ASAN 0
#endif

#if defined(PNPDIST_HAS_YAML)

namespace {

nlohmann::json yaml(const std::string& text, const ReadLimits& limits = {}) {
  return pnpdist::parse_yaml(text, "test 'doc.yaml'", limits);
}

/// "a0: &a0 [x, x, ...]" then levels aliasing the previous `width` times each: width^levels leaves.
std::string laughs(int levels, int width) {
  std::string text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int l = 1; l <= levels; ++l) {
    const std::string name = std::to_string(l), previous = std::to_string(l - 1);
    text.append("a").append(name).append(": &a").append(name).append(" [");
    for (int k = 0; k < width; ++k) text.append(k ? ", *a" : "*a").append(previous);
    text.append("]\n");
  }
  return text;
}

}  // namespace

TEST_CASE("parse_yaml gives the JSON tree of the same content", "[io][yaml]") {
  const std::string digits[] = {"0.1496", "133.0", "66", "-2.5e-3", "1e300", "0.30000000000000004",
                                "123456789.123456789"};
  for (const std::string& d : digits) {
    const nlohmann::json j = nlohmann::json::parse("{\"v\": " + d + "}");
    const nlohmann::json y = yaml("v: " + d + "\n");
    REQUIRE(y == j);
    REQUIRE(y["v"].type() == j["v"].type());  // integer stays integer, float stays float
  }
  // Block and flow styles, nesting, quoted and plain strings, null, booleans, core-schema spellings.
  const nlohmann::json y = yaml(R"(beam: cone
detector:
  rows: 972
  cols: 0x10
  mode: "972"
  name: 'flat panel'
list: [1, -2, +3, .5, 1., 0o17]
none: ~
empty:
flag: True
text: !!str 12
inf: .inf
)");
  const nlohmann::json expected = nlohmann::json::parse(R"({"beam": "cone",
      "detector": {"rows": 972, "cols": 16, "mode": "972", "name": "flat panel"},
      "list": [1, -2, 3, 0.5, 1.0, 15], "none": null, "empty": null, "flag": true, "text": "12", "inf": ".inf"})");
  CHECK(y == expected);
  CHECK(y["list"][4].is_number_float());
  // Anchors and aliases are expanded into copies.
  CHECK(yaml("a: &p {x: 1}\nb: *p\n") == nlohmann::json::parse(R"({"a": {"x": 1}, "b": {"x": 1}})"));
  CHECK(yaml("").is_null());
}

TEST_CASE("parse_yaml: malformed and unsupported documents are io_errors", "[io][yaml][bad-input]") {
  require_error<io_error>([] { (void)yaml("a: [1, 2\n"); }, {"test 'doc.yaml' is not valid YAML", "line "});
  require_error<io_error>([] { (void)yaml("a: 1\n---\nb: 2\n"); },
                          {"test 'doc.yaml' holds more than one YAML document"});
  require_error<io_error>([] { (void)yaml("a: 1\na: 2\n"); }, {"test 'doc.yaml'", "line 2", "key 'a' is given twice"});
  require_error<io_error>([] { (void)yaml("? [1, 2]\n: 3\n"); }, {"a mapping key must be a scalar"});
  require_error<io_error>([] { (void)yaml("a: !custom 3\n"); }, {"tag '!custom' is not supported"});
  require_error<io_error>([] { (void)yaml("a: &x [1, *x]\n"); }, {"anchor whose node is not complete"});
}

TEST_CASE("parse_yaml: scalars and keys that are not UTF-8 are refused", "[io][yaml][bad-input]") {
  using pnpdist::detail::invalid_utf8_offset;
  constexpr auto npos = std::string_view::npos;
  // Well-formed: ASCII, 2-, 3- and 4-byte sequences at the edges of their ranges.
  for (const char* ok : {"mm", "\xC2\xB5m", "\xE2\x82\xAC", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEF\xBF\xBF",
                         "\xF0\x90\x80\x80", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"})
    CHECK(invalid_utf8_offset(ok) == npos);
  // Ill-formed: a lone continuation, overlong forms, a surrogate, above U+10FFFF, truncated, bytes never used.
  CHECK(invalid_utf8_offset("ab\x80") == 2);
  CHECK(invalid_utf8_offset("\xC0\x80") == 0);
  CHECK(invalid_utf8_offset("\xC1\xBF") == 0);
  CHECK(invalid_utf8_offset("x\xE0\x9F\xBF") == 1);
  CHECK(invalid_utf8_offset("\xED\xA0\x80") == 0);
  CHECK(invalid_utf8_offset("\xF0\x8F\xBF\xBF") == 0);
  CHECK(invalid_utf8_offset("\xF4\x90\x80\x80") == 0);
  CHECK(invalid_utf8_offset("\xE2\x82") == 0);
  CHECK(invalid_utf8_offset("\xE2\x82x") == 0);
  CHECK(invalid_utf8_offset("co\xF8" "e") == 2);
  CHECK(invalid_utf8_offset("\xFF") == 0);
  // A fuzz finding: yaml-cpp passes the byte 0xF8 through; the tree (and a message that prints it) would hold it.
  require_error<io_error>([] { (void)yaml("beam: co\xF8" "e\n"); },
                          {"test 'doc.yaml': line 1, column 7: a scalar is not valid UTF-8 (byte 2 of it)"});
  require_error<io_error>([] { (void)yaml("k\xC0\x80: 1\n"); }, {"line 1", "not valid UTF-8 (byte 1 of it)"});
  CHECK(yaml("unit: \xC2\xB5m\n")["unit"] == "\xC2\xB5m");
}

TEST_CASE("parse_yaml: deep nesting is refused at the depth limit", "[io][yaml][bad-input]") {
  // Flow and block nesting of 100000 levels: refused at level 65 (default max_json_depth 64), without
  // yaml-cpp's parser recursing further.
  require_error<io_error>([] { (void)yaml(std::string(100000, '[') + std::string(100000, ']')); },
                          {"test 'doc.yaml' nests deeper than ReadLimits::max_json_depth (64)"});
  std::string block;
  for (int k = 0; k < 200; ++k) block += std::string(static_cast<std::size_t>(k), ' ') + "k:\n";
  require_error<io_error>([&] { (void)yaml(block); }, {"nests deeper than ReadLimits::max_json_depth (64)"});
  ReadLimits shallow;
  shallow.max_json_depth = 3;
  CHECK(yaml("a: {b: {c: 1}}\n", shallow)["a"]["b"]["c"] == 1);  // three collections: allowed
  require_error<io_error>([&] { (void)yaml("a: {b: {c: [1]}}\n", shallow); }, {"max_json_depth (3)"});
}

TEST_CASE("parse_yaml: nested aliases (billion laughs) are refused before they are expanded", "[io][yaml][bad-input]") {
  // 10 levels of 10 aliases: 10^10 leaves (about 10^12 bytes expanded) from a 600-byte document.
  const std::string bomb = laughs(10, 10);
  REQUIRE(bomb.size() < 1000);
  const auto start = std::chrono::steady_clock::now();
  require_error<io_error>([&] { (void)yaml(bomb); },
                          {"test 'doc.yaml'", "line 6", "aliases expanded, exceeds ReadLimits::max_yaml_expanded_bytes "
                                                        "(4194304, at 16 bytes per node plus its text)"});
  // Refused at the first alias of a5 (line 6; a4, 10^5 leaves, is charged 2.1 MB) after a few milliseconds at
  // about 20 MB peak RSS; when the cap was max_header_bytes (100 MiB) the refusal came in a6 (line 7) after
  // 0.6-1.3 s at 366 MB.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
#if !defined(__SANITIZE_ADDRESS__) && !PNPDIST_TEST_HAS_ASAN
  // This test runs in a process of its own (one CTest test per test case): its peak is the refused parse's.
  rusage usage{};
  REQUIRE(getrusage(RUSAGE_SELF, &usage) == 0);
  CHECK(usage.ru_maxrss < 100 * 1024);  // KiB
#endif
  // The budget is the limit: 3 levels are charged 230,906 bytes (16 per sequence, 19 per "lol" leaf, 18 per
  // key; a3 alone holds 10^4 leaves): they fit 256 KiB, not 128 KiB.
  ReadLimits small;
  small.max_yaml_expanded_bytes = 256 << 10;
  const nlohmann::json fits = yaml(laughs(3, 10), small);
  CHECK(fits["a3"].size() == 10);
  CHECK(fits["a3"][9][9][9][9] == "lol");
  small.max_yaml_expanded_bytes = 128 << 10;
  require_error<io_error>([&] { (void)yaml(laughs(3, 10), small); },
                          {"exceeds ReadLimits::max_yaml_expanded_bytes (131072"});
  // The cap is its own limit: max_header_bytes (the text's) does not bound the tree.
  small.max_header_bytes = 1000;
  small.max_yaml_expanded_bytes = 256 << 10;
  CHECK(yaml(laughs(3, 10), small)["a3"].size() == 10);
}

#else

TEST_CASE("parse_yaml without the pnpdist::yaml component throws not_compiled naming it", "[io][yaml]") {
  require_error<pnpdist::not_compiled>([] { (void)pnpdist::parse_yaml("a: 1\n", "test 'doc.yaml'"); },
                                       {"test 'doc.yaml'", "YAML support was not compiled", "pnpdist::yaml",
                                        "yaml-cpp"});
}

#endif
