#pragma once
// The three small PnP problems of the solver tests: colour deblurring (a stack of circular blurs), 2D
// parallel-beam CT and 3D cone-beam CT (stacks of Joseph projectors over blocks of views), each with a
// ground truth, noisy measurements and a classical reconstruction to start from.
#include <pnpdist/operators/stacked_physics.hpp>
#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tensor/algebra.hpp>

#include <numbers>
#include <vector>

namespace pnpdist::test {

template <class Exec>
struct CtProblem2D {
  Tensor<float, 2> truth;
  StackedPhysics<ct::JosephProjector2D<float, Exec>> physics;
  Tensor<float, 2> fbp;  // of the full noisy sinogram
};

/// n x n modified Shepp-Logan, `angles` parallel views over [0, pi) in `operators` blocks, noise sigma.
template <class Exec>
CtProblem2D<Exec> ct_problem_2d(const Exec& exec, index_t n, index_t angles, index_t operators, double noise) {
  const ct::VolumeGeometry2D image{n, n, 1, 1};
  const auto g = ct::parallel_beam_2d(ct::uniform_angles(angles, 0, std::numbers::pi), {n + n / 2, 1.0, 0.0}, image);
  auto truth = phantom::rasterize<float>(exec, phantom::shepp_logan_2d(), image, phantom::fitted_scale(image), 2);
  std::vector<ct::JosephProjector2D<float, Exec>> ops;
  for (const auto& part : ct::split_views(g, operators)) ops.push_back(ct::make_projector<float>(exec, part));
  StackedPhysics<ct::JosephProjector2D<float, Exec>> physics(std::move(ops));
  physics.simulate(truth.const_view(), {.noise_sigma = noise, .seed = 7});
  Tensor<float, 2> sinogram(g.sinogram_shape());
  index_t row = 0;
  for (std::size_t i = 0; i < physics.size(); ++i) {
    const auto& y = physics.measurement(i);
    for (index_t v = 0; v < y.extent(0); ++v, ++row)
      for (index_t c = 0; c < y.extent(1); ++c) sinogram(row, c) = y(v, c);
  }
  Tensor<float, 2> fbp(image.shape());
  ct::fbp<float>(exec, g, sinogram.const_view(), fbp.view());
  return {std::move(truth), std::move(physics), std::move(fbp)};
}

template <class Exec>
struct CtProblem3D {
  Tensor<float, 3> truth;
  StackedPhysics<ct::JosephProjector3D<float, Exec>> physics;
  Tensor<float, 3> fdk;
};

/// n^3 3D Shepp-Logan, `projections` cone-beam views over 360 degrees in `operators` blocks, noise sigma.
template <class Exec>
CtProblem3D<Exec> ct_problem_3d(const Exec& exec, index_t n, index_t projections, index_t operators, double noise) {
  const ct::VolumeGeometry3D volume{n, n, n, 1, 1, 1};
  const auto g = ct::cone_beam(ct::uniform_angles(projections, 0, 2 * std::numbers::pi),
                               {n + n / 2, n + n / 2, 1.5, 1.5, 0, 0}, 4.0 * n, 2.0 * n, volume);
  auto truth = phantom::rasterize<float>(exec, phantom::shepp_logan_3d(), volume, phantom::fitted_scale(volume), 1);
  std::vector<ct::JosephProjector3D<float, Exec>> ops;
  for (const auto& part : ct::split_views(g, operators)) ops.push_back(ct::make_projector<float>(exec, part));
  StackedPhysics<ct::JosephProjector3D<float, Exec>> physics(std::move(ops));
  physics.simulate(truth.const_view(), {.noise_sigma = noise, .seed = 8});
  Tensor<float, 3> data(g.projection_shape());
  index_t view = 0;
  for (std::size_t i = 0; i < physics.size(); ++i) {
    const auto& y = physics.measurement(i);
    for (index_t v = 0; v < y.extent(0); ++v, ++view)
      for (index_t r = 0; r < y.extent(1); ++r)
        for (index_t c = 0; c < y.extent(2); ++c) data(view, r, c) = y(v, r, c);
  }
  Tensor<float, 3> fdk(volume.shape());
  ct::fdk<float>(exec, g, data.const_view(), fdk.view());
  return {std::move(truth), std::move(physics), std::move(fdk)};
}

}  // namespace pnpdist::test
