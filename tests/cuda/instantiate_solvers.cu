// nvcc compile check of the solvers and metrics (linked into pnpdist_cuda_kernels_instantiation, never run):
// PnPSolver on a device physics and denoiser (gradient step, relaxation, clip, relative change, checkpoint
// copy to the host), the automatic step, the ground-truth observer, and PSNR / SSIM on Cuda views.

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/metrics/metrics.hpp>
#include <pnpdist/solvers/solvers.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/owning_tensor.hpp>
#include <pnpdist/tensor/reductions.hpp>

#include <cstddef>
#include <utility>

namespace {

using pnpdist::Cuda;
using pnpdist::CudaSpace;
using pnpdist::Extents;
using pnpdist::View;

/// A device denoiser: y = x / 2.
template <std::size_t Rank>
struct HalvingDenoiser {
  using value_type = float;
  using executor_type = Cuda;
  static constexpr std::size_t rank = Rank;
  Cuda exec;
  [[nodiscard]] Cuda executor() const { return exec; }
  void denoise(const View<const float, Rank, CudaSpace>& x, float, const View<float, Rank, CudaSpace>& y) {
    pnpdist::axpby(exec, 0.5f, x, 0.0f, y);
  }
};

/// A device physics f(x) = 1/2 ||x - y||^2 on rank-R images.
template <std::size_t R>
struct DenoisingPhysics {
  using value_type = float;
  using executor_type = Cuda;
  static constexpr std::size_t domain_rank = R;
  Cuda exec;
  View<const float, R, CudaSpace> y;
  [[nodiscard]] Extents<R> domain_shape() const { return y.extents(); }
  [[nodiscard]] Cuda executor() const { return exec; }
  [[nodiscard]] double data_fidelity(const View<const float, R, CudaSpace>& x) const {
    return 0.5 * pnpdist::squared_distance(exec, x, y);
  }
  void gradient(const View<const float, R, CudaSpace>& x, const View<float, R, CudaSpace>& g) const {
    pnpdist::copy(exec, x, g);
    pnpdist::axpy(exec, -1.0f, y, g);
  }
};
static_assert(pnpdist::Physics<DenoisingPhysics<3>>);

template <std::size_t R, std::size_t Q>
double instantiate_pnp(const Cuda& exec, const Extents<R>& shape) {
  pnpdist::Tensor<float, R, CudaSpace> y = pnpdist::zeros<float>(exec, shape);
  const DenoisingPhysics<R> physics{exec, y.const_view()};
  HalvingDenoiser<Q> prior{exec};
  pnpdist::PnPOptions options;
  pnpdist::ProximalGradient pgd;
  pgd.relaxation = 1.0;
  options.clip = std::pair{0.0, 1.0};
  options.max_iterations = 2;
  auto result = pnpdist::PnPSolver(prior, options, pgd)
                    .solve(physics, pnpdist::init::adjoint, pnpdist::observe::ground_truth(y, 1.0),
                           pnpdist::observe::progress(false));
  auto second = pnpdist::PnPSolver(prior, options, pgd).solve(physics, pnpdist::init::given(result.x));
  (void)pnpdist::PnPSolver(prior, options, pgd).solve(physics, pnpdist::init::zeros);
  (void)pnpdist::PnPSolver(prior, options, pnpdist::HalfQuadraticSplitting{}).solve(physics, pnpdist::init::zeros);
  (void)pnpdist::PnPSolver(prior, options, pnpdist::ADMM{}).solve(physics, pnpdist::init::zeros);
  return result.records.back().psnr + second.step + pnpdist::automatic_step(physics) +
         pnpdist::ssim(exec, result.x.const_view(), y.const_view(), 1.0) +
         pnpdist::psnr(exec, result.x.const_view(), y.const_view(), 1.0);
}

}  // namespace

/// Instantiates everything above; never called.
double pnpdist_instantiate_solvers(const Cuda& exec) {
  return instantiate_pnp<3, 4>(exec, Extents<3>{3, 32, 32}) + instantiate_pnp<2, 4>(exec, Extents<2>{32, 32}) +
         instantiate_pnp<3, 5>(exec, Extents<3>{16, 16, 16});
}
