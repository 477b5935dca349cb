// nvcc compile-and-link check of the CT module (no main; linked into pnpdist_cuda_kernels_instantiation):
// the Joseph projectors (the ray-driven 2D and grouped 3D forward projections, block rays, the voxel-driven
// gather back projection, the element-wise axis swap), FBP / FDK (pre-weighting, row filter, back
// projection) and the SIRT / CGLS solvers on the Cuda executor, in float and double.

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/operators/adjoint_check.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/solvers/cgls.hpp>
#include <pnpdist/solvers/sirt.hpp>

#include <numbers>

namespace pnpdist::cuda_check {

template <class T>
double instantiate_ct_kernels(const Cuda& exec) {
  const double pi = std::numbers::pi;
  const auto g2 = ct::fan_beam_2d(ct::uniform_angles(8, 0, 2 * pi), {24, 1.5, 0.0}, 60.0, 40.0, {16, 18, 1, 1});
  const auto g3 =
      ct::cone_beam(ct::uniform_angles(8, 0, 2 * pi), {12, 14, 2.0, 2.0, 0, 0}, 60.0, 60.0, {10, 11, 12, 1, 1, 1});
  const ct::JosephProjector2D<T, Cuda> a2(exec, g2);
  const ct::JosephProjector3D<T, Cuda> a3(exec, g3);
  double acc = adjoint_check(a2, 1).relative_error + adjoint_check(a3, 1).relative_error;

  Tensor<T, 2, CudaSpace> sino(a2.range_shape()), image(a2.domain_shape());
  fill(exec, sino.view(), T(1));
  ct::fbp<T>(exec, g2, sino.const_view(), image.view(), ct::Filter::hann);
  Tensor<T, 3, CudaSpace> proj(a3.range_shape()), volume(a3.domain_shape());
  fill(exec, proj.view(), T(1));
  ct::fdk<T>(exec, g3, proj.const_view(), volume.view(), ct::Filter::ram_lak);
  acc += static_cast<double>(sum(exec, image.const_view())) + static_cast<double>(sum(exec, volume.const_view()));

  const auto s = sirt(a2, sino.const_view(), {2, 1.0, true});
  const auto c = cgls(a3, proj.const_view(), {2});
  return acc + s.residual_norms.back() + c.residual_norms.back();
}

double instantiate_ct(const Cuda& exec) {
  return instantiate_ct_kernels<float>(exec) + instantiate_ct_kernels<double>(exec);
}

}  // namespace pnpdist::cuda_check
