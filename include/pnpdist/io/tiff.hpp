#pragma once
/// \file
/// TIFF files of single-channel images, one or several pages (a stack), through libtiff:
///
///   TiffReader reader(path)            opens a file and counts its pages;
///   reader.page(p)                     shape and sample type of page p;
///   reader.read(p, row, col, out)      the window out.extents() of page p starting at (row, col), as floats
///                                      (integer samples keep their values: 0 .. 255 or 0 .. 65535);
///   write_tiff(path, stack)            a (pages, rows, cols) stack of uint8, uint16 or float32 samples as a
///                                      multi-page, uncompressed, min-is-black TIFF (ImageJ/Fiji open it as a
///                                      stack; a single page for pages = 1).
///
/// Read: 8- and 16-bit unsigned and 32-bit IEEE float samples, one sample per pixel, strips (any libtiff
/// compression, either byte order), values as stored (the Photometric field is not applied). Tiled files, other sample
/// types and several samples per pixel are refused. Sizes are checked against the file's strip size before any buffer
/// is allocated; at most one strip is held, of at most ReadLimits::max_allocation_bytes (and 1 GiB), and libtiff
/// itself allocates at most that much at once (TIFFOpenOptionsSetMaxSingleMemAlloc). Errors: a file that cannot be
/// opened, read or written, an unsupported or inconsistent page, and a truncated or corrupt strip throw io_error naming
/// the file, the page, the field and libtiff's message. Without the pnpdist::tiff component (PNPDIST_HAS_TIFF) every
/// function throws not_compiled.

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/io/read_limits.hpp"
#include "pnpdist/tensor/view.hpp"

#if defined(PNPDIST_HAS_TIFF)
#include <tiffio.h>
#endif

namespace pnpdist {

/// Sample types of the TIFF pages read and written here.
enum class TiffSample { uint8, uint16, float32 };

[[nodiscard]] inline const char* to_string(TiffSample s) {
  return s == TiffSample::uint8 ? "uint8" : s == TiffSample::uint16 ? "uint16" : "float32";
}

/// One page: rows x cols samples of one type.
struct TiffPage {
  index_t rows = 0;
  index_t cols = 0;
  TiffSample sample = TiffSample::uint16;
};

namespace detail {

[[noreturn]] inline void tiff_not_compiled(const char* what) {
  throw not_compiled(std::string(what) + ": TIFF support was not compiled (link pnpdist::tiff, needs libtiff)");
}

#if defined(PNPDIST_HAS_TIFF)
/// libtiff's last error message for one handle (libtiff >= 4.5 per-handle handlers: thread safe).
struct TiffMessages {
  std::string last;
};

inline int tiff_error_handler(TIFF*, void* user, const char* module, const char* format, va_list args) {
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  auto* messages = static_cast<TiffMessages*>(user);
  messages->last = (module ? std::string(module) + ": " : std::string()) + text;
  return 1;
}
inline int tiff_warning_handler(TIFF*, void*, const char*, const char*, va_list) { return 1; }  // silenced

struct TiffCloser {
  void operator()(TIFF* t) const {
    if (t) TIFFClose(t);
  }
};

/// Opens `path` with `mode` ("r" or "w"), libtiff's messages captured in `messages`, libtiff's single
/// allocations capped at `max_alloc` bytes (0: libtiff's default); throws io_error.
inline std::unique_ptr<TIFF, TiffCloser> tiff_open(const std::string& path, const char* mode, TiffMessages& messages,
                                                   const char* who, std::uint64_t max_alloc = 0) {
  TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
  require<io_error>(options != nullptr, [&] { return std::string(who) + ": out of memory opening '" + path + "'"; });
  if (max_alloc > 0)
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, static_cast<tmsize_t>(std::min<std::uint64_t>(max_alloc, INT64_MAX)));
  TIFFOpenOptionsSetErrorHandlerExtR(options, tiff_error_handler, &messages);
  TIFFOpenOptionsSetWarningHandlerExtR(options, tiff_warning_handler, nullptr);
  TIFF* handle = TIFFOpenExt(path.c_str(), mode, options);
  TIFFOpenOptionsFree(options);
  require<io_error>(handle != nullptr, [&] {
    return std::string(who) + ": cannot open '" + path + "'" + (messages.last.empty() ? "" : ": " + messages.last);
  });
  return std::unique_ptr<TIFF, TiffCloser>(handle);
}

template <class T>
constexpr TiffSample tiff_sample_of() {
  static_assert(std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint16_t> || std::is_same_v<T, float>,
                "write_tiff: samples must be uint8_t, uint16_t or float");
  return std::is_same_v<T, std::uint8_t>    ? TiffSample::uint8
         : std::is_same_v<T, std::uint16_t> ? TiffSample::uint16
                                            : TiffSample::float32;
}

inline index_t tiff_sample_bytes(TiffSample s) { return s == TiffSample::uint8 ? 1 : s == TiffSample::uint16 ? 2 : 4; }
#endif

}  // namespace detail

/// Reads pages of one TIFF file. Holds the file open; not copyable; one reader per thread.
class TiffReader {
public:
  /// Opens `path` and counts its pages. Throws io_error when it cannot be opened or holds no page.
  explicit TiffReader(std::string path, const ReadLimits& limits = ReadLimits::from_environment())
      : path_(std::move(path)) {
#if defined(PNPDIST_HAS_TIFF)
    limits_ = limits;
    messages_ = std::make_unique<detail::TiffMessages>();
    handle_ = detail::tiff_open(path_, "r", *messages_, "TiffReader", limits.max_allocation_bytes);
    pages_ = static_cast<index_t>(TIFFNumberOfDirectories(handle_.get()));
    require<io_error>(pages_ >= 1, [&] { return "TiffReader: '" + path_ + "' holds no page"; });
#else
    (void)limits;
    detail::tiff_not_compiled("TiffReader");
#endif
  }

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] index_t pages() const { return pages_; }

  /// Shape and sample type of page `p`. Throws io_error for a page this reader does not support.
  [[nodiscard]] TiffPage page(index_t p) {
#if defined(PNPDIST_HAS_TIFF)
    select(p);
    return current_;
#else
    (void)p;
    detail::tiff_not_compiled("TiffReader::page");
#endif
  }

  /// Reads the window of page `p` with its first sample at (row, col) and the extents of `out`. Throws
  /// invalid_argument when the window leaves the page, io_error when the data cannot be decoded.
  void read(index_t p, index_t row, index_t col, const View<float, 2, HostSpace>& out) {
#if defined(PNPDIST_HAS_TIFF)
    select(p);
    const index_t rows = out.extent(0), cols = out.extent(1);
    require(
        row >= 0 && col >= 0 && rows >= 1 && cols >= 1 && row + rows <= current_.rows && col + cols <= current_.cols,
        [&] {
          return "TiffReader::read: window " + std::to_string(rows) + " x " + std::to_string(cols) + " at (" +
                 std::to_string(row) + ", " + std::to_string(col) + ") outside page " + std::to_string(p) + " of '" +
                 path_ + "' (" + std::to_string(current_.rows) + " x " + std::to_string(current_.cols) + ")";
        });
    TIFF* t = handle_.get();
    const index_t sample_bytes = detail::tiff_sample_bytes(current_.sample);
    const index_t row_bytes = current_.cols * sample_bytes;
    const index_t strip_bytes = rows_per_strip_ * row_bytes;
    if (static_cast<index_t>(strip_.size()) < strip_bytes) strip_.resize(static_cast<std::size_t>(strip_bytes));
    for (index_t strip = row / rows_per_strip_; strip * rows_per_strip_ < row + rows; ++strip) {
      const index_t first = strip * rows_per_strip_;
      const index_t count = std::min(rows_per_strip_, current_.rows - first);
      const tmsize_t got = TIFFReadEncodedStrip(t, static_cast<uint32_t>(strip), strip_.data(),
                                                static_cast<tmsize_t>(count * row_bytes));
      require<io_error>(got == static_cast<tmsize_t>(count * row_bytes), [&] {
        return "TiffReader: '" + path_ + "' page " + std::to_string(p) + ": strip " + std::to_string(strip) +
               " is truncated or corrupt (" + std::to_string(static_cast<long long>(got)) + " of " +
               std::to_string(count * row_bytes) + " bytes)" + (messages_->last.empty() ? "" : ": " + messages_->last);
      });
      for (index_t r = std::max(first, row); r < std::min(first + count, row + rows); ++r) {
        const unsigned char* src = strip_.data() + (r - first) * row_bytes + col * sample_bytes;
        float* dst = &out(r - row, 0);
        const index_t step = out.stride(1);
        switch (current_.sample) {  // the sample type outside the column loop, which then vectorizes
          case TiffSample::uint8:
            convert_row<std::uint8_t>(src, dst, step, cols);
            break;
          case TiffSample::uint16:
            convert_row<std::uint16_t>(src, dst, step, cols);
            break;
          default:
            convert_row<float>(src, dst, step, cols);
            break;
        }
      }
    }
#else
    (void)p, (void)row, (void)col, (void)out;
    detail::tiff_not_compiled("TiffReader::read");
#endif
  }

private:
#if defined(PNPDIST_HAS_TIFF)
  /// dst[c * step] = the c-th sample of type T at src (unaligned, native byte order as libtiff returns it).
  template <class T>
  static void convert_row(const unsigned char* src, float* dst, index_t step, index_t cols) {
    for (index_t c = 0; c < cols; ++c) {
      T v;
      std::memcpy(&v, src + c * static_cast<index_t>(sizeof(T)), sizeof(T));
      dst[c * step] = static_cast<float>(v);
    }
  }

  /// Makes page p current and validates it.
  void select(index_t p) {
    require(p >= 0 && p < pages_, [&] {
      return "TiffReader: page " + std::to_string(p) + " outside [0, " + std::to_string(pages_) + ") of '" + path_ +
             "'";
    });
    if (p == selected_) return;
    TIFF* t = handle_.get();
    selected_ = -1;
    const std::string where = "TiffReader: '" + path_ + "' page " + std::to_string(p);
    require<io_error>(TIFFSetDirectory(t, static_cast<tdir_t>(p)) == 1,
                      [&] { return where + ": cannot read the directory: " + messages_->last; });
    uint32_t width = 0, height = 0, rows_per_strip = 0;
    uint16_t bits = 0, samples = 1, format = SAMPLEFORMAT_UINT;
    require<io_error>(TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &width) == 1 && width > 0,
                      [&] { return where + ": field ImageWidth missing or 0"; });
    require<io_error>(TIFFGetField(t, TIFFTAG_IMAGELENGTH, &height) == 1 && height > 0,
                      [&] { return where + ": field ImageLength missing or 0"; });
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &samples);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &format);
    require<io_error>(samples == 1, [&] {
      return where + ": field SamplesPerPixel is " + std::to_string(samples) + ", only single-channel images are read";
    });
    require<io_error>(!TIFFIsTiled(t), [&] { return where + ": tiled TIFF is not supported (strips only)"; });
    if (bits == 8 && format == SAMPLEFORMAT_UINT)
      current_.sample = TiffSample::uint8;
    else if (bits == 16 && format == SAMPLEFORMAT_UINT)
      current_.sample = TiffSample::uint16;
    else if (bits == 32 && format == SAMPLEFORMAT_IEEEFP)
      current_.sample = TiffSample::float32;
    else
      throw io_error(where + ": fields BitsPerSample " + std::to_string(bits) + " / SampleFormat " +
                     std::to_string(format) + " are not supported (8- or 16-bit unsigned, 32-bit float)");
    current_.rows = static_cast<index_t>(height);
    current_.cols = static_cast<index_t>(width);
    TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
    rows_per_strip_ = std::min<index_t>(std::max<uint32_t>(rows_per_strip, 1), current_.rows);
    // The strip libtiff decodes must be what the fields promise, and one strip must stay reasonable.
    const index_t expected = rows_per_strip_ * current_.cols * detail::tiff_sample_bytes(current_.sample);
    require<io_error>(TIFFStripSize(t) == static_cast<tmsize_t>(expected), [&] {
      return where + ": field RowsPerStrip " + std::to_string(rows_per_strip) + " gives a strip of " +
             std::to_string(static_cast<long long>(TIFFStripSize(t))) + " bytes, expected " + std::to_string(expected);
    });
    constexpr index_t max_strip_bytes = index_t{1} << 30;
    require<io_error>(expected <= max_strip_bytes, [&] {
      return where + ": a strip of " + std::to_string(expected) + " bytes exceeds the limit of 1 GiB";
    });
    require_within_allocation_limit(where + ": a strip", static_cast<std::uint64_t>(expected), limits_);
    require<io_error>(
        static_cast<index_t>(TIFFNumberOfStrips(t)) == (current_.rows + rows_per_strip_ - 1) / rows_per_strip_,
        [&] { return where + ": field StripOffsets has the wrong number of strips"; });
    selected_ = p;
  }

  ReadLimits limits_;
  std::unique_ptr<detail::TiffMessages> messages_;
  std::unique_ptr<TIFF, detail::TiffCloser> handle_;
  std::vector<unsigned char> strip_;
  TiffPage current_{};
  index_t rows_per_strip_ = 1;
  index_t selected_ = -1;
#endif
  std::string path_;
  index_t pages_ = 0;
};

/// Writes `stack` (pages, rows, cols; any strides) as an uncompressed multi-page TIFF of T samples (uint8_t,
/// uint16_t or float), bit-exact: TiffReader returns the same values. Throws io_error when the file cannot
/// be written, invalid_argument for an empty stack.
template <class T>
inline void write_tiff(const std::string& path, const View<const T, 3, HostSpace>& stack) {
#if defined(PNPDIST_HAS_TIFF)
  constexpr TiffSample kind = detail::tiff_sample_of<T>();
  require(stack.extent(0) >= 1 && stack.extent(1) >= 1 && stack.extent(2) >= 1,
          [&] { return "write_tiff: empty stack " + to_string(stack.extents()) + " for '" + path + "'"; });
  require(stack.extent(1) <= 0xFFFFFFFF && stack.extent(2) <= 0xFFFFFFFF,
          [&] { return "write_tiff: pages of " + to_string(stack.extents()) + " are too large for TIFF"; });
  detail::TiffMessages messages;
  // "w8" (BigTIFF) only when the classic 4 GiB offsets would not hold the data.
  const bool big = static_cast<double>(stack.size()) * sizeof(T) > 3.9e9;
  auto handle = detail::tiff_open(path, big ? "w8" : "w", messages, "write_tiff");
  TIFF* t = handle.get();
  const auto rows = static_cast<uint32_t>(stack.extent(1)), cols = static_cast<uint32_t>(stack.extent(2));
  const auto pages = static_cast<uint16_t>(std::min<index_t>(stack.extent(0), 0xFFFF));
  std::vector<T> line(cols);
  for (index_t p = 0; p < stack.extent(0); ++p) {
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, cols);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, rows);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, static_cast<uint16_t>(8 * sizeof(T)));
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, uint16_t{1});
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, kind == TiffSample::float32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0));
    if (stack.extent(0) > 1) {
      TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
      TIFFSetField(t, TIFFTAG_PAGENUMBER, static_cast<uint16_t>(p), pages);
    }
    for (uint32_t r = 0; r < rows; ++r) {
      for (uint32_t c = 0; c < cols; ++c) line[c] = stack(p, static_cast<index_t>(r), static_cast<index_t>(c));
      require<io_error>(TIFFWriteScanline(t, line.data(), r, 0) == 1, [&] {
        return "write_tiff: writing page " + std::to_string(p) + " of '" + path + "' failed: " + messages.last;
      });
    }
    require<io_error>(TIFFWriteDirectory(t) == 1, [&] {
      return "write_tiff: writing page " + std::to_string(p) + " of '" + path + "' failed: " + messages.last;
    });
  }
  TIFF* raw = handle.release();
  TIFFClose(raw);  // flushes; libtiff reports a failed flush through the handler
  require<io_error>(messages.last.empty(),
                    [&] { return "write_tiff: closing '" + path + "' failed: " + messages.last; });
#else
  (void)path, (void)stack;
  detail::tiff_not_compiled("write_tiff");
#endif
}

/// write_tiff for a stack of mutable elements.
template <class T>
inline void write_tiff(const std::string& path, const View<T, 3, HostSpace>& stack) {
  write_tiff<std::remove_const_t<T>>(path, View<const std::remove_const_t<T>, 3, HostSpace>(stack));
}

}  // namespace pnpdist
