// The shipped DRUNet weights (weights/drunet_gray.safetensors, drunet_color.safetensors, the PnP-stable
// drunet_gray_stable.safetensors, trained by tools/train_drunet.py, and drunet_color_deblur.safetensors, by
// tools/train_unrolled_deblur.py): infer_drunet_config on them and on the random-weight fixtures, its errors for
// files that are not DRUNet weights, the native network against PyTorch's output with the same weights
// (fixtures written by tools/make_trained_drunet_fixtures.py) on every host executor, and the gray weights
// inflated to the 3D network.
#include <catch2/catch.hpp>

#include <pnpdist/io/npy.hpp>
#include <pnpdist/io/safetensors.hpp>
#include <pnpdist/nn/nn.hpp>

#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "nn/nn_test_support.hpp"
#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::io_error;
using pnpdist::Tensor;
using pnpdist::nn::DRUNet;
using pnpdist::nn::DRUNetConfig;
using pnpdist::nn::infer_drunet_config;

namespace {

std::string shipped(const std::string& name) { return std::string(PNPDIST_WEIGHTS_DIR) + "/" + name; }

bool same_config(const DRUNetConfig& a, const DRUNetConfig& b) {
  return a.image_channels == b.image_channels && a.widths == b.widths && a.blocks == b.blocks && a.bias == b.bias;
}

/// The message of the io_error that infer_drunet_config throws for `path` ("" when it does not throw).
std::string infer_error(const std::string& path) {
  try {
    (void)infer_drunet_config(path);
  } catch (const io_error& e) {
    return e.what();
  }
  return "";
}

/// A temporary file name in the build folder, removed on destruction.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name) : path("test_trained_drunet_" + name + ".safetensors") {}
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("infer_drunet_config reads the architecture of official-layout files", "[nn][drunet][weights]") {
  // The configurations tools/make_drunet_fixtures.py builds its random networks with.
  CHECK(same_config(infer_drunet_config(pnpdist::test::nn_fixture("drunet2d_color.safetensors")),
                    DRUNetConfig{3, {4, 8, 12, 16}, 1, false}));
  CHECK(same_config(infer_drunet_config(pnpdist::test::nn_fixture("drunet2d_gray_bias.safetensors")),
                    DRUNetConfig{1, {4, 6, 8, 10}, 2, true}));
  CHECK(same_config(infer_drunet_config(pnpdist::test::nn_fixture("drunet3d_gray.safetensors")),
                    DRUNetConfig{1, {3, 4, 5, 6}, 1, false}));
  // The shipped weights: the architecture of docs/model_card.md.
  CHECK(same_config(infer_drunet_config(shipped("drunet_gray.safetensors")), DRUNetConfig{1, {16, 32, 64, 128}, 2}));
  CHECK(same_config(infer_drunet_config(shipped("drunet_color.safetensors")), DRUNetConfig{3, {16, 32, 64, 128}, 2}));
  CHECK(same_config(infer_drunet_config(shipped("drunet_color_deblur.safetensors")),
                    DRUNetConfig{3, {32, 64, 128, 256}, 2}));
  CHECK(same_config(infer_drunet_config(shipped("drunet_gray_stable.safetensors")),
                    DRUNetConfig{1, {16, 32, 64, 128}, 2}));
  // A file written from weights of a given configuration, without residual blocks.
  const DRUNetConfig no_blocks{2, {5, 7, 9, 11}, 0, true};
  TempFile file("no_blocks");
  pnpdist::write_safetensors(file.path,
                             pnpdist::nn::to_safetensors(pnpdist::nn::random_drunet_weights<float, 2>(no_blocks, 3)));
  CHECK(same_config(infer_drunet_config(file.path), no_blocks));
}

TEST_CASE("infer_drunet_config rejects files that are not DRUNet weights", "[nn][drunet][weights]") {
  const DRUNetConfig config{1, {4, 6, 8, 10}, 1, false};
  const auto tensors = pnpdist::nn::to_safetensors(pnpdist::nn::random_drunet_weights<float, 2>(config, 5));
  REQUIRE(tensors.front().name == "m_head.weight");

  SECTION("no DRUNet tensors at all") {
    TempFile file("foreign");
    pnpdist::write_safetensors(file.path, {{"encoder.conv.weight", {2, 2}, {1, 2, 3, 4}}});
    const std::string message = infer_error(file.path);
    CHECK_THAT(message, Catch::Contains("is not a DRUNet weights file") && Catch::Contains("m_head.weight") &&
                            Catch::Contains("encoder.conv.weight"));
  }
  SECTION("a head of the wrong rank") {
    TempFile file("head_rank");
    pnpdist::write_safetensors(file.path, {{"m_head.weight", {4, 2}, std::vector<float>(8, 0.f)}});
    CHECK_THAT(infer_error(file.path), Catch::Contains("'m_head.weight' has shape (4, 2)"));
  }
  SECTION("a missing downsampling convolution") {
    std::vector<pnpdist::SafetensorsTensor> cut;
    for (const auto& t : tensors)
      if (t.name != "m_down2.1.weight") cut.push_back(t);
    TempFile file("no_down2");
    pnpdist::write_safetensors(file.path, cut);
    CHECK_THAT(infer_error(file.path), Catch::Contains("m_down2.1.weight") && Catch::Contains("missing"));
  }
  SECTION("a missing residual convolution") {
    std::vector<pnpdist::SafetensorsTensor> cut;
    for (const auto& t : tensors)
      if (t.name != "m_up2.1.res.2.weight") cut.push_back(t);
    TempFile file("no_res");
    pnpdist::write_safetensors(file.path, cut);
    CHECK_THAT(infer_error(file.path), Catch::Contains("has no tensor 'm_up2.1.res.2.weight'"));
  }
  SECTION("a tensor of the wrong shape") {
    auto changed = tensors;
    for (auto& t : changed)
      if (t.name == "m_tail.weight") t.shape = {2, 2, 3, 3};  // same value count, other channel split
    TempFile file("tail_shape");
    pnpdist::write_safetensors(file.path, changed);
    CHECK_THAT(infer_error(file.path), Catch::Contains("'m_tail.weight' has shape (2, 2, 3, 3)"));
  }
  SECTION("a tensor DRUNet does not have") {
    auto extra = tensors;
    extra.push_back({"m_head.scale", {1}, {1.f}});
    TempFile file("extra");
    pnpdist::write_safetensors(file.path, extra);
    CHECK_THAT(infer_error(file.path), Catch::Contains("holds tensor 'm_head.scale'"));
  }
  SECTION("zero widths") {
    TempFile file("zero_widths");
    pnpdist::write_safetensors(file.path, {{"m_head.weight", {0, 2, 3, 3}, {}},
                                           {"m_down1.0.weight", {0, 0, 2, 2}, {}},
                                           {"m_down2.0.weight", {0, 0, 2, 2}, {}},
                                           {"m_down3.0.weight", {0, 0, 2, 2}, {}}});
    CHECK_THAT(infer_error(file.path),
               Catch::Contains("describes no valid DRUNet") && Catch::Contains("widths (0, 0, 0, 0)"));
  }
  SECTION("a file that does not exist") {
    CHECK_THROWS_AS(infer_drunet_config("no_such_weights_file.safetensors"), io_error);
  }
}

TEMPLATE_LIST_TEST_CASE("The shipped DRUNet weights reproduce PyTorch's output", "[nn][drunet][weights]",
                        pnpdist::test::HostExecutors) {
  using Exec = decltype(pnpdist::test::make_executor<TestType>());
  for (const std::string name : {"gray", "color", "gray_stable"}) {
    const std::string path = shipped("drunet_" + name + ".safetensors");
    DRUNet<2, float, Exec> net(pnpdist::nn::load_drunet_weights<float, 2>(path, infer_drunet_config(path)),
                               pnpdist::test::make_executor<TestType>());
    const std::string fixture = "trained_drunet_" + name;
    const auto x = pnpdist::read_npy<float, 4>(pnpdist::test::nn_fixture(fixture + "_input.npy"));
    const auto expected = pnpdist::read_npy<float, 4>(pnpdist::test::nn_fixture(fixture + "_output.npy"));
    const auto sigma = pnpdist::read_npy<float, 1>(pnpdist::test::nn_fixture(fixture + "_sigma.npy"));
    Tensor<float, 4> y(x.extents());
    net.denoise(x.const_view(), sigma(0), y.view());
    const double error = pnpdist::test::relative_error(y, expected);
    INFO(name << " network, engine " << decltype(net)::engine_type::name << ": relative error " << error);
    CHECK(error < 1e-4);
  }
}

TEST_CASE("The shipped gray weights load as a 3D DRUNet", "[nn][drunet][weights]") {
  // The inflated network on a volume whose slices all equal the fixture image gives PyTorch's 2D output on
  // every slice (its 3x3x3 kernels act within a slice; its 2x2x2 ones average and replicate along depth).
  const std::string path = shipped("drunet_gray.safetensors");
  const DRUNetConfig config = infer_drunet_config(path);
  DRUNet<3, float, pnpdist::Serial> net(pnpdist::nn::load_drunet_weights<float, 3>(path, config));
  const auto x = pnpdist::read_npy<float, 4>(pnpdist::test::nn_fixture("trained_drunet_gray_input.npy"));
  const auto expected = pnpdist::read_npy<float, 4>(pnpdist::test::nn_fixture("trained_drunet_gray_output.npy"));
  const auto sigma = pnpdist::read_npy<float, 1>(pnpdist::test::nn_fixture("trained_drunet_gray_sigma.npy"));
  REQUIRE(x.extent(0) == 1);
  const index_t depth = 3, h = x.extent(2), w = x.extent(3);
  Tensor<float, 5> volume(Extents<5>{1, 1, depth, h, w});
  for (index_t z = 0; z < depth; ++z)
    for (index_t i = 0; i < h; ++i)
      for (index_t j = 0; j < w; ++j) volume(0, 0, z, i, j) = x(0, 0, i, j);
  Tensor<float, 5> y(volume.extents());
  net.denoise(volume.const_view(), sigma(0), y.view());
  for (index_t z = 0; z < depth; ++z) {
    Tensor<float, 4> slice(Extents<4>{1, 1, h, w});
    for (index_t i = 0; i < h; ++i)
      for (index_t j = 0; j < w; ++j) slice(0, 0, i, j) = y(0, 0, z, i, j);
    const double error = pnpdist::test::relative_error(slice, expected);
    INFO("slice " << z << ": relative error " << error);
    CHECK(error < 1e-4);
  }
}
