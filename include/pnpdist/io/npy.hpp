#pragma once
/// \file
/// NumPy .npy files (format versions 1.0-3.0): read_npy<T, Rank>(path) and write_npy(path, view).
///
/// Reading accepts little-endian float32, float64, int32, int64, uint8 and uint16 arrays in C order and
/// converts them to T (for an integer T every value, truncated towards zero, must lie in T's range); the
/// file's rank must equal Rank. Fortran-ordered arrays, big-endian data, object arrays, a header that does not
/// parse, a value outside an integer T, or a data section shorter or longer than the header says throw
/// io_error naming the file and the problem. Every declared size is checked before it is allocated: the
/// header length against the file and ReadLimits::max_header_bytes, the shape's byte count for overflow,
/// against ReadLimits::max_allocation_bytes and against the file's size (io/read_limits.hpp). Writing
/// produces a version-1.0 C-ordered little-endian file of T (float, double, int32, int64, uint8 or uint16)
/// that numpy.load reads.

#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/io/read_limits.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

namespace detail {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");

/// The numpy dtype string ("<f4", "|u1", ...) of T.
template <class T>
constexpr const char* npy_dtype() {
  if constexpr (std::is_same_v<T, float>) return "<f4";
  else if constexpr (std::is_same_v<T, double>) return "<f8";
  else if constexpr (std::is_same_v<T, std::int32_t>) return "<i4";
  else if constexpr (std::is_same_v<T, std::int64_t>) return "<i8";
  else if constexpr (std::is_same_v<T, std::uint8_t>) return "|u1";
  else if constexpr (std::is_same_v<T, std::uint16_t>) return "<u2";
  else static_assert(sizeof(T) == 0, "write_npy supports float, double, int32, int64, uint8 and uint16");
}

/// The parsed header of a .npy file.
struct NpyHeader {
  std::string dtype;
  bool fortran_order = false;
  std::vector<index_t> shape;
  std::size_t data_offset = 0;
};

/// The value of `key` in the header dictionary text: the characters after "'key':" up to the next ',' or
/// '}' outside parentheses; empty when the key is absent.
inline std::string npy_header_value(std::string_view dict, std::string_view key) {
  std::string quoted = "'";
  quoted += key;
  quoted += '\'';
  const std::size_t at = dict.find(quoted);
  if (at == std::string_view::npos) return {};
  std::size_t i = dict.find(':', at + quoted.size());
  if (i == std::string_view::npos) return {};
  ++i;
  int depth = 0;
  std::string value;
  for (; i < dict.size(); ++i) {
    const char c = dict[i];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    value += c;
  }
  const auto first = value.find_first_not_of(" \t");
  const auto last = value.find_last_not_of(" \t");
  return first == std::string::npos ? std::string{} : value.substr(first, last - first + 1);
}

/// Reads and checks the header of the .npy file `in` of `file_size` bytes: the header length against the
/// file and limits.max_header_bytes before it is read, every extent parsed with overflow checks.
inline NpyHeader read_npy_header(std::ifstream& in, std::uint64_t file_size, const std::string& path,
                                 const ReadLimits& limits) {
  char magic[8];
  in.read(magic, 8);
  require<io_error>(in.gcount() == 8 && std::memcmp(magic, "\x93NUMPY", 6) == 0,
                    [&] { return "read_npy: '" + path + "' is not a .npy file (bad magic string)"; });
  const int major = static_cast<unsigned char>(magic[6]);
  require<io_error>(major >= 1 && major <= 3,
                    [&] { return "read_npy: '" + path + "' has unsupported format version " + std::to_string(major); });
  std::uint64_t header_length = 0;
  const int length_bytes = major == 1 ? 2 : 4;
  unsigned char length[4] = {0, 0, 0, 0};
  in.read(reinterpret_cast<char*>(length), length_bytes);
  require<io_error>(in.gcount() == length_bytes, [&] { return "read_npy: '" + path + "' is truncated in its header"; });
  for (int b = length_bytes; b-- > 0;) header_length = header_length * 256 + length[b];
  const std::uint64_t prefix = 8 + static_cast<std::uint64_t>(length_bytes);
  require<io_error>(header_length <= file_size - prefix, [&] {
    return "read_npy: '" + path + "': header length " + std::to_string(header_length) + " exceeds the " +
           std::to_string(file_size - prefix) + " bytes that follow it (truncated or corrupt file)";
  });
  require<io_error>(header_length <= limits.max_header_bytes, [&] {
    return "read_npy: '" + path + "': header length " + std::to_string(header_length) + " exceeds the limit of " +
           std::to_string(limits.max_header_bytes) + " bytes (ReadLimits::max_header_bytes)";
  });
  std::string dict(static_cast<std::size_t>(header_length), '\0');
  in.read(dict.data(), static_cast<std::streamsize>(header_length));
  require<io_error>(static_cast<std::uint64_t>(in.gcount()) == header_length,
                    [&] { return "read_npy: '" + path + "' is truncated in its header"; });

  NpyHeader header;
  header.data_offset = static_cast<std::size_t>(prefix + header_length);
  std::string descr = npy_header_value(dict, "descr");
  require<io_error>(descr.size() >= 2 && (descr.front() == '\'' || descr.front() == '"'),
                    [&] { return "read_npy: '" + path + "' has no dtype ('descr') in its header"; });
  header.dtype = descr.substr(1, descr.size() - 2);
  const std::string fortran = npy_header_value(dict, "fortran_order");
  require<io_error>(fortran == "False" || fortran == "True",
                    [&] { return "read_npy: '" + path + "' has no valid 'fortran_order' in its header"; });
  header.fortran_order = fortran == "True";
  const std::string shape = npy_header_value(dict, "shape");
  require<io_error>(shape.size() >= 2 && shape.front() == '(' && shape.back() == ')',
                    [&] { return "read_npy: '" + path + "' has no valid 'shape' in its header"; });
  std::size_t pos = 1;
  while (pos < shape.size() - 1) {
    while (pos < shape.size() - 1 && (shape[pos] == ' ' || shape[pos] == ',')) ++pos;
    if (pos >= shape.size() - 1) break;
    index_t extent = 0;
    const char* first = shape.data() + pos;
    const auto [end, error] = std::from_chars(first, shape.data() + shape.size() - 1, extent);
    require<io_error>(end != first && error == std::errc{} && extent >= 0, [&] {
      return "read_npy: '" + path + "' has a malformed shape " + shape +
             (error == std::errc::result_out_of_range ? " (an extent exceeds 64 bits)" : "");
    });
    header.shape.push_back(extent);
    pos = static_cast<std::size_t>(end - shape.data());
    require<io_error>(pos >= shape.size() - 1 || shape[pos] == ',' || shape[pos] == ' ',
                      [&] { return "read_npy: '" + path + "' has a malformed shape " + shape; });
  }
  return header;
}

/// Whether a stored value converts to T without leaving T's range: always for a floating T; for an integer T
/// the value (truncated towards zero when it is floating, NaN never) must lie in T's range.
template <class T, class Stored>
inline bool npy_value_fits(Stored value) {
  if constexpr (std::is_floating_point_v<T>) {
    return true;
  } else if constexpr (std::is_integral_v<Stored>) {
    return std::in_range<T>(value);
  } else {
    const Stored limit = std::ldexp(Stored(1), std::numeric_limits<T>::digits);  // exact: 2^digits
    return std::is_signed_v<T> ? (value >= -limit && value < limit) : (value > Stored(-1) && value < limit);
  }
}

template <class Stored, class T>
inline void convert_npy_data(const std::vector<char>& bytes, T* out, index_t count, const std::string& path) {
  for (index_t i = 0; i < count; ++i) {
    Stored value;
    std::memcpy(&value, bytes.data() + static_cast<std::size_t>(i) * sizeof(Stored), sizeof(Stored));
    require<io_error>(npy_value_fits<T>(value), [&] {
      return "read_npy: '" + path + "': element " + std::to_string(i) + " holds " + std::to_string(value) +
             ", outside the range of the requested " + std::to_string(sizeof(T)) + "-byte " +
             (std::is_signed_v<T> ? "signed" : "unsigned") + " integer type";
    });
    out[i] = static_cast<T>(value);
  }
}

}  // namespace detail

/// Reads a .npy file into a host tensor of rank Rank, converting its elements to T (see the file comment
/// for what is accepted). Throws io_error naming the file on any problem, dimension_mismatch when the file's
/// rank is not Rank.
template <class T, std::size_t Rank>
[[nodiscard]] inline Tensor<T, Rank, HostSpace> read_npy(const std::string& path,
                                                         const ReadLimits& limits = ReadLimits::from_environment()) {
  try {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    require<io_error>(static_cast<bool>(in), [&] { return "read_npy: cannot open '" + path + "'"; });
    const auto file_size = static_cast<std::uint64_t>(in.tellg());
    in.seekg(0);
    require<io_error>(file_size >= 10, [&] { return "read_npy: '" + path + "' is not a .npy file (too short)"; });
    const detail::NpyHeader header = detail::read_npy_header(in, file_size, path, limits);
    require<io_error>(!header.fortran_order,
                      [&] { return "read_npy: '" + path + "' is Fortran-ordered; save it in C order"; });
    require<dimension_mismatch>(header.shape.size() == Rank, [&] {
      return "read_npy: '" + path + "' holds an array of rank " + std::to_string(header.shape.size()) +
             ", expected " + std::to_string(Rank);
    });
    Extents<Rank> extents{};
    for (std::size_t d = 0; d < Rank; ++d) extents[d] = header.shape[d];

    std::size_t element_bytes = 0;
    const std::string& dtype = header.dtype;
    if (dtype == "<f4" || dtype == "<i4") element_bytes = 4;
    else if (dtype == "<f8" || dtype == "<i8") element_bytes = 8;
    else if (dtype == "|u1" || dtype == "<u1") element_bytes = 1;
    else if (dtype == "<u2") element_bytes = 2;
    require<io_error>(element_bytes != 0, [&] {
      return "read_npy: '" + path + "' has unsupported dtype '" + dtype +
             "' (supported: little-endian f4, f8, i4, i8, u1, u2)";
    });

    // Every size is checked before anything is allocated.
    const std::string context = "read_npy: '" + path + "'";
    const std::uint64_t data_bytes = checked_allocation_bytes(context, header.shape, element_bytes, limits);
    (void)checked_allocation_bytes(context + " read as " + std::to_string(sizeof(T)) + "-byte values", header.shape,
                                   sizeof(T), limits);
    const std::uint64_t stored = file_size - header.data_offset;
    require<io_error>(stored >= data_bytes, [&] {
      return "read_npy: '" + path + "' is truncated: its header's shape " + to_string(extents) + " announces " +
             std::to_string(data_bytes) + " data bytes, the file holds " + std::to_string(stored);
    });
    require<io_error>(stored == data_bytes, [&] {
      return "read_npy: '" + path + "' holds more data than its header's shape " + to_string(extents) +
             " announces (" + std::to_string(stored) + " bytes, not " + std::to_string(data_bytes) + ")";
    });

    const index_t count = product(extents);
    std::vector<char> bytes(static_cast<std::size_t>(data_bytes));
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    require<io_error>(static_cast<std::uint64_t>(in.gcount()) == data_bytes,
                      [&] { return "read_npy: reading the data of '" + path + "' failed"; });

    Tensor<T, Rank, HostSpace> result(extents);
    if (dtype == "<f4") detail::convert_npy_data<float>(bytes, result.data(), count, path);
    else if (dtype == "<f8") detail::convert_npy_data<double>(bytes, result.data(), count, path);
    else if (dtype == "<i4") detail::convert_npy_data<std::int32_t>(bytes, result.data(), count, path);
    else if (dtype == "<i8") detail::convert_npy_data<std::int64_t>(bytes, result.data(), count, path);
    else if (element_bytes == 1) detail::convert_npy_data<std::uint8_t>(bytes, result.data(), count, path);
    else detail::convert_npy_data<std::uint16_t>(bytes, result.data(), count, path);
    return result;
  } catch (const pnpdist::error&) {
    throw;
  } catch (const std::exception& e) {
    throw io_error("read_npy: '" + path + "': " + e.what());
  }
}

/// Writes a contiguous host view as a version-1.0 .npy file. Throws io_error when the file cannot be
/// written, dimension_mismatch for a non-contiguous view.
template <class T, std::size_t Rank>
inline void write_npy(const std::string& path, const View<T, Rank, HostSpace>& view) {
  using Value = std::remove_const_t<T>;
  require<dimension_mismatch>(view.is_contiguous(), "write_npy: the view must be contiguous");
  std::string shape = "(";
  for (std::size_t d = 0; d < Rank; ++d) shape += std::to_string(view.extent(d)) + (Rank == 1 || d + 1 < Rank ? "," : "");
  shape += ")";
  std::string dict = std::string("{'descr': '") + detail::npy_dtype<Value>() + "', 'fortran_order': False, 'shape': " +
                     shape + ", }";
  const std::size_t unpadded = 10 + dict.size() + 1;  // magic, version, length, dictionary, newline
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  require<io_error>(static_cast<bool>(out), [&] { return "write_npy: cannot open '" + path + "' for writing"; });
  const unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                      static_cast<unsigned char>(dict.size() & 0xff),
                                      static_cast<unsigned char>(dict.size() >> 8)};
  out.write(reinterpret_cast<const char*>(preamble), 10);
  out.write(dict.data(), static_cast<std::streamsize>(dict.size()));
  out.write(reinterpret_cast<const char*>(view.data()), static_cast<std::streamsize>(view.size() * sizeof(Value)));
  out.flush();
  require<io_error>(static_cast<bool>(out), [&] { return "write_npy: writing '" + path + "' failed"; });
}

}  // namespace pnpdist
