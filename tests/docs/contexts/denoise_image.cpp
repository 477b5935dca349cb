// Context of docs snippets that denoise an image: x (noisy) and y (output) are 1 x CHANNELS x 64 x 64 views
// (CHANNELS: set by the snippet's marker) of a smooth image plus Gaussian noise of sigma 25/255; the program
// fails unless y is at least 3 dB closer to the clean image than x. Run from the repository root (the
// snippets name weights/...).
#include <pnpdist/pnp.hpp>

#include "denoising_check.hpp"

#include <cmath>

int main() {
  const pnpdist::Serial serial;
  const pnpdist::Extents<4> shape{1, CHANNELS, 64, 64};
  pnpdist::Tensor<float, 4> clean(shape), noisy(shape), denoised(shape);
  const auto c = clean.view();
  for (pnpdist::index_t k = 0; k < shape[1]; ++k)
    for (pnpdist::index_t i = 0; i < 64; ++i)
      for (pnpdist::index_t j = 0; j < 64; ++j)
        c(0, k, i, j) = 0.5f + 0.3f * std::sin(0.1f * static_cast<float>(i + 2 * k)) * std::cos(0.07f * static_cast<float>(j));
  pnpdist::copy(serial, clean.const_view(), noisy.view());
  pnpdist::add_gaussian_noise(serial, noisy.view(), 25.0f / 255.0f, 7, 0);
  const auto x = noisy.const_view();
  const auto y = denoised.view();
  // @snippet
  return denoising_gain_status(clean, noisy, denoised);
}
