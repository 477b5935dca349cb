#pragma once
/// \file
/// Splitting `count` items (projection angles, operators, tiles) into `parts` contiguous blocks whose
/// sizes differ by at most one, the larger blocks first: 100 items in 8 parts give 13,13,13,13,12,12,12,12.

#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"

namespace pnpdist {

/// A contiguous range of items [begin, begin + size).
struct Block {
  index_t begin;
  index_t size;

  friend constexpr bool operator==(const Block&, const Block&) = default;
};

/// `parts` contiguous blocks covering [0, count) in order, of sizes floor(count/parts) + 1 for the first
/// count % parts blocks and floor(count/parts) for the others. When parts > count the trailing blocks are
/// empty (size 0, begin = count). Throws invalid_argument for count < 0 or parts < 1.
[[nodiscard]] inline std::vector<Block> contiguous_blocks(index_t count, index_t parts) {
  require(count >= 0, [&] { return "contiguous_blocks: count must be >= 0, got " + std::to_string(count); });
  require(parts >= 1, [&] { return "contiguous_blocks: parts must be >= 1, got " + std::to_string(parts); });
  std::vector<Block> blocks;
  blocks.reserve(static_cast<std::size_t>(parts));
  const index_t base = count / parts;
  const index_t larger = count % parts;
  index_t begin = 0;
  for (index_t p = 0; p < parts; ++p) {
    const index_t size = base + (p < larger ? 1 : 0);
    blocks.push_back(Block{begin, size});
    begin += size;
  }
  return blocks;
}

}  // namespace pnpdist
