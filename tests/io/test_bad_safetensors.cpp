// SafetensorsFile on crafted bad files: the header is parsed by nlohmann-json with a depth limit, every
// size is checked before allocation, and every problem is an io_error naming the file, the tensor and the
// field. Also the header's metadata, read and written.
#include <catch2/catch.hpp>

#include <pnpdist/io/safetensors.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/bad_input_support.hpp"

using pnpdist::index_t;
using pnpdist::io_error;
using pnpdist::ReadLimits;
using pnpdist::SafetensorsFile;
using pnpdist::test::little_endian;
using pnpdist::test::require_error;
using pnpdist::test::write_file;

namespace {

/// A safetensors file with header `header` and `data_bytes` zero bytes of data.
std::string safetensors_bytes(const std::string& header, std::size_t data_bytes) {
  return little_endian(header.size(), 8) + header + std::string(data_bytes, '\0');
}

/// Opening a file with `header` and `data_bytes` of data throws io_error mentioning `parts`.
void require_header_error(const std::string& header, std::size_t data_bytes, std::initializer_list<std::string> parts,
                          const ReadLimits& limits = {}) {
  const std::string path = write_file("bad.safetensors", safetensors_bytes(header, data_bytes));
  std::vector<std::string> all{path};
  all.insert(all.end(), parts.begin(), parts.end());
  std::string message;
  try {
    SafetensorsFile file(path, limits);
  } catch (const io_error& e) {
    message = e.message();
  }
  INFO("header: " << header.substr(0, 200) << "\nmessage: " << message);
  REQUIRE(!message.empty());
  for (const std::string& part : all) CHECK(message.find(part) != std::string::npos);
}

}  // namespace

TEST_CASE("safetensors: 200 KB of nested brackets hit the depth limit, no recursion", "[io][safetensors][bad-input]") {
  const std::string deep_array = R"({"__metadata__":)" + std::string(200000, '[') + std::string(200000, ']') + "}";
  require_header_error(deep_array, 0, {"nests deeper than 64 levels"});
  std::string deep_object = "{";
  for (int i = 0; i < 100000; ++i) deep_object += R"("a":{)";
  deep_object += std::string(100001, '}');
  require_header_error(deep_object, 0, {"nests deeper than 64 levels"});
  // An unterminated nest is refused at the limit too, before the parser reaches the end of the text.
  require_header_error(std::string(300000, '['), 0, {"nests deeper"});
}

TEST_CASE("safetensors: the depth limit is settable", "[io][safetensors][bad-input]") {
  const std::string header = R"({"__metadata__":{"a":"b"},"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  ReadLimits shallow;
  shallow.max_json_depth = 1;
  require_header_error(header, 4, {"nests deeper than 1 levels"}, shallow);
  const std::string path = write_file("depth_ok.safetensors", safetensors_bytes(header, 4));
  CHECK(SafetensorsFile(path).entries().size() == 1);
}

TEST_CASE("safetensors: header lengths beyond the file or the limit are rejected before allocation",
          "[io][safetensors][bad-input]") {
  const std::string huge = write_file("huge_length.safetensors", little_endian(std::uint64_t{1} << 62, 8) + "{}");
  require_error<io_error>([&] { SafetensorsFile file(huge); },
                          {huge, "header length 4611686018427387904 exceeds the 2 bytes that follow it"});
  ReadLimits limits;
  limits.max_header_bytes = 8;
  require_header_error(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4,
                       {"exceeds the limit of 8 bytes", "max_header_bytes"}, limits);
  require_error<io_error>([&] { SafetensorsFile file(write_file("short.safetensors", "abc")); },
                          {"shorter than its 8-byte header length"});
  require_error<io_error>([] { SafetensorsFile file("/nonexistent/w.safetensors"); }, {"cannot open"});
}

TEST_CASE("safetensors: malformed JSON and entries of the wrong form are named", "[io][safetensors][bad-input]") {
  require_header_error(R"({"t":{"dtype":"F32")", 0, {"not valid JSON"});
  require_header_error("{\"t\xff\":1}", 0, {"not valid JSON"});  // invalid UTF-8
  require_header_error(R"([1,2])", 0, {"not a JSON object"});
  require_header_error(R"({"t":[1]})", 0, {"tensor 't'", "not an object"});
  require_header_error(R"({"__metadata__":[1]})", 0, {"'__metadata__' is not an object"});
  require_header_error(R"({"t":{"shape":[1],"data_offsets":[0,4]}})", 4, {"tensor 't' has no 'dtype'"});
  require_header_error(R"({"t":{"dtype":"F32","data_offsets":[0,4]}})", 4, {"tensor 't' has no 'shape'"});
  require_header_error(R"({"t":{"dtype":"F32","shape":[1]}})", 4, {"tensor 't' has no 'data_offsets'"});
  require_header_error(R"({"t":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", 4, {"'dtype' is not a string"});
  require_header_error(R"({"t":{"dtype":"F32","shape":1,"data_offsets":[0,4]}})", 4, {"'shape' is not an array"});
}

TEST_CASE("safetensors: extents that are negative, fractional or beyond int64 are rejected",
          "[io][safetensors][bad-input]") {
  for (const char* extent : {"-1", "1.5", "9223372036854775808", "\"4\"", "null"}) {
    INFO(extent);
    require_header_error(std::string(R"({"t":{"dtype":"F32","shape":[)") + extent + R"(],"data_offsets":[0,4]}})", 4,
                         {"tensor 't'", "not an extent"});
  }
}

TEST_CASE("safetensors: data_offsets must be a pair of integers inside the data section",
          "[io][safetensors][bad-input]") {
  require_header_error(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4,
                       {"'data_offsets' is [0], not a pair"});
  require_header_error(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})", 4, {"not a pair"});
  require_header_error(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", 4,
                       {"tensor 't'", "[0, 8] outside the 4-byte data section"});
  require_header_error(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4, {"[4, 0] outside"});
  require_header_error(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 8,
                       {"tensor 't' of shape (2) and dtype F32 needs 8 bytes, its offsets span 4"});
}

TEST_CASE("safetensors: a shape whose product overflows or exceeds the limit is rejected",
          "[io][safetensors][bad-input]") {
  require_header_error(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})", 4,
                       {"tensor 't'", "overflows 64 bits"});
  // 2^62 * 4 wraps to 0 in unchecked arithmetic: the offsets [0, 0] would match it.
  require_header_error(R"({"t":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})", 0,
                       {"overflows 64 bits"});
  // An empty tensor whose other extents overflow (its element count would overflow on reading).
  require_header_error(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})", 0,
                       {"overflows 64 bits"});
  ReadLimits limits;
  limits.max_allocation_bytes = 8;
  require_header_error(R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 16,
                       {"needs 16 bytes", "allocation limit of 8 bytes"}, limits);
}

TEST_CASE("safetensors: overlapping tensors are rejected", "[io][safetensors][bad-input]") {
  require_header_error(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      12, {"tensors 'a' [0, 8) and 'b' [4, 12) overlap"});
  require_header_error(
      R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})",
      8, {"overlap"});
  // Adjacent ranges and empty tensors are fine.
  const std::string path = write_file(
      "adjacent.safetensors",
      safetensors_bytes(
          R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"e":{"dtype":"F32","shape":[0],"data_offsets":[2,2]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
          8));
  CHECK(SafetensorsFile(path).entries().size() == 3);
}

TEST_CASE("safetensors: unsupported dtypes are named", "[io][safetensors][bad-input]") {
  require_header_error(R"({"t":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}})", 4,
                       {"tensor 't' has unsupported dtype 'I8'"});
}

TEST_CASE("safetensors: reading converts within the allocation limit", "[io][safetensors][bad-input]") {
  const std::string path =
      write_file("read_limit.safetensors",
                 safetensors_bytes(R"({"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", 8));
  ReadLimits limits;
  limits.max_allocation_bytes = 16;
  const SafetensorsFile file(path, limits);
  CHECK(file.read<float>("h") == std::vector<float>(4, 0.0f));
  require_error<io_error>([&] { (void)file.read<double>("h"); }, {"tensor 'h' read as 8-byte values", "needs 32 bytes"});
}

TEST_CASE("safetensors: names with JSON escapes are written and read back", "[io][safetensors]") {
  const std::string path = pnpdist::test::bad_input_path("escaped.safetensors");
  const std::string name = "a \"quoted\"\\name\n";
  pnpdist::write_safetensors(path, {{name, {2}, {1.0f, 2.0f}}});
  const SafetensorsFile file(path);
  REQUIRE(file.entries().size() == 1);
  CHECK(file.entries()[0].name == name);
  CHECK(file.read<float>(name) == std::vector<float>{1.0f, 2.0f});
  CHECK_THROWS_AS(pnpdist::write_safetensors(path, {{"x", {1}, {1.0f}}, {"x", {1}, {2.0f}}}),
                  pnpdist::invalid_argument);
}

TEST_CASE("safetensors: the metadata is read as strings (other values as their JSON text) and written",
          "[io][safetensors]") {
  const std::string header =
      R"({"__metadata__":{"a":"b","n":3,"o":{"x":[1]}},"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const std::string path = write_file("metadata.safetensors", safetensors_bytes(header, 4));
  const std::map<std::string, std::string> expected{{"a", "b"}, {"n", "3"}, {"o", R"({"x":[1]})"}};
  CHECK(SafetensorsFile(path).metadata() == expected);
  const std::string bare = write_file("no_metadata.safetensors", safetensors_bytes(
      R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4));
  CHECK(SafetensorsFile(bare).metadata().empty());
  const std::string written = write_file("written.safetensors", "");
  pnpdist::write_safetensors(written, {{"t", {2}, {1.0f, 2.0f}}}, {{"key", "value"}, {"quote", "a \"b\""}});
  const SafetensorsFile back(written);
  CHECK(back.metadata() == std::map<std::string, std::string>{{"key", "value"}, {"quote", "a \"b\""}});
  CHECK(back.read<float>("t") == std::vector<float>{1.0f, 2.0f});
}
