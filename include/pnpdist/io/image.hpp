#pragma once
/// \file
/// Image files as C x H x W float tensors with values in [0, 1]:
///
///   read_image(path)              PNG (8 or 16 bit; gray, gray+alpha, RGB, RGBA, palette), JPEG (8 bit,
///                                 gray or colour), or a float32 .npy array (C x H x W, or H x W read as
///                                 1 x H x W). The format is recognized from the file's first bytes. Alpha
///                                 is dropped; gray images have C = 1, colour images C = 3. Integer
///                                 samples v become v / (2^bits - 1).
///   write_image(path, view, bits) PNG (C = 1 or 3, 8 or 16 bit) for a path ending in .png, float32 .npy
///                                 (values as they are) for .npy. A PNG holds integers in [0, 2^bits - 1]:
///                                 the values are clamped to [0, 1] and rounded to the nearest level.
///
/// Errors: a file that does not exist, cannot be decoded, or is truncated throws io_error naming the file
/// and the decoder's message; so does an image whose decoded size exceeds ReadLimits::max_allocation_bytes
/// (io/read_limits.hpp; checked from the header, before the decoder allocates); an unsupported shape or bit
/// depth throws invalid_argument. libpng's own allocations are capped as well (png_set_user_limits,
/// png_set_chunk_malloc_max, before the header is read): width and height at most
/// max_allocation_bytes / 5 (one byte and one float per pixel) and libpng's default of 10^6, an ancillary
/// chunk at most max_header_bytes and libpng's default of 8 MB. PNG and JPEG need
/// the pnpdist::imageio component (PNPDIST_HAS_IMAGEIO); without it they throw not_compiled (.npy always
/// works).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/io/npy.hpp"
#include "pnpdist/io/read_limits.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

#if defined(PNPDIST_HAS_IMAGEIO)
#include <csetjmp>

#include <jpeglib.h>
#include <png.h>
#endif

namespace pnpdist {

/// Format of an image file.
enum class ImageFormat { png, jpeg, npy, unknown };

/// The format of the file at `path`, from its first bytes. Throws io_error when it cannot be opened.
[[nodiscard]] inline ImageFormat detect_image_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require<io_error>(static_cast<bool>(in), [&] { return "read_image: cannot open '" + path + "'"; });
  unsigned char magic[8] = {};
  in.read(reinterpret_cast<char*>(magic), 8);
  const auto got = in.gcount();
  if (got >= 8 && magic[0] == 0x89 && magic[1] == 'P' && magic[2] == 'N' && magic[3] == 'G') return ImageFormat::png;
  if (got >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) return ImageFormat::jpeg;
  if (got >= 6 && magic[0] == 0x93 && std::memcmp(magic + 1, "NUMPY", 5) == 0) return ImageFormat::npy;
  return ImageFormat::unknown;
}

#if defined(PNPDIST_HAS_IMAGEIO)
namespace detail {

/// Decoded 8- or 16-bit interleaved samples (H x W x C).
struct DecodedImage {
  index_t height = 0;
  index_t width = 0;
  index_t channels = 0;  // in the buffer, alpha included
  int bits = 8;
  std::vector<unsigned char> bytes;
};

/// Checks, before anything is allocated, the bytes that decoding a `width` x `height` image with `channels`
/// samples of `bits` each and converting it to `colour` float planes needs against limits. Throws io_error.
inline void check_decoded_size(const std::string& path, const char* format, std::uint64_t width, std::uint64_t height,
                               std::uint64_t channels, int bits, std::uint64_t colour, const ReadLimits& limits) {
  // Per pixel: the decoded samples and the float output; widths and heights are below 2^32 in both formats.
  const std::uint64_t pixel_bytes = channels * static_cast<std::uint64_t>(bits == 16 ? 2 : 1) + colour * sizeof(float);
  std::uint64_t bytes = 0;
  const bool fits = checked_multiply(width, height, bytes) && checked_multiply(bytes, pixel_bytes, bytes);
  const std::string what = "read_image: '" + path + "': a " + std::to_string(width) + " x " + std::to_string(height) +
                           " " + format + " with " + std::to_string(channels) + " channel(s)";
  require<io_error>(fits, [&] { return what + " overflows 64-bit sizes"; });
  require_within_allocation_limit(what, bytes, limits);
}

/// State shared with libpng's error callback; only trivially destructible members cross a longjmp.
struct PngState {
  std::jmp_buf jump;
  char message[512];
  char warning[200];  ///< libpng's last warning (it names the field behind "Invalid IHDR data")
};

inline void png_error_callback(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngState*>(png_get_error_ptr(png));
  if (state->warning[0] != '\0')
    std::snprintf(state->message, sizeof(state->message), "%s (last warning: %s)", message, state->warning);
  else
    std::snprintf(state->message, sizeof(state->message), "%s", message);
  std::longjmp(state->jump, 1);
}
inline void png_warning_callback(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngState*>(png_get_error_ptr(png));
  std::snprintf(state->warning, sizeof(state->warning), "%s", message);
}

/// Header pass of a PNG read: configures the transformations and returns the decoded layout. Returns false
/// (message in state) on a libpng error. Every object touched after setjmp is owned by the caller.
inline bool png_read_header(PngState& state, png_structp png, png_infop info, std::FILE* file, png_uint_32& width,
                            png_uint_32& height, int& channels, int& bits, std::size_t& row_bytes) {
  if (setjmp(state.jump)) return false;
  png_init_io(png, file);
  png_read_info(png, info);
  const int color_type = png_get_color_type(png, info);
  bits = png_get_bit_depth(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bits < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (bits == 16) png_set_swap(png);  // native little-endian 16-bit samples
  png_read_update_info(png, info);
  width = png_get_image_width(png, info);
  height = png_get_image_height(png, info);
  channels = png_get_channels(png, info);
  bits = png_get_bit_depth(png, info);
  row_bytes = png_get_rowbytes(png, info);
  return true;
}

/// Data pass of a PNG read into `rows`. Returns false (message in state) on a libpng error.
inline bool png_read_rows(PngState& state, png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(state.jump)) return false;
  png_read_image(png, rows);
  png_read_end(png, info);
  return true;
}

inline DecodedImage decode_png(const std::string& path, const ReadLimits& limits) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  require<io_error>(file != nullptr, [&] { return "read_image: cannot open '" + path + "'"; });
  PngState state{};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, png_error_callback, png_warning_callback);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::fclose(file);
    throw io_error("read_image: libpng could not be initialized for '" + path + "'");
  }
  // libpng allocates its row buffers and ancillary chunks before check_decoded_size can run: cap them first.
  const std::uint64_t side =
      std::min<std::uint64_t>(limits.max_allocation_bytes / (1 + sizeof(float)), PNG_USER_WIDTH_MAX);
  png_set_user_limits(png, static_cast<png_uint_32>(side),
                      static_cast<png_uint_32>(std::min<std::uint64_t>(side, PNG_USER_HEIGHT_MAX)));
  png_set_chunk_malloc_max(
      png, static_cast<png_alloc_size_t>(std::min<std::uint64_t>(limits.max_header_bytes, PNG_USER_CHUNK_MALLOC_MAX)));
  png_uint_32 width = 0, height = 0;
  int channels = 0, bits = 0;
  std::size_t row_bytes = 0;
  DecodedImage image;
  bool ok = png_read_header(state, png, info, file, width, height, channels, bits, row_bytes);
  std::vector<png_bytep> rows;
  if (ok) {
    try {
      check_decoded_size(path, "PNG", width, height, static_cast<std::uint64_t>(channels), bits, channels >= 3 ? 3 : 1,
                         limits);
    } catch (...) {
      png_destroy_read_struct(&png, &info, nullptr);
      std::fclose(file);
      throw;
    }
    image.bytes.resize(row_bytes * height);
    rows.resize(height);
    for (png_uint_32 r = 0; r < height; ++r) rows[r] = image.bytes.data() + r * row_bytes;
    ok = png_read_rows(state, png, info, rows.data());
  }
  png_destroy_read_struct(&png, &info, nullptr);
  std::fclose(file);
  require<io_error>(ok, [&] { return "read_image: '" + path + "' is not a readable PNG: " + state.message; });
  image.height = height;
  image.width = width;
  image.channels = channels;
  image.bits = bits;
  return image;
}

/// State shared with libjpeg's error handler.
struct JpegState {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

inline void jpeg_error_exit(j_common_ptr info) {
  auto* state = reinterpret_cast<JpegState*>(info->err);
  (*info->err->format_message)(info, state->message);
  std::longjmp(state->jump, 1);
}
inline void jpeg_quiet(j_common_ptr, int) {}

/// Header pass of a JPEG read (gray stays gray, everything else becomes RGB): nothing is decoded yet.
/// Returns false on error.
inline bool jpeg_read_header_pass(JpegState& state, jpeg_decompress_struct& info, std::FILE* file) {
  if (setjmp(state.jump)) return false;
  jpeg_create_decompress(&info);
  jpeg_stdio_src(&info, file);
  jpeg_read_header(&info, TRUE);
  info.out_color_space = info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  return true;
}

/// Starts the decompressor (it allocates its buffers here). Returns false on error.
inline bool jpeg_start_pass(JpegState& state, jpeg_decompress_struct& info) {
  if (setjmp(state.jump)) return false;
  jpeg_start_decompress(&info);
  return true;
}

/// Data pass of a JPEG read. Returns false on error.
inline bool jpeg_read_rows(JpegState& state, jpeg_decompress_struct& info, unsigned char* data, std::size_t row_bytes) {
  if (setjmp(state.jump)) return false;
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = data + info.output_scanline * row_bytes;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  return true;
}

inline DecodedImage decode_jpeg(const std::string& path, const ReadLimits& limits) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  require<io_error>(file != nullptr, [&] { return "read_image: cannot open '" + path + "'"; });
  JpegState state{};
  jpeg_decompress_struct info{};
  info.err = jpeg_std_error(&state.manager);
  state.manager.error_exit = jpeg_error_exit;
  state.manager.emit_message = jpeg_quiet;
  DecodedImage image;
  bool ok = jpeg_read_header_pass(state, info, file);
  if (ok) {
    const std::uint64_t channels = info.out_color_space == JCS_GRAYSCALE ? 1 : 3;
    try {
      check_decoded_size(path, "JPEG", info.image_width, info.image_height, channels, 8, channels, limits);
    } catch (...) {
      jpeg_destroy_decompress(&info);
      std::fclose(file);
      throw;
    }
    ok = jpeg_start_pass(state, info);
  }
  if (ok) {
    image.height = info.output_height;
    image.width = info.output_width;
    image.channels = info.output_components;
    image.bits = 8;
    const std::size_t row_bytes = static_cast<std::size_t>(image.width * image.channels);
    image.bytes.resize(row_bytes * static_cast<std::size_t>(image.height));
    ok = jpeg_read_rows(state, info, image.bytes.data(), row_bytes);
  }
  jpeg_destroy_decompress(&info);
  std::fclose(file);
  require<io_error>(ok, [&] { return "read_image: '" + path + "' is not a readable JPEG: " + state.message; });
  return image;
}

/// C x H x W floats in [0, 1] from decoded interleaved samples; alpha (the 2nd of 2 or 4th of 4) dropped.
inline Tensor<float, 3, HostSpace> decoded_to_tensor(const DecodedImage& image) {
  const index_t colour = (image.channels >= 3) ? 3 : 1;
  Tensor<float, 3, HostSpace> out(Extents<3>{colour, image.height, image.width});
  const double scale = 1.0 / (image.bits == 16 ? 65535.0 : 255.0);
  for (index_t i = 0; i < image.height; ++i) {
    for (index_t j = 0; j < image.width; ++j) {
      const index_t base = (i * image.width + j) * image.channels;
      for (index_t c = 0; c < colour; ++c) {
        double v = 0;
        if (image.bits == 16) {
          std::uint16_t s = 0;
          std::memcpy(&s, image.bytes.data() + 2 * (base + c), 2);
          v = s;
        } else {
          v = image.bytes[static_cast<std::size_t>(base + c)];
        }
        out(c, i, j) = static_cast<float>(v * scale);
      }
    }
  }
  return out;
}

inline bool png_write_pass(PngState& state, png_structp png, png_infop info, std::FILE* file, png_uint_32 width,
                           png_uint_32 height, int bits, int color_type, png_bytepp rows) {
  if (setjmp(state.jump)) return false;
  png_init_io(png, file);
  png_set_IHDR(png, info, width, height, bits, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  if (bits == 16) png_set_swap(png);
  png_write_image(png, rows);
  png_write_end(png, info);
  return true;
}

}  // namespace detail
#endif

namespace detail {

inline Tensor<float, 3, HostSpace> read_image_unchecked(const std::string& path, const ReadLimits& limits) {
  const ImageFormat format = detect_image_format(path);
  if (format == ImageFormat::npy) {
    std::ifstream probe(path, std::ios::binary);
    char head[256] = {};
    probe.read(head, sizeof(head));
    const std::string header(head, static_cast<std::size_t>(probe.gcount()));
    // A 2-D array has a shape tuple with one comma between its two extents: "(H, W)".
    const auto open = header.find("'shape': (");
    const auto close = header.find(')', open);
    require<io_error>(open != std::string::npos && close != std::string::npos,
                      [&] { return "read_image: '" + path + "' has no readable .npy shape"; });
    const std::string shape = header.substr(open, close - open);
    const auto commas = std::count(shape.begin(), shape.end(), ',');
    if (commas == 1 && shape.back() != ',') {
      Tensor<float, 2, HostSpace> plane = read_npy<float, 2>(path, limits);
      Tensor<float, 3, HostSpace> out(Extents<3>{1, plane.extent(0), plane.extent(1)});
      std::copy(plane.data(), plane.data() + plane.size(), out.data());
      return out;
    }
    return read_npy<float, 3>(path, limits);
  }
  require<io_error>(format != ImageFormat::unknown,
                    [&] { return "read_image: '" + path + "' is not a PNG, JPEG or .npy file"; });
#if defined(PNPDIST_HAS_IMAGEIO)
  return decoded_to_tensor(format == ImageFormat::png ? decode_png(path, limits) : decode_jpeg(path, limits));
#else
  throw not_compiled("read_image('" + path +
                     "'): PNG and JPEG need the pnpdist::imageio component (libpng, libjpeg), not in this build");
#endif
}

}  // namespace detail

/// Reads an image file (see the file comment) as C x H x W floats in [0, 1] (.npy: values as stored), its
/// declared size checked against `limits` before the decoder allocates. Throws io_error (not_compiled for
/// PNG/JPEG in a build without the imageio component, dimension_mismatch for a .npy of rank other than 2, 3).
[[nodiscard]] inline Tensor<float, 3, HostSpace> read_image(const std::string& path,
                                                            const ReadLimits& limits = ReadLimits::from_environment()) {
  try {
    return detail::read_image_unchecked(path, limits);
  } catch (const pnpdist::error&) {
    throw;
  } catch (const std::exception& e) {
    throw io_error("read_image: '" + path + "': " + e.what());
  }
}

/// Writes a C x H x W image: a PNG (C = 1 gray or 3 RGB; `bits` 8 or 16; values clamped to [0, 1] and
/// rounded to the nearest of the 2^bits levels) when `path` ends in .png, a float32 .npy (values kept)
/// when it ends in .npy. Throws invalid_argument for another extension, channel count or bit depth,
/// io_error when the file cannot be written.
template <class T>
inline void write_image(const std::string& path, const View<T, 3, HostSpace>& image, int bits = 8) {
  const auto ends_with = [&](const char* suffix) {
    const std::size_t n = std::strlen(suffix);
    return path.size() >= n && path.compare(path.size() - n, n, suffix) == 0;
  };
  if (ends_with(".npy")) {
    Tensor<float, 3, HostSpace> copy(image.extents());
    for (index_t c = 0; c < image.extent(0); ++c)
      for (index_t i = 0; i < image.extent(1); ++i)
        for (index_t j = 0; j < image.extent(2); ++j) copy(c, i, j) = static_cast<float>(image(c, i, j));
    write_npy(path, copy.const_view());
    return;
  }
  require(ends_with(".png"),
          [&] { return "write_image: '" + path + "' must end in .png or .npy (the format is chosen by extension)"; });
  const index_t channels = image.extent(0);
  require(channels == 1 || channels == 3, [&] {
    return "write_image: a PNG holds 1 (gray) or 3 (RGB) channels, got an image of shape " + to_string(image.extents());
  });
  require(bits == 8 || bits == 16,
          [&] { return "write_image: PNG bit depth must be 8 or 16, got " + std::to_string(bits); });
#if defined(PNPDIST_HAS_IMAGEIO)
  const index_t height = image.extent(1);
  const index_t width = image.extent(2);
  const std::size_t sample_bytes = bits == 16 ? 2 : 1;
  const std::size_t row_bytes = static_cast<std::size_t>(width * channels) * sample_bytes;
  std::vector<unsigned char> bytes(row_bytes * static_cast<std::size_t>(height));
  const double levels = bits == 16 ? 65535.0 : 255.0;
  for (index_t i = 0; i < height; ++i) {
    for (index_t j = 0; j < width; ++j) {
      for (index_t c = 0; c < channels; ++c) {
        double v = static_cast<double>(image(c, i, j));
        v = std::isnan(v) ? 0.0 : std::clamp(v, 0.0, 1.0);
        const auto level = static_cast<unsigned>(std::lround(v * levels));
        const std::size_t at =
            static_cast<std::size_t>(i) * row_bytes + static_cast<std::size_t>(j * channels + c) * sample_bytes;
        if (bits == 16) {
          const auto s = static_cast<std::uint16_t>(level);
          std::memcpy(bytes.data() + at, &s, 2);
        } else {
          bytes[at] = static_cast<unsigned char>(level);
        }
      }
    }
  }
  std::vector<png_bytep> rows(static_cast<std::size_t>(height));
  for (index_t i = 0; i < height; ++i) rows[static_cast<std::size_t>(i)] = bytes.data() + i * row_bytes;

  std::FILE* file = std::fopen(path.c_str(), "wb");
  require<io_error>(file != nullptr, [&] { return "write_image: cannot open '" + path + "' for writing"; });
  detail::PngState state{};
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, detail::png_error_callback, detail::png_warning_callback);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  bool ok = info != nullptr;
  if (ok)
    ok = detail::png_write_pass(state, png, info, file, static_cast<png_uint_32>(width),
                                static_cast<png_uint_32>(height), bits,
                                channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, rows.data());
  png_destroy_write_struct(&png, info ? &info : nullptr);
  const bool closed = std::fclose(file) == 0;
  require<io_error>(ok && closed, [&] { return "write_image: writing '" + path + "' failed: " + state.message; });
#else
  throw not_compiled("write_image('" + path +
                     "'): PNG needs the pnpdist::imageio component (libpng), not in this build");
#endif
}

}  // namespace pnpdist
