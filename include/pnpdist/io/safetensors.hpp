#pragma once
/// \file
/// Reading and writing safetensors files: an 8-byte little-endian header length N, N bytes of JSON
/// mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
/// end of the header; an optional "__metadata__" object of strings), then the raw little-endian data.
/// SafetensorsFile::metadata() returns the "__metadata__" object (a value that is not a string as its JSON
/// text); write_safetensors() writes one when given.
///
/// Guarantees of SafetensorsFile: the header (at most ReadLimits::max_header_bytes, parsed by nlohmann-json
/// with its nesting limited to ReadLimits::max_json_depth) is validated when the file is opened, before any
/// tensor is allocated: each entry's form, its dtype, its shape (product checked for overflow and against
/// ReadLimits::max_allocation_bytes), its byte count (shape times dtype size) against its data_offsets, the
/// offsets against the file size, and that no two tensors' byte ranges overlap. Any violation, and any other
/// failure while opening or reading, throws io_error naming the file, the tensor and the reason. Values are
/// converted to the requested floating type on reading (F32, F64, F16 and BF16 are understood).

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/io/read_limits.hpp"

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

using SafetensorsJson = nlohmann::ordered_json;

/// A non-negative integer of a JSON header that fits index_t, or false.
inline bool safetensors_integer(const SafetensorsJson& value, std::uint64_t& out) {
  if (value.is_number_unsigned()) {
    out = value.get<std::uint64_t>();
  } else if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    out = static_cast<std::uint64_t>(value.get<std::int64_t>());
  } else {
    return false;
  }
  return out <= static_cast<std::uint64_t>(INT64_MAX);
}

/// Parses a safetensors header with nlohmann-json, nesting limited to limits.max_json_depth, and checks the
/// form of every entry: an object with a string "dtype", a "shape" array of non-negative integers and a
/// "data_offsets" pair of non-negative integers. Sizes are checked by SafetensorsFile. Throws io_error.
inline std::vector<SafetensorsEntry> parse_safetensors_header(
    std::string_view text, const std::string& path, const ReadLimits& limits,
    std::map<std::string, std::string>* metadata = nullptr) {
  const auto fail = [&](const std::string& what) { return io_error("safetensors file '" + path + "': " + what); };
  SafetensorsJson header;
  try {
    header = SafetensorsJson::parse(text.begin(), text.end(),
                                    [&](int depth, SafetensorsJson::parse_event_t, SafetensorsJson&) {
                                      if (depth > limits.max_json_depth)
                                        throw fail("the header nests deeper than " +
                                                   std::to_string(limits.max_json_depth) + " levels");
                                      return true;
                                    });
  } catch (const SafetensorsJson::exception& e) {
    throw fail(std::string("the header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw fail("the header is not a JSON object");
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) throw fail("'__metadata__' is not an object");
      if (metadata != nullptr)
        for (const auto& [key, item] : value.items())
          (*metadata)[key] = item.is_string() ? item.get<std::string>() : item.dump();
      continue;
    }
    const auto field = [&](const char* key) -> const SafetensorsJson& {
      if (!value.is_object()) throw fail("tensor '" + name + "': its entry is not an object");
      const auto it = value.find(key);
      if (it == value.end()) throw fail("tensor '" + name + "' has no '" + key + "'");
      return *it;
    };
    SafetensorsEntry e;
    e.name = name;
    const SafetensorsJson& dtype = field("dtype");
    if (!dtype.is_string()) throw fail("tensor '" + name + "': 'dtype' is not a string");
    e.dtype = dtype.get<std::string>();
    const SafetensorsJson& shape = field("shape");
    if (!shape.is_array()) throw fail("tensor '" + name + "': 'shape' is not an array");
    for (const SafetensorsJson& extent : shape) {
      std::uint64_t v = 0;
      if (!safetensors_integer(extent, v))
        throw fail("tensor '" + name + "': 'shape' holds " + extent.dump() + ", not an extent (a non-negative integer)");
      e.shape.push_back(static_cast<index_t>(v));
    }
    const SafetensorsJson& offsets = field("data_offsets");
    if (!offsets.is_array() || offsets.size() != 2 || !safetensors_integer(offsets[0], e.begin) ||
        !safetensors_integer(offsets[1], e.end))
      throw fail("tensor '" + name + "': 'data_offsets' is " + offsets.dump() +
                 ", not a pair of non-negative integers");
    entries.push_back(std::move(e));
  }
  return entries;
}

/// Checks every entry against the data section (see SafetensorsFile). Throws io_error.
inline void check_safetensors_entries(const std::vector<SafetensorsEntry>& entries, std::uint64_t data_size,
                                      const std::string& path, const ReadLimits& limits) {
  std::vector<const SafetensorsEntry*> by_offset;
  for (const SafetensorsEntry& e : entries) {
    const std::string context = "safetensors file '" + path + "': tensor '" + e.name + "'";
    const std::size_t element_bytes = safetensors_dtype_size(e.dtype);
    require<io_error>(element_bytes != 0, [&] {
      return context + " has unsupported dtype '" + e.dtype + "' (F32, F64, F16, BF16 are read)";
    });
    require<io_error>(e.begin <= e.end && e.end <= data_size, [&] {
      return context + " has data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
             "] outside the " + std::to_string(data_size) + "-byte data section (truncated file?)";
    });
    const std::uint64_t bytes = checked_allocation_bytes(context, e.shape, element_bytes, limits);
    require<io_error>(bytes == e.end - e.begin, [&] {
      return context + " of shape " + shape_to_string(e.shape) + " and dtype " + e.dtype + " needs " +
             std::to_string(bytes) + " bytes, its offsets span " + std::to_string(e.end - e.begin);
    });
    if (bytes > 0) by_offset.push_back(&e);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const SafetensorsEntry* a, const SafetensorsEntry* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const SafetensorsEntry& a = *by_offset[i - 1];
    const SafetensorsEntry& b = *by_offset[i];
    require<io_error>(a.end <= b.begin, [&] {
      return "safetensors file '" + path + "': the data of tensors '" + a.name + "' [" + std::to_string(a.begin) +
             ", " + std::to_string(a.end) + ") and '" + b.name + "' [" + std::to_string(b.begin) + ", " +
             std::to_string(b.end) + ") overlap";
    });
  }
}

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
  /// Opens and validates `path` (see the file comment) within `limits`. Throws io_error only.
  explicit SafetensorsFile(std::string path, const ReadLimits& limits = ReadLimits::from_environment())
      : path_(std::move(path)), limits_(limits) {
    try {
      open();
    } catch (const io_error&) {
      throw;
    } catch (const std::exception& e) {
      throw io_error("safetensors file '" + path_ + "': " + e.what());
    }
  }

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  /// The header's "__metadata__" (empty when it has none).
  [[nodiscard]] const std::map<std::string, std::string>& metadata() const { return metadata_; }

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
    static_assert(std::is_floating_point_v<T>, "SafetensorsFile::read converts to a floating-point type");
    std::ifstream in(path_, std::ios::binary);
    require<io_error>(static_cast<bool>(in), [&] { return "cannot open safetensors file '" + path_ + "'"; });
    std::vector<unsigned char> bytes(e.end - e.begin);
    in.seekg(static_cast<std::streamoff>(data_offset_ + e.begin));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    require<io_error>(static_cast<bool>(in), [&] {
      return "safetensors file '" + path_ + "': cannot read the data of tensor '" + e.name + "'";
    });
    (void)checked_allocation_bytes("safetensors file '" + path_ + "': tensor '" + e.name + "' read as " +
                                       std::to_string(sizeof(T)) + "-byte values",
                                   e.shape, sizeof(T), limits_);
    const std::size_t n = static_cast<std::size_t>(e.element_count());
    std::vector<T> values(n);
    for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<T>(element(e.dtype, bytes.data(), i));
    return values;
  }

private:
  void open() {
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
    require<io_error>(header_length <= limits_.max_header_bytes, [&] {
      return "safetensors file '" + path_ + "': header length " + std::to_string(header_length) +
             " exceeds the limit of " + std::to_string(limits_.max_header_bytes) +
             " bytes (ReadLimits::max_header_bytes)";
    });
    std::string header(header_length, '\0');
    in.read(header.data(), static_cast<std::streamsize>(header_length));
    require<io_error>(static_cast<bool>(in), [&] { return "cannot read the header of '" + path_ + "'"; });
    data_offset_ = 8 + header_length;
    entries_ = detail::parse_safetensors_header(header, path_, limits_, &metadata_);
    detail::check_safetensors_entries(entries_, file_size_ - data_offset_, path_, limits_);
  }

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
  ReadLimits limits_;
  std::uint64_t file_size_ = 0;
  std::uint64_t data_offset_ = 0;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

/// A tensor to write: name, shape, row-major float values (element_count of shape of them).
struct SafetensorsTensor {
  std::string name;
  std::vector<index_t> shape;
  std::vector<float> values;
};

/// Writes `tensors` as an F32 safetensors file (in the given order), with `metadata` as the header's
/// "__metadata__" when it is not empty. Throws invalid_argument when a tensor's value count does not match
/// its shape, io_error when the file cannot be written.
inline void write_safetensors(const std::string& path, const std::vector<SafetensorsTensor>& tensors,
                              const std::map<std::string, std::string>& metadata = {}) {
  detail::SafetensorsJson json = detail::SafetensorsJson::object();
  if (!metadata.empty()) json["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const SafetensorsTensor& tensor : tensors) {
    index_t n = 1;
    for (index_t e : tensor.shape) n *= e;
    require(static_cast<std::size_t>(n) == tensor.values.size(), [&] {
      return "write_safetensors: tensor '" + tensor.name + "' of shape " + shape_to_string(tensor.shape) + " has " +
             std::to_string(tensor.values.size()) + " values";
    });
    require(!json.contains(tensor.name) && tensor.name != "__metadata__",
            [&] { return "write_safetensors: tensor name '" + tensor.name + "' is reserved or given twice"; });
    const std::uint64_t end = offset + 4 * static_cast<std::uint64_t>(n);
    json[tensor.name] = {{"dtype", "F32"}, {"shape", tensor.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string header = json.dump();
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
