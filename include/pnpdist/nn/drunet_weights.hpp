#pragma once
/// \file
/// DRUNet's architecture (DRUNetConfig, the list of its convolutions in execution order) and its
/// parameters on the host (DRUNetWeights), loaded from a safetensors file whose tensor names and layouts
/// are those of the official PyTorch state_dict:
///
///   m_head.weight                       conv3  in_channels -> widths[0]
///   m_down{s}.{b}.res.{0,2}.weight      conv3  residual blocks b = 0 .. blocks-1 at scale s-1 (s = 1, 2, 3)
///   m_down{s}.{blocks}.weight           down2  widths[s-1] -> widths[s]
///   m_body.{b}.res.{0,2}.weight         conv3  residual blocks at the coarsest scale
///   m_up{s}.0.weight                    up2    widths[s] -> widths[s-1] (s = 3, 2, 1; ConvTranspose layout)
///   m_up{s}.{b+1}.res.{0,2}.weight      conv3  residual blocks after the upsampling
///   m_tail.weight                       conv3  widths[0] -> image_channels
///
/// ("...bias" alongside each weight when the configuration has biases). Loading checks every tensor's
/// presence, dtype and shape against the configuration and throws io_error naming the first tensor that
/// does not match; a tensor the configuration does not expect is an error too.
/// DRUNet<3> takes 3D weights (kernels 3x3x3 and 2x2x2) or 2D ones, inflated: a 3x3 kernel becomes a
/// 3x3x3 kernel holding it at the centre depth slice and zeros elsewhere; a 2x2 kernel is replicated
/// along depth, halved for the stride-2 convolution (which sums its two depth taps) and kept as it is for
/// the transposed one (each output voxel receives exactly one depth tap). On an input constant along depth, the
/// inflated network then computes the 2D network's output on every slice away from the depth borders.

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/io/safetensors.hpp"
#include "pnpdist/nn/layers.hpp"

namespace pnpdist::nn {

/// The architecture parameters of DRUNet. Defaults: the official colour network.
struct DRUNetConfig {
  index_t image_channels = 3;  ///< 1 (grayscale) or 3 (colour); the input gets one more (noise level map)
  std::array<index_t, 4> widths{64, 128, 256, 512};  ///< channels at each of the four scales
  index_t blocks = 4;                                ///< residual blocks per scale
  bool bias = false;                                 ///< convolutions with biases (the official network has none)

  [[nodiscard]] index_t in_channels() const { return image_channels + 1; }
  /// Throws invalid_argument for non-positive channel counts or a negative block count.
  void validate() const {
    bool ok = image_channels > 0 && blocks >= 0;
    for (index_t w : widths) ok = ok && w > 0;
    require(ok, [&] {
      return "DRUNetConfig: image_channels " + std::to_string(image_channels) + ", widths (" +
             std::to_string(widths[0]) + ", " + std::to_string(widths[1]) + ", " + std::to_string(widths[2]) + ", " +
             std::to_string(widths[3]) + ") and blocks " + std::to_string(blocks) + " must be positive (blocks >= 0)";
    });
  }
};

/// One convolution of the network: its name prefix ("m_down1.0.res.0"), kind and channel counts.
struct LayerSpec {
  std::string name;
  ConvKind kind = ConvKind::conv3;
  index_t in_channels = 0;
  index_t out_channels = 0;

  /// PyTorch's weight shape for Dim spatial dimensions: (out, in, k...) for convolutions, (in, out, k...)
  /// for the transposed ones.
  [[nodiscard]] std::vector<index_t> weight_shape(std::size_t dim) const {
    std::vector<index_t> shape;
    if (kind == ConvKind::up2) {
      shape = {in_channels, out_channels};
    } else {
      shape = {out_channels, in_channels};
    }
    for (std::size_t d = 0; d < dim; ++d) shape.push_back(kernel_extent(kind));
    return shape;
  }
  [[nodiscard]] index_t weight_count(std::size_t dim) const {
    index_t n = in_channels * out_channels;
    for (std::size_t d = 0; d < dim; ++d) n *= kernel_extent(kind);
    return n;
  }
};

/// The convolutions of DRUNet in execution order (see the file comment).
inline std::vector<LayerSpec> drunet_layers(const DRUNetConfig& config) {
  config.validate();
  std::vector<LayerSpec> layers;
  const auto& w = config.widths;
  auto blocks = [&](const std::string& prefix, index_t first, index_t width) {
    for (index_t b = 0; b < config.blocks; ++b) {
      const std::string block = prefix + "." + std::to_string(first + b) + ".res.";
      layers.push_back({block + "0", ConvKind::conv3, width, width});
      layers.push_back({block + "2", ConvKind::conv3, width, width});
    }
  };
  layers.push_back({"m_head", ConvKind::conv3, config.in_channels(), w[0]});
  for (int s = 1; s <= 3; ++s) {
    const std::string prefix = "m_down" + std::to_string(s);
    blocks(prefix, 0, w[s - 1]);
    layers.push_back({prefix + "." + std::to_string(config.blocks), ConvKind::down2, w[s - 1], w[s]});
  }
  blocks("m_body", 0, w[3]);
  for (int s = 3; s >= 1; --s) {
    const std::string prefix = "m_up" + std::to_string(s);
    layers.push_back({prefix + ".0", ConvKind::up2, w[s], w[s - 1]});
    blocks(prefix, 1, w[s - 1]);
  }
  layers.push_back({"m_tail", ConvKind::conv3, w[0], config.image_channels});
  return layers;
}

/// Multiply-accumulates per input pixel (per voxel for dim = 3) of one forward pass on a padded input
/// (2,117,568 for the official colour network in 2D).
inline double drunet_macs_per_pixel(const DRUNetConfig& config, std::size_t dim = 2) {
  const double cells = dim == 2 ? 4.0 : 8.0;  // fine pixels per coarse pixel of a stride-2 step
  double macs = 0, scale = 1;                 // scale: pixels of the current resolution per input pixel
  for (const LayerSpec& layer : drunet_layers(config)) {
    const double k = static_cast<double>(layer.weight_count(dim));
    if (layer.kind == ConvKind::conv3) macs += k * scale;
    if (layer.kind == ConvKind::down2) {  // one output pixel per coarse pixel
      scale /= cells;
      macs += k * scale;
    }
    if (layer.kind == ConvKind::up2) {  // one input pixel per coarse pixel
      macs += k * scale;
      scale *= cells;
    }
  }
  return macs;
}

/// The parameters of one convolution, host side, in PyTorch's layout (see LayerSpec::weight_shape).
template <class T>
struct LayerWeights {
  LayerSpec spec;
  std::vector<T> weight;
  std::vector<T> bias;  ///< empty without biases
};

/// All parameters of a DRUNet<Dim>, host side, in execution order.
template <class T, std::size_t Dim>
struct DRUNetWeights {
  static_assert(Dim == 2 || Dim == 3, "DRUNet is 2D or 3D");
  DRUNetConfig config;
  std::vector<LayerWeights<T>> layers;

  [[nodiscard]] index_t parameter_count() const {
    index_t n = 0;
    for (const auto& l : layers) n += static_cast<index_t>(l.weight.size() + l.bias.size());
    return n;
  }
};

/// Random weights (He normal initialisation, zero biases; std::mt19937_64 seeded with `seed`): for tests
/// and benchmarks.
template <class T, std::size_t Dim>
inline DRUNetWeights<T, Dim> random_drunet_weights(const DRUNetConfig& config, std::uint64_t seed) {
  DRUNetWeights<T, Dim> weights{config, {}};
  std::mt19937_64 engine(seed);
  for (const LayerSpec& spec : drunet_layers(config)) {
    LayerWeights<T> layer{spec, std::vector<T>(static_cast<std::size_t>(spec.weight_count(Dim))), {}};
    index_t fan_in = spec.in_channels;
    for (std::size_t d = 0; d < Dim; ++d) fan_in *= kernel_extent(spec.kind);
    std::normal_distribution<double> normal(0.0, std::sqrt(2.0 / static_cast<double>(fan_in)));
    for (T& v : layer.weight) v = static_cast<T>(normal(engine));
    if (config.bias) layer.bias.assign(static_cast<std::size_t>(spec.out_channels), T(0));
    weights.layers.push_back(std::move(layer));
  }
  return weights;
}

/// 3D weights from 2D ones (see the file comment).
template <class T>
inline DRUNetWeights<T, 3> inflate_drunet_weights(const DRUNetWeights<T, 2>& weights2d) {
  DRUNetWeights<T, 3> weights{weights2d.config, {}};
  for (const LayerWeights<T>& l : weights2d.layers) {
    LayerWeights<T> inflated{l.spec, std::vector<T>(static_cast<std::size_t>(l.spec.weight_count(3)), T(0)), l.bias};
    const index_t k = kernel_extent(l.spec.kind);
    const index_t taps2 = k * k;
    const index_t pairs = l.spec.in_channels * l.spec.out_channels;
    for (index_t p = 0; p < pairs; ++p)
      for (index_t t = 0; t < taps2; ++t) {
        const T v = l.weight[static_cast<std::size_t>(p * taps2 + t)];
        if (k == 3) {
          inflated.weight[static_cast<std::size_t>(p * 27 + 9 + t)] = v;  // centre depth slice
        } else {
          const T tap = l.spec.kind == ConvKind::down2 ? v / T(2) : v;
          for (index_t z = 0; z < 2; ++z) inflated.weight[static_cast<std::size_t>(p * 8 + z * 4 + t)] = tap;
        }
      }
    weights.layers.push_back(std::move(inflated));
  }
  return weights;
}

/// The weights as safetensors tensors with the official names (for write_safetensors).
template <class T, std::size_t Dim>
inline std::vector<SafetensorsTensor> to_safetensors(const DRUNetWeights<T, Dim>& weights) {
  std::vector<SafetensorsTensor> tensors;
  for (const auto& l : weights.layers) {
    tensors.push_back(
        {l.spec.name + ".weight", l.spec.weight_shape(Dim), std::vector<float>(l.weight.begin(), l.weight.end())});
    if (!l.bias.empty())
      tensors.push_back(
          {l.spec.name + ".bias", {l.spec.out_channels}, std::vector<float>(l.bias.begin(), l.bias.end())});
  }
  return tensors;
}

/// "DRUNet(image_channels 3, widths (64, 128, 256, 512), blocks 4)": for messages and reports.
inline std::string describe(const DRUNetConfig& c) {
  return "DRUNet(image_channels " + std::to_string(c.image_channels) + ", widths (" + std::to_string(c.widths[0]) +
         ", " + std::to_string(c.widths[1]) + ", " + std::to_string(c.widths[2]) + ", " + std::to_string(c.widths[3]) +
         "), blocks " + std::to_string(c.blocks) + (c.bias ? ", with biases)" : ")");
}

namespace detail {

/// Checks that `file` holds exactly the tensors of `config` (weights with kernels of `file_dim` spatial
/// dimensions, biases when config.bias) with the expected shapes. Throws io_error naming
/// the first tensor that is missing, misshapen or unexpected.
inline void check_drunet_tensors(const SafetensorsFile& file, const std::string& path, const DRUNetConfig& config,
                                 std::size_t file_dim) {
  const auto specs = drunet_layers(config);
  std::size_t expected_tensors = 0;
  for (const LayerSpec& spec : specs) {
    for (int part = 0; part < (config.bias ? 2 : 1); ++part) {
      const std::string name = spec.name + (part == 0 ? ".weight" : ".bias");
      const std::vector<index_t> shape =
          part == 0 ? spec.weight_shape(file_dim) : std::vector<index_t>{spec.out_channels};
      const SafetensorsEntry* e = file.find(name);
      require<io_error>(e != nullptr, [&] {
        return "weights file '" + path + "' has no tensor '" + name + "', which " + describe(config) + " needs";
      });
      require<io_error>(e->shape == shape, [&] {
        return "weights file '" + path + "': tensor '" + name + "' has shape " + shape_to_string(e->shape) + ", " +
               describe(config) + " expects " + shape_to_string(shape);
      });
      ++expected_tensors;
    }
  }
  if (file.entries().size() != expected_tensors) {
    for (const SafetensorsEntry& e : file.entries()) {
      bool known = false;
      for (const LayerSpec& spec : specs)
        known = known || e.name == spec.name + ".weight" || (config.bias && e.name == spec.name + ".bias");
      require<io_error>(known, [&] {
        return "weights file '" + path + "' holds tensor '" + e.name + "', which " + describe(config) +
               " does not have";
      });
    }
  }
}

}  // namespace detail

/// The architecture of the DRUNet whose weights `path` holds (a safetensors file in the official layout,
/// see the file comment): image_channels from m_head.weight (its input channels minus the noise level map),
/// widths from the output channels of m_head and of the three downsampling convolutions, blocks from the
/// residual blocks m_down1.{b}.res.0.weight present, bias from m_head.bias. Accepts 2D files (4-D weight
/// tensors) and 3D ones (5-D). The result is checked against every tensor of the file (exactly the tensors
/// of that configuration, with their shapes), so load_drunet_weights(path, infer_drunet_config(path))
/// succeeds. Throws io_error when the file cannot be read or is not a DRUNet weights file, naming the
/// tensor that does not fit.
inline DRUNetConfig infer_drunet_config(const std::string& path) {
  const SafetensorsFile file(path);
  const SafetensorsEntry* head = file.find("m_head.weight");
  require<io_error>(head != nullptr, [&] {
    std::string names;
    for (std::size_t i = 0; i < file.entries().size() && i < 4; ++i)
      names += (i ? ", '" : "'") + file.entries()[i].name + "'";
    if (file.entries().size() > 4) names += ", ...";
    return "weights file '" + path + "' is not a DRUNet weights file in the official layout: it has no tensor " +
           "'m_head.weight' (its " + std::to_string(file.entries().size()) +
           " tensors: " + (names.empty() ? std::string("none") : names) + ")";
  });
  const std::size_t rank = head->shape.size();
  require<io_error>((rank == 4 || rank == 5) && head->shape[1] >= 2, [&] {
    return "weights file '" + path + "': tensor 'm_head.weight' has shape " + shape_to_string(head->shape) +
           ", a DRUNet head is (widths[0], image_channels + 1, 3, 3) or (widths[0], image_channels + 1, 3, 3, 3)";
  });
  DRUNetConfig config;
  config.image_channels = head->shape[1] - 1;
  config.widths[0] = head->shape[0];
  config.bias = file.find("m_head.bias") != nullptr;
  config.blocks = 0;
  while (file.find("m_down1." + std::to_string(config.blocks) + ".res.0.weight") != nullptr) ++config.blocks;
  for (int s = 1; s <= 3; ++s) {
    const std::string name = "m_down" + std::to_string(s) + "." + std::to_string(config.blocks) + ".weight";
    const SafetensorsEntry* down = file.find(name);
    require<io_error>(down != nullptr && down->shape.size() == rank, [&] {
      return "weights file '" + path + "' is not a DRUNet weights file in the official layout: with " +
             std::to_string(config.blocks) + " residual block(s) per scale (from m_down1) it needs a " +
             std::to_string(rank - 2) + "D downsampling convolution '" + name + "'" +
             (down ? ", found shape " + shape_to_string(down->shape) : std::string(", which is missing"));
    });
    config.widths[static_cast<std::size_t>(s)] = down->shape[0];
  }
  try {
    config.validate();
  } catch (const invalid_argument& e) {
    throw io_error("weights file '" + path + "' describes no valid DRUNet: " + e.message());
  }
  detail::check_drunet_tensors(file, path, config, rank - 2);
  return config;
}

/// Loads the weights of a DRUNet<Dim> with configuration `config` from a safetensors file (see the file
/// comment for the names, checks and the 2D-to-3D inflation). Throws io_error.
template <class T, std::size_t Dim>
inline DRUNetWeights<T, Dim> load_drunet_weights(const std::string& path, const DRUNetConfig& config) {
  static_assert(Dim == 2 || Dim == 3, "DRUNet is 2D or 3D");
  const SafetensorsFile file(path);
  const auto specs = drunet_layers(config);
  bool all_2d = Dim == 3;
  // Which layout do the files' tensors have? For Dim 3, 2D weights (inflated below) or 3D ones.
  if constexpr (Dim == 3) {
    if (const SafetensorsEntry* head = file.find(specs.front().name + ".weight")) all_2d = head->shape.size() == 4;
  }
  const std::size_t file_dim = all_2d ? 2 : Dim;
  detail::check_drunet_tensors(file, path, config, file_dim);
  std::vector<LayerWeights<T>> layers;
  for (const LayerSpec& spec : specs) {
    LayerWeights<T> layer{spec, file.read<T>(*file.find(spec.name + ".weight")), {}};
    if (config.bias) layer.bias = file.read<T>(*file.find(spec.name + ".bias"));
    layers.push_back(std::move(layer));
  }
  if constexpr (Dim == 3) {
    if (all_2d) {
      DRUNetWeights<T, 2> weights2d{config, std::move(layers)};
      return inflate_drunet_weights(weights2d);
    }
  }
  return DRUNetWeights<T, Dim>{config, std::move(layers)};
}

}  // namespace pnpdist::nn
