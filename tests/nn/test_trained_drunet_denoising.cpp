// Denoising quality of the shipped DRUNet weights against the TV denoiser on the three photographs of
// Debian's lomiri-wallpapers-16.04 held out from their training (PNPDIST_HELDOUT_PHOTOGRAPHS; see
// docs/model_card.md): centre 256 x 256 crops at sigma 25/255 (seeded noise), mean PSNR against TVDenoiser
// with the best of five TV weights for the mean. Measured with the shipped weights: gray DRUNet 32.12 dB,
// TV 31.26 dB (+0.86 dB); colour DRUNet 32.73 dB, TV 31.21 dB (+1.52 dB). Asserted margins: gray 0.5 dB,
// colour 2.0 dB.
#include <catch2/catch.hpp>

#include <pnpdist/backend/openmp.hpp>
#include <pnpdist/io/image.hpp>
#include <pnpdist/io/resize.hpp>
#include <pnpdist/nn/nn.hpp>
#include <pnpdist/priors/tv_denoiser.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <string>

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

namespace {

#if defined(PNPDIST_HAS_OPENMP)
using Exec = pnpdist::OpenMP;
Exec executor() { return pnpdist::OpenMP{2}; }
#else
using Exec = pnpdist::Serial;
Exec executor() { return pnpdist::Serial{}; }
#endif

constexpr double kColorMarginDb = 2.0;
constexpr double kGrayMarginDb = 0.5;
constexpr float kSigma = 25.f / 255.f;
constexpr index_t kCrop = 256;

/// PSNR (peak 1) of x, clamped to [0, 1], against the reference.
template <class A, class B>
double psnr(const A& x, const B& reference) {
  double se = 0;
  for (index_t i = 0; i < reference.size(); ++i) {
    const double d = std::clamp(static_cast<double>(x.data()[i]), 0.0, 1.0) - reference.data()[i];
    se += d * d;
  }
  return 10 * std::log10(static_cast<double>(reference.size()) / se);
}

/// The photographs of lomiri-wallpapers-16.04 held out from training (the package's validation images).
constexpr const char* kHeldout[] = {"free_by_Peter_Nerlich.jpg", "picosdeeuropa_by_Aitzol_Berasategi.jpg",
                                    "seeding_by_Clements_Engelhardt.jpg"};

/// The held-out photograph `file` downscaled 4x (antialiased bicubic), its centre kCrop x kCrop, as
/// 1 x C x H x W with C = 3 or (ITU-R 601 luma) C = 1.
Tensor<float, 4> heldout_crop(const std::string& file, index_t channels) {
  const std::string folder = PNPDIST_HELDOUT_PHOTOGRAPHS;
  const std::string path = folder + "/" + file;
  if (folder.empty() || folder.find("NOTFOUND") != std::string::npos || !std::filesystem::exists(path)) {
    FAIL("the held-out photograph " << file << " was not found (configured folder: '" << folder
                                    << "'): install Debian's package lomiri-wallpapers-16.04 "
                                       "(scripts/install_dependencies.sh) and configure again");
  }
  const auto image = pnpdist::read_image(path);
  REQUIRE(image.extent(0) == 3);
  const auto small = pnpdist::resize_bicubic(executor(), image.const_view(), image.extent(1) / 4, image.extent(2) / 4);
  REQUIRE(small.extent(1) >= kCrop);
  REQUIRE(small.extent(2) >= kCrop);
  const index_t y0 = (small.extent(1) - kCrop) / 2, x0 = (small.extent(2) - kCrop) / 2;
  Tensor<float, 4> crop(Extents<4>{1, channels, kCrop, kCrop});
  for (index_t i = 0; i < kCrop; ++i)
    for (index_t j = 0; j < kCrop; ++j) {
      const float r = small(0, y0 + i, x0 + j), g = small(1, y0 + i, x0 + j), b = small(2, y0 + i, x0 + j);
      if (channels == 1) {
        crop(0, 0, i, j) = 0.299f * r + 0.587f * g + 0.114f * b;
      } else {
        crop(0, 0, i, j) = r;
        crop(0, 1, i, j) = g;
        crop(0, 2, i, j) = b;
      }
    }
  return crop;
}

}  // namespace

TEST_CASE("The shipped DRUNet weights beat the tuned TV denoiser on held-out photographs", "[nn][drunet][slow]") {
  for (const std::string name : {"gray", "color"}) {
    const index_t channels = name == "gray" ? 1 : 3;
    const std::string weights = std::string(PNPDIST_WEIGHTS_DIR) + "/drunet_" + name + ".safetensors";
    pnpdist::nn::DRUNet<2, float, Exec> net(
        pnpdist::nn::load_drunet_weights<float, 2>(weights, pnpdist::nn::infer_drunet_config(weights)), executor());
    constexpr float kScales[] = {0.5f, 0.7f, 1.0f, 1.4f, 2.0f};
    double drunet = 0, tv[std::size(kScales)] = {};
    for (const char* file : kHeldout) {
      const auto clean = heldout_crop(file, channels);
      Tensor<float, 4> noisy(clean.extents());
      pnpdist::copy(executor(), clean.const_view(), noisy.view());
      pnpdist::add_gaussian_noise(executor(), noisy.view(), kSigma, 2025, 11);
      Tensor<float, 4> y(clean.extents());
      net.denoise(noisy.const_view(), kSigma, y.view());
      const double image_drunet = psnr(y, clean);
      drunet += image_drunet / std::size(kHeldout);
      for (std::size_t k = 0; k < std::size(kScales); ++k) {
        pnpdist::TVDenoiser<float, 4, Exec> denoiser(executor(), 200, kScales[k]);
        denoiser.denoise(noisy.const_view(), kSigma, y.view());
        tv[k] += psnr(y, clean) / std::size(kHeldout);
      }
      WARN(name << " " << file << ": noisy " << psnr(noisy, clean) << " dB, DRUNet " << image_drunet << " dB");
    }
    const std::size_t best = static_cast<std::size_t>(std::max_element(std::begin(tv), std::end(tv)) - tv);
    WARN(name << " mean: DRUNet " << drunet << " dB, TV (best weight_scale " << kScales[best] << ") " << tv[best]
              << " dB");
    CHECK(drunet > tv[best] + (channels == 3 ? kColorMarginDb : kGrayMarginDb));
  }
}
