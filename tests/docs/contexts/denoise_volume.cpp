// Context of docs snippets that denoise a volume with 2D weights: `path` and `config` name the shipped gray
// weights, `exec` is an OpenMP executor, `volume` (noisy) and `out` are 1 x 1 x 16 x 32 x 32 views of a smooth
// volume plus Gaussian noise of `sigma` = 25/255; the program fails unless out is at least 3 dB closer to the
// clean volume than the input. Run from the repository root.
#include <pnpdist/pnp.hpp>

#include "denoising_check.hpp"

#include <cmath>
#include <string>

int main() {
  const std::string path = "weights/drunet_gray.safetensors";
  const pnpdist::nn::DRUNetConfig config = pnpdist::nn::infer_drunet_config(path);
  const pnpdist::OpenMP exec{2};
  const pnpdist::Serial serial;
  const float sigma = 25.0f / 255.0f;
  const pnpdist::Extents<5> shape{1, 1, 16, 32, 32};
  pnpdist::Tensor<float, 5> clean(shape), noisy(shape), denoised(shape);
  const auto c = clean.view();
  for (pnpdist::index_t d = 0; d < 16; ++d)
    for (pnpdist::index_t i = 0; i < 32; ++i)
      for (pnpdist::index_t j = 0; j < 32; ++j)
        c(0, 0, d, i, j) = 0.5f + 0.3f * std::sin(0.2f * static_cast<float>(d + i)) * std::cos(0.1f * static_cast<float>(j));
  pnpdist::copy(serial, clean.const_view(), noisy.view());
  pnpdist::add_gaussian_noise(serial, noisy.view(), sigma, 7, 0);
  const auto volume = noisy.const_view();
  const auto out = denoised.view();
  // @snippet
  return denoising_gain_status(clean, noisy, denoised);
}
