#pragma once
/// \file
/// Reading and writing safetensors files: an 8-byte little-endian header length N, N bytes of JSON
/// mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
/// end of the header; an optional "__metadata__" object of strings), then the raw little-endian data.
///
/// Guarantees of SafetensorsFile: the header length, every offset pair and every tensor's byte count
/// (product of the shape times the dtype size) are checked against the file size when the file is opened;
/// any violation throws io_error naming the file and the offending tensor. Values are converted to the
/// requested floating type on reading (F32, F64, F16 and BF16 are understood).

#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// One tensor of a safetensors file: its dtype ("F32", ...), shape and byte range in the data section.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;
  std::vector<index_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;

  [[nodiscard]] index_t element_count() const {
    index_t n = 1;
    for (index_t e : shape) n *= e;
    return n;
  }
};

/// "(64, 4, 3, 3)": for error messages.
inline std::string shape_to_string(const std::vector<index_t>& shape) {
  std::string s = "(";
  for (std::size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + ")";
}

namespace detail {

/// Bytes per element of a safetensors dtype; 0 for a dtype this library does not read.
inline std::size_t safetensors_dtype_size(std::string_view dtype) {
  if (dtype == "F64") return 8;
  if (dtype == "F32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  return 0;
}

/// A small parser for the subset of JSON a safetensors header uses: objects, arrays, strings, integers.
class SafetensorsHeaderParser {
public:
  SafetensorsHeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  std::vector<SafetensorsEntry> parse() {
    std::vector<SafetensorsEntry> entries;
    expect('{');
    if (peek() == '}') {
      ++pos_;
      return entries;
    }
    for (;;) {
      std::string key = string();
      expect(':');
      if (key == "__metadata__") {
        skip_value();
      } else {
        entries.push_back(entry(std::move(key)));
      }
      const char c = next();
      if (c == '}') break;
      if (c != ',') fail("expected ',' or '}'");
    }
    skip_space();
    if (pos_ != text_.size()) fail("trailing characters after the header object");
    return entries;
  }

private:
  SafetensorsEntry entry(std::string name) {
    SafetensorsEntry e;
    e.name = std::move(name);
    bool has_dtype = false, has_shape = false, has_offsets = false;
    expect('{');
    for (;;) {
      const std::string key = string();
      expect(':');
      if (key == "dtype") {
        e.dtype = string();
        has_dtype = true;
      } else if (key == "shape") {
        for (std::uint64_t v : integer_array()) e.shape.push_back(static_cast<index_t>(v));
        has_shape = true;
      } else if (key == "data_offsets") {
        const auto offsets = integer_array();
        if (offsets.size() != 2) fail("tensor '" + e.name + "': data_offsets must hold two integers");
        e.begin = offsets[0];
        e.end = offsets[1];
        has_offsets = true;
      } else {
        skip_value();
      }
      const char c = next();
      if (c == '}') break;
      if (c != ',') fail("expected ',' or '}' in the entry of tensor '" + e.name + "'");
    }
    if (!has_dtype || !has_shape || !has_offsets)
      fail("tensor '" + e.name + "' lacks one of dtype, shape, data_offsets");
    return e;
  }

  std::vector<std::uint64_t> integer_array() {
    std::vector<std::uint64_t> values;
    expect('[');
    if (peek() == ']') {
      ++pos_;
      return values;
    }
    for (;;) {
      values.push_back(integer());
      const char c = next();
      if (c == ']') break;
      if (c != ',') fail("expected ',' or ']' in an integer array");
    }
    return values;
  }

  std::uint64_t integer() {
    skip_space();
    if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') fail("expected a non-negative integer");
    std::uint64_t v = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const std::uint64_t digit = static_cast<std::uint64_t>(text_[pos_++] - '0');
      if (v > (UINT64_MAX - digit) / 10) fail("integer overflow");
      v = v * 10 + digit;
    }
    return v;
  }

  std::string string() {
    expect('"');
    std::string s;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c == '\\') {
        if (pos_ >= text_.size()) break;
        c = text_[pos_++];
        if (c == 'u') {  // keep escaped code points verbatim: names in this library are ASCII
          if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
          s += "\\u";
          s += text_.substr(pos_, 4);
          pos_ += 4;
          continue;
        }
        if (c == 'n') c = '\n';
        if (c == 't') c = '\t';
      }
      s += c;
    }
    if (pos_ >= text_.size()) fail("unterminated string");
    ++pos_;
    return s;
  }

  void skip_value() {
    const char c = peek();
    if (c == '"') {
      string();
    } else if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      if (peek() == close) {
        ++pos_;
        return;
      }
      for (;;) {
        if (c == '{') {
          string();
          expect(':');
        }
        skip_value();
        const char d = next();
        if (d == close) break;
        if (d != ',') fail("malformed object or array");
      }
    } else {
      while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '}' && text_[pos_] != ']') ++pos_;
    }
  }

  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == '\t'))
      ++pos_;
  }
  char peek() {
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end of the header");
    return text_[pos_];
  }
  char next() {
    const char c = peek();
    ++pos_;
    return c;
  }
  void expect(char c) {
    if (next() != c) fail(std::string("expected '") + c + "'");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw io_error("safetensors file '" + path_ + "': bad header at byte " + std::to_string(pos_) + ": " + what);
  }

  std::string_view text_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        mantissa <<= 1;
      } while ((mantissa & 0x400u) == 0);
      bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mantissa & 0x3ffu) << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  return std::bit_cast<float>(bits);
}

}  // namespace detail

/// A safetensors file opened for reading: the header is parsed and validated on construction, the data
/// is read tensor by tensor on request.
class SafetensorsFile {
public:
  /// Opens and validates `path` (see the file comment). Throws io_error.
  explicit SafetensorsFile(std::string path) : path_(std::move(path)) {
    std::ifstream in(path_, std::ios::binary | std::ios::ate);
    require<io_error>(static_cast<bool>(in), [&] { return "cannot open safetensors file '" + path_ + "'"; });
    file_size_ = static_cast<std::uint64_t>(in.tellg());
    require<io_error>(file_size_ >= 8, [&] {
      return "safetensors file '" + path_ + "' is " + std::to_string(file_size_) +
             " bytes long, shorter than its 8-byte header length";
    });
    in.seekg(0);
    unsigned char length_bytes[8];
    in.read(reinterpret_cast<char*>(length_bytes), 8);
    std::uint64_t header_length = 0;
    for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_bytes[i];
    require<io_error>(header_length <= file_size_ - 8, [&] {
      return "safetensors file '" + path_ + "': header length " + std::to_string(header_length) + " exceeds the " +
             std::to_string(file_size_ - 8) + " bytes that follow it (truncated or not a safetensors file)";
    });
    std::string header(header_length, '\0');
    in.read(header.data(), static_cast<std::streamsize>(header_length));
    require<io_error>(static_cast<bool>(in), [&] { return "cannot read the header of '" + path_ + "'"; });
    data_offset_ = 8 + header_length;
    entries_ = detail::SafetensorsHeaderParser(header, path_).parse();
    const std::uint64_t data_size = file_size_ - data_offset_;
    for (const SafetensorsEntry& e : entries_) {
      const std::size_t element_bytes = detail::safetensors_dtype_size(e.dtype);
      require<io_error>(element_bytes != 0, [&] {
        return "safetensors file '" + path_ + "': tensor '" + e.name + "' has unsupported dtype '" + e.dtype +
               "' (F32, F64, F16, BF16 are read)";
      });
      require<io_error>(e.begin <= e.end && e.end <= data_size, [&] {
        return "safetensors file '" + path_ + "': tensor '" + e.name + "' has data_offsets [" +
               std::to_string(e.begin) + ", " + std::to_string(e.end) + "] outside the " + std::to_string(data_size) +
               "-byte data section (truncated file?)";
      });
      for (index_t extent : e.shape)
        require<io_error>(extent >= 0 && extent < (index_t{1} << 40), [&] {
          return "safetensors file '" + path_ + "': tensor '" + e.name + "' has an invalid shape";
        });
      require<io_error>(static_cast<std::uint64_t>(e.element_count()) * element_bytes == e.end - e.begin, [&] {
        return "safetensors file '" + path_ + "': tensor '" + e.name + "' of shape " + shape_to_string(e.shape) +
               " and dtype " + e.dtype + " needs " +
               std::to_string(static_cast<std::uint64_t>(e.element_count()) * element_bytes) +
               " bytes, its offsets span " + std::to_string(e.end - e.begin);
      });
    }
  }

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::vector<SafetensorsEntry>& entries() const { return entries_; }

  /// The entry called `name`, or nullptr.
  [[nodiscard]] const SafetensorsEntry* find(std::string_view name) const {
    for (const SafetensorsEntry& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }

  /// The values of tensor `name` in row-major order, converted to T. Throws io_error when it is absent.
  template <class T>
  [[nodiscard]] std::vector<T> read(std::string_view name) const {
    const SafetensorsEntry* e = find(name);
    require<io_error>(e != nullptr,
                      [&] { return "safetensors file '" + path_ + "' has no tensor '" + std::string(name) + "'"; });
    return read<T>(*e);
  }

  template <class T>
  [[nodiscard]] std::vector<T> read(const SafetensorsEntry& e) const {
    std::ifstream in(path_, std::ios::binary);
    require<io_error>(static_cast<bool>(in), [&] { return "cannot open safetensors file '" + path_ + "'"; });
    std::vector<unsigned char> bytes(e.end - e.begin);
    in.seekg(static_cast<std::streamoff>(data_offset_ + e.begin));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    require<io_error>(static_cast<bool>(in), [&] {
      return "safetensors file '" + path_ + "': cannot read the data of tensor '" + e.name + "'";
    });
    const std::size_t n = static_cast<std::size_t>(e.element_count());
    std::vector<T> values(n);
    for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<T>(element(e.dtype, bytes.data(), i));
    return values;
  }

private:
  static double element(const std::string& dtype, const unsigned char* bytes, std::size_t i) {
    if (dtype == "F32") return static_cast<double>(std::bit_cast<float>(load<std::uint32_t>(bytes + 4 * i)));
    if (dtype == "F64") return std::bit_cast<double>(load<std::uint64_t>(bytes + 8 * i));
    if (dtype == "F16") return static_cast<double>(detail::half_to_float(load<std::uint16_t>(bytes + 2 * i)));
    return static_cast<double>(
        std::bit_cast<float>(static_cast<std::uint32_t>(load<std::uint16_t>(bytes + 2 * i)) << 16));
  }
  template <class U>
  static U load(const unsigned char* p) {  // little-endian, whatever the host
    U v = 0;
    for (std::size_t b = sizeof(U); b-- > 0;) v = static_cast<U>((v << 8) | p[b]);
    return v;
  }

  std::string path_;
  std::uint64_t file_size_ = 0;
  std::uint64_t data_offset_ = 0;
  std::vector<SafetensorsEntry> entries_;
};

/// A tensor to write: name, shape, row-major float values (element_count of shape of them).
struct SafetensorsTensor {
  std::string name;
  std::vector<index_t> shape;
  std::vector<float> values;
};

/// Writes `tensors` as an F32 safetensors file (in the given order). Throws invalid_argument when a
/// tensor's value count does not match its shape, io_error when the file cannot be written.
inline void write_safetensors(const std::string& path, const std::vector<SafetensorsTensor>& tensors) {
  std::string header = "{";
  std::uint64_t offset = 0;
  for (std::size_t t = 0; t < tensors.size(); ++t) {
    const SafetensorsTensor& tensor = tensors[t];
    index_t n = 1;
    for (index_t e : tensor.shape) n *= e;
    require(static_cast<std::size_t>(n) == tensor.values.size(), [&] {
      return "write_safetensors: tensor '" + tensor.name + "' of shape " + shape_to_string(tensor.shape) + " has " +
             std::to_string(tensor.values.size()) + " values";
    });
    std::string shape;
    for (std::size_t d = 0; d < tensor.shape.size(); ++d) {
      if (d) shape.append(",");
      shape.append(std::to_string(tensor.shape[d]));
    }
    const std::uint64_t end = offset + 4 * static_cast<std::uint64_t>(n);
    if (t) header.append(",");
    header.append("\"").append(tensor.name).append("\":{\"dtype\":\"F32\",\"shape\":[").append(shape);
    header.append("],\"data_offsets\":[")
        .append(std::to_string(offset))
        .append(",")
        .append(std::to_string(end))
        .append("]}");
    offset = end;
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';
  std::ofstream out(path, std::ios::binary);
  require<io_error>(static_cast<bool>(out), [&] { return "cannot create safetensors file '" + path + "'"; });
  const std::uint64_t length = header.size();
  for (int b = 0; b < 8; ++b) out.put(static_cast<char>((length >> (8 * b)) & 0xffu));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const SafetensorsTensor& tensor : tensors)
    for (float v : tensor.values) {
      const std::uint32_t bits = std::bit_cast<std::uint32_t>(v);
      for (int b = 0; b < 4; ++b) out.put(static_cast<char>((bits >> (8 * b)) & 0xffu));
    }
  require<io_error>(static_cast<bool>(out), [&] { return "cannot write safetensors file '" + path + "'"; });
}

}  // namespace pnpdist
