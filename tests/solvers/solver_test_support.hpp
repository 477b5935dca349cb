#pragma once
// Small physics and denoisers for the PnP solver tests: a stack of dense matrices (the reference operator)
// with simulated measurements, and a denoiser that scales its input (so the relaxation weight is visible).
#include <pnpdist/operators/dense_matrix.hpp>
#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/tensor/random.hpp>

#include <vector>

namespace pnpdist::test {

/// D(x) = factor * x for rank-1 tensors.
template <class T, class Exec>
class ScalingDenoiser {
public:
  using value_type = T;
  using executor_type = Exec;
  static constexpr std::size_t rank = 1;
  explicit ScalingDenoiser(const Exec& exec, T factor) : exec_(exec), factor_(factor) {}
  [[nodiscard]] Exec executor() const { return exec_; }
  void denoise(const View<const T, 1, typename Exec::memory_space>& x, T /*sigma*/,
               const View<T, 1, typename Exec::memory_space>& y) {
    axpby(exec_, factor_, x, T(0), y);
  }

private:
  Exec exec_;
  T factor_;
};

/// `count` random m x n matrices (entries N(0, 1) / sqrt(m), seeded) with measurements A_i truth.
template <class T, class Exec>
StackedPhysics<DenseMatrix<T, Exec>> dense_stack(const Exec& exec, index_t count, index_t m, index_t n,
                                                 const View<const T, 1, HostSpace>& truth, std::uint64_t seed) {
  std::vector<DenseMatrix<T, Exec>> ops;
  for (index_t i = 0; i < count; ++i) {
    Tensor<T, 2> a(Extents<2>{m, n});
    fill_normal(Serial{}, a.view(), seed, static_cast<std::uint64_t>(i), T(0), T(1) / std::sqrt(T(m)));
    ops.emplace_back(exec, std::move(a));
  }
  StackedPhysics<DenseMatrix<T, Exec>> physics(std::move(ops));
  std::vector<Tensor<T, 1>> ys;
  for (index_t i = 0; i < count; ++i) {
    Tensor<T, 1> y(Extents<1>{m});
    physics.op(static_cast<std::size_t>(i)).apply(truth, y.view());
    ys.push_back(std::move(y));
  }
  physics.set_measurements(std::move(ys));
  return physics;
}

}  // namespace pnpdist::test
