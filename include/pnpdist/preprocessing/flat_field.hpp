#pragma once
/// \file
/// Dark- and flat-field correction and the negative logarithm: raw counts P become line integrals
///     t = (P - D) / (F - D),        -log(max(t, floor)),
/// with D the averaged dark field and F the flat field of the projection. Flat fields are a list of
/// (averaged) fields, each taken at a position in the scan (the index of the projection it precedes): the
/// flat of projection k interpolates linearly between the two flats around k, and is the first or last flat
/// outside them. One flat is the averaged-flat correction, one flat per projection the per-projection one,
/// a flat before and one after the scan corrects a linear drift of the source.
/// Where F - D <= 0 (dead pixel) the transmission is 1 (line integral 0). The floor (default 1e-4, a line
/// integral of at most 9.21) keeps -log finite where P <= D, which photon noise produces behind dense objects.
/// Every step is one kernel per projection over its pixels, on any executor.

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/tensor/elementwise.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::preprocessing {

/// The averaged dark field and the flat fields of a scan, on the detector after any crop and binning.
template <class Space = HostSpace>
struct FlatFields {
  Tensor<float, 2, Space> dark;   ///< rows x cols
  Tensor<float, 3, Space> flats;  ///< (n, rows, cols), n >= 1
  std::vector<double> positions;  ///< n increasing scan positions (projection indices) of the flats
};

namespace detail {

template <class Space>
struct AverageFramesKernel {
  View<const float, 3, Space> frames;
  View<float, 2, Space> out;
  PNPDIST_HOST_DEVICE void operator()(index_t r, index_t c) const {
    double sum = 0;
    for (index_t k = 0; k < frames.extent(0); ++k) sum += static_cast<double>(frames(k, r, c));
    out(r, c) = static_cast<float>(sum / static_cast<double>(frames.extent(0)));
  }
};

template <class Space>
struct FlatFieldKernel {
  View<float, 2, Space> projection;
  View<const float, 2, Space> dark, flat0, flat1;
  float w;  // flat = (1 - w) flat0 + w flat1
  PNPDIST_HOST_DEVICE void operator()(index_t r, index_t c) const {
    const float d = dark(r, c);
    const float open = (1.0f - w) * flat0(r, c) + w * flat1(r, c) - d;
    projection(r, c) = open > 0.0f ? (projection(r, c) - d) / open : 1.0f;
  }
};

struct MinusLog {
  float floor;
  PNPDIST_HOST_DEVICE void operator()(float& x) const { x = -std::log(x > floor ? x : floor); }
};

}  // namespace detail

/// Averages the frames (n, rows, cols) of a dark or flat series into `out` (rows, cols), in double.
template <class Exec>
inline void average_frames(const Exec& exec, const View<const float, 3, typename Exec::memory_space>& frames,
                           const View<float, 2, typename Exec::memory_space>& out) {
  require(frames.extent(0) >= 1, "preprocessing::average_frames: no frames");
  require<dimension_mismatch>(out.extent(0) == frames.extent(1) && out.extent(1) == frames.extent(2), [&] {
    return "preprocessing::average_frames: frames " + to_string(frames.extents()) + ", out " + to_string(out.extents());
  });
  for_each(with_iteration_cost(exec, frames.extent(0)), out.extents(),
           detail::AverageFramesKernel<typename Exec::memory_space>{frames, out});
}

/// Throws invalid_argument / dimension_mismatch unless `fields` is usable for projections of rows x cols.
template <class Space>
inline void validate(const FlatFields<Space>& fields, index_t rows, index_t cols) {
  require<dimension_mismatch>(fields.dark.extent(0) == rows && fields.dark.extent(1) == cols &&
                                  fields.flats.extent(1) == rows && fields.flats.extent(2) == cols,
                              [&] {
                                return "preprocessing::FlatFields: dark " + to_string(fields.dark.extents()) +
                                       " and flats " + to_string(fields.flats.extents()) + " for projections of " +
                                       std::to_string(rows) + " x " + std::to_string(cols);
                              });
  require(fields.flats.extent(0) >= 1 && static_cast<index_t>(fields.positions.size()) == fields.flats.extent(0), [&] {
    return "preprocessing::FlatFields: " + std::to_string(fields.flats.extent(0)) + " flats with " +
           std::to_string(fields.positions.size()) + " positions";
  });
  require(std::is_sorted(fields.positions.begin(), fields.positions.end()),
          "preprocessing::FlatFields: flat positions must increase");
}

/// Replaces the counts of `projections` (in place) by transmissions (P - D) / (F - D); positions[k] is the
/// scan position of projection k (its index in the full scan), which selects its flat (file comment).
template <class Exec>
inline void flat_field_correct(const Exec& exec, const FlatFields<typename Exec::memory_space>& fields,
                               const View<float, 3, typename Exec::memory_space>& projections,
                               const std::vector<double>& positions) {
  using Space = typename Exec::memory_space;
  const index_t rows = projections.extent(1), cols = projections.extent(2);
  validate(fields, rows, cols);
  require<dimension_mismatch>(static_cast<index_t>(positions.size()) == projections.extent(0), [&] {
    return "preprocessing::flat_field_correct: " + std::to_string(positions.size()) + " positions for " +
           std::to_string(projections.extent(0)) + " projections";
  });
  const std::vector<double>& at = fields.positions;
  const index_t n = fields.flats.extent(0);
  const auto flat = [&](index_t i) {
    return View<const float, 2, Space>(fields.flats.data() + i * rows * cols, Extents<2>{rows, cols});
  };
  for (index_t k = 0; k < projections.extent(0); ++k) {
    const double p = positions[static_cast<std::size_t>(k)];
    const auto upper = std::upper_bound(at.begin(), at.end(), p);  // first flat after p
    index_t i1 = std::min<index_t>(static_cast<index_t>(upper - at.begin()), n - 1);
    index_t i0 = std::max<index_t>(i1 - 1, 0);
    float w = 0;
    if (p <= at.front()) {
      i0 = i1 = 0;
    } else if (p >= at.back()) {
      i0 = i1 = n - 1;
    } else {
      w = static_cast<float>((p - at[static_cast<std::size_t>(i0)]) /
                             (at[static_cast<std::size_t>(i1)] - at[static_cast<std::size_t>(i0)]));
    }
    const View<float, 2, Space> projection(&projections(k, 0, 0), Extents<2>{rows, cols},
                                           Extents<2>{projections.stride(1), projections.stride(2)});
    for_each(exec, Extents<2>{rows, cols},
             detail::FlatFieldKernel<Space>{projection, fields.dark.const_view(), flat(i0), flat(i1), w});
  }
}

/// x = -log(max(x, floor)) for every element (transmissions to line integrals). floor must be in (0, 1].
template <class Exec, std::size_t Rank>
inline void minus_log(const Exec& exec, const View<float, Rank, typename Exec::memory_space>& x, float floor = 1e-4f) {
  require(floor > 0.0f && floor <= 1.0f,
          [&] { return "preprocessing::minus_log: floor must be in (0, 1], got " + std::to_string(floor); });
  elementwise(exec, detail::MinusLog{floor}, x);
}

}  // namespace pnpdist::preprocessing
