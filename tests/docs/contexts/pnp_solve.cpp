// Context of docs snippets that run a PnP solver: `physics` is a 2D parallel-beam CT problem (Shepp-Logan
// 64 x 64, 60 views in 4 Joseph projectors, noise 0.01), `truth` the phantom, `prior` a TV denoiser and
// `comm` the one-process communicator; the snippet must define `result` (a PnPResult). The program fails
// unless the result is at least 3 dB better than the adjoint A^T y scaled to the truth's mean.
#include <pnpdist/pnp.hpp>

#include <cstdio>
#include <numbers>
#include <utility>
#include <vector>

int main() {
  namespace ct = pnpdist::ct;
  const pnpdist::Serial exec;
  const ct::VolumeGeometry2D geometry_volume{64, 64, 1.0 / 64, 1.0 / 64};
  const ct::Geometry2D geometry = ct::parallel_beam_2d(ct::uniform_angles(60, 0.0, std::numbers::pi),
                                                       ct::Detector2D{64, 1.0 / 64, 0.0}, geometry_volume);
  const pnpdist::Tensor<float, 2> truth = pnpdist::phantom::rasterize<float>(
      exec, pnpdist::phantom::shepp_logan_2d(), geometry_volume, pnpdist::phantom::fitted_scale(geometry_volume));
  std::vector<ct::JosephProjector2D<float, pnpdist::Serial>> blocks;
  for (const ct::Geometry2D& part : ct::split_views(geometry, 4)) blocks.emplace_back(exec, part);
  pnpdist::StackedPhysics physics(std::move(blocks));
  physics.simulate(truth.const_view(), pnpdist::MeasurementSimulation{0.01, 0});
  pnpdist::TVDenoiser<float, 4, pnpdist::Serial> prior(exec, 50);
  const pnpdist::SelfCommunicator comm;
  // @snippet
  pnpdist::Tensor<float, 2> adjoint(geometry_volume.shape());
  physics.gradient(pnpdist::zeros<float>(exec, geometry_volume.shape()).const_view(), adjoint.view());
  const double scale = -pnpdist::sum(exec, truth.const_view()) / pnpdist::sum(exec, adjoint.const_view());
  pnpdist::scale(exec, static_cast<float>(scale), adjoint.view());
  const double before = pnpdist::psnr(exec, adjoint.const_view(), truth.const_view(), 1.0);
  const double after = pnpdist::psnr(exec, result.x.const_view(), truth.const_view(), 1.0);
  std::printf("PSNR: scaled adjoint %.2f dB, PnP %.2f dB after %lld iterations\n", before, after,
              static_cast<long long>(result.iterations));
  return after > before + 3 ? 0 : 1;
}
