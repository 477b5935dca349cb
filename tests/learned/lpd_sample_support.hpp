#pragma once
// What the tests of trained learned primal-dual weights share: a held-out ellipse sample of ellipse_sample(),
// the FBP of its data (computed independently of the code under test) and the mean PSNRs of a network and of
// FBP over the first test phantoms.
#include <pnpdist/learned/ellipse_data.hpp>
#include <pnpdist/learned/lpd_training.hpp>
#include <pnpdist/learned/projector_layer.hpp>
#include <pnpdist/physics/ct/fbp.hpp>
#include <pnpdist/tensor/tensor.hpp>

#include <cstdint>
#include <vector>

namespace lpd_test {

/// Test phantom `index` (data seed 0, 5% noise) of `layer`'s geometry: the truth and the scaled data g.
struct HeldOutSample {
  std::vector<float> truth, g;
};

template <class Exec, class Op>
HeldOutSample held_out_sample(const Exec& exec, const pnpdist::learned::ProjectorLayer<Op>& layer,
                              std::uint64_t index) {
  HeldOutSample s{std::vector<float>(static_cast<std::size_t>(layer.image_size())),
                  std::vector<float>(static_cast<std::size_t>(layer.sinogram_size()))};
  pnpdist::learned::ellipse_sample(exec, layer, pnpdist::learned::EllipseDataOptions{},
                                   pnpdist::learned::DataSplit::test, index, s.truth.data(), s.g.data());
  return s;
}

/// PSNR (the phantom's range) of the FBP with `filter` of the unscaled data y = g / s.
template <class Exec, class Op>
double fbp_psnr(const Exec& exec, const pnpdist::learned::ProjectorLayer<Op>& layer, const HeldOutSample& s,
                pnpdist::ct::Filter filter = pnpdist::ct::Filter::ram_lak) {
  pnpdist::Tensor<float, 2> sinogram(layer.sinogram_shape()), image(layer.image_shape());
  for (pnpdist::index_t i = 0; i < sinogram.size(); ++i)
    sinogram.data()[i] = s.g[static_cast<std::size_t>(i)] / layer.scale();
  pnpdist::ct::fbp<float>(exec, layer.op().geometry(), sinogram.const_view(), image.view(), filter);
  return pnpdist::learned::range_psnr<float>(layer.image_size(), image.data(), s.truth.data());
}

/// Mean PSNRs of `net` and of the Ram-Lak FBP over test phantoms 0 .. count-1.
struct MeanPsnrs {
  double lpd = 0, fbp = 0;
};

template <class Exec, class Op, class Net>
MeanPsnrs mean_psnrs(const Exec& exec, const pnpdist::learned::ProjectorLayer<Op>& layer, Net& net, int count) {
  std::vector<float> out(static_cast<std::size_t>(layer.image_size()));
  MeanPsnrs m;
  for (int k = 0; k < count; ++k) {
    const HeldOutSample s = held_out_sample(exec, layer, static_cast<std::uint64_t>(k));
    net.forward(exec, 1, s.g.data(), out.data());
    m.lpd += pnpdist::learned::range_psnr<float>(layer.image_size(), out.data(), s.truth.data()) / count;
    m.fbp += fbp_psnr(exec, layer, s) / count;
  }
  return m;
}

}  // namespace lpd_test
