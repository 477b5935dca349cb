#include <catch2/catch.hpp>

#include <pnpdist/physics/clipped_gaussian.hpp>

#include <cmath>

namespace cg = pnpdist::clipped_gaussian;

namespace {

/// E[Z | Z <= b] (below = true) or E[Z | Z >= b] for Z ~ N(mu, sigma^2), by the trapezoidal rule on
/// [mu - 12 sigma, mu + 12 sigma] intersected with the half line: an independent reference.
double truncated_mean(double mu, double sigma, double b, bool below) {
  const double lo = below ? mu - 12 * sigma : std::max(b, mu - 12 * sigma);
  const double hi = below ? std::min(b, mu + 12 * sigma) : mu + 12 * sigma;
  const int n = 200000;
  const double h = (hi - lo) / n;
  double mass = 0, moment = 0;
  for (int i = 0; i <= n; ++i) {
    const double z = lo + i * h;
    const double w = (i == 0 || i == n ? 0.5 : 1.0) * std::exp(-0.5 * (z - mu) * (z - mu) / (sigma * sigma));
    mass += w;
    moment += w * z;
  }
  return moment / mass;
}

}  // namespace

TEST_CASE("Conditional means of clipped samples match numerical integration", "[physics][clipped]") {
  const double sigma = 0.1, lower = 0.0, upper = 1.0;
  for (const double mu : {-0.3, -0.05, 0.0, 0.02, 0.2, 0.5}) {
    INFO("mu " << mu);
    CHECK(cg::conditional_mean(0.0, mu, sigma, lower, upper) ==
          Approx(truncated_mean(mu, sigma, lower, true)).margin(1e-7));
  }
  for (const double mu : {0.5, 0.95, 1.0, 1.1, 1.4}) {
    INFO("mu " << mu);
    CHECK(cg::conditional_mean(1.0, mu, sigma, lower, upper) ==
          Approx(truncated_mean(mu, sigma, upper, false)).margin(1e-7));
  }
  // A sample inside (lower, upper) is kept as measured, whatever mu.
  CHECK(cg::conditional_mean(0.37, 5.0, sigma, lower, upper) == 0.37);
  // The conditional mean lies beyond the bound, on the side the sample was clipped to.
  CHECK(cg::conditional_mean(0.0, 0.3, sigma, lower, upper) < 0.0);
  CHECK(cg::conditional_mean(1.0, 0.7, sigma, lower, upper) > 1.0);
}

TEST_CASE("The inverse Mills ratio and log Phi are continuous and exact in the far tail", "[physics][clipped]") {
  // Just below the switch point t = -30 the asymptotic series is used: it agrees with the direct formula
  // (still accurate there in double).
  const double t = -30.0 - 1e-6;
  const double direct = 0.3989422804014327 * std::exp(-0.5 * t * t) / (0.5 * std::erfc(-t / std::sqrt(2.0)));
  CHECK(cg::inverse_mills_ratio(t) == Approx(direct).epsilon(1e-11));
  CHECK(cg::log_normal_cdf(t) == Approx(std::log(0.5 * std::erfc(-t / std::sqrt(2.0)))).epsilon(1e-13));
  // R(t) ~ -t far in the lower tail, ~ phi(t) in the upper one; finite everywhere.
  CHECK(cg::inverse_mills_ratio(-1e4) == Approx(1e4).epsilon(1e-7));
  CHECK(cg::inverse_mills_ratio(8.0) == Approx(0.3989422804014327 * std::exp(-32.0)).epsilon(1e-6));
  CHECK(std::isfinite(cg::log_normal_cdf(-1e6)));
  CHECK(cg::log_normal_cdf(40.0) == 0.0);
}

TEST_CASE("The clipped negative log-likelihood's derivative is mu minus the conditional mean", "[physics][clipped]") {
  // d/dmu f(mu) = mu - y_hat(mu): the E-step gives the exact gradient (central differences, double).
  const double sigma = 0.1, lower = 0.0, upper = 1.0, h = 1e-6;
  for (const double y : {0.0, 0.4, 1.0})
    for (const double mu : {-0.2, 0.01, 0.3, 0.97, 1.3}) {
      INFO("y " << y << ", mu " << mu);
      const double fd = (cg::negative_log_likelihood(y, mu + h, sigma, lower, upper) -
                         cg::negative_log_likelihood(y, mu - h, sigma, lower, upper)) /
                        (2 * h);
      CHECK(fd == Approx(mu - cg::conditional_mean(y, mu, sigma, lower, upper)).margin(1e-8));
    }
}

TEST_CASE("ClippedGaussianNoise rejects invalid models", "[physics][clipped]") {
  CHECK_NOTHROW(pnpdist::ClippedGaussianNoise{0.1, 0.0, 1.0}.validate());
  CHECK_THROWS_WITH(pnpdist::ClippedGaussianNoise({0.0, 0.0, 1.0}).validate(),
                    Catch::Contains("sigma must be positive"));
  CHECK_THROWS_WITH(pnpdist::ClippedGaussianNoise({0.1, 1.0, 1.0}).validate(), Catch::Contains("lower < upper"));
  CHECK_THROWS_WITH(pnpdist::ClippedGaussianNoise({NAN, 0.0, 1.0}).validate(), Catch::Contains("sigma"));
}
