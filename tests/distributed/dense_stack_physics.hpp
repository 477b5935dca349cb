#pragma once
// A stand-in local physics for the distribution tests: f(x) = 1/2 sum_i ||A_i x - y_i||^2 over the dense
// operators A_i (rows_of(i) x cols) whose indices it is given, with measurements y_i. Operator i and y_i are
// the same whichever process builds them: Gaussian entries from (seed, stream 2 i) and (seed, 2 i + 1).
// The gradient sums the operators' terms in the order given (increasing). Counts the operators built, so
// tests can check that a rank builds only its own.
#include <pnpdist/operators/dense_matrix.hpp>
#include <pnpdist/operators/physics.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/reductions.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace pnpdist::test {

/// Number of rows of operator i (varies, so operators have different costs).
inline index_t dense_stack_rows(index_t i) { return 3 + (i * 5) % 7; }

/// Operator i's entries (row-major) and measurement, on the host.
struct DenseStackOperatorData {
  Tensor<float, 2> entries;
  Tensor<float, 1> measurement;
};
inline DenseStackOperatorData dense_stack_operator(index_t i, index_t cols, std::uint64_t seed) {
  DenseStackOperatorData d{Tensor<float, 2>(Extents<2>{dense_stack_rows(i), cols}),
                           Tensor<float, 1>(Extents<1>{dense_stack_rows(i)})};
  fill_normal(Serial{}, d.entries.view(), seed, static_cast<std::uint64_t>(2 * i), 0.0f, 1.0f);
  fill_normal(Serial{}, d.measurement.view(), seed, static_cast<std::uint64_t>(2 * i + 1), 0.0f, 1.0f);
  return d;
}

/// Operators built by every DenseStackPhysics of this process.
inline index_t& dense_stack_operators_built() {
  static index_t count = 0;
  return count;
}

template <class Exec>
class DenseStackPhysics {
public:
  using value_type = float;
  using executor_type = Exec;
  static constexpr std::size_t domain_rank = 1;

  DenseStackPhysics(Exec exec, index_t cols, std::span<const index_t> indices, std::uint64_t seed)
      : exec_(exec), cols_(cols), indices_(indices.begin(), indices.end()) {
    index_t max_rows = 1;
    for (const index_t i : indices_) {
      DenseStackOperatorData d = dense_stack_operator(i, cols, seed);
      operators_.emplace_back(exec_, std::move(d.entries));
      measurements_.push_back(std::move(d.measurement));
      max_rows = std::max(max_rows, dense_stack_rows(i));
      ++dense_stack_operators_built();
    }
    residual_ = Tensor<float, 1>(Extents<1>{max_rows});
    term_ = Tensor<float, 1>(Extents<1>{cols});
  }

  [[nodiscard]] Extents<1> domain_shape() const { return Extents<1>{cols_}; }
  [[nodiscard]] Exec executor() const { return exec_; }
  [[nodiscard]] const std::vector<index_t>& indices() const { return indices_; }

  [[nodiscard]] double data_fidelity(const View<const float, 1, HostSpace>& x) const {
    double f = 0;
    for (std::size_t k = 0; k < operators_.size(); ++k) f += 0.5 * squared_norm(exec_, residual(k, x));
    return f;
  }

  void gradient(const View<const float, 1, HostSpace>& x, const View<float, 1, HostSpace>& g) const {
    fill(exec_, g, 0.0f);
    for (std::size_t k = 0; k < operators_.size(); ++k) {
      operators_[k].apply_adjoint(residual(k, x), term_.view());
      axpy(exec_, 1.0f, term_.const_view(), g);
    }
  }

private:
  /// A_k x - y_k in the residual buffer.
  View<float, 1, HostSpace> residual(std::size_t k, const View<const float, 1, HostSpace>& x) const {
    const View<float, 1, HostSpace> r(residual_.data(), operators_[k].range_shape());
    operators_[k].apply(x, r);
    axpy(exec_, -1.0f, measurements_[k].const_view(), r);
    return r;
  }

  Exec exec_;
  index_t cols_;
  std::vector<index_t> indices_;
  std::vector<DenseMatrix<float, Exec>> operators_;
  std::vector<Tensor<float, 1>> measurements_;
  mutable Tensor<float, 1> residual_;
  mutable Tensor<float, 1> term_;
};

static_assert(Physics<DenseStackPhysics<Serial>>);

}  // namespace pnpdist::test
