#include <catch2/catch.hpp>

#include <pnpdist/operators/adjoint_check.hpp>
#include <pnpdist/operators/dense_matrix.hpp>
#include <pnpdist/operators/physics.hpp>
#include <pnpdist/operators/scaled.hpp>
#include <pnpdist/operators/split_blocks.hpp>
#include <pnpdist/operators/stacked_physics.hpp>

#include <span>
#include <vector>

#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

namespace {

/// Entries exactly representable in float, from a fixed sequence.
std::vector<float> matrix_entries(index_t m, index_t n, unsigned seed) {
  std::vector<float> a(static_cast<std::size_t>(m * n));
  unsigned s = seed * 2654435761u + 7u;
  for (auto& v : a) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<float>(static_cast<int>(s >> 25) - 64) / 32.0f;
  }
  return a;
}

}  // namespace

TEST_CASE("contiguous_blocks splits into blocks whose sizes differ by at most one", "[operators][split]") {
  using pnpdist::Block;
  const auto blocks = pnpdist::contiguous_blocks(100, 8);
  const std::vector<Block> expected{{0, 13}, {13, 13}, {26, 13}, {39, 13}, {52, 12}, {64, 12}, {76, 12}, {88, 12}};
  CHECK(blocks == expected);
  CHECK(pnpdist::contiguous_blocks(50, 2) == std::vector<Block>{{0, 25}, {25, 25}});
  CHECK(pnpdist::contiguous_blocks(2, 3) == std::vector<Block>{{0, 1}, {1, 1}, {2, 0}});
  CHECK(pnpdist::contiguous_blocks(0, 1) == std::vector<Block>{{0, 0}});
  CHECK_THROWS_AS(pnpdist::contiguous_blocks(10, 0), pnpdist::invalid_argument);
  CHECK_THROWS_AS(pnpdist::contiguous_blocks(-1, 2), pnpdist::invalid_argument);
}

TEMPLATE_LIST_TEST_CASE("StackedPhysics of matrices: gradient, fidelity, forward and adjoint", "[operators][stacked]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  using Matrix = pnpdist::DenseMatrix<float, Exec>;
  const index_t n = 5;
  const index_t rows[3] = {4, 6, 3};
  std::vector<std::vector<float>> entries;
  std::vector<Matrix> ops;
  std::vector<Tensor<float, 1>> ys;
  for (int i = 0; i < 3; ++i) {
    entries.push_back(matrix_entries(rows[i], n, 10 + i));
    ops.emplace_back(exec, rows[i], n, std::span<const float>(entries.back()));
    ys.emplace_back(Extents<1>{rows[i]});
    for (index_t r = 0; r < rows[i]; ++r) ys.back()(r) = static_cast<float>(r) * 0.25f - 0.5f;
  }
  std::vector<Tensor<float, 1>> y_copy;
  for (auto& y : ys) {
    y_copy.emplace_back(y.extents());
    for (index_t r = 0; r < y.size(); ++r) y_copy.back()(r) = y(r);
  }
  pnpdist::StackedPhysics<Matrix> physics(std::move(ops), std::move(ys));
  static_assert(pnpdist::Physics<decltype(physics)>);
  Tensor<float, 1> x(Extents<1>{n});
  for (index_t j = 0; j < n; ++j) x(j) = 0.5f * static_cast<float>(j) - 1.0f;

  // Reference in double: g = sum_i A_i^T (A_i x - y_i), f = 1/2 sum ||A_i x - y_i||^2.
  std::vector<double> g_ref(n, 0.0);
  double f_ref = 0;
  for (int i = 0; i < 3; ++i) {
    for (index_t r = 0; r < rows[i]; ++r) {
      double res = -static_cast<double>(y_copy[i](r));
      for (index_t j = 0; j < n; ++j) res += double(entries[i][r * n + j]) * x(j);
      f_ref += 0.5 * res * res;
      for (index_t j = 0; j < n; ++j) g_ref[j] += double(entries[i][r * n + j]) * res;
    }
  }
  Tensor<float, 1> g(Extents<1>{n});
  physics.gradient(x.const_view(), g.view());
  for (index_t j = 0; j < n; ++j) CHECK(g(j) == Approx(g_ref[j]).epsilon(1e-5).margin(1e-5));
  CHECK(physics.data_fidelity(x.const_view()) == Approx(f_ref).epsilon(1e-6));
  // Twice: the buffers are reused and the result does not change.
  physics.gradient(x.const_view(), g.view());
  for (index_t j = 0; j < n; ++j) CHECK(g(j) == Approx(g_ref[j]).epsilon(1e-5).margin(1e-5));

  const auto op = pnpdist::stacked_operator(physics);
  CHECK(op.range_shape() == Extents<1>{13});
  CHECK(pnpdist::adjoint_check(op, 9).passed(1e-5));
}

TEST_CASE("StackedPhysicsTuple of different operator types", "[operators][stacked]") {
  const pnpdist::Serial exec;
  using Matrix = pnpdist::DenseMatrix<float, pnpdist::Serial>;
  const auto a = matrix_entries(3, 4, 1);
  const auto b = matrix_entries(2, 4, 2);
  auto scaled = pnpdist::scale(2.0f, Matrix(exec, 2, 4, std::span<const float>(b)));
  pnpdist::StackedPhysicsTuple<Matrix, decltype(scaled)> physics(Matrix(exec, 3, 4, std::span<const float>(a)),
                                                                 std::move(scaled));
  static_assert(pnpdist::Physics<decltype(physics)>);
  Tensor<float, 1> x(Extents<1>{4});
  for (index_t j = 0; j < 4; ++j) x(j) = 1.0f - 0.5f * static_cast<float>(j);
  physics.simulate(x.const_view(), {});
  // Noise-free measurements of x: the data fidelity and the gradient vanish at x.
  CHECK(physics.data_fidelity(x.const_view()) == Approx(0.0).margin(1e-12));
  Tensor<float, 1> g(Extents<1>{4});
  physics.gradient(x.const_view(), g.view());
  for (index_t j = 0; j < 4; ++j) CHECK(g(j) == Approx(0.0).margin(1e-6));
  CHECK(physics.measurement<1>()(0) == Approx(2.0 * (b[0] * 1.0 + b[1] * 0.5 + b[2] * 0.0 + b[3] * -0.5)));
}

TEST_CASE("StackedPhysics rejects inconsistent stacks", "[operators][stacked][errors]") {
  const pnpdist::Serial exec;
  using Matrix = pnpdist::DenseMatrix<float, pnpdist::Serial>;
  CHECK_THROWS_AS(pnpdist::StackedPhysics<Matrix>(std::vector<Matrix>{}), pnpdist::invalid_argument);
  std::vector<Matrix> different;
  different.emplace_back(exec, 2, 3);
  different.emplace_back(exec, 2, 4);
  CHECK_THROWS_AS(pnpdist::StackedPhysics<Matrix>(std::move(different)), pnpdist::dimension_mismatch);
  std::vector<Matrix> ops;
  ops.emplace_back(exec, 2, 3);
  std::vector<Tensor<float, 1>> wrong;
  wrong.emplace_back(Extents<1>{3});
  CHECK_THROWS_AS(pnpdist::StackedPhysics<Matrix>(std::move(ops), std::move(wrong)), pnpdist::dimension_mismatch);
  std::vector<Matrix> one;
  one.emplace_back(exec, 2, 3);
  const pnpdist::StackedPhysics<Matrix> empty(std::move(one));
  Tensor<float, 1> x(Extents<1>{3});
  CHECK_THROWS_AS(empty.data_fidelity(x.const_view()), pnpdist::invalid_argument);
}

TEST_CASE("Simulated noise depends on the operator's stream, not on its place in the stack", "[operators][stacked]") {
  const pnpdist::Serial exec;
  using Matrix = pnpdist::DenseMatrix<float, pnpdist::Serial>;
  const std::vector<float> entries[3] = {matrix_entries(4, 3, 1), matrix_entries(4, 3, 2), matrix_entries(4, 3, 3)};
  const auto make = [&](std::initializer_list<int> which) {
    std::vector<Matrix> ops;
    for (int i : which) ops.emplace_back(exec, 4, 3, std::span<const float>(entries[i]));
    return pnpdist::StackedPhysics<Matrix>(std::move(ops));
  };
  Tensor<float, 1> x(Extents<1>{3});
  for (index_t j = 0; j < 3; ++j) x(j) = 0.25f * static_cast<float>(j + 1);
  auto all = make({0, 1, 2});
  all.simulate(x.const_view(), {.noise_sigma = 0.5, .seed = 7});
  // A process holding operators 2 and 0 (dealt round-robin, say) simulates them with their global streams.
  auto mine = make({2, 0});
  mine.simulate(x.const_view(), {.noise_sigma = 0.5, .seed = 7, .streams = {2, 0}});
  for (index_t r = 0; r < 4; ++r) {
    CHECK(mine.measurement(0)(r) == all.measurement(2)(r));
    CHECK(mine.measurement(1)(r) == all.measurement(0)(r));
  }
  auto shifted = make({1, 2});
  shifted.simulate(x.const_view(), {.noise_sigma = 0.5, .seed = 7, .first_stream = 1});
  for (index_t r = 0; r < 4; ++r) CHECK(shifted.measurement(1)(r) == all.measurement(2)(r));
  CHECK_THROWS_AS(mine.simulate(x.const_view(), {.noise_sigma = 0.5, .streams = {2}}), pnpdist::invalid_argument);
}
