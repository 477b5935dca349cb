// nvcc compile-and-link check of the blur module (linked into pnpdist_cuda_kernels_instantiation, never
// run): instantiates every blur kernel on the Cuda executor, namely the direct blur (the shared-memory tiled
// kernel and the generic ConvolveRowKernel), the FFT blur's spectrum kernels, the fused stack gradient and
// its Parseval reduction, and the stacked physics of device operators (simulation, gradient).

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/physics/blur/blur.hpp>
#include <pnpdist/tensor/algebra.hpp>

#include <vector>

namespace pnpdist_blur_instantiation {

using pnpdist::Cuda;
using pnpdist::CudaSpace;
using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

/// Not called: its body makes nvcc compile each kernel instantiation for every architecture.
double instantiate_blur_kernels(const Cuda& exec) {
  const Extents<4> shape{1, 3, 64, 48};
  const auto psf = pnpdist::blur::gaussian_psf<float>(2.0, 1.0, 30.0);
  Tensor<float, 4, CudaSpace> x = pnpdist::zeros<float>(exec, shape);
  Tensor<float, 4, CudaSpace> y(shape);
  double acc = 0;

  // Direct blur: tiled kernel (small PSF) and ConvolveRowKernel (PSF above the tile limit), float and double.
  for (auto boundary : {pnpdist::blur::Boundary::circular, pnpdist::blur::Boundary::same}) {
    const pnpdist::blur::DirectBlur<float, Cuda> op(exec, psf.const_view(), shape, boundary);
    op.apply(x.const_view(), y.view());
    op.apply_adjoint(y.const_view(), x.view());
  }
  Tensor<double, 4, CudaSpace> xd = pnpdist::zeros<double>(exec, shape);
  Tensor<double, 4, CudaSpace> yd(shape);
  const pnpdist::blur::DirectBlur<double, Cuda> op_double(exec, psf.const_view(), shape,
                                                          pnpdist::blur::Boundary::valid);
  Tensor<double, 4, CudaSpace> yv(op_double.range_shape());
  op_double.apply(xd.const_view(), yv.view());
  op_double.apply_adjoint(yv.const_view(), xd.view());
  pnpdist::for_each(exec, index_t{1},
                    pnpdist::blur::ConvolveRowKernel<float, CudaSpace>{x.const_view(), y.view(), {}, 0, 0, true});

  // FFT blur (cuFFT when PNPDIST_HAS_CUFFT, else a not_compiled error at run time) and its stacks.
  const pnpdist::blur::FftBlur<Cuda> fft_blur(exec, psf.const_view(), shape);
  fft_blur.apply(x.const_view(), y.view());
  fft_blur.apply_adjoint(y.const_view(), x.view());
  std::vector<pnpdist::blur::FftBlur<Cuda>> ops;
  ops.emplace_back(exec, psf.const_view(), shape);
  pnpdist::StackedPhysics<pnpdist::blur::FftBlur<Cuda>> physics(std::move(ops));
  physics.simulate(x.const_view(), {.noise_sigma = 0.1, .seed = 0, .first_stream = 0, .clamp = true});
  physics.gradient(x.const_view(), y.view());
  acc += physics.data_fidelity(x.const_view());
  const pnpdist::blur::CircularBlurStack<Cuda> fused(physics);
  fused.gradient(x.const_view(), y.view());
  acc += fused.data_fidelity(x.const_view());
  const pnpdist::blur::ClippedBlurStack<Cuda> clipped(physics, {0.1, 0.0, 1.0});
  clipped.gradient(x.const_view(), y.view());
  clipped.proximal(x.const_view(), 0.5, y.view());
  acc += clipped.data_fidelity(x.const_view());

  // Stacked direct blurs on the device.
  std::vector<pnpdist::blur::DirectBlur<float, Cuda>> direct;
  direct.emplace_back(exec, psf.const_view(), shape, pnpdist::blur::Boundary::same);
  pnpdist::StackedPhysics<pnpdist::blur::DirectBlur<float, Cuda>> direct_physics(std::move(direct));
  direct_physics.simulate(x.const_view(), {.noise_sigma = 0.1});
  direct_physics.gradient(x.const_view(), y.view());
  acc += direct_physics.data_fidelity(x.const_view());
  return acc;
}

}  // namespace pnpdist_blur_instantiation
