// safetensors reading and DRUNet weight loading: round trips and every kind of corrupt or mismatched file.
#include <catch2/catch.hpp>

#include <pnpdist/io/safetensors.hpp>
#include <pnpdist/nn/drunet_weights.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "nn/nn_test_support.hpp"

using pnpdist::index_t;
using pnpdist::io_error;
using pnpdist::SafetensorsFile;
using pnpdist::nn::DRUNetConfig;

namespace {

std::string temp_path(const std::string& name) { return std::string("pnpdist_test_") + name + ".safetensors"; }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
std::string header_of(const std::string& bytes) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return bytes.substr(8, n);
}
/// The file with its header replaced (the length prefix updated).
std::string with_header(const std::string& bytes, const std::string& header) {
  const std::string old = header_of(bytes);
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + bytes.substr(8 + old.size());
}
std::string message_of(const std::string& path, const DRUNetConfig& config) {
  try {
    (void)pnpdist::nn::load_drunet_weights<float, 2>(path, config);
  } catch (const io_error& e) {
    return e.message();
  }
  return "no error";
}

const DRUNetConfig small{3, {2, 3, 4, 5}, 1, false};

}  // namespace

TEST_CASE("safetensors: write and read back", "[nn][safetensors]") {
  const std::string path = temp_path("roundtrip");
  pnpdist::write_safetensors(path,
                             {{"a", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"b.weight", {1}, {-0.5f}}, {"empty", {0, 4}, {}}});
  const SafetensorsFile file(path);
  REQUIRE(file.entries().size() == 3);
  CHECK(file.find("a")->shape == std::vector<index_t>{2, 3});
  CHECK(file.read<float>("a") == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(file.read<double>("b.weight") == std::vector<double>{-0.5});
  CHECK(file.read<float>("empty").empty());
  CHECK_THROWS_AS(file.read<float>("missing"), io_error);
  std::remove(path.c_str());
}

TEST_CASE("safetensors: the PyTorch fixtures parse, F16 and BF16 convert", "[nn][safetensors]") {
  const SafetensorsFile file(pnpdist::test::nn_fixture("drunet2d_color.safetensors"));
  const auto* head = file.find("m_head.weight");
  REQUIRE(head != nullptr);
  CHECK(head->shape == std::vector<index_t>{4, 4, 3, 3});
  CHECK(head->dtype == "F32");
  // A hand-made file: F16 1.0, -2.0, 2^-24 (subnormal) and BF16 1.5.
  const std::string path = temp_path("half");
  const std::string header =
      R"({"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[6,8]},"__metadata__":{"format":"pt"}})";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  bytes += header;
  const unsigned char data[8] = {0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xc0, 0x3f};
  bytes.append(reinterpret_cast<const char*>(data), 8);
  write_bytes(path, bytes);
  const SafetensorsFile half(path);
  const auto h = half.read<double>("h");
  CHECK(h[0] == 1.0);
  CHECK(h[1] == -2.0);
  CHECK(h[2] == Approx(5.960464477539063e-08));
  CHECK(half.read<float>("b")[0] == 1.5f);
  std::remove(path.c_str());
}

TEST_CASE("safetensors: corrupt files fail with a clear io_error", "[nn][safetensors]") {
  const std::string good = temp_path("good"), bad = temp_path("bad");
  pnpdist::write_safetensors(good, pnpdist::nn::to_safetensors(pnpdist::nn::random_drunet_weights<float, 2>(small, 3)));
  const std::string bytes = read_bytes(good);
  REQUIRE_NOTHROW(pnpdist::nn::load_drunet_weights<float, 2>(good, small));

  SECTION("shorter than the length prefix") {
    write_bytes(bad, bytes.substr(0, 5));
    CHECK_THROWS_WITH(SafetensorsFile(bad), Catch::Contains("shorter than its 8-byte header length"));
  }
  SECTION("header length beyond the end") {
    write_bytes(bad, bytes.substr(0, 8 + header_of(bytes).size() / 2));
    CHECK_THROWS_WITH(SafetensorsFile(bad), Catch::Contains("header length"));
  }
  SECTION("truncated data") {
    write_bytes(bad, bytes.substr(0, bytes.size() - 4));
    CHECK_THROWS_WITH(SafetensorsFile(bad), Catch::Contains("m_tail.weight") && Catch::Contains("outside"));
  }
  SECTION("malformed JSON") {
    std::string header = header_of(bytes);
    header[header.find(':')] = ';';
    write_bytes(bad, with_header(bytes, header));
    CHECK_THROWS_WITH(SafetensorsFile(bad), Catch::Contains("not valid JSON"));
  }
  SECTION("shape disagreeing with the offsets") {
    std::string header = header_of(bytes);
    const auto at = header.find("\"shape\":[2,4,3,3]");
    REQUIRE(at != std::string::npos);
    header.replace(at, 17, "\"shape\":[2,4,3,4]");
    write_bytes(bad, with_header(bytes, header));
    CHECK_THROWS_WITH(SafetensorsFile(bad), Catch::Contains("m_head.weight") && Catch::Contains("needs"));
  }
  SECTION("unsupported dtype") {
    std::string header = header_of(bytes);
    header.replace(header.find("F32"), 3, "I32");
    write_bytes(bad, with_header(bytes, header));
    CHECK_THROWS_WITH(SafetensorsFile(bad), Catch::Contains("unsupported dtype 'I32'"));
  }
  std::remove(good.c_str());
  std::remove(bad.c_str());
}

TEST_CASE("DRUNet weights: mismatches name the first offending tensor", "[nn][safetensors]") {
  const std::string path = temp_path("mismatch");
  auto tensors = pnpdist::nn::to_safetensors(pnpdist::nn::random_drunet_weights<float, 2>(small, 3));

  SECTION("wrong widths") {
    pnpdist::write_safetensors(path, tensors);
    const DRUNetConfig wider{3, {2, 3, 4, 6}, 1, false};
    const std::string m = message_of(path, wider);
    CHECK_THAT(m, Catch::Contains("m_down3.1.weight") && Catch::Contains("(5, 4, 2, 2)") &&
                      Catch::Contains("expects (6, 4, 2, 2)"));
  }
  SECTION("grayscale file for a colour network") {
    pnpdist::write_safetensors(path, pnpdist::nn::to_safetensors(pnpdist::nn::random_drunet_weights<float, 2>(
                                         DRUNetConfig{1, {2, 3, 4, 5}, 1, false}, 3)));
    CHECK_THAT(message_of(path, small), Catch::Contains("'m_head.weight' has shape (2, 2, 3, 3)"));
  }
  SECTION("missing tensor") {
    tensors.erase(tensors.begin() + 5);
    pnpdist::write_safetensors(path, tensors);
    CHECK_THAT(message_of(path, small), Catch::Contains("has no tensor 'm_down2.0.res.2.weight'"));
  }
  SECTION("more blocks than the file holds") {
    pnpdist::write_safetensors(path, tensors);
    CHECK_THAT(message_of(path, DRUNetConfig{3, {2, 3, 4, 5}, 2, false}),
               Catch::Contains("has no tensor 'm_down1.1.res.0.weight'"));
  }
  SECTION("unexpected tensor") {
    tensors.push_back({"m_head.bias", {2}, {0, 0}});
    pnpdist::write_safetensors(path, tensors);
    CHECK_THAT(message_of(path, small), Catch::Contains("holds tensor 'm_head.bias'"));
  }
  SECTION("biases expected") {
    pnpdist::write_safetensors(path, tensors);
    CHECK_THAT(message_of(path, DRUNetConfig{3, {2, 3, 4, 5}, 1, true}),
               Catch::Contains("has no tensor 'm_head.bias'"));
  }
  std::remove(path.c_str());
}

TEST_CASE("DRUNet weights: 2D files load into a 3D network by inflation, 3D files directly", "[nn][safetensors]") {
  const std::string path2 = temp_path("w2d"), path3 = temp_path("w3d");
  const auto w2 = pnpdist::nn::random_drunet_weights<float, 2>(small, 5);
  pnpdist::write_safetensors(path2, pnpdist::nn::to_safetensors(w2));
  const auto inflated = pnpdist::nn::load_drunet_weights<float, 3>(path2, small);
  const auto direct = pnpdist::nn::inflate_drunet_weights(w2);
  REQUIRE(inflated.layers.size() == direct.layers.size());
  for (std::size_t i = 0; i < direct.layers.size(); ++i) CHECK(inflated.layers[i].weight == direct.layers[i].weight);
  // The inflation itself: centre slice of 3x3x3 kernels, halved copies for the strided conv, copies for the transposed
  // one.
  CHECK(direct.layers[0].weight[9 + 4] == w2.layers[0].weight[4]);
  CHECK(direct.layers[0].weight[4] == 0.0f);
  CHECK(direct.layers[3].spec.kind == pnpdist::nn::ConvKind::down2);
  CHECK(direct.layers[3].weight[5] == w2.layers[3].weight[1] / 2);
  const auto& up = direct.layers[direct.layers.size() - 4];
  CHECK(up.spec.kind == pnpdist::nn::ConvKind::up2);
  CHECK(up.weight[6] == w2.layers[w2.layers.size() - 4].weight[2]);
  pnpdist::write_safetensors(path3, pnpdist::nn::to_safetensors(direct));
  const auto loaded3 = pnpdist::nn::load_drunet_weights<float, 3>(path3, small);
  for (std::size_t i = 0; i < direct.layers.size(); ++i) CHECK(loaded3.layers[i].weight == direct.layers[i].weight);
  std::remove(path2.c_str());
  std::remove(path3.c_str());
}
