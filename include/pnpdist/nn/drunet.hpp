#pragma once
/// \file
/// DRUNet<Dim, T, Exec, Engine>: the DRUNet denoiser (Zhang et al. 2021) on N x C x H x W images (Dim = 2)
/// or N x C x D x H x W volumes (Dim = 3). It satisfies the Denoiser concept (priors/denoiser.hpp):
///
///     const std::string path = "weights/drunet_color.safetensors";
///     DRUNet<2, float, OpenMP> net(load_drunet_weights<float, 2>(path, infer_drunet_config(path)), OpenMP{2});
///     net.denoise(x, 25.f / 255.f, y);
///
/// (infer_drunet_config reads the architecture from the file; DRUNetConfig{} is the official full-size
/// network, not the shipped weights'; docs/drunet.md has this snippet compiled and run by the tests.)
///
/// denoise() pads every spatial size to a multiple of 8 by replicating the last row/column/slice, appends
/// the noise-level map (a channel holding sigma), runs the network and crops the result back. Buffers are
/// planned for the padded size of the first call and kept until the size changes (see
/// drunet_schedule.hpp for the plan and planned_bytes() for its size).
///
/// The engine is chosen from the executor at compile time: host executors use OneDnnEngine when the
/// pnpdist::onednn component is linked and ReferenceEngine otherwise; the CUDA executor uses CudnnEngine
/// (float) when the pnpdist::cudnn component is linked and ReferenceEngine (the library's own kernels)
/// otherwise.

#include <array>
#include <cstddef>
#include <string>
#include <utility>

#include "pnpdist/backend/executor.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/backend/openmp.hpp"
#include "pnpdist/backend/serial.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/nn/cuda/cudnn_engine.hpp"
#include "pnpdist/nn/drunet_weights.hpp"
#include "pnpdist/nn/onednn_engine.hpp"
#include "pnpdist/nn/padding.hpp"
#include "pnpdist/nn/reference_engine.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist::nn {

/// The engine DRUNet uses by default for element type T, Dim and executor Exec.
template <class T, std::size_t Dim, class Exec>
struct default_engine {
  using type = ReferenceEngine<T, Dim, Exec>;
};
#if defined(PNPDIST_HAS_ONEDNN)
template <std::size_t Dim>
struct default_engine<float, Dim, Serial> {
  using type = OneDnnEngine<Dim, Serial>;
};
template <std::size_t Dim>
struct default_engine<float, Dim, OpenMP> {
  using type = OneDnnEngine<Dim, OpenMP>;
};
#endif
#if defined(PNPDIST_HAS_CUDNN) && defined(PNPDIST_HAS_CUDA)
template <std::size_t Dim>
struct default_engine<float, Dim, Cuda> {
  using type = CudnnEngine<Dim, Cuda>;
};
#endif
template <class T, std::size_t Dim, class Exec>
using default_engine_t = typename default_engine<T, Dim, Exec>::type;

template <std::size_t Dim, class T = float, class Exec = Serial, class Engine = default_engine_t<T, Dim, Exec>>
class DRUNet {
  static_assert(Dim == 2 || Dim == 3, "DRUNet is 2D or 3D");

public:
  using value_type = T;
  using executor_type = Exec;
  using engine_type = Engine;
  using memory_space = typename Exec::memory_space;
  static constexpr std::size_t rank = Dim + 2;

  /// A network with the given weights (their config gives the architecture), running on exec.
  explicit DRUNet(const DRUNetWeights<T, Dim>& weights, const Exec& exec = Exec{})
      : exec_(exec), config_(weights.config), engine_(exec, weights) {}

  /// Loads the weights from a safetensors file (see load_drunet_weights).
  static DRUNet from_file(const std::string& path, const DRUNetConfig& config = {}, const Exec& exec = Exec{}) {
    return DRUNet(load_drunet_weights<T, Dim>(path, config), exec);
  }

  [[nodiscard]] Exec executor() const { return exec_; }
  [[nodiscard]] const DRUNetConfig& config() const { return config_; }
  /// Spatial sizes that are multiples of this need no padding.
  [[nodiscard]] index_t size_multiple() const { return 8; }
  /// Bytes of the activation buffers planned for the last call (weights not included).
  [[nodiscard]] std::size_t planned_bytes() const { return engine_.planned_bytes(); }
  [[nodiscard]] Engine& engine() { return engine_; }

  /// y = DRUNet(x, sigma). x, y: N x image_channels x spatial, same extents, no overlap.
  void denoise(const View<const T, rank, memory_space>& x, T sigma, const View<T, rank, memory_space>& y) {
    require_same_extents(x, y, "DRUNet::denoise");
    require<dimension_mismatch>(x.extent(1) == config_.image_channels, [&] {
      return "DRUNet::denoise: input extents " + to_string(x.extents()) + " have " + std::to_string(x.extent(1)) +
             " channels, the network takes " + std::to_string(config_.image_channels);
    });
    std::array<index_t, Dim> padded{};
    for (std::size_t d = 0; d < Dim; ++d) {
      require<dimension_mismatch>(x.extent(d + 2) > 0, "DRUNet::denoise: empty input");
      padded[d] = round_up(x.extent(d + 2), 8);
    }
    engine_.plan(x.extent(0), padded);
    const auto in = engine_.input();
    for_each(exec_, in.extents(), PadWithNoiseMapKernel<T, rank, memory_space>{x, sigma, in});
    engine_.run();
    engine_.crop_output(y);
  }

private:
  Exec exec_;
  DRUNetConfig config_;
  Engine engine_;
};

}  // namespace pnpdist::nn
