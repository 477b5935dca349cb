#pragma once
// The DRUNet denoiser behind pnpdist.DRUNet: the 2D or 3D network, whole, tiled, or tiled with its tiles dealt to
// the ranks of a communicator (the library's DistributedDenoiser, behind pnpdist.mpi.DistributedDenoiser), and
// the mutex that serializes its calls (the network keeps activation buffers). drunet.cpp binds it; pnp.cpp hands
// it to the PnP solver.

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "arrays.hpp"
#include "bindings.hpp"
#include "communicator.hpp"
#include "pnpdist/distributed/distributed_denoiser.hpp"
#include "pnpdist/nn/drunet.hpp"
#include "pnpdist/tiling/tiled_denoiser.hpp"

namespace pnpdist::python {

using Net2 = nn::DRUNet<2, float, HostExec>;
using Net3 = nn::DRUNet<3, float, HostExec>;

class Denoiser {
public:
  using Variant = std::variant<Net2, Net3, TiledDenoiser<Net2>, TiledDenoiser<Net3>,
                               DistributedDenoiser<Net2, CommunicatorRef>, DistributedDenoiser<Net3, CommunicatorRef>>;

  /// Loads the weights at `path` (architecture inferred) as a `dim`-D network, tiled when `tile` is given.
  Denoiser(const std::string& path, int dim, std::optional<index_t> tile, index_t overlap, index_t tile_batch,
           const HostExec& exec);
  /// The network of `source` (its weights file, loaded again, and dim) tiled by (tile, overlap), its tiles dealt
  /// to the ranks of `comm` (DistributedDenoiser). The arguments are checked by the binding.
  Denoiser(const Denoiser& source, CommunicatorRef comm, index_t tile, index_t overlap, index_t tile_batch,
           const HostExec& exec);
  virtual ~Denoiser() = default;

  [[nodiscard]] const nn::DRUNetConfig& config() const { return config_; }
  [[nodiscard]] int dim() const { return dim_; }
  [[nodiscard]] bool tiled() const { return net_.index() >= 2; }
  /// The communicator of a distributed network (its denoise is collective), none otherwise.
  [[nodiscard]] const std::optional<CommunicatorRef>& communicator() const { return comm_; }
  /// The weights file, absolute.
  [[nodiscard]] const std::string& weights() const { return weights_; }
  /// What the network's output depends on besides its input: the weights file (absolute path), dim and the
  /// tiling (patch size, overlap); part of pnp's checkpoint fingerprint (python/src/pnp.cpp).
  [[nodiscard]] const std::string& identity() const { return identity_; }
  [[nodiscard]] int threads() const {
    return std::visit([](const auto& net) { return net.executor().concurrency(); }, net_);
  }

  /// DRUNet(x, sigma): x of shape (N, C, *spatial), or without N, or (grayscale) without N and C. Distributed:
  /// collective, x the same on every rank (checked: ValueError on every rank otherwise).
  NumpyArray denoise(const ArrayLike& x, double sigma, const ArrayLike& out);

  /// f(network) with the network's mutex held (the caller does not hold the GIL).
  template <class F>
  decltype(auto) visit_locked(F&& f) {
    const std::lock_guard<std::mutex> lock(mutex_);
    return std::visit(std::forward<F>(f), net_);
  }
  /// f(the network variant) with the network's mutex held (the caller does not hold the GIL).
  template <class F>
  decltype(auto) with_locked(F&& f) {
    const std::lock_guard<std::mutex> lock(mutex_);
    return f(net_);
  }

private:
  static Variant make(const std::string& path, const nn::DRUNetConfig& config, int dim, std::optional<index_t> tile,
                      index_t overlap, index_t tile_batch, const HostExec& exec,
                      const std::optional<CommunicatorRef>& comm);

  nn::DRUNetConfig config_;
  int dim_;
  std::string weights_;
  std::optional<CommunicatorRef> comm_;
  std::string identity_;
  Variant net_;
  std::mutex mutex_;
};

}  // namespace pnpdist::python
