// Must NOT compile (test solvers_observer_signature_is_checked): an observer whose call operator takes the
// iterate as a float view in a double-precision problem would never be called; PnPSolver::solve's
// static_assert rejects it at compile time.
#include <pnpdist/priors/identity_denoiser.hpp>
#include <pnpdist/solvers/pnp_solver.hpp>

#include "solvers/solver_test_support.hpp"

int main() {
  using namespace pnpdist;
  Tensor<double, 1> truth(Extents<1>{4});
  const auto physics = test::dense_stack<double>(Serial{}, 1, 4, 4, truth.const_view(), 1);
  IdentityDenoiser<double, 1, Serial> prior;
  const auto wrong = [](const IterationRecord&, const View<const float, 1, HostSpace>&) {};
  (void)PnPSolver(prior, PnPOptions{}, ProximalGradient{}).solve(physics, init::zeros, wrong);
  return 0;
}
