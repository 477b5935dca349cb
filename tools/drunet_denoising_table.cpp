// Prints the denoising table of docs/model_card.md: mean PSNR of the shipped DRUNet weights and of
// TVDenoiser on the held-out images written by `tools/train_drunet.py heldout --work DIR` (DIR/heldout/gray
// and DIR/heldout/color: float32 C x H x W .npy files named validation__* and skimage__*), at sigma 15, 25
// and 50 (/255), with seeded Gaussian noise (the same noisy image for both denoisers).
//
// TV is tuned fairly per sigma and channel count: its weight_scale (TV weight = weight_scale * sigma) is the
// value of a grid that maximizes the mean PSNR on the validation images; the skimage images are scored
// with that value (and, for reference, with their own best value of the grid).
//
//   cmake --build BUILD --target drunet_denoising_table
//   BUILD/tests/nn/drunet_denoising_table DIR/heldout weights [threads] [crop]
//
// threads: OpenMP threads (default 1). Images larger than crop x crop (default 256) are cut to their centre
// crop x crop. TV: 200 iterations, weight_scale in {0.5, 0.7, 1.0, 1.4, 2.0}. PSNR: peak 1, the output
// clamped to [0, 1].
#include <pnpdist/backend/openmp.hpp>
#include <pnpdist/io/npy.hpp>
#include <pnpdist/nn/nn.hpp>
#include <pnpdist/priors/tv_denoiser.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;

namespace {

const std::vector<float> kScales{0.5f, 0.7f, 1.0f, 1.4f, 2.0f};
const int kSigmas[] = {15, 25, 50};

struct Image {
  std::string set;  // "validation" or "skimage"
  std::string name;
  Tensor<float, 4> clean;
};

double psnr(const Tensor<float, 4>& x, const Tensor<float, 4>& reference) {
  double se = 0;
  for (index_t i = 0; i < reference.size(); ++i) {
    const double d = std::clamp(static_cast<double>(x.data()[i]), 0.0, 1.0) - reference.data()[i];
    se += d * d;
  }
  return 10 * std::log10(static_cast<double>(reference.size()) / se);
}

std::vector<Image> load_images(const std::string& folder, index_t crop) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    if (entry.path().extension() == ".npy") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  std::vector<Image> images;
  for (const std::string& file : files) {
    const auto image = pnpdist::read_npy<float, 3>(file);
    const index_t h = std::min(crop, image.extent(1)), w = std::min(crop, image.extent(2));
    const index_t y0 = (image.extent(1) - h) / 2, x0 = (image.extent(2) - w) / 2;
    Tensor<float, 4> clean(Extents<4>{1, image.extent(0), h, w});
    for (index_t c = 0; c < image.extent(0); ++c)
      for (index_t i = 0; i < h; ++i)
        for (index_t j = 0; j < w; ++j) clean(0, c, i, j) = image(c, y0 + i, x0 + j);
    const std::string stem = std::filesystem::path(file).stem().string();
    const auto split = stem.find("__");
    images.push_back({stem.substr(0, split), stem.substr(split + 2), std::move(clean)});
  }
  return images;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s HELDOUT_DIR WEIGHTS_DIR [threads] [crop]\n", argv[0]);
    return 2;
  }
  const std::string heldout = argv[1], weights_dir = argv[2];
  const int threads = argc > 3 ? std::stoi(argv[3]) : 1;
  const index_t crop = argc > 4 ? std::stol(argv[4]) : 256;
  const pnpdist::OpenMP exec{threads};
  std::printf("| images | sigma | noisy | TV, weight_scale tuned on validation | TV, oracle weight_scale | DRUNet |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const std::string kind : {"gray", "color"}) {
    const auto images = load_images(heldout + "/" + kind, crop);
    const std::string path = weights_dir + "/drunet_" + kind + ".safetensors";
    pnpdist::nn::DRUNet<2, float, pnpdist::OpenMP> net(
        pnpdist::nn::load_drunet_weights<float, 2>(path, pnpdist::nn::infer_drunet_config(path)), exec);
    for (const int sigma255 : kSigmas) {
      const float sigma = static_cast<float>(sigma255) / 255.f;
      // Per set: sums of the PSNRs of the noisy images, DRUNet, and TV for each weight_scale.
      std::map<std::string, std::vector<double>> sums;
      std::map<std::string, int> counts;
      for (std::size_t n = 0; n < images.size(); ++n) {
        const Image& image = images[n];
        auto& sum = sums[image.set];
        sum.resize(2 + kScales.size(), 0.0);
        ++counts[image.set];
        Tensor<float, 4> noisy(image.clean.extents()), y(image.clean.extents());
        pnpdist::copy(exec, image.clean.const_view(), noisy.view());
        pnpdist::add_gaussian_noise(exec, noisy.view(), sigma, 2025, static_cast<std::uint64_t>(n * 1000 + sigma255));
        sum[0] += psnr(noisy, image.clean);
        net.denoise(noisy.const_view(), sigma, y.view());
        sum[1] += psnr(y, image.clean);
        for (std::size_t s = 0; s < kScales.size(); ++s) {
          pnpdist::TVDenoiser<float, 4, pnpdist::OpenMP> tv(exec, 200, kScales[s]);
          tv.denoise(noisy.const_view(), sigma, y.view());
          sum[2 + s] += psnr(y, image.clean);
        }
      }
      const auto best = [&](const std::string& set) {
        const auto& sum = sums[set];
        return static_cast<std::size_t>(std::max_element(sum.begin() + 2, sum.end()) - (sum.begin() + 2));
      };
      const std::size_t tuned = best("validation");
      for (const std::string set : {"validation", "skimage"}) {
        if (counts[set] == 0) continue;
        const auto& sum = sums[set];
        const double k = counts[set];
        const std::size_t oracle = best(set);
        std::printf("| %s %s (%d) | %d | %.2f | %.2f (%.2f) | %.2f (%.2f) | %.2f |\n", set.c_str(), kind.c_str(),
                    counts[set], sigma255, sum[0] / k, sum[2 + tuned] / k, kScales[tuned], sum[2 + oracle] / k,
                    kScales[oracle], sum[1] / k);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
