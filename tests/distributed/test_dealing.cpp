// Dealing items to ranks: round robin and contiguous by definition, cost balanced against a hand-worked
// example and Graham's bound for largest-first scheduling against the brute-force optimum.
#include <pnpdist/distributed/dealing.hpp>

#include <catch2/catch.hpp>
#include <random>

using namespace pnpdist;

TEST_CASE("deal_round_robin and deal_contiguous", "[distributed][unit]") {
  const Assignment rr = deal_round_robin(10, 3);
  for (index_t i = 0; i < 10; ++i) CHECK(rr.owner(i) == i % 3);
  CHECK(rr.items_of(1) == std::vector<index_t>{1, 4, 7});
  const Assignment blocks = deal_contiguous(10, 4);  // 3, 3, 2, 2
  CHECK(blocks.owners() == std::vector<int>{0, 0, 0, 1, 1, 1, 2, 2, 3, 3});
  const Assignment sparse = deal_contiguous(2, 4);
  CHECK(sparse.items_of(3).empty());
  CHECK_THROWS_AS(deal_round_robin(3, 0), invalid_argument);
  CHECK_THROWS_AS(deal_contiguous(-1, 2), invalid_argument);
}

TEST_CASE("deal_by_cost is greedy largest-first with deterministic ties", "[distributed][unit]") {
  // Loads: 5 -> r0 (5, 0); 4 -> r1 (5, 4); 3 (item 2) -> r1 (5, 7); 3 (item 3) -> r0 (8, 7); 3 -> r1 (8, 10).
  const std::vector<double> costs{5, 4, 3, 3, 3};
  CHECK(deal_by_cost(costs, 2).owners() == std::vector<int>{0, 1, 1, 0, 1});
  // Equal costs: ties to the lower rank, items in index order, i.e. round robin.
  CHECK(deal_by_cost(std::vector<double>(7, 1.0), 3).owners() == deal_round_robin(7, 3).owners());
  CHECK_THROWS_AS(deal_by_cost(std::vector<double>{1.0, -2.0}, 2), invalid_argument);
  CHECK_THROWS_AS(Dealing::cost_balanced({1.0, 2.0}).deal(3, 2), invalid_argument);

  // Graham's bound for largest-first: makespan <= (4/3 - 1/(3 ranks)) OPT, OPT found by brute force.
  std::mt19937 rng(3);
  for (int trial = 0; trial < 150; ++trial) {
    const int ranks = 1 + trial % 3;
    std::vector<double> c(static_cast<std::size_t>(1 + trial % 8));
    for (double& v : c) v = std::uniform_real_distribution<double>(0.0, 10.0)(rng);
    auto makespan_of = [&](const std::vector<int>& owners) {
      std::vector<double> load(static_cast<std::size_t>(ranks), 0.0);
      for (std::size_t i = 0; i < c.size(); ++i) load[static_cast<std::size_t>(owners[i])] += c[i];
      return *std::max_element(load.begin(), load.end());
    };
    double optimum = 1e300;
    std::vector<int> owners(c.size(), 0);
    for (;;) {
      optimum = std::min(optimum, makespan_of(owners));
      std::size_t k = 0;
      while (k < owners.size() && ++owners[k] == ranks) owners[k++] = 0;
      if (k == owners.size()) break;
    }
    const Assignment a = Dealing::cost_balanced(c).deal(static_cast<index_t>(c.size()), ranks);
    CHECK(makespan_of(a.owners()) <= (4.0 / 3.0 - 1.0 / (3.0 * ranks)) * optimum + 1e-9);
  }
}
