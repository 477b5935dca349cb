// nvcc compile-and-link check of the nn and priors modules (linked into pnpdist_cuda_kernels_instantiation,
// never run): instantiates DRUNet<2> and DRUNet<3> on the Cuda executor (the reference engine: the
// convolution, ReLU, residual, padding and crop kernels), every layer directly, and the TV and identity
// denoisers.

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/nn/nn.hpp>
#include <pnpdist/priors/priors.hpp>
#include <pnpdist/tensor/algebra.hpp>

namespace pnpdist_nn_instantiation {

using pnpdist::Cuda;
using pnpdist::CudaSpace;
using pnpdist::Extents;
using pnpdist::Tensor;

static_assert(pnpdist::Denoiser<pnpdist::nn::DRUNet<2, float, Cuda>>);
static_assert(pnpdist::Denoiser<pnpdist::TVDenoiser<float, 4, Cuda>>);

template <class T, std::size_t Rank>
void instantiate_layers(const Cuda& exec, const Extents<Rank>& fine, const Extents<Rank>& coarse) {
  Tensor<T, Rank, CudaSpace> a = pnpdist::zeros<T>(exec, fine), b = pnpdist::zeros<T>(exec, fine);
  Tensor<T, Rank, CudaSpace> c = pnpdist::zeros<T>(exec, coarse);
  Tensor<T, 1, CudaSpace> w = pnpdist::zeros<T>(exec, Extents<1>{1000});
  const pnpdist::nn::PostOps post{true, true};
  pnpdist::nn::conv3(exec, a.const_view(), w.data(), w.data(), b.view(), post);
  pnpdist::nn::conv_down2(exec, a.const_view(), w.data(), w.data(), c.view(), post);
  pnpdist::nn::conv_up2(exec, c.const_view(), w.data(), static_cast<const T*>(nullptr), a.view(), post);
  pnpdist::nn::relu(exec, a.view());
  pnpdist::nn::add_residual(exec, a.view(), b.const_view());
}

template <std::size_t Dim, class T, std::size_t Rank>
void instantiate_drunet(const Cuda& exec, const Extents<Rank>& shape) {
  const pnpdist::nn::DRUNetConfig config{1, {2, 2, 2, 2}, 1, true};
  pnpdist::nn::DRUNet<Dim, T, Cuda> net(pnpdist::nn::random_drunet_weights<T, Dim>(config, 1), exec);
  Tensor<T, Rank, CudaSpace> x = pnpdist::zeros<T>(exec, shape), y(shape);
  net.denoise(x.const_view(), T(0.1), y.view());
  pnpdist::TVDenoiser<T, Rank, Cuda> tv(exec, 10);
  tv.denoise(x.const_view(), T(0.1), y.view());
  pnpdist::IdentityDenoiser<T, Rank, Cuda> identity(exec);
  identity.denoise(x.const_view(), T(0.1), y.view());
}

/// Not called: its body makes nvcc compile each kernel instantiation for every architecture.
void instantiate_nn_kernels(const Cuda& exec) {
  instantiate_layers<float>(exec, Extents<4>{1, 2, 8, 8}, Extents<4>{1, 2, 4, 4});
  instantiate_layers<float>(exec, Extents<5>{1, 2, 8, 8, 8}, Extents<5>{1, 2, 4, 4, 4});
  instantiate_layers<double>(exec, Extents<4>{1, 2, 8, 8}, Extents<4>{1, 2, 4, 4});
  instantiate_drunet<2, float>(exec, Extents<4>{1, 1, 9, 10});
  instantiate_drunet<3, float>(exec, Extents<5>{1, 1, 9, 10, 8});
  instantiate_drunet<2, double>(exec, Extents<4>{1, 1, 9, 10});
}

}  // namespace pnpdist_nn_instantiation
