// nvcc compile-and-link check of the cuDNN engine (linked into pnpdist_cuda_kernels_instantiation, never
// run): instantiates DRUNet<2> and DRUNet<3> on the Cuda executor with CudnnEngine, and with
// ReferenceEngine in float (which the default engine no longer selects when cuDNN is linked). Without the
// pnpdist::cudnn component CudnnEngine is the stub that throws not_compiled, which compiles as well.

#include <cstddef>
#include <type_traits>

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/nn/nn.hpp>
#include <pnpdist/priors/denoiser.hpp>
#include <pnpdist/tensor/algebra.hpp>

namespace pnpdist_nn_cudnn_instantiation {

using pnpdist::Cuda;
using pnpdist::CudaSpace;
using pnpdist::Extents;
using pnpdist::Tensor;
using pnpdist::nn::CudnnEngine;
using pnpdist::nn::ReferenceEngine;

#if defined(PNPDIST_HAS_CUDNN)
static_assert(std::is_same_v<pnpdist::nn::default_engine_t<float, 2, Cuda>, CudnnEngine<2, Cuda>>);
static_assert(std::is_same_v<pnpdist::nn::default_engine_t<float, 3, Cuda>, CudnnEngine<3, Cuda>>);
static_assert(std::is_same_v<pnpdist::nn::default_engine_t<double, 2, Cuda>, ReferenceEngine<double, 2, Cuda>>);
#endif
static_assert(pnpdist::Denoiser<pnpdist::nn::DRUNet<2, float, Cuda, CudnnEngine<2, Cuda>>>);

template <std::size_t Dim, class Engine, std::size_t Rank>
void instantiate_drunet(const Cuda& exec, const Extents<Rank>& shape) {
  const pnpdist::nn::DRUNetConfig config{1, {2, 2, 2, 2}, 1, true};
  pnpdist::nn::DRUNet<Dim, float, Cuda, Engine> net(pnpdist::nn::random_drunet_weights<float, Dim>(config, 1), exec);
  Tensor<float, Rank, CudaSpace> x = pnpdist::zeros<float>(exec, shape), y(shape);
  net.denoise(x.const_view(), 0.1f, y.view());
  (void)net.planned_bytes();
}

/// Not called: its body makes nvcc compile the engines' code and kernels for every architecture.
void instantiate_nn_cudnn(const Cuda& exec) {
  instantiate_drunet<2, CudnnEngine<2, Cuda>>(exec, Extents<4>{1, 1, 9, 10});
  instantiate_drunet<3, CudnnEngine<3, Cuda>>(exec, Extents<5>{1, 1, 9, 10, 8});
  instantiate_drunet<2, ReferenceEngine<float, 2, Cuda>>(exec, Extents<4>{1, 1, 9, 10});
  instantiate_drunet<3, ReferenceEngine<float, 3, Cuda>>(exec, Extents<5>{1, 1, 9, 10, 8});
#if defined(PNPDIST_HAS_CUDNN)
  pnpdist::nn::CudnnEngine<2, Cuda> tf32(exec, pnpdist::nn::random_drunet_weights<float, 2>({}, 1), true);
  (void)tf32.algorithms();
#endif
}

}  // namespace pnpdist_nn_cudnn_instantiation
