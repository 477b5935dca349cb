// Must NOT compile (test solvers_prior_not_a_denoiser_is_diagnosed): the prior's denoise takes float views in a
// double-precision denoiser, so it is not a pnpdist::Denoiser. PnPSolver stops with one static_assert naming
// the requirement (detail::check_denoiser, priors/denoiser.hpp), not the concept's notes and a failed class
// template argument deduction.
#include <pnpdist/priors/denoiser.hpp>
#include <pnpdist/solvers/pnp_solver.hpp>

#include "solvers/solver_test_support.hpp"

struct FloatViewDenoiser {
  using value_type = double;
  using executor_type = pnpdist::Serial;
  static constexpr std::size_t rank = 1;
  [[nodiscard]] pnpdist::Serial executor() const { return {}; }
  void denoise(const pnpdist::View<const float, 1, pnpdist::HostSpace>&, double,
               const pnpdist::View<float, 1, pnpdist::HostSpace>&) {}
};

int main() {
  using namespace pnpdist;
  Tensor<double, 1> truth(Extents<1>{4});
  const auto physics = test::dense_stack<double>(Serial{}, 1, 4, 4, truth.const_view(), 1);
  FloatViewDenoiser prior;
  (void)PnPSolver(prior, PnPOptions{}, ProximalGradient{}).solve(physics, init::zeros);
  return 0;
}
