#pragma once
/// \file
/// LpdReconstructor: trained learned primal-dual weights as a reconstruction method, the one inference path of
/// tomography_2d --method lpd, lpd_quality_table and pnpdist.LearnedPrimalDual.
///
/// Around the physics `op` (a ct projector, or the distributed physics of its view blocks) it builds the
/// ProjectorLayer with the scale s (1 / ||A|| of the whole projector, as in training), the network with the
/// architecture of the weights (LpdWeightsInfo, learned/lpd_weights_info.hpp) and, where they were trained with
/// one, the FBP start of the geometry (learned/fbp_start.hpp), and loads the weights. It reconstructs measured
/// sinograms y of `op`: the network reads g = s y. On request the output is the self-ensemble over the 8
/// symmetries of the square (learned/dihedral_ensemble.hpp), whose sinogram maps are found on first use.
///
/// Checking the geometry against the training geometry is the caller's: the refusal and the warning differ by
/// front end (learned/training_geometry.hpp has same_geometry and geometry_mismatch_text). Not thread-safe: the
/// network keeps its activations; one call at a time. Collective where `op` is distributed (construction,
/// every reconstruction and the first self-ensemble).

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/learned/dihedral_ensemble.hpp"
#include "pnpdist/learned/fbp_start.hpp"
#include "pnpdist/learned/lpd.hpp"
#include "pnpdist/learned/lpd_weights_info.hpp"
#include "pnpdist/learned/projector_layer.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

namespace pnpdist::learned {

template <SinogramOperator Op>
class LpdReconstructor {
public:
  using T = typename ProjectorLayer<Op>::value_type;
  using value_type = T;

  /// Keeps a reference to `op`, which must outlive the reconstructor; `geometry` is the one `op` projects with
  /// (the FBP start's). Reads the weights of `weights.path` (invalid_argument / io_error naming the file).
  template <class Exec>
  LpdReconstructor(const Exec& exec, const Op& op, double scale, const ct::Geometry2D& geometry,
                   LpdWeightsInfo weights)
      : weights_(std::move(weights)),
        layer_(op, scale),
        start_(weights_.config.initial_primal == InitialPrimal::fbp ? fbp_start(exec, layer_, geometry)
                                                                     : PrimalStart<T>{}),
        net_(layer_, weights_.config, start_) {
    net_.load(weights_.path);
  }

  LpdReconstructor(const LpdReconstructor&) = delete;  // the network refers to the layer
  LpdReconstructor& operator=(const LpdReconstructor&) = delete;

  [[nodiscard]] const LpdWeightsInfo& weights() const { return weights_; }
  [[nodiscard]] const LpdConfig& config() const { return weights_.config; }
  [[nodiscard]] const ProjectorLayer<Op>& layer() const { return layer_; }
  [[nodiscard]] T scale() const { return layer_.scale(); }
  [[nodiscard]] index_t parameter_count() const { return net_.parameters().size(); }
  [[nodiscard]] const LearnedPrimalDual<Op>& network() const { return net_; }

  /// "learned primal-dual, 10 unrolled steps, memories 5/5, width 32, 253220 parameters, initial primal fbp".
  [[nodiscard]] std::string description() const {
    const LpdConfig& c = weights_.config;
    return "learned primal-dual, " + std::to_string(c.iterations) + " unrolled steps, memories " +
           std::to_string(c.primal_memory) + "/" + std::to_string(c.dual_memory) + ", width " +
           std::to_string(c.width) + ", " + std::to_string(parameter_count()) + " parameters, initial primal " +
           to_string(c.initial_primal);
  }

  /// x = LPD(s y) of `batch` measured sinograms y (batch, views, cols) into x (batch, H, W); with
  /// `self_ensemble` each the mean over the 8 symmetries T of the square of T^-1 LPD(S_T s y) (8 passes).
  template <class Exec>
  void reconstruct(const Exec& exec, index_t batch, const T* y, T* x, bool self_ensemble = false) {
    check_batch(batch);
    scaled_.resize(static_cast<std::size_t>(batch * layer_.sinogram_size()));
    for (std::size_t i = 0; i < scaled_.size(); ++i) scaled_[i] = layer_.scale() * y[i];
    reconstruct_scaled(exec, batch, scaled_.data(), x, self_ensemble);
  }

  /// reconstruct() of data already scaled: g = s y, the network's input.
  template <class Exec>
  void reconstruct_scaled(const Exec& exec, index_t batch, const T* g, T* x, bool self_ensemble = false) {
    check_batch(batch);
    if (!self_ensemble) return net_.forward(exec, batch, g, x);
    const DihedralEnsemble<T>& ensemble = symmetries();
    const auto one = [&](const T* sinogram, T* image) { net_.forward(exec, 1, sinogram, image); };
    for (index_t n = 0; n < batch; ++n)
      ensemble.reconstruct(one, g + n * layer_.sinogram_size(), x + n * layer_.image_size());
  }

  /// The network's start f0 for a measured sinogram y: FBP(y) with the FBP start, zeros without.
  void initial_primal(const T* y, T* x0) const {
    if (!start_) {
      std::fill(x0, x0 + layer_.image_size(), T(0));
      return;
    }
    std::vector<T> g(static_cast<std::size_t>(layer_.sinogram_size()));
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = layer_.scale() * y[i];
    start_(g.data(), x0);
  }

  /// The self-ensemble's sinogram maps, found on first use with the layer's projection; throws invalid_argument
  /// naming the first symmetry of the square the geometry lacks.
  const DihedralEnsemble<T>& symmetries() {
    if (!ensemble_) ensemble_.emplace(layer_.projection());
    return *ensemble_;
  }

private:
  static void check_batch(index_t batch) {
    require(batch >= 1, [&] { return "LpdReconstructor: batch must be >= 1, got " + std::to_string(batch); });
  }

  LpdWeightsInfo weights_;
  ProjectorLayer<Op> layer_;
  PrimalStart<T> start_;  // shared with the network (its state is behind a shared pointer)
  LearnedPrimalDual<Op> net_;
  std::optional<DihedralEnsemble<T>> ensemble_;
  std::vector<T> scaled_;
};

}  // namespace pnpdist::learned
