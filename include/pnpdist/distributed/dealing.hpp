#pragma once
/// \file
/// Dealing items (operators, tiles) to ranks. Every policy is a deterministic function of its inputs, so
/// all ranks compute the same assignment without communicating.
///
///   - round robin: item i goes to rank i mod ranks;
///   - cost balanced: greedy largest-first (LPT): items in order of decreasing cost (ties: lower index
///     first) each go to the rank with the least total cost so far (ties: lower rank); the most loaded
///     rank carries at most 4/3 of the optimal makespan;
///   - contiguous: rank r gets the r-th of contiguous_blocks(count, ranks) (sizes differ by at most one).
/// A rank may receive no item when there are more ranks than items.

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/operators/split_blocks.hpp"

namespace pnpdist {

/// Which rank owns each of `count` items.
class Assignment {
public:
  Assignment(std::vector<int> owners, int ranks) : owners_(std::move(owners)), ranks_(ranks) {}

  [[nodiscard]] index_t count() const { return static_cast<index_t>(owners_.size()); }
  [[nodiscard]] int ranks() const { return ranks_; }
  /// Rank owning item i.
  [[nodiscard]] int owner(index_t i) const { return owners_.at(static_cast<std::size_t>(i)); }
  [[nodiscard]] const std::vector<int>& owners() const { return owners_; }
  /// The items of `rank`, in increasing order.
  [[nodiscard]] std::vector<index_t> items_of(int rank) const {
    std::vector<index_t> items;
    for (std::size_t i = 0; i < owners_.size(); ++i)
      if (owners_[i] == rank) items.push_back(static_cast<index_t>(i));
    return items;
  }

private:
  std::vector<int> owners_;
  int ranks_;
};

namespace detail {
inline void require_dealing_arguments(index_t count, int ranks, const char* what) {
  require(count >= 0 && ranks >= 1, [&] {
    return std::string(what) + ": needs count >= 0 and ranks >= 1, got " + std::to_string(count) + " items for " +
           std::to_string(ranks) + " ranks";
  });
}
}  // namespace detail

/// Item i to rank i mod ranks.
[[nodiscard]] inline Assignment deal_round_robin(index_t count, int ranks) {
  detail::require_dealing_arguments(count, ranks, "deal_round_robin");
  std::vector<int> owners(static_cast<std::size_t>(count));
  for (index_t i = 0; i < count; ++i) owners[static_cast<std::size_t>(i)] = static_cast<int>(i % ranks);
  return Assignment(std::move(owners), ranks);
}

/// Contiguous blocks of items, sizes differing by at most one, the larger first.
[[nodiscard]] inline Assignment deal_contiguous(index_t count, int ranks) {
  detail::require_dealing_arguments(count, ranks, "deal_contiguous");
  std::vector<int> owners(static_cast<std::size_t>(count));
  const std::vector<Block> blocks = contiguous_blocks(count, ranks);
  for (int r = 0; r < ranks; ++r)
    for (index_t i = 0; i < blocks[static_cast<std::size_t>(r)].size; ++i)
      owners[static_cast<std::size_t>(blocks[static_cast<std::size_t>(r)].begin + i)] = r;
  return Assignment(std::move(owners), ranks);
}

/// Greedy largest-first by cost (see the file comment). Throws invalid_argument for a negative or
/// non-finite cost.
[[nodiscard]] inline Assignment deal_by_cost(std::span<const double> costs, int ranks) {
  const auto count = static_cast<index_t>(costs.size());
  detail::require_dealing_arguments(count, ranks, "deal_by_cost");
  for (std::size_t i = 0; i < costs.size(); ++i)
    require(std::isfinite(costs[i]) && costs[i] >= 0.0, [&] {
      return "deal_by_cost: cost of item " + std::to_string(i) + " is " + std::to_string(costs[i]) +
             " (must be finite and >= 0)";
    });
  std::vector<index_t> order(costs.size());
  std::iota(order.begin(), order.end(), index_t{0});
  std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) {
    return costs[static_cast<std::size_t>(a)] > costs[static_cast<std::size_t>(b)];
  });
  std::vector<double> load(static_cast<std::size_t>(ranks), 0.0);
  std::vector<int> owners(costs.size());
  for (const index_t i : order) {
    const auto lightest = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    owners[static_cast<std::size_t>(i)] = lightest;
    load[static_cast<std::size_t>(lightest)] += costs[static_cast<std::size_t>(i)];
  }
  return Assignment(std::move(owners), ranks);
}

/// A dealing policy as a value: round robin, cost balanced (with the per-item costs) or contiguous.
struct Dealing {
  enum class Policy { round_robin, cost_balanced, contiguous };
  Policy policy = Policy::round_robin;
  std::vector<double> costs;  ///< per item; used by cost_balanced only

  [[nodiscard]] static Dealing round_robin() { return {Policy::round_robin, {}}; }
  [[nodiscard]] static Dealing cost_balanced(std::vector<double> costs) {
    return {Policy::cost_balanced, std::move(costs)};
  }
  [[nodiscard]] static Dealing contiguous() { return {Policy::contiguous, {}}; }

  /// The assignment of `count` items to `ranks` ranks. Throws invalid_argument when a cost-balanced
  /// policy holds a number of costs other than count.
  [[nodiscard]] Assignment deal(index_t count, int ranks) const {
    switch (policy) {
      case Policy::cost_balanced:
        require(static_cast<index_t>(costs.size()) == count, [&] {
          return "Dealing::cost_balanced: " + std::to_string(costs.size()) + " costs for " + std::to_string(count) +
                 " items";
        });
        return deal_by_cost(costs, ranks);
      case Policy::contiguous:
        return deal_contiguous(count, ranks);
      case Policy::round_robin:
        break;
    }
    return deal_round_robin(count, ranks);
  }
};

}  // namespace pnpdist
