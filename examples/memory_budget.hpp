#pragma once
// Up-front memory checks of the benchmark examples: before anything large is allocated, a lower bound of the
// run's peak memory per process (MemoryEstimate, by part) is compared with the memory the process can use
// (available_memory: physical memory, or the address-space limit of `ulimit -v` when smaller); a problem that
// cannot fit is refused with both figures and what to change (require_fits). The bound counts only arrays
// every run certainly holds, so a refused run could not have succeeded; a run that passes may still need more.
#include <pnpdist/core/errors.hpp>
#include <pnpdist/core/types.hpp>
#include <pnpdist/nn/drunet_schedule.hpp>
#include <pnpdist/nn/drunet_weights.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace pnpdist_examples {

/// What this process can allocate, and what limits it.
struct AvailableMemory {
  double bytes = std::numeric_limits<double>::infinity();
  std::string limited_by = "nothing known";
};

/// The smaller of the physical memory and the address-space limit (RLIMIT_AS, `ulimit -v`).
inline AvailableMemory available_memory() {
  AvailableMemory available;
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page_size > 0) available = {static_cast<double>(pages) * static_cast<double>(page_size), "physical memory"};
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      static_cast<double>(limit.rlim_cur) < available.bytes)
    available = {static_cast<double>(limit.rlim_cur), "the address-space limit (ulimit -v)"};
  return available;
}

/// "1.5 GB", "7.7 TB": decimal units, three significant digits.
inline std::string format_bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  std::size_t unit = 0;
  while (bytes >= 1000.0 && unit + 1 < sizeof(units) / sizeof(units[0])) {
    bytes /= 1000.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g %s", bytes, units[unit]);
  return text;
}

/// A lower bound of a run's peak memory per process, by part ("images", "measurements", ...).
class MemoryEstimate {
 public:
  /// Adds `count` float32 values under `part`.
  void add_floats(const std::string& part, double count) { parts_.emplace_back(part, 4.0 * count); }
  [[nodiscard]] double total_bytes() const {
    double total = 0;
    for (const auto& part : parts_) total += part.second;
    return total;
  }
  /// "images 1.2 GB, measurements 300 MB, ..."
  [[nodiscard]] std::string describe() const {
    std::string text;
    for (const auto& part : parts_) text += (text.empty() ? "" : ", ") + part.first + " " + format_bytes(part.second);
    return text;
  }

 private:
  std::vector<std::pair<std::string, double>> parts_;
};

/// Pixels (voxels) of the denoiser's smallest possible call: the whole image when not tiled, else one tile
/// (core plus overlap on both sides, per axis) times the tiles of a batch (--max-batch-size; 0: one tile, the
/// least a batch of all tiles holds).
inline double denoiser_call_pixels(const std::vector<index_t>& image, const std::vector<index_t>& patch,
                                   const std::vector<index_t>& overlap, index_t max_batch_size) {
  double pixels = 1;
  for (std::size_t d = 0; d < image.size(); ++d) {
    const bool tiled = d < patch.size() && patch[d] > 0;
    pixels *= static_cast<double>(tiled ? std::min(image[d], patch[d] + 2 * overlap[d]) : image[d]);
  }
  const bool tiled = !patch.empty() && patch[0] > 0;
  return tiled && max_batch_size > 1 ? pixels * static_cast<double>(max_batch_size) : pixels;
}

/// Adds DRUNet's activations for a call on `pixels` pixels (voxels) of a `dim`-dimensional image.
inline void add_drunet_activations(MemoryEstimate& estimate, const pnpdist::nn::DRUNetConfig& config, std::size_t dim,
                                   double pixels) {
  estimate.add_floats("DRUNet activations", pnpdist::nn::drunet_activation_floats_per_pixel(config, dim) * pixels);
}

/// Throws pnpdist::invalid_argument naming `what`, the estimate (by part), the memory available and `advice`
/// when the estimate exceeds the memory available.
inline void require_fits(const std::string& what, const MemoryEstimate& estimate, const AvailableMemory& available,
                         const std::string& advice) {
  pnpdist::require(estimate.total_bytes() <= available.bytes, [&] {
    return what + " needs at least " + format_bytes(estimate.total_bytes()) + " per process (" + estimate.describe() +
           "); this process can use " + format_bytes(available.bytes) + " (" + available.limited_by + "). " + advice;
  });
}

}  // namespace pnpdist_examples
