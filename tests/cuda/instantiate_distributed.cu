// nvcc compile check of the tiling and distribution modules (linked into pnpdist_cuda_kernels_instantiation,
// never run): the tile gather and core scatter kernels for the Cuda executor in 2D and 3D, TiledDenoiser and
// DistributedDenoiser around a device denoiser, DistributedPhysics over device buffers, and, when the
// components are linked, the MPI (device buffers) and NCCL communicators; allgatherv_from_host over each.

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/distributed/distributed.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/owning_tensor.hpp>
#include <pnpdist/tensor/reductions.hpp>
#include <pnpdist/tiling/tiling.hpp>

#include <cstddef>
#include <span>

namespace {

using pnpdist::Cuda;
using pnpdist::CudaSpace;
using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::View;

/// A device denoiser: y = x (one copy kernel), with a size multiple so the tiler rounds windows.
template <std::size_t Rank>
struct CopyDenoiser {
  using value_type = float;
  using executor_type = Cuda;
  static constexpr std::size_t rank = Rank;
  Cuda exec;
  [[nodiscard]] Cuda executor() const { return exec; }
  [[nodiscard]] index_t size_multiple() const { return 8; }
  void denoise(const View<const float, Rank, CudaSpace>& x, float, const View<float, Rank, CudaSpace>& y) {
    pnpdist::copy(exec, x, y);
  }
};
static_assert(pnpdist::Denoiser<CopyDenoiser<4>>);

/// A device physics: f(x) = 1/2 ||x - y||^2 over a flat vector (one operator: the identity).
struct IdentityPhysics {
  using value_type = float;
  using executor_type = Cuda;
  static constexpr std::size_t domain_rank = 1;
  Cuda exec;
  View<const float, 1, CudaSpace> y;
  [[nodiscard]] Extents<1> domain_shape() const { return y.extents(); }
  [[nodiscard]] Cuda executor() const { return exec; }
  [[nodiscard]] double data_fidelity(const View<const float, 1, CudaSpace>& x) const {
    pnpdist::Tensor<float, 1, CudaSpace> r(x.extents());
    pnpdist::copy(exec, x, r.view());
    pnpdist::axpy(exec, -1.0f, y, r.view());
    return 0.5 * pnpdist::squared_norm(exec, r.view());
  }
  void gradient(const View<const float, 1, CudaSpace>& x, const View<float, 1, CudaSpace>& g) const {
    pnpdist::copy(exec, x, g);
    pnpdist::axpy(exec, -1.0f, y, g);
  }
};
static_assert(pnpdist::Physics<IdentityPhysics>);

template <std::size_t Rank, class Comm>
void instantiate_denoisers(const Cuda& exec, const Comm& comm, const Extents<Rank>& shape,
                           const pnpdist::PatchTiler<Rank - 2>& tiler) {
  pnpdist::Tensor<float, Rank, CudaSpace> x = pnpdist::zeros<float>(exec, shape);
  pnpdist::Tensor<float, Rank, CudaSpace> y(shape);
  auto single = pnpdist::tiled(CopyDenoiser<Rank>{exec}, tiler, 2);
  single.denoise(x.const_view(), 0.1f, y.view());
  auto distributed = pnpdist::distribute_denoiser(CopyDenoiser<Rank>{exec}, tiler, comm, 0);
  distributed.denoise(x.const_view(), 0.1f, y.view());
}

template <class Comm>
double instantiate_physics(const Cuda& exec, const Comm& comm) {
  pnpdist::Tensor<float, 1, CudaSpace> y = pnpdist::zeros<float>(exec, Extents<1>{64});
  pnpdist::Tensor<float, 1, CudaSpace> g(Extents<1>{64});
  auto physics = pnpdist::distribute_physics(4, comm, pnpdist::Dealing::round_robin(), [&](std::span<const index_t>) {
    return IdentityPhysics{exec, y.const_view()};
  });
  physics.gradient(y.const_view(), g.view());
  pnpdist::synchronize(physics.executor());
  return physics.data_fidelity(y.const_view()) + static_cast<double>(physics.domain_shape()[0]);
}

template <class Comm>
void instantiate_communicator(const Comm& comm) {
  pnpdist::Tensor<float, 1, CudaSpace> f(Extents<1>{8});
  pnpdist::Tensor<double, 1, CudaSpace> d(Extents<1>{8});
  const index_t counts[1] = {8};
  comm.allreduce_sum(f.view());
  comm.allreduce_sum(d.view());
  comm.broadcast(f.view(), 0);
  if (comm.size() == 1) comm.allgatherv(f.const_view(), f.view(), std::span<const index_t>(counts, 1));
  comm.barrier();
  // Host buffers over the communicator (staged through device buffers for NCCL).
  float host[8] = {};
  if (comm.size() == 1)
    pnpdist::allgatherv_from_host(comm, View<const float, 1, pnpdist::HostSpace>(host, Extents<1>{8}),
                                  View<float, 1, pnpdist::HostSpace>(host, Extents<1>{8}),
                                  std::span<const index_t>(counts, 1));
}

}  // namespace

/// Instantiates everything above; never called.
void pnpdist_instantiate_distributed(const Cuda& exec) {
  const pnpdist::SelfCommunicator self;
  instantiate_denoisers<4>(exec, self, Extents<4>{1, 3, 100, 90}, pnpdist::PatchTiler<2>(32, 8));
  instantiate_denoisers<5>(exec, self, Extents<5>{1, 1, 20, 40, 30}, pnpdist::PatchTiler<3>({8, 16, 16}, {2, 4, 4}));
  (void)instantiate_physics(exec, self);
  instantiate_communicator(self);
#if defined(PNPDIST_HAS_MPI)
  const pnpdist::MpiCommunicator mpi;
  instantiate_denoisers<4>(exec, mpi, Extents<4>{1, 3, 100, 90}, pnpdist::PatchTiler<2>(32, 8));
  (void)instantiate_physics(exec, mpi);
  instantiate_communicator(mpi);
#if defined(PNPDIST_HAS_NCCL)
  const pnpdist::NcclCommunicator nccl(mpi, exec);
  instantiate_denoisers<4>(exec, nccl, Extents<4>{1, 3, 100, 90}, pnpdist::PatchTiler<2>(32, 8));
  instantiate_denoisers<5>(exec, nccl, Extents<5>{1, 1, 20, 40, 30}, pnpdist::PatchTiler<3>({8, 16, 16}, {2, 4, 4}));
  (void)instantiate_physics(exec, nccl);
  instantiate_communicator(nccl);
#endif
#endif
}
