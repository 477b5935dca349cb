// TIFF: write -> read round trips are bit-exact for uint8, uint16 and float32 stacks; windows read the right
// samples; files written directly with libtiff (strips of several rows, LZW compression) read the same;
// unsupported and corrupt files give io_errors that name the file and the field.
#include <catch2/catch.hpp>

#include <pnpdist/io/tiff.hpp>
#include <pnpdist/tensor/owning_tensor.hpp>

#include <tiffio.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

using namespace pnpdist;
namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / "pnpdist_test_tiff";
  fs::create_directories(dir);
  return (dir / name).string();
}

// Writes one page with libtiff directly: `bits` bits of `format`, `rows_per_strip`, `compression`.
template <class T>
void write_raw(const std::string& path, const std::vector<T>& data, uint32_t rows, uint32_t cols, uint16_t format,
               uint32_t rows_per_strip, uint16_t compression = COMPRESSION_NONE) {
  TIFF* t = TIFFOpen(path.c_str(), "w");
  REQUIRE(t != nullptr);
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, cols);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, rows);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, static_cast<uint16_t>(8 * sizeof(T)));
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, uint16_t{1});
  TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, format);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  TIFFSetField(t, TIFFTAG_COMPRESSION, compression);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rows_per_strip);
  for (uint32_t r = 0; r < rows; ++r) REQUIRE(TIFFWriteScanline(t, const_cast<T*>(data.data() + r * cols), r, 0) == 1);
  TIFFClose(t);
}

template <class T>
Tensor<T, 3> pattern(index_t pages, index_t rows, index_t cols) {
  Tensor<T, 3> x(Extents<3>{pages, rows, cols});
  for (index_t i = 0; i < x.size(); ++i) {
    if constexpr (std::is_same_v<T, float>)
      x.data()[i] = static_cast<float>(i) * 0.37f - 11.0f + (i % 7 == 0 ? 1e-30f : 0.0f);
    else
      x.data()[i] = static_cast<T>((i * 7919) % (static_cast<index_t>(std::numeric_limits<T>::max()) + 1));
  }
  return x;
}

template <class T>
void check_round_trip(TiffSample expected) {
  const Tensor<T, 3> x = pattern<T>(3, 17, 23);
  const std::string path = temp_path("round_trip.tif");
  write_tiff(path, x.const_view());
  TiffReader reader(path);
  REQUIRE(reader.pages() == 3);
  Tensor<float, 2> page(Extents<2>{17, 23});
  for (index_t p = 0; p < 3; ++p) {
    const TiffPage info = reader.page(p);
    CHECK(info.rows == 17);
    CHECK(info.cols == 23);
    CHECK(info.sample == expected);
    reader.read(p, 0, 0, page.view());
    for (index_t r = 0; r < 17; ++r)
      for (index_t c = 0; c < 23; ++c) {
        const float want = static_cast<float>(x(p, r, c));
        REQUIRE(std::memcmp(&page(r, c), &want, sizeof(float)) == 0);  // bit-exact
      }
  }
}

}  // namespace

TEST_CASE("TIFF stacks round trip bit-exactly", "[io][tiff]") {
  check_round_trip<std::uint8_t>(TiffSample::uint8);
  check_round_trip<std::uint16_t>(TiffSample::uint16);
  check_round_trip<float>(TiffSample::float32);
}

TEST_CASE("TIFF windows and files written by libtiff", "[io][tiff]") {
  const uint32_t rows = 37, cols = 29;
  std::vector<std::uint16_t> data(rows * cols);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint16_t>(65535 - 13 * i);
  for (const uint16_t compression : {uint16_t{COMPRESSION_NONE}, uint16_t{COMPRESSION_LZW}}) {
    const std::string path = temp_path("strips.tif");
    write_raw(path, data, rows, cols, SAMPLEFORMAT_UINT, 5, compression);  // 8 strips, the last of 2 rows
    TiffReader reader(path);
    Tensor<float, 2> window(Extents<2>{11, 7});
    reader.read(0, 4, 20, window.view());  // rows 4..14 cross three strips
    for (index_t r = 0; r < 11; ++r)
      for (index_t c = 0; c < 7; ++c) REQUIRE(window(r, c) == static_cast<float>(data[(4 + r) * cols + 20 + c]));
    Tensor<float, 2> last(Extents<2>{1, cols});
    reader.read(0, rows - 1, 0, last.view());
    CHECK(last(0, 3) == static_cast<float>(data[(rows - 1) * cols + 3]));
    CHECK_THROWS_AS(reader.read(0, 30, 0, window.view()), invalid_argument);  // leaves the page
  }
  std::vector<std::uint8_t> bytes(rows * cols);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 31);
  const std::string path8 = temp_path("eight.tif");
  write_raw(path8, bytes, rows, cols, SAMPLEFORMAT_UINT, rows);
  TiffReader reader8(path8);
  CHECK(reader8.page(0).sample == TiffSample::uint8);
  Tensor<float, 2> all(Extents<2>{rows, cols});
  reader8.read(0, 0, 0, all.view());
  CHECK(all(2, 5) == static_cast<float>(bytes[2 * cols + 5]));
}

TEST_CASE("Unsupported and corrupt TIFF files give io_errors naming file and field", "[io][tiff]") {
  const auto message_of = [](const auto& action) -> std::string {
    try {
      action();
    } catch (const io_error& e) {
      return e.what();
    }
    return "no io_error";
  };
  SECTION("32-bit unsigned samples") {
    const std::string path = temp_path("uint32.tif");
    write_raw(path, std::vector<std::uint32_t>(16, 7u), 4, 4, SAMPLEFORMAT_UINT, 4);
    const std::string m = message_of([&] { (void)TiffReader(path).page(0); });
    CHECK(m.find("uint32.tif") != std::string::npos);
    CHECK(m.find("BitsPerSample 32") != std::string::npos);
  }
  SECTION("16-bit signed samples") {
    const std::string path = temp_path("int16.tif");
    write_raw(path, std::vector<std::int16_t>(16, -3), 4, 4, SAMPLEFORMAT_INT, 4);
    CHECK(message_of([&] { (void)TiffReader(path).page(0); }).find("SampleFormat 2") != std::string::npos);
  }
  SECTION("truncated file") {
    const std::string path = temp_path("truncated.tif");
    const Tensor<std::uint16_t, 3> x = pattern<std::uint16_t>(1, 64, 64);
    write_tiff(path, x.const_view());
    const auto size = fs::file_size(path);
    // The directory is written after the data: move it in front by rewriting the file cut in the middle of
    // the data, keeping the header. libtiff must then fail on the directory or on the strip.
    std::vector<char> content(size);
    std::ifstream(path, std::ios::binary).read(content.data(), static_cast<std::streamsize>(size));
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(content.data(), static_cast<std::streamsize>(size / 2));
    const std::string m = message_of([&] {
      TiffReader reader(path);
      Tensor<float, 2> page(Extents<2>{64, 64});
      reader.read(0, 0, 0, page.view());
    });
    CHECK(m.find("truncated.tif") != std::string::npos);
  }
  SECTION("strip data cut short") {
    // A valid directory whose strip runs past the end of the file (the file written first, then cut after
    // moving nothing: the strip data precede the directory, so cut a copy whose directory points beyond).
    const std::string path = temp_path("short_strip.tif");
    const Tensor<std::uint16_t, 3> x = pattern<std::uint16_t>(1, 32, 32);
    write_tiff(path, x.const_view());
    std::vector<char> content(fs::file_size(path));
    std::ifstream(path, std::ios::binary).read(content.data(), static_cast<std::streamsize>(content.size()));
    // Point the strip offsets past the end: StripOffsets (tag 273) of a single-strip page holds the offset
    // inline; find it in the directory and add the file size.
    std::uint32_t dir_offset;
    std::memcpy(&dir_offset, content.data() + 4, 4);
    std::uint16_t entries;
    std::memcpy(&entries, content.data() + dir_offset, 2);
    bool patched = false;
    for (std::uint16_t e = 0; e < entries; ++e) {
      char* entry = content.data() + dir_offset + 2 + 12 * e;
      std::uint16_t tag;
      std::memcpy(&tag, entry, 2);
      std::uint32_t count;
      std::memcpy(&count, entry + 4, 4);
      if (tag == 273 && count == 1) {
        std::uint32_t offset;
        std::memcpy(&offset, entry + 8, 4);
        offset += static_cast<std::uint32_t>(content.size());
        std::memcpy(entry + 8, &offset, 4);
        patched = true;
      }
    }
    REQUIRE(patched);
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(content.data(), static_cast<std::streamsize>(content.size()));
    const std::string m = message_of([&] {
      TiffReader reader(path);
      Tensor<float, 2> page(Extents<2>{32, 32});
      reader.read(0, 0, 0, page.view());
    });
    CHECK(m.find("short_strip.tif") != std::string::npos);
    CHECK(m.find("strip 0") != std::string::npos);
  }
  SECTION("a strip beyond the allocation limit") {
    const std::string path = temp_path("big_strip.tif");
    write_raw(path, std::vector<std::uint16_t>(64 * 64, 5), 64, 64, SAMPLEFORMAT_UINT, 64);
    ReadLimits limits;
    limits.max_allocation_bytes = 4096;
    const std::string m = message_of([&] { (void)TiffReader(path, limits).page(0); });
    CHECK(m.find("big_strip.tif' page 0: a strip needs 8192 bytes, more than the allocation limit of 4096") !=
          std::string::npos);
    CHECK(TiffReader(path).page(0).rows == 64);
  }
  SECTION("not a TIFF, missing file") {
    const std::string path = temp_path("not_a_tiff.tif");
    std::ofstream(path) << "hello";
    CHECK(message_of([&] { TiffReader reader(path); }).find("not_a_tiff.tif") != std::string::npos);
    CHECK(message_of([&] { TiffReader reader(temp_path("does_not_exist.tif")); }).find("cannot open") !=
          std::string::npos);
  }
}
