#pragma once
/// \file
/// fbp_start(): the filtered back projection start of learned primal-dual (LpdConfig::initial_primal fbp).
///
/// The network reads the data of the scaled operator, g = s A x + noise (ProjectorLayer, s = 1 / ||A||), so
/// the start is
///
///     f0 = FBP(g / s)        (Ram-Lak unless another filter is given; physics/ct/fbp.hpp)
///
/// the FBP of data of the unscaled A, which approximates the image x itself (FBP reconstructs a constant
/// disc to its value): it is the FBP of the measured sinogram y = A x + noise, since g = s y. The geometry
/// must be the one the layer's operator projects with (the sinogram and image shapes are checked); FBP is
/// not the adjoint of the projector, and f0 does not depend on the network's parameters.

#include <concepts>
#include <memory>
#include <string>
#include <type_traits>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/learned/lpd.hpp"
#include "pnpdist/learned/projector_layer.hpp"
#include "pnpdist/physics/ct/fbp.hpp"
#include "pnpdist/physics/ct/geometry.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist::learned {

/// The PrimalStart f0 = FBP(g / s) of `layer` (scale s) with `geometry`, run on the host executor `exec`.
/// Throws dimension_mismatch when the geometry's image or sinogram shape is not the layer's.
template <class Exec, class Op>
[[nodiscard]] PrimalStart<typename Op::value_type> fbp_start(const Exec& exec, const ProjectorLayer<Op>& layer,
                                                             const ct::Geometry2D& geometry,
                                                             ct::Filter filter = ct::Filter::ram_lak) {
  using T = typename Op::value_type;
  static_assert(std::is_same_v<typename Exec::memory_space, HostSpace>, "fbp_start runs on a host executor");
  require<dimension_mismatch>(
      geometry.volume.shape() == layer.image_shape() && geometry.sinogram_shape() == layer.sinogram_shape(), [&] {
        return "fbp_start: the geometry's image " + to_string(geometry.volume.shape()) + " and sinogram " +
               to_string(geometry.sinogram_shape()) + " are not the layer's " + to_string(layer.image_shape()) +
               " and " + to_string(layer.sinogram_shape());
      });
  struct State {
    Tensor<T, 2> sinogram;
  };
  auto state = std::make_shared<State>(State{Tensor<T, 2>(layer.sinogram_shape())});
  const T inverse_scale = T(1) / layer.scale();
  return [exec, geometry, filter, state, inverse_scale](const T* g, T* f0) {
    Tensor<T, 2>& y = state->sinogram;
    for (index_t i = 0; i < y.size(); ++i) y.data()[i] = g[i] * inverse_scale;
    ct::fbp<T>(exec, geometry, y.const_view(), View<T, 2, HostSpace>(f0, geometry.volume.shape()), filter);
  };
}

/// fbp_start with the geometry of the layer's operator (a ct projector: `layer.op().geometry()`).
template <class Exec, class Op>
  requires requires(const Op& op) {
    { op.geometry() } -> std::convertible_to<const ct::Geometry2D&>;
  }
[[nodiscard]] PrimalStart<typename Op::value_type> fbp_start(const Exec& exec, const ProjectorLayer<Op>& layer,
                                                             ct::Filter filter = ct::Filter::ram_lak) {
  return fbp_start(exec, layer, layer.op().geometry(), filter);
}

}  // namespace pnpdist::learned
