#pragma once
/// \file
/// split_views(geometry, parts): one geometry per contiguous block of views, the block sizes differing by at
/// most one, the larger blocks first (operators/split_blocks.hpp): 100 views in 8 parts give
/// 13,13,13,13,12,12,12,12. Stacking the projections of the parts in order gives the full projection.

#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/operators/split_blocks.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

namespace pnpdist::ct {

/// `parts` geometries over consecutive blocks of views. Throws invalid_argument when parts < 1 or
/// parts > views (a block would have no view).
template <class Geometry>
[[nodiscard]] inline std::vector<Geometry> split_views(const Geometry& geometry, index_t parts) {
  require(parts >= 1 && parts <= geometry.views(), [&] {
    return "ct::split_views: cannot split " + std::to_string(geometry.views()) + " views into " +
           std::to_string(parts) + " non-empty blocks";
  });
  std::vector<Geometry> out;
  for (const Block& b : contiguous_blocks(geometry.views(), parts))
    out.push_back(select_views(geometry, b.begin, b.size));
  return out;
}

}  // namespace pnpdist::ct
