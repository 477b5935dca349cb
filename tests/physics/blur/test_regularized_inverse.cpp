#include <catch2/catch.hpp>

#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/physics/blur/blur.hpp>
#include <pnpdist/physics/blur/regularized_inverse.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>

#include <cmath>
#include <utility>
#include <vector>

#include "physics/blur/blur_test_support.hpp"
#include "support/host_executors.hpp"

#if defined(PNPDIST_HAS_FFTW)

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

namespace {

using Matrix = std::vector<std::vector<double>>;

/// Solves M x = b by Gaussian elimination with partial pivoting (M is small and well conditioned here).
std::vector<double> dense_solve(Matrix m, std::vector<double> b) {
  const std::size_t n = b.size();
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t pivot = k;
    for (std::size_t i = k + 1; i < n; ++i)
      if (std::abs(m[i][k]) > std::abs(m[pivot][k])) pivot = i;
    std::swap(m[k], m[pivot]);
    std::swap(b[k], b[pivot]);
    for (std::size_t i = k + 1; i < n; ++i) {
      const double f = m[i][k] / m[k][k];
      for (std::size_t j = k; j < n; ++j) m[i][j] -= f * m[k][j];
      b[i] -= f * b[k];
    }
  }
  std::vector<double> x(n);
  for (std::size_t k = n; k-- > 0;) {
    double s = b[k];
    for (std::size_t j = k + 1; j < n; ++j) s -= m[k][j] * x[j];
    x[k] = s / m[k][k];
  }
  return x;
}

/// trace(M^-1 N) by Gauss-Jordan inversion of M.
double trace_of_inverse_times(Matrix m, const Matrix& n) {
  const std::size_t size = m.size();
  Matrix inverse(size, std::vector<double>(size, 0.0));
  for (std::size_t i = 0; i < size; ++i) inverse[i][i] = 1;
  for (std::size_t k = 0; k < size; ++k) {
    std::size_t pivot = k;
    for (std::size_t i = k + 1; i < size; ++i)
      if (std::abs(m[i][k]) > std::abs(m[pivot][k])) pivot = i;
    std::swap(m[k], m[pivot]);
    std::swap(inverse[k], inverse[pivot]);
    const double d = m[k][k];
    for (std::size_t j = 0; j < size; ++j) {
      m[k][j] /= d;
      inverse[k][j] /= d;
    }
    for (std::size_t i = 0; i < size; ++i) {
      if (i == k || m[i][k] == 0) continue;
      const double f = m[i][k];
      for (std::size_t j = 0; j < size; ++j) {
        m[i][j] -= f * m[k][j];
        inverse[i][j] -= f * inverse[k][j];
      }
    }
  }
  double trace = 0;
  for (std::size_t i = 0; i < size; ++i)
    for (std::size_t j = 0; j < size; ++j) trace += inverse[i][j] * n[j][i];
  return trace;
}

}  // namespace

TEST_CASE("FourierRegularizedInverse: Tikhonov and gradient-regularised inverse against a direct solve",
          "[blur][regularized_inverse]") {
  pnpdist::fft::set_fftw_planning(pnpdist::fft::FftwPlanning::estimate);
  const pnpdist::Serial exec;
  using Blur = pnpdist::blur::FftBlur<pnpdist::Serial>;
  const index_t channels = 2, h = 12, w = 13;  // an odd width: the half spectrum has no Nyquist column
  const Extents<4> shape{1, channels, h, w};
  const auto n = static_cast<std::size_t>(channels * h * w);
  std::vector<Blur> ops;
  for (const double angle : {0.0, 60.0, 120.0})
    ops.emplace_back(exec, pnpdist::blur::gaussian_psf<float>(1.0, 0.5, angle).const_view(), shape);
  pnpdist::StackedPhysics<Blur> stack(std::move(ops));
  const Tensor<float, 4> truth = pnpdist::test::random_tensor(shape, 3);
  stack.simulate(truth.const_view(), pnpdist::MeasurementSimulation{0.05, 7});
  const pnpdist::blur::FourierRegularizedInverse<pnpdist::Serial> inverse(stack);
  CHECK(inverse.measurement_count() == 3 * static_cast<index_t>(n));

  // Dense A_i (column j = A_i e_j), the normal matrix sum_i A_i^T A_i and sum_i A_i^T y_i.
  std::vector<Matrix> a(stack.size(), Matrix(n, std::vector<double>(n)));
  Tensor<float, 4> e(shape), column(shape);
  for (std::size_t j = 0; j < n; ++j) {
    pnpdist::fill(exec, e.view(), 0.0f);
    e.data()[j] = 1.0f;
    for (std::size_t i = 0; i < stack.size(); ++i) {
      stack.op(i).apply(e.const_view(), column.view());
      for (std::size_t r = 0; r < n; ++r) a[i][r][j] = column.data()[r];
    }
  }
  Matrix normal(n, std::vector<double>(n, 0.0));
  std::vector<double> rhs(n, 0.0);
  for (std::size_t i = 0; i < stack.size(); ++i)
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t j = 0; j < n; ++j) {
        rhs[j] += a[i][r][j] * static_cast<double>(stack.measurement(i).data()[r]);
      }
  for (std::size_t i = 0; i < stack.size(); ++i)
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t j = 0; j < n; ++j)
        if (a[i][r][j] != 0)
          for (std::size_t k = 0; k < n; ++k) normal[j][k] += a[i][r][j] * a[i][r][k];
  // D^T D of the circular forward differences on each channel.
  Matrix dtd(n, std::vector<double>(n, 0.0));
  const auto index = [&](index_t c, index_t y, index_t x) {
    return static_cast<std::size_t>((c * h + (y + h) % h) * w + (x + w) % w);
  };
  for (index_t c = 0; c < channels; ++c)
    for (index_t y = 0; y < h; ++y)
      for (index_t x = 0; x < w; ++x)
        for (const auto next : {index(c, y + 1, x), index(c, y, x + 1)}) {
          const std::size_t here = index(c, y, x);
          dtd[here][here] += 1;
          dtd[next][next] += 1;
          dtd[here][next] -= 1;
          dtd[next][here] -= 1;
        }

  const auto residual_squared = [&](const std::vector<double>& x) {
    double total = 0;
    for (std::size_t i = 0; i < stack.size(); ++i)
      for (std::size_t r = 0; r < n; ++r) {
        double ax = 0;
        for (std::size_t j = 0; j < n; ++j) ax += a[i][r][j] * x[j];
        const double d = ax - static_cast<double>(stack.measurement(i).data()[r]);
        total += d * d;
      }
    return total;
  };

  for (const auto& [mu, nu] : {std::pair{0.05, 0.0}, std::pair{0.0, 0.2}, std::pair{0.01, 0.05}}) {
    Matrix m = normal;
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t k = 0; k < n; ++k) m[j][k] += (j == k ? mu : 0.0) + nu * dtd[j][k];
    const std::vector<double> expected = dense_solve(m, rhs);
    Tensor<float, 4> x(shape);
    inverse.solve(mu, nu, x.view());
    double diff = 0, scale = 0;
    for (std::size_t j = 0; j < n; ++j) {
      diff = std::max(diff, std::abs(static_cast<double>(x.data()[j]) - expected[j]));
      scale = std::max(scale, std::abs(expected[j]));
    }
    INFO("mu " << mu << ", nu " << nu);
    CHECK(diff / scale < 1e-4);
    std::vector<double> xd(n);
    for (std::size_t j = 0; j < n; ++j) xd[j] = x.data()[j];
    CHECK(inverse.residual_squared(x.const_view()) == Approx(residual_squared(xd)).epsilon(1e-4));
    // trace(A M^-1 A^T) = trace(M^-1 A^T A), the influence trace of generalised cross-validation
    CHECK(inverse.influence_trace(mu, nu) == Approx(trace_of_inverse_times(m, normal)).epsilon(1e-4));
  }

  SECTION("the discrepancy principle reaches its target, and a larger target regularises more") {
    Tensor<float, 4> x(shape);
    const double base = std::sqrt(residual_squared(std::vector<double>(n, 0.0)));  // ||y||: the residual at t = inf
    const auto low = pnpdist::blur::choose_by_discrepancy(inverse, 1.0, 0.0, 0.2 * base, x.view());
    CHECK(low.residual == Approx(0.2 * base).epsilon(1e-3));
    const auto high = pnpdist::blur::choose_by_discrepancy(inverse, 1.0, 0.0, 0.4 * base, x.view());
    CHECK(high.residual == Approx(0.4 * base).epsilon(1e-3));
    CHECK(high.t > low.t);
    const auto gradient = pnpdist::blur::choose_by_discrepancy(inverse, 0.0, 1.0, 0.3 * base, x.view());
    CHECK(gradient.residual == Approx(0.3 * base).epsilon(1e-3));
  }

  SECTION("generalised cross-validation picks a minimiser of its criterion") {
    Tensor<float, 4> x(shape);
    const double m = static_cast<double>(inverse.measurement_count());
    for (const auto& [mu_direction, nu_direction] : {std::pair{1.0, 0.0}, std::pair{0.0, 1.0}}) {
      const auto gcv = [&](double t) {
        inverse.solve(t * mu_direction, t * nu_direction, x.view());
        const double free = m - inverse.influence_trace(t * mu_direction, t * nu_direction);
        return m * inverse.residual_squared(x.const_view()) / (free * free);
      };
      const auto choice = pnpdist::blur::choose_by_gcv(inverse, mu_direction, nu_direction, x.view());
      INFO("mu " << mu_direction << ", nu " << nu_direction << ": t " << choice.t);
      CHECK(choice.t > 1e-6);
      CHECK(choice.t < 1e3);
      CHECK(choice.gcv == Approx(gcv(choice.t)).epsilon(1e-6));
      for (const double factor : {0.5, 0.8, 1.25, 2.0}) CHECK(choice.gcv <= gcv(choice.t * factor) * (1 + 1e-6));
    }
  }
}

#endif
