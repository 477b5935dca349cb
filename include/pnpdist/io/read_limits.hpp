#pragma once
/// \file
/// ReadLimits: the bounds every file reader (npy, safetensors, PNG, JPEG, TIFF, the CT geometry files) checks
/// a file's declared sizes against before it allocates anything, and the overflow-checked size arithmetic
/// they share.
///
///   max_allocation_bytes  the most one reader allocates for the data of one file (default 4 GiB; the
///                         environment variable PNPDIST_MAX_ALLOCATION, in bytes with an optional K, M, G or
///                         T suffix (powers of 1024), replaces the default);
///   max_header_bytes      the longest header read (safetensors JSON, .npy dictionary, a JSON geometry
///                         description; default 100 MiB);
///   max_json_depth        the deepest nesting a JSON header may have (default 64);
///   max_yaml_expanded_bytes  the largest tree a YAML document may expand to, every alias copied, charged 16
///                         bytes per node plus its text (default 4 MiB; a geometry description is a few KB).
///
/// Guarantees: checked_allocation_bytes computes a product of extents times an element size with every step
/// checked for overflow, and throws io_error naming the context when an extent is negative, the product of
/// the element size and the non-zero extents exceeds the signed 64-bit range (even for an empty array, so
/// that no product of the extents overflows index_t), or the byte count exceeds max_allocation_bytes.

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// Size bounds of the file readers (see the file comment).
struct ReadLimits {
  std::uint64_t max_allocation_bytes = std::uint64_t{4} << 30;
  std::uint64_t max_header_bytes = std::uint64_t{100} << 20;
  int max_json_depth = 64;
  std::uint64_t max_yaml_expanded_bytes = std::uint64_t{4} << 20;

  /// The defaults, with max_allocation_bytes taken from PNPDIST_MAX_ALLOCATION when it is set. Throws
  /// invalid_argument when the variable is not a positive byte count.
  [[nodiscard]] static ReadLimits from_environment() {
    ReadLimits limits;
    if (const char* value = std::getenv("PNPDIST_MAX_ALLOCATION"); value != nullptr && *value != '\0')
      limits.max_allocation_bytes = parse_byte_count(value, "PNPDIST_MAX_ALLOCATION");
    return limits;
  }

  /// "4096", "512M", "4G": a positive byte count with an optional binary suffix K, M, G or T. Throws
  /// invalid_argument naming `what` otherwise.
  [[nodiscard]] static std::uint64_t parse_byte_count(std::string_view text, std::string_view what) {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
    int shift = 0;
    if (suffix.size() == 1) {
      switch (suffix[0]) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        case 'T': case 't': shift = 40; break;
        default: shift = -1;
      }
    } else if (!suffix.empty()) {
      shift = -1;
    }
    const bool ok = error == std::errc{} && value > 0 && shift >= 0 && value <= (UINT64_MAX >> shift);
    require(ok, [&] {
      return std::string(what) + "='" + std::string(text) +
             "' is not a positive byte count (an integer with an optional K, M, G or T suffix)";
    });
    return value << shift;
  }
};

/// `a * b`, or false when it overflows 64 bits.
[[nodiscard]] inline bool checked_multiply(std::uint64_t a, std::uint64_t b, std::uint64_t& product) {
  return !__builtin_mul_overflow(a, b, &product);
}

/// Throws io_error "<context> needs <bytes> bytes, more than the allocation limit ..." when `bytes` exceeds
/// limits.max_allocation_bytes.
inline void require_within_allocation_limit(std::string_view context, std::uint64_t bytes, const ReadLimits& limits) {
  require<io_error>(bytes <= limits.max_allocation_bytes, [&] {
    return std::string(context) + " needs " + std::to_string(bytes) + " bytes, more than the allocation limit of " +
           std::to_string(limits.max_allocation_bytes) +
           " bytes (ReadLimits::max_allocation_bytes, environment variable PNPDIST_MAX_ALLOCATION)";
  });
}

/// The bytes of an array of `shape` with `element_bytes` per element (see the file comment). `context`
/// starts the message: "read_npy: 'file.npy'".
[[nodiscard]] inline std::uint64_t checked_allocation_bytes(std::string_view context, std::span<const index_t> shape,
                                                            std::uint64_t element_bytes, const ReadLimits& limits) {
  const auto shape_text = [&] {
    std::string s = "(";
    for (std::size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
    return s + ")";
  };
  // The product of the element size and the non-zero extents must fit index_t even when another extent is
  // 0: the extents are multiplied in any order (a Tensor's size, product()), so every partial product must fit.
  bool empty = false;
  std::uint64_t bytes = element_bytes;
  for (const index_t extent : shape) {
    require<io_error>(extent >= 0,
                      [&] { return std::string(context) + ": shape " + shape_text() + " has a negative extent"; });
    if (extent == 0) {
      empty = true;
      continue;
    }
    require<io_error>(checked_multiply(bytes, static_cast<std::uint64_t>(extent), bytes) &&
                          bytes <= static_cast<std::uint64_t>(INT64_MAX),
                      [&] {
                        return std::string(context) + ": shape " + shape_text() + " of " +
                               std::to_string(element_bytes) + "-byte elements overflows 64 bits (signed)";
                      });
  }
  if (empty) return 0;
  require_within_allocation_limit(std::string(context) + ": shape " + shape_text(), bytes, limits);
  return bytes;
}

}  // namespace pnpdist
