#include <catch2/catch.hpp>

#include <pnpdist/io/image.hpp>
#include <pnpdist/io/npy.hpp>
#include <pnpdist/physics/blur/psf.hpp>

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "physics/blur/blur_test_support.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

namespace {
std::string temp_path(const char* name) {
  std::filesystem::path path = std::filesystem::temp_directory_path();
  path /= "pnpdist_io_test_" + std::to_string(::getpid());
  path += name;
  return path.string();
}
}  // namespace

TEST_CASE("read_image reads .npy images of rank 2 and 3", "[io][image]") {
  const std::string path = temp_path("image.npy");
  Tensor<float, 2> plane(Extents<2>{3, 4});
  for (index_t i = 0; i < 12; ++i) plane.data()[i] = 0.1f * static_cast<float>(i);
  pnpdist::write_npy(path, plane.const_view());
  const auto image = pnpdist::read_image(path);
  REQUIRE(image.extents() == Extents<3>{1, 3, 4});
  CHECK(image(0, 2, 3) == plane(2, 3));
  const auto colour = pnpdist::read_image(pnpdist::test::blur_fixture("npy_arange_2x3x4.npy"));
  CHECK(colour.extents() == Extents<3>{2, 3, 4});
  pnpdist::write_image(path, colour.const_view());
  CHECK(pnpdist::read_image(path)(1, 2, 3) == colour(1, 2, 3));
  std::remove(path.c_str());
}

TEST_CASE("read_image rejects missing and unrecognized files", "[io][image][errors]") {
  CHECK_THROWS_AS(pnpdist::read_image("/nonexistent/image.png"), pnpdist::io_error);
  const std::string path = temp_path("text.png");
  std::ofstream(path) << "not an image";
  CHECK_THROWS_AS(pnpdist::read_image(path), pnpdist::io_error);
  Tensor<float, 3> two(Extents<3>{2, 4, 4});
  CHECK_THROWS_AS(pnpdist::write_image(path, two.const_view()), pnpdist::invalid_argument);
  CHECK_THROWS_AS(pnpdist::write_image(temp_path("x.bmp"), two.const_view()), pnpdist::invalid_argument);
  std::remove(path.c_str());
}

#if defined(PNPDIST_HAS_IMAGEIO)

TEST_CASE("read_image decodes PIL-written PNG and JPEG files", "[io][image]") {
  struct Case {
    const char* image;
    const char* expected;
    double tolerance;
  };
  // libjpeg-turbo and PIL decode with the same library: equal up to its integer rounding.
  const Case cases[] = {
      {"rgb8.png", "rgb8.npy", 1e-7}, {"gray16.png", "gray16.npy", 1e-7}, {"rgb.jpg", "rgb_jpg.npy", 1.5 / 255}};
  for (const Case& c : cases) {
    INFO(c.image);
    const auto image = pnpdist::read_image(pnpdist::test::blur_fixture(c.image));
    const auto expected = pnpdist::read_npy<float, 3>(pnpdist::test::blur_fixture(c.expected));
    REQUIRE(image.extents() == expected.extents());
    double worst = 0;
    for (index_t i = 0; i < image.size(); ++i)
      worst = std::max(worst, std::abs(double(image.data()[i]) - double(expected.data()[i])));
    CHECK(worst <= c.tolerance);
  }
}

TEST_CASE("write_image writes 8- and 16-bit PNGs that read back to the nearest level", "[io][image]") {
  Tensor<float, 3> image(Extents<3>{3, 5, 6});
  for (index_t i = 0; i < image.size(); ++i)
    image.data()[i] = static_cast<float>(i) / static_cast<float>(image.size() - 1);
  image(0, 0, 0) = -0.5f;  // clamped to 0
  image(2, 4, 5) = 1.5f;   // clamped to 1
  for (int bits : {8, 16}) {
    INFO(bits);
    const std::string path = temp_path("out.png");
    pnpdist::write_image(path, image.const_view(), bits);
    const auto back = pnpdist::read_image(path);
    REQUIRE(back.extents() == image.extents());
    const double levels = bits == 8 ? 255.0 : 65535.0;
    for (index_t i = 1; i + 1 < image.size(); ++i)
      CHECK(back.data()[i] == Approx(std::round(image.data()[i] * levels) / levels).margin(1e-7));
    CHECK(back(0, 0, 0) == 0.0f);
    CHECK(back(2, 4, 5) == 1.0f);
    // A gray PNG used as a PSF is normalized to sum 1.
    Tensor<float, 3> gray(Extents<3>{1, 3, 3});
    for (index_t i = 0; i < 9; ++i) gray.data()[i] = i == 4 ? 1.0f : 0.25f;
    pnpdist::write_image(path, gray.const_view(), bits);
    const auto psf = pnpdist::blur::read_psf<float>(path);
    const double quarter = std::round(0.25 * levels) / levels;  // 0.25 as stored
    CHECK(psf(1, 1) == Approx(1.0 / (1.0 + 8.0 * quarter)).epsilon(1e-6));
    std::remove(path.c_str());
  }
}

TEST_CASE("read_image reports truncated PNG and JPEG files as io_error", "[io][image][errors]") {
  for (const char* name : {"rgb8.png", "rgb.jpg"}) {
    INFO(name);
    std::ifstream in(pnpdist::test::blur_fixture(name), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string path = temp_path(name);
    std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    CHECK_THROWS_AS(pnpdist::read_image(path), pnpdist::io_error);
    std::remove(path.c_str());
  }
}

#else

TEST_CASE("PNG support says that it was not compiled", "[io][image]") {
  CHECK_THROWS_AS(pnpdist::read_image(pnpdist::test::blur_fixture("rgb8.png")), pnpdist::not_compiled);
}

#endif
