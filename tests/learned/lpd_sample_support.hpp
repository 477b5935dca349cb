#pragma once
// What the tests of trained learned primal-dual weights share: a held-out ellipse sample of ellipse_sample()
// and the FBP of its data, computed independently of the code under test.
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

}  // namespace lpd_test
