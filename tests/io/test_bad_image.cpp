// read_image on crafted bad files: the size a PNG or JPEG header declares is checked against
// ReadLimits::max_allocation_bytes before the decoder allocates, and only io_error escapes.
#include <catch2/catch.hpp>

#include <pnpdist/io/image.hpp>

#include <cstdint>
#include <string>

#include "io/bad_input_support.hpp"
#include "physics/blur/blur_test_support.hpp"

#if defined(PNPDIST_HAS_IMAGEIO)
#include <zlib.h>
#endif

using pnpdist::io_error;
using pnpdist::ReadLimits;
using pnpdist::test::read_file;
using pnpdist::test::require_error;
using pnpdist::test::write_file;

namespace {

void put_big_endian(std::string& bytes, std::size_t at, std::uint32_t value, int count) {
  for (int b = 0; b < count; ++b)
    bytes[at + static_cast<std::size_t>(b)] = static_cast<char>((value >> (8 * (count - 1 - b))) & 0xffu);
}

}  // namespace

TEST_CASE("read_image: an .npy image whose shape overflows is an io_error", "[io][image][bad-input]") {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4294967296, 4294967296), }\n";
  std::string bytes = "\x93NUMPY\x01";
  bytes += '\0';
  bytes += pnpdist::test::little_endian(dict.size(), 2) + dict + std::string(12, '\0');
  const std::string path = write_file("overflow_image.npy", bytes);
  require_error<io_error>([&] { (void)pnpdist::read_image(path); }, {path, "overflows 64 bits"});
}

#if defined(PNPDIST_HAS_IMAGEIO)

namespace {

/// The fixture PNG with its IHDR declaring `width` x `height` (CRC recomputed, so libpng accepts it).
std::string png_claiming(std::uint32_t width, std::uint32_t height) {
  std::string png = read_file(pnpdist::test::blur_fixture("rgb8.png"));
  REQUIRE(png.compare(12, 4, "IHDR") == 0);
  put_big_endian(png, 16, width, 4);
  put_big_endian(png, 20, height, 4);
  const auto crc =
      static_cast<std::uint32_t>(::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(png.data() + 12), 17));
  put_big_endian(png, 29, crc, 4);
  return png;
}

/// The fixture JPEG with its baseline frame header declaring `width` x `height`.
std::string jpeg_claiming(std::uint16_t width, std::uint16_t height) {
  std::string jpeg = read_file(pnpdist::test::blur_fixture("rgb.jpg"));
  const std::size_t sof = jpeg.find("\xff\xc0");
  REQUIRE(sof != std::string::npos);
  put_big_endian(jpeg, sof + 5, height, 2);
  put_big_endian(jpeg, sof + 7, width, 2);
  return jpeg;
}

}  // namespace

TEST_CASE("read_image: a PNG claiming 100000 x 100000 is refused before decoding", "[io][image][bad-input]") {
  const std::string path = write_file("huge.png", png_claiming(100000, 100000));
  // 3 samples + 3 floats per pixel: 150 GB, against the default limit of 4 GiB.
  require_error<io_error>([&] { (void)pnpdist::read_image(path); },
                          {path, "a 100000 x 100000 PNG with 3 channel(s)", "needs 150000000000 bytes",
                           "allocation limit of 4294967296 bytes"});
}

TEST_CASE("read_image: a JPEG claiming 65500 x 65500 is refused before decoding", "[io][image][bad-input]") {
  const std::string path = write_file("huge.jpg", jpeg_claiming(65500, 65500));
  require_error<io_error>([&] { (void)pnpdist::read_image(path); },
                          {path, "a 65500 x 65500 JPEG with 3 channel(s)", "allocation limit"});
}

TEST_CASE("read_image: the allocation limit is settable", "[io][image][bad-input]") {
  // rgb8.png is 5 x 7 RGB: 35 pixels of 3 bytes and 3 floats, 525 bytes.
  const std::string png = pnpdist::test::blur_fixture("rgb8.png");
  ReadLimits limits;
  limits.max_allocation_bytes = 524;
  require_error<io_error>([&] { (void)pnpdist::read_image(png, limits); },
                          {"a 5 x 7 PNG", "needs 525 bytes", "limit of 524 bytes"});
  limits.max_allocation_bytes = 525;
  CHECK(pnpdist::read_image(png, limits).size() == 3 * 5 * 7);
  limits.max_allocation_bytes = 16;
  require_error<io_error>([&] { (void)pnpdist::read_image(pnpdist::test::blur_fixture("rgb.jpg"), limits); },
                          {"JPEG", "limit of 16 bytes"});
}

TEST_CASE("read_image: libpng refuses a PNG wider than the allocation limit allows in its header",
          "[io][image][bad-input]") {
  // 1 MiB allows 209715 pixels a side (one byte and one float each): libpng stops at the IHDR, before it
  // allocates a row buffer, and a width beyond libpng's own default of 10^6 is refused with the default limits.
  ReadLimits limits;
  limits.max_allocation_bytes = std::uint64_t{1} << 20;
  const std::string wide = write_file("wide.png", png_claiming(300000, 1));
  require_error<io_error>([&] { (void)pnpdist::read_image(wide, limits); },
                          {wide, "not a readable PNG", "Image width exceeds user limit"});
  const std::string tall = write_file("tall.png", png_claiming(1, 300000));
  require_error<io_error>([&] { (void)pnpdist::read_image(tall, limits); },
                          {tall, "not a readable PNG", "Image height exceeds user limit"});
  const std::string huge = write_file("huge_side.png", png_claiming(2000000, 1));
  require_error<io_error>([&] { (void)pnpdist::read_image(huge); }, {huge, "Image width exceeds user limit"});
  // Within the caps the fixture still reads.
  CHECK(pnpdist::read_image(pnpdist::test::blur_fixture("rgb8.png"), limits).size() == 3 * 5 * 7);
}

TEST_CASE("read_image: a PNG with a zero width or a bad CRC is an io_error", "[io][image][bad-input]") {
  const std::string zero = write_file("zero.png", png_claiming(0, 7));
  require_error<io_error>([&] { (void)pnpdist::read_image(zero); }, {zero, "not a readable PNG"});
  std::string bad_crc = png_claiming(5, 7);
  bad_crc[29] = static_cast<char>(bad_crc[29] ^ 0x55);
  const std::string path = write_file("crc.png", bad_crc);
  require_error<io_error>([&] { (void)pnpdist::read_image(path); }, {path, "not a readable PNG"});
}

TEST_CASE("read_image: a JPEG with a zero height or cut in its header is an io_error", "[io][image][bad-input]") {
  const std::string zero = write_file("zero.jpg", jpeg_claiming(8, 0));
  require_error<io_error>([&] { (void)pnpdist::read_image(zero); }, {zero, "not a readable JPEG"});
  const std::string cut = write_file("cut.jpg", jpeg_claiming(16, 16).substr(0, 40));
  require_error<io_error>([&] { (void)pnpdist::read_image(cut); }, {cut, "not a readable JPEG"});
}

#endif
