// Example 01: linear operators on a small 1-D deblurring problem.
//
// A Gaussian blur (zero boundary) is built as a dense matrix A; a piecewise-constant signal is blurred and
// corrupted with seeded Gaussian noise, y = A x + n. The example checks that A and the composed normal
// operator N = A^T A + lambda I are matched (dot-product test), estimates ||A||^2 with the power method, and
// reconstructs x by gradient descent on 1/2 ||A x - y||^2 + lambda/2 ||x||^2 with step 1 / (||A||^2 + lambda).
//
//   01_linear_operators [--size 512] [--blur 4] [--noise 0.01] [--lambda 1e-2] [--iterations 300]
//                       [--seed 0] [--threads 0]

#include <pnpdist/pnp.hpp>

#include "example_options.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <string>
#include <vector>

namespace {

struct Options {
  pnpdist::index_t size = 512;
  double blur = 4.0;
  double noise = 0.01;
  double lambda = 1e-2;
  pnpdist::index_t iterations = 300;
  pnpdist::index_t seed = 0;
  pnpdist::index_t threads = 0;
};

Options parse(int argc, char** argv) {
  constexpr pnpdist::index_t any = std::numeric_limits<pnpdist::index_t>::max();
  Options o;
  pnpdist_examples::OptionTable table("01_linear_operators: 1-D deblurring with pnpdist linear operators.");
  table.integer("--size", "signal length", o.size, 16);
  table.number("--blur", "standard deviation of the Gaussian blur, in samples, > 0", o.blur, 0.0, 1e30, "S");
  table.number("--noise", "standard deviation of the additive Gaussian noise", o.noise, 0.0, 1e30, "SIGMA");
  table.number("--lambda", "Tikhonov weight", o.lambda, 0.0, 1e30, "L");
  table.integer("--iterations", "gradient-descent iterations", o.iterations, 1, std::numeric_limits<int>::max(), "K");
  table.integer("--seed", "seed of the noise stream", o.seed, 0, any, "S");
  table.integer("--threads", "OpenMP threads, 0 = all cores (ignored without OpenMP)", o.threads, 0, 4096, "T");
  table.parse(argc, argv);
  pnpdist::require(o.blur > 0, "--blur must be positive");
  return o;
}

// Row-normalized Gaussian blur with zero boundary: row i averages samples within 4 standard deviations.
std::vector<float> gaussian_blur_matrix(pnpdist::index_t n, double sigma) {
  std::vector<float> a(static_cast<std::size_t>(n * n), 0.0f);
  const auto radius = static_cast<pnpdist::index_t>(std::ceil(4 * sigma));
  double total = 0;
  for (pnpdist::index_t k = -radius; k <= radius; ++k) total += std::exp(-0.5 * k * k / (sigma * sigma));
  for (pnpdist::index_t i = 0; i < n; ++i)
    for (pnpdist::index_t j = std::max<pnpdist::index_t>(0, i - radius); j <= std::min(n - 1, i + radius); ++j)
      a[static_cast<std::size_t>(i * n + j)] =
          static_cast<float>(std::exp(-0.5 * double(i - j) * double(i - j) / (sigma * sigma)) / total);
  return a;
}

// Piecewise-constant test signal with a smooth bump.
void make_truth(pnpdist::Tensor<float, 1>& x) {
  const pnpdist::index_t n = x.size();
  for (pnpdist::index_t i = 0; i < n; ++i) {
    const double t = double(i) / double(n);
    double v = (t > 0.15 && t < 0.35) ? 1.0 : 0.0;
    v += (t > 0.5 && t < 0.55) ? 0.6 : 0.0;
    v += 0.4 * std::exp(-std::pow((t - 0.8) / 0.05, 2));
    x(i) = static_cast<float>(v);
  }
}

template <class Exec>
int run(const Exec& exec, const Options& o) {
  using namespace pnpdist;
  const auto start = std::chrono::steady_clock::now();
  const index_t n = o.size;
  const auto entries = gaussian_blur_matrix(n, o.blur);
  const DenseMatrix<float, Exec> blur(exec, n, n, std::span<const float>(entries));

  Tensor<float, 1> truth(Extents<1>{n});
  make_truth(truth);
  Tensor<float, 1> y(Extents<1>{n});
  blur.apply(truth.const_view(), y.view());
  add_gaussian_noise(exec, y.view(), static_cast<float>(o.noise), static_cast<std::uint64_t>(o.seed), /*stream*/ 0);

  const auto normal =
      add(compose(adjoint(blur), blur), scale(static_cast<float>(o.lambda), identity<float>(exec, Extents<1>{n})));
  const auto blur_check = adjoint_check(blur, 1);
  const auto normal_check = adjoint_check(normal, 2);
  const auto norm = power_method(blur, {.max_iterations = 1000, .relative_tolerance = 1e-7});
  std::printf("problem: %lld samples, blur sigma %.2f, noise %.3g, lambda %.3g, executor %s (%d threads)\n",
              static_cast<long long>(n), o.blur, o.noise, o.lambda, exec.name, exec.concurrency());
  std::printf("adjoint check: A %.2e, A^T A + lambda I %.2e (relative; pass below 1e-5)\n", blur_check.relative_error,
              normal_check.relative_error);
  std::printf("power method: ||A||^2 = %.6f after %d iterations (%s)\n", norm.squared_norm, norm.iterations,
              norm.converged ? "converged" : "not converged");

  // Gradient descent on 1/2 ||A x - y||^2 + lambda/2 ||x||^2:  x <- x - step (N x - A^T y).
  const float step = static_cast<float>(1.0 / (norm.squared_norm + o.lambda));
  Tensor<float, 1> aty(Extents<1>{n}), x = zeros<float>(exec, Extents<1>{n}), nx(Extents<1>{n}), diff(Extents<1>{n});
  blur.apply_adjoint(y.const_view(), aty.view());
  const double truth_norm = pnpdist::norm(exec, truth.view());
  auto relative_error = [&](const Tensor<float, 1>& estimate) {
    axpby(exec, 1.0f, estimate.const_view(), 0.0f, diff.view());
    axpy(exec, -1.0f, truth.const_view(), diff.view());
    return pnpdist::norm(exec, diff.view()) / truth_norm;
  };
  const double measurement_error = relative_error(y);
  std::printf("\n%10s %22s %22s\n", "iteration", "objective", "relative error");
  double objective = 0;
  for (int k = 1; k <= o.iterations; ++k) {
    normal.apply(x.const_view(), nx.view());
    axpy(exec, -1.0f, aty.const_view(), nx.view());  // gradient
    axpy(exec, -step, nx.const_view(), x.view());
    if (k == 1 || k % (o.iterations / 6 > 0 ? o.iterations / 6 : 1) == 0 || k == o.iterations) {
      blur.apply(x.const_view(), diff.view());
      axpy(exec, -1.0f, y.const_view(), diff.view());
      objective = 0.5 * squared_norm(exec, diff.view()) + 0.5 * o.lambda * squared_norm(exec, x.view());
      std::printf("%10d %22.9f %22.6f\n", k, objective, relative_error(x));
    }
  }
  const double final_error = relative_error(x);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("\nrelative error to the truth: measurement %.4f -> reconstruction %.4f (%.2f s)\n", measurement_error,
              final_error, seconds);
  const bool ok = blur_check.passed() && normal_check.passed() && final_error < measurement_error;
  std::printf("%s\n", ok ? "OK" : "FAILED: see the figures above");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
#if defined(PNPDIST_HAS_OPENMP)
    return run(pnpdist::OpenMP{static_cast<int>(options.threads)}, options);
#else
    return run(pnpdist::Serial{}, options);
#endif
  } catch (const pnpdist::error& e) {
    std::fprintf(stderr, "01_linear_operators: %s\n", e.message().c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "01_linear_operators: %s\n", e.what());
    return 2;
  }
}
