#pragma once
/// \file
/// LearnedPrimalDual: Adler & Oktem's learned primal-dual reconstruction (IEEE TMI 2018) with a
/// ProjectorLayer, trainable natively (forward and full reverse-mode backward through the unrolled steps).
///
/// With primal memory f (N, Mp, H, W) and dual memory h (N, Md, views, cols) and the data g, step
/// i = 0 .. iterations-1 computes
///     h <- h + Gamma_i([h, s A f[:, projected], g])      (dual block, Md + 2 -> width -> width -> Md)
///     f <- f + Lambda_i([f, s A^T h[:, 0]])              (primal block, Mp + 1 -> width -> width -> Mp)
/// and the reconstruction is f[:, 0]. h starts at zero; f starts at zero (LpdConfig::initial_primal zero, the
/// paper's) or, with initial_primal fbp, at a given image f0(g) of the data (learned/fbp_start.hpp: filtered back
/// projection) copied into every primal channel. f0 does not depend on the parameters, so backward() is the
/// same for both starts. The start is recorded in the weights' safetensors metadata (initial_primal_key) by
/// save() and checked by load(). Gamma_i, Lambda_i are ConvBlocks (conv_block.hpp) with their own
/// parameters per step, named `dual.<i>.*` and `primal.<i>.*`. The defaults are the paper's: 10 steps, memories
/// of 5 channels, width 32, PReLU; the dual reads the second primal channel (f^(2) of the paper).
///
/// forward() stores every step's block activations (about iterations x (Mp + 1 + 4 width) image planes and
/// (Md + 2 + 4 width) sinogram planes per batch item); backward() then adds dL/dparameters to the store
/// from dL/d(output). Not thread-safe: one network instance runs one batch at a time.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/io/safetensors.hpp"
#include "pnpdist/learned/conv_block.hpp"
#include "pnpdist/learned/projector_layer.hpp"
#include "pnpdist/nn/train/parameters.hpp"
#include "pnpdist/nn/train/pointwise_train.hpp"

namespace pnpdist::learned {

/// How the primal memory starts: at zero (the paper's network) or at an image computed from the data (FBP).
enum class InitialPrimal { zero, fbp };

[[nodiscard]] inline std::string to_string(InitialPrimal p) { return p == InitialPrimal::fbp ? "fbp" : "zero"; }

/// "zero" or "fbp"; throws invalid_argument naming `what` and the text otherwise.
[[nodiscard]] inline InitialPrimal parse_initial_primal(const std::string& text, const std::string& what) {
  if (text == "zero") return InitialPrimal::zero;
  if (text == "fbp") return InitialPrimal::fbp;
  throw invalid_argument(what + ": initial primal '" + text + "' is neither zero nor fbp");
}

/// The safetensors metadata key holding the initial primal of the network that wrote the weights. A file
/// without it was written before the option existed, by a network starting at zero.
inline constexpr const char* initial_primal_key = "pnpdist.lpd.initial_primal";

/// f0 of one batch item: start(g, f0) writes the image f0 (H, W) from the scaled data g (views, cols).
template <class T>
using PrimalStart = std::function<void(const T* g, T* f0)>;

/// The architecture of a LearnedPrimalDual (defaults: the paper's).
struct LpdConfig {
  index_t iterations = 10;
  index_t primal_memory = 5;
  index_t dual_memory = 5;
  index_t width = 32;               ///< channels of the hidden layers of every block
  index_t projected_channel = 1;    ///< the primal channel the dual step projects (f^(2) of the paper)
  double prelu_init = 0.0;          ///< initial PReLU slope
  std::uint64_t seed = 0;           ///< seed of the initial weights
  InitialPrimal initial_primal = InitialPrimal::zero;  ///< f0: zero, or the network's PrimalStart (FBP)

  /// Throws invalid_argument naming the first field out of range.
  void validate() const {
    const auto check = [](bool ok, const std::string& what) { require(ok, [&] { return "LpdConfig: " + what; }); };
    check(iterations >= 1, "iterations must be >= 1, got " + std::to_string(iterations));
    check(primal_memory >= 1 && dual_memory >= 1, "primal and dual memories must be >= 1");
    check(width >= 1, "width must be >= 1, got " + std::to_string(width));
    check(projected_channel >= 0 && projected_channel < primal_memory,
          "projected_channel " + std::to_string(projected_channel) + " is not a channel of the primal memory (" +
              std::to_string(primal_memory) + " channels)");
  }
};

template <class Op>
class LearnedPrimalDual {
public:
  using T = typename Op::value_type;

  /// Builds the blocks (initial weights from config.seed) around `layer`, which must outlive the network.
  /// `start` computes f0 and is required with config.initial_primal fbp (fbp_start(), learned/fbp_start.hpp),
  /// refused with zero. Throws invalid_argument.
  LearnedPrimalDual(const ProjectorLayer<Op>& layer, LpdConfig config, PrimalStart<T> start = {})
      : layer_(&layer), config_(config), start_(std::move(start)) {
    config_.validate();
    const bool fbp = config_.initial_primal == InitialPrimal::fbp;
    require(fbp == static_cast<bool>(start_), [&] {
      return fbp ? std::string("LearnedPrimalDual: initial_primal fbp needs the function computing f0 from the data "
                               "(fbp_start(), learned/fbp_start.hpp)")
                 : std::string("LearnedPrimalDual: a function computing f0 was given, but initial_primal is zero");
    });
    for (index_t i = 0; i < config_.iterations; ++i) {
      const std::uint64_t stream = 2 * static_cast<std::uint64_t>(i);
      dual_.emplace_back(store_, "dual." + std::to_string(i), config_.dual_memory + 2, config_.width,
                         config_.dual_memory, config_.seed, stream, config_.prelu_init);
      primal_.emplace_back(store_, "primal." + std::to_string(i), config_.primal_memory + 1, config_.width,
                           config_.primal_memory, config_.seed, stream + 1, config_.prelu_init);
    }
  }

  [[nodiscard]] const LpdConfig& config() const { return config_; }
  [[nodiscard]] nn::train::ParameterStore<T>& parameters() { return store_; }
  [[nodiscard]] const nn::train::ParameterStore<T>& parameters() const { return store_; }
  [[nodiscard]] const ProjectorLayer<Op>& projector() const { return *layer_; }

  /// Writes the parameters as safetensors (parameters().save_safetensors) with `metadata` and the initial
  /// primal (initial_primal_key) in the file's metadata.
  void save(const std::string& path, std::map<std::string, std::string> metadata = {}) const {
    metadata[initial_primal_key] = to_string(config_.initial_primal);
    store_.save_safetensors(path, metadata);
  }

  /// Reads the parameters from `path` after checking its initial primal (a file without the key: zero)
  /// against the configuration: weights trained with another start are refused (invalid_argument naming
  /// both) before any value is read. Returns the file's metadata.
  std::map<std::string, std::string> load(const std::string& path) {
    const SafetensorsFile file(path);
    const auto key = file.metadata().find(initial_primal_key);
    const InitialPrimal trained = key == file.metadata().end()
                                      ? InitialPrimal::zero
                                      : parse_initial_primal(key->second, "weights file '" + path + "'");
    require(trained == config_.initial_primal, [&] {
      return "weights file '" + path + "' was trained with initial primal " + to_string(trained) +
             ", this network starts from " + to_string(config_.initial_primal) +
             " (LpdConfig::initial_primal, --initial-primal): configure the network as the weights were trained";
    });
    return store_.load_safetensors(path);
  }

  /// Reconstructs `batch` sinograms g (batch, views, cols) into `out` (batch, H, W), keeping the activations
  /// for backward().
  template <class Exec>
  void forward(const Exec& exec, index_t batch, const T* g, T* out) {
    require(batch >= 1, [&] { return "LearnedPrimalDual::forward: batch must be >= 1, got " + std::to_string(batch); });
    batch_ = batch;
    const index_t mp = config_.primal_memory, md = config_.dual_memory;
    const index_t image = layer_->image_size(), sino = layer_->sinogram_size();
    const Extents<2> is = layer_->image_shape(), ss = layer_->sinogram_shape();
    std::vector<T> f(static_cast<std::size_t>(batch * mp * image), T(0));
    std::vector<T> h(static_cast<std::size_t>(batch * md * sino), T(0));
    if (start_) {  // f0 in every primal channel
      for (index_t n = 0; n < batch; ++n) {
        T* f0 = f.data() + n * mp * image;
        start_(g + n * sino, f0);
        for (index_t c = 1; c < mp; ++c) std::copy(f0, f0 + image, f0 + c * image);
      }
    }
    std::vector<T> update;
    dual_acts_.resize(static_cast<std::size_t>(config_.iterations));
    primal_acts_.resize(static_cast<std::size_t>(config_.iterations));
    for (index_t i = 0; i < config_.iterations; ++i) {
      ConvBlockActivations<T>& da = dual_acts_[static_cast<std::size_t>(i)];
      da.input.resize(static_cast<std::size_t>(batch * (md + 2) * sino));
      nn::train::copy_channels(exec, batch, sino, h.data(), md, da.input.data(), {0, md, md + 2});
      nn::train::copy_channels(exec, batch, sino, g, index_t{1}, da.input.data(), {md + 1, 1, md + 2});
      for (index_t n = 0; n < batch; ++n)
        layer_->forward(1, f.data() + (n * mp + config_.projected_channel) * image,
                        da.input.data() + (n * (md + 2) + md) * sino);
      update.resize(h.size());
      dual_[static_cast<std::size_t>(i)].forward(exec, store_, batch, ss[0], ss[1], da, update.data());
      nn::train::residual_add(exec, static_cast<index_t>(h.size()), update.data(), h.data());

      ConvBlockActivations<T>& pa = primal_acts_[static_cast<std::size_t>(i)];
      pa.input.resize(static_cast<std::size_t>(batch * (mp + 1) * image));
      nn::train::copy_channels(exec, batch, image, f.data(), mp, pa.input.data(), {0, mp, mp + 1});
      for (index_t n = 0; n < batch; ++n)
        layer_->adjoint(1, h.data() + n * md * sino, pa.input.data() + (n * (mp + 1) + mp) * image);
      update.resize(f.size());
      primal_[static_cast<std::size_t>(i)].forward(exec, store_, batch, is[0], is[1], pa, update.data());
      nn::train::residual_add(exec, static_cast<index_t>(f.size()), update.data(), f.data());
    }
    for (index_t n = 0; n < batch; ++n)
      std::copy(f.begin() + n * mp * image, f.begin() + (n * mp + 1) * image, out + n * image);
  }

  /// Adds dL/dparameters to parameters().gradients() from d_out = dL/d(output) (batch, H, W) of the last
  /// forward() call.
  template <class Exec>
  void backward(const Exec& exec, const T* d_out) {
    require(batch_ >= 1 && !primal_acts_.empty(), "LearnedPrimalDual::backward: call forward() first");
    const index_t batch = batch_, mp = config_.primal_memory, md = config_.dual_memory;
    const index_t image = layer_->image_size(), sino = layer_->sinogram_size();
    const Extents<2> is = layer_->image_shape(), ss = layer_->sinogram_shape();
    std::vector<T> df(static_cast<std::size_t>(batch * mp * image), T(0));
    std::vector<T> dh(static_cast<std::size_t>(batch * md * sino), T(0));
    for (index_t n = 0; n < batch; ++n) std::copy(d_out + n * image, d_out + (n + 1) * image, df.begin() + n * mp * image);
    std::vector<T> d_input;
    ConvBlockScratch<T> work;
    for (index_t i = config_.iterations; i-- > 0;) {
      // f_{i+1} = f_i + Lambda_i([f_i, s A^T h_{i+1}[:, 0]]).
      d_input.resize(static_cast<std::size_t>(batch * (mp + 1) * image));
      primal_[static_cast<std::size_t>(i)].backward(exec, store_, batch, is[0], is[1],
                                                    primal_acts_[static_cast<std::size_t>(i)], df.data(),
                                                    d_input.data(), work);
      nn::train::add_channels(exec, batch, image, d_input.data(), {0, mp, mp + 1}, df.data(), mp);
      for (index_t n = 0; n < batch; ++n)
        layer_->backward_adjoint(1, d_input.data() + (n * (mp + 1) + mp) * image, dh.data() + n * md * sino);
      // h_{i+1} = h_i + Gamma_i([h_i, s A f_i[:, projected], g]).
      d_input.resize(static_cast<std::size_t>(batch * (md + 2) * sino));
      dual_[static_cast<std::size_t>(i)].backward(exec, store_, batch, ss[0], ss[1],
                                                  dual_acts_[static_cast<std::size_t>(i)], dh.data(), d_input.data(),
                                                  work);
      nn::train::add_channels(exec, batch, sino, d_input.data(), {0, md, md + 2}, dh.data(), md);
      for (index_t n = 0; n < batch; ++n)
        layer_->backward_forward(1, d_input.data() + (n * (md + 2) + md) * sino,
                                 df.data() + (n * mp + config_.projected_channel) * image);
    }
  }

private:
  const ProjectorLayer<Op>* layer_;
  LpdConfig config_;
  PrimalStart<T> start_;
  nn::train::ParameterStore<T> store_;
  std::vector<ConvBlock<T>> dual_, primal_;
  std::vector<ConvBlockActivations<T>> dual_acts_, primal_acts_;
  index_t batch_ = 0;
};

}  // namespace pnpdist::learned
