// Uses the installed headers: a deterministic reduction and a dot-product adjoint check, on OpenMP when the
// component is linked. Exits non-zero when a result is wrong.
#include <pnpdist/pnp.hpp>

#include <cstdio>

int main() {
#if defined(PNPDIST_HAS_OPENMP)
  const pnpdist::OpenMP exec{};
#else
  const pnpdist::Serial exec{};
#endif
  pnpdist::Tensor<float, 1> x(pnpdist::Extents<1>{100000});
  pnpdist::fill(exec, x.view(), 0.5f);
  const double total = pnpdist::sum(exec, x.view());
  std::printf("pnpdist consumer (%s): sum = %.1f; compiled features:", exec.name, total);
  for (const auto& f : pnpdist::compiled_features())
    std::printf(" %.*s=%d", int(f.name.size()), f.name.data(), f.compiled);
  std::printf("\n");
  return total == 50000.0 ? 0 : 1;
}
