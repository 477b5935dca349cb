// DistributedPhysics against (a) an independent double-precision reference of
// f(x) = 1/2 sum_i ||A_i x - y_i||^2 and its gradient written with plain loops, and (b) the single-process
// result (every operator on one SelfCommunicator), at whatever rank count the test runs with.
//
// Tolerance of the gradient, per element j: 4 (n_ops + 2) eps_float S_j with
// S_j = sum_i sum_r |A_i[r, j]| (|A_i x|_r + |y_i[r]|): the float round-off of forming A_i x, the residual,
// A_i^T r and a float sum of n_ops terms in a grouping that depends on the rank count (local sums, then
// the allreduce). data_fidelity is accumulated in double: relative 1e-12 between rank counts.
#include <pnpdist/distributed/distributed_physics.hpp>
#include <pnpdist/distributed/mpi/mpi_communicator.hpp>
#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/tensor/random.hpp>

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "distributed/dense_stack_physics.hpp"
#include "distributed/test_world.hpp"
#include "support/host_executors.hpp"

using namespace pnpdist;
using pnpdist::test::DenseStackPhysics;

namespace {

constexpr index_t cols = 23;
constexpr std::uint64_t seed = 42;

struct Reference {
  double fidelity = 0;
  std::vector<double> gradient;
  std::vector<double> scale;  // S_j
};

Reference reference(index_t operators, const std::vector<float>& x) {
  Reference ref{0.0, std::vector<double>(cols, 0.0), std::vector<double>(cols, 0.0)};
  for (index_t i = 0; i < operators; ++i) {
    const auto op = test::dense_stack_operator(i, cols, seed);
    const index_t rows = op.entries.extent(0);
    for (index_t r = 0; r < rows; ++r) {
      double ax = 0, ax_abs = 0;
      for (index_t c = 0; c < cols; ++c) {
        ax += double(op.entries(r, c)) * x[static_cast<std::size_t>(c)];
        ax_abs += std::abs(double(op.entries(r, c)) * x[static_cast<std::size_t>(c)]);
      }
      const double residual = ax - op.measurement(r);
      ref.fidelity += 0.5 * residual * residual;
      for (index_t c = 0; c < cols; ++c) {
        ref.gradient[static_cast<std::size_t>(c)] += double(op.entries(r, c)) * residual;
        ref.scale[static_cast<std::size_t>(c)] +=
            std::abs(double(op.entries(r, c))) * (ax_abs + std::abs(op.measurement(r)));
      }
    }
  }
  return ref;
}

template <class Exec, class Comm>
auto make_physics(Exec exec, Comm comm, index_t operators, const Dealing& dealing) {
  return distribute_physics(operators, comm, dealing, [&](std::span<const index_t> mine) {
    return DenseStackPhysics<Exec>(exec, cols, mine, seed);
  });
}

std::vector<double> operator_costs(index_t operators) {
  std::vector<double> costs;
  for (index_t i = 0; i < operators; ++i) costs.push_back(double(test::dense_stack_rows(i) * cols));
  return costs;
}

}  // namespace

static_assert(Physics<DistributedPhysics<DenseStackPhysics<Serial>, SelfCommunicator>>);
static_assert(Physics<DistributedPhysics<DenseStackPhysics<Serial>, MpiCommunicator>>);

TEMPLATE_LIST_TEST_CASE("Distributed gradient and data fidelity equal the reference and the single-process result",
                        "[distributed][mpi]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  const auto comm = test::world();
  std::vector<float> x(cols);
  fill_normal(Serial{}, View<float, 1, HostSpace>(x.data(), Extents<1>{cols}), 5, 0, 0.0f, 1.0f);
  const View<const float, 1, HostSpace> xv(x.data(), Extents<1>{cols});
  const float eps = std::numeric_limits<float>::epsilon();

  for (const index_t operators : {index_t{1}, index_t{3}, index_t{8}}) {
    for (const Dealing& dealing : {Dealing::round_robin(), Dealing::cost_balanced(operator_costs(operators))}) {
      INFO(operators << " operators, policy " << static_cast<int>(dealing.policy) << ", " << comm.size() << " ranks");
      const Reference ref = reference(operators, x);
      const auto physics = make_physics(exec, comm, operators, dealing);
      const auto single = make_physics(exec, SelfCommunicator{}, operators, dealing);
      CHECK(physics.domain_shape() == Extents<1>{cols});

      Tensor<float, 1> g(Extents<1>{cols});
      Tensor<float, 1> g_single(Extents<1>{cols});
      fill(exec, g.view(), std::nanf(""));
      physics.gradient(xv, g.view());
      single.gradient(xv, g_single.view());
      for (index_t j = 0; j < cols; ++j) {
        const double bound = 4.0 * double(operators + 2) * eps * ref.scale[static_cast<std::size_t>(j)];
        REQUIRE(std::abs(g(j) - ref.gradient[static_cast<std::size_t>(j)]) <= bound);
        REQUIRE(std::abs(double(g(j)) - double(g_single(j))) <= bound);
      }
      if (comm.size() == 1) {
        for (index_t j = 0; j < cols; ++j) REQUIRE(g(j) == g_single(j));  // same sums in the same order
      }
      // Every rank holds the same gradient (rank 0's broadcast compared bit for bit).
      Tensor<float, 1> g_root(Extents<1>{cols});
      copy(exec, g.const_view(), g_root.view());
      comm.broadcast(g_root.view(), 0);
      for (index_t j = 0; j < cols; ++j) REQUIRE(g_root(j) == g(j));

      const double f = physics.data_fidelity(xv);
      CHECK(std::abs(f - single.data_fidelity(xv)) <= 1e-12 * f);
      CHECK(std::abs(f - ref.fidelity) <= 1e-5 * ref.fidelity);
    }
  }
}

TEST_CASE("Each rank builds only the operators dealt to it, and together they build each once", "[distributed][mpi]") {
  const auto comm = test::world();
  const index_t operators = 7;
  for (const Dealing& dealing :
       {Dealing::round_robin(), Dealing::cost_balanced(operator_costs(operators)), Dealing::contiguous()}) {
    const index_t built_before = test::dense_stack_operators_built();
    const auto physics = make_physics(Serial{}, comm, operators, dealing);
    const auto& mine = physics.local().indices();
    CHECK(test::dense_stack_operators_built() - built_before == static_cast<index_t>(mine.size()));
    CHECK(mine == physics.assignment().items_of(comm.rank()));
    CHECK(mine == dealing.deal(operators, comm.size()).items_of(comm.rank()));
    // Gather every rank's indices: a permutation of 0 .. operators - 1.
    std::vector<index_t> counts(static_cast<std::size_t>(comm.size()));
    for (int r = 0; r < comm.size(); ++r)
      counts[static_cast<std::size_t>(r)] = static_cast<index_t>(physics.assignment().items_of(r).size());
    std::vector<double> mine_as_double(mine.begin(), mine.end());
    std::vector<double> all(static_cast<std::size_t>(operators), -1.0);
    comm.allgatherv(
        View<const double, 1, HostSpace>(mine_as_double.data(), Extents<1>{static_cast<index_t>(mine.size())}),
        View<double, 1, HostSpace>(all.data(), Extents<1>{operators}), counts);
    std::sort(all.begin(), all.end());
    for (index_t i = 0; i < operators; ++i) REQUIRE(all[static_cast<std::size_t>(i)] == double(i));
  }
}

TEST_CASE("A rank without operators contributes zero", "[distributed][mpi]") {
  const auto comm = test::world();
  std::vector<float> x(cols, 1.0f);
  const View<const float, 1, HostSpace> xv(x.data(), Extents<1>{cols});
  const auto physics = make_physics(Serial{}, comm, 1, Dealing::round_robin());  // only rank 0 owns one
  const auto single = make_physics(Serial{}, SelfCommunicator{}, 1, Dealing::round_robin());
  Tensor<float, 1> g(Extents<1>{cols});
  Tensor<float, 1> g_single(Extents<1>{cols});
  physics.gradient(xv, g.view());
  single.gradient(xv, g_single.view());
  for (index_t j = 0; j < cols; ++j) REQUIRE(g(j) == g_single(j));  // one nonzero term: the sum is exact
  CHECK(physics.data_fidelity(xv) == single.data_fidelity(xv));
}

TEST_CASE("DistributedPhysics over the library's StackedPhysics equals the reference", "[distributed][mpi]") {
  // 8 operators: every rank of up to 8 owns at least one (StackedPhysics needs a non-empty stack).
  const auto comm = test::world();
  const index_t operators = 8;
  std::vector<float> x(cols);
  fill_normal(Serial{}, View<float, 1, HostSpace>(x.data(), Extents<1>{cols}), 6, 0, 0.0f, 1.0f);
  const View<const float, 1, HostSpace> xv(x.data(), Extents<1>{cols});
  const Reference ref = reference(operators, x);
  const auto physics = distribute_physics(
      operators, comm, Dealing::cost_balanced(operator_costs(operators)), [&](std::span<const index_t> mine) {
        std::vector<DenseMatrix<float, Serial>> ops;
        std::vector<Tensor<float, 1>> ys;
        for (const index_t i : mine) {
          auto d = test::dense_stack_operator(i, cols, seed);
          ops.emplace_back(Serial{}, std::move(d.entries));
          ys.push_back(std::move(d.measurement));
        }
        return StackedPhysics<DenseMatrix<float, Serial>>(std::move(ops), std::move(ys));
      });
  static_assert(Physics<std::remove_cvref_t<decltype(physics)>>);
  Tensor<float, 1> g(Extents<1>{cols});
  physics.gradient(xv, g.view());
  const float eps = std::numeric_limits<float>::epsilon();
  for (index_t j = 0; j < cols; ++j)
    REQUIRE(std::abs(g(j) - ref.gradient[static_cast<std::size_t>(j)]) <=
            4.0 * double(operators + 2) * eps * ref.scale[static_cast<std::size_t>(j)]);
  CHECK(std::abs(physics.data_fidelity(xv) - ref.fidelity) <= 1e-5 * ref.fidelity);
}
