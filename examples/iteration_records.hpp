#pragma once
// The iteration records of result.json: the fields of an IterationRecord as numbers (record_fields,
// record_values), every rank's records gathered by one allreduce (gather_records) and their JSON
// (records_json: counts and bytes as integers, non-finite figures as null).
#include <pnpdist/core/errors.hpp>
#include <pnpdist/core/types.hpp>
#include <pnpdist/solvers/iteration_record.hpp>
#include <pnpdist/tensor/view.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace pnpdist_examples {

using pnpdist::index_t;

/// The figures of one IterationRecord, in the order of record_fields.
inline constexpr std::size_t record_field_count = 16;
inline constexpr const char* record_fields[record_field_count] = {"iteration",
                                                                  "wall_seconds",
                                                                  "iteration_seconds",
                                                                  "gradient_seconds",
                                                                  "denoiser_seconds",
                                                                  "data_fidelity",
                                                                  "psnr",
                                                                  "ssim",
                                                                  "relative_change",
                                                                  "peak_rss_gradient_bytes",
                                                                  "peak_rss_denoiser_bytes",
                                                                  "peak_tracked_gradient_bytes",
                                                                  "peak_tracked_denoiser_bytes",
                                                                  "relative_residual_change",
                                                                  "denoiser_sigma",
                                                                  "data_step_iterations"};

/// Whether the field of record_fields is a count (iteration, bytes, data-step iterations): an integer in JSON.
inline constexpr bool record_field_is_count[record_field_count] = {true,  false, false, false, false, false,
                                                                   false, false, false, true,  true,  true,
                                                                   true,  false, false, true};

inline std::array<double, record_field_count> record_values(const pnpdist::IterationRecord& r) {
  return {static_cast<double>(r.iteration),
          r.wall_seconds,
          r.iteration_seconds,
          r.gradient_seconds,
          r.denoiser_seconds,
          r.data_fidelity,
          r.psnr,
          r.ssim,
          r.relative_change,
          static_cast<double>(r.peak_rss_gradient_bytes),
          static_cast<double>(r.peak_rss_denoiser_bytes),
          static_cast<double>(r.peak_tracked_gradient_bytes),
          static_cast<double>(r.peak_tracked_denoiser_bytes),
          r.relative_residual_change,
          r.denoiser_sigma,
          static_cast<double>(r.data_step_iterations)};
}

/// Every rank's records on every rank: ranks x iterations x fields, by one allreduce of a zero-padded
/// buffer (each rank fills its own slice; a sum of one value and zeros is exact, NaN included).
template <class Communicator>
std::vector<std::vector<std::array<double, record_field_count>>> gather_records(
    const Communicator& world, const std::vector<pnpdist::IterationRecord>& mine) {
  const auto ranks = static_cast<std::size_t>(world.size());
  const auto count = static_cast<std::size_t>(world.allreduce_sum(static_cast<double>(mine.size())) / ranks);
  pnpdist::require(count == mine.size(), "gather_records: the ranks performed different numbers of iterations");
  std::vector<double> buffer(ranks * count * record_field_count, 0.0);
  for (std::size_t k = 0; k < count; ++k) {
    const auto values = record_values(mine[k]);
    std::copy(values.begin(), values.end(),
              buffer.begin() + static_cast<std::ptrdiff_t>((static_cast<std::size_t>(world.rank()) * count + k) *
                                                           record_field_count));
  }
  world.allreduce_sum(
      pnpdist::View<double, 1>(buffer.data(), pnpdist::Extents<1>{static_cast<index_t>(buffer.size())}));
  std::vector<std::vector<std::array<double, record_field_count>>> all(ranks);
  for (std::size_t r = 0; r < ranks; ++r)
    for (std::size_t k = 0; k < count; ++k) {
      std::array<double, record_field_count> values{};
      std::copy_n(buffer.begin() + static_cast<std::ptrdiff_t>((r * count + k) * record_field_count),
                  record_field_count, values.begin());
      all[r].push_back(values);
    }
  return all;
}

/// result.json's "records": one list per rank of {"iteration": 1, "wall_seconds": ..., ...} objects.
inline nlohmann::ordered_json records_json(
    const std::vector<std::vector<std::array<double, record_field_count>>>& all) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& rank_records : all) {
    nlohmann::ordered_json rank = nlohmann::ordered_json::array();
    for (const auto& values : rank_records) {
      nlohmann::ordered_json record = nlohmann::ordered_json::object();
      for (std::size_t f = 0; f < record_field_count; ++f)
        record[record_fields[f]] = record_field_is_count[f] && std::isfinite(values[f])
                                       ? nlohmann::ordered_json(static_cast<long long>(values[f]))
                                       : nlohmann::ordered_json(values[f]);
      rank.push_back(std::move(record));
    }
    out.push_back(std::move(rank));
  }
  return out;
}

}  // namespace pnpdist_examples
