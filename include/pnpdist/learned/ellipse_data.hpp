#pragma once
/// \file
/// The training data of learned primal-dual on ellipses (Adler & Oktem 2018, after ODL's random ellipse
/// phantoms): images of a random number of random ellipses, their projections by a scaled projector
/// (ProjectorLayer) and additive Gaussian noise of standard deviation `noise` x mean |data| (5%).
///
/// Every sample is a pure function of (seed, split, index): ellipse parameters from Philox stream
/// (split << 56) + index of `seed`, the noise from the stream with bit 55 set as well. The three splits
/// (train, validation, test) therefore never share a sample, and sample k of a split is the same whatever
/// was drawn before it (a resumed run sees the data an uninterrupted one would).
///
/// One phantom: Poisson(mean_ellipses) ellipses (at least one), each of density (u - 1/2) Exp(0.4), semi-axes
/// Exp(1) 0.2 (phantom units: the image spans [-1, 1]), centre uniform in [-1, 1]^2 (or [-1/2, 1/2]^2 with
/// interior), angle uniform in [0, 2 pi); densities add; 2 x 2 samples per pixel (phantoms/ellipses.hpp).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "pnpdist/backend/serial.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/philox.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/learned/projector_layer.hpp"
#include "pnpdist/phantoms/ellipses.hpp"
#include "pnpdist/physics/ct/geometry.hpp"
#include "pnpdist/tensor/random.hpp"

namespace pnpdist::learned {

/// Which disjoint part of the data a sample belongs to.
enum class DataSplit : std::uint64_t { train = 0, validation = 1, test = 2 };

/// The data of an ellipse training run (defaults: the paper's noise; 128 x 128 and 30 angles are set by the
/// geometry, see ellipse_geometry()).
struct EllipseDataOptions {
  std::uint64_t seed = 0;
  double noise = 0.05;         ///< noise standard deviation relative to the mean absolute data value
  double mean_ellipses = 50;   ///< Poisson mean of the number of ellipses per phantom
  bool interior = false;       ///< centres in [-1/2, 1/2]^2 instead of [-1, 1]^2
};

/// The parallel-beam (or fan-beam) geometry of a size x size image of unit pixels with `angles` views over
/// [0, pi) (fan: [0, 2 pi), source at 2 size, detector at size from the centre): a detector wide enough
/// for every ray through the image.
[[nodiscard]] inline ct::Geometry2D ellipse_geometry(index_t size, index_t angles, ct::Beam beam = ct::Beam::parallel) {
  require(size >= 2 && angles >= 1, [&] {
    return "ellipse_geometry: the image size must be >= 2 and the angle count >= 1, got " + std::to_string(size) +
           " and " + std::to_string(angles);
  });
  const ct::VolumeGeometry2D volume{size, size, 1.0, 1.0};
  const double s = static_cast<double>(size);
  if (beam == ct::Beam::parallel)
    return ct::parallel_beam_2d(ct::uniform_angles(angles, 0, std::numbers::pi),
                                {static_cast<index_t>(std::ceil(s * std::numbers::sqrt2)) + 1, 1.0, 0.0}, volume);
  return ct::fan_beam_2d(ct::uniform_angles(angles, 0, 2 * std::numbers::pi),
                         {static_cast<index_t>(std::ceil(2.2 * s * std::numbers::sqrt2)) + 1, 1.0, 0.0}, 2 * s, s,
                         volume);
}

/// The ellipses of phantom `index` of `split` (see the file comment).
[[nodiscard]] inline std::vector<phantom::Ellipse> random_ellipses(const EllipseDataOptions& o, DataSplit split,
                                                                   std::uint64_t index) {
  const PhiloxStream random{o.seed, (static_cast<std::uint64_t>(split) << 56) + index};
  std::uint64_t block = 0;
  const auto uniform = [&] { return random.uniform2d(block++).v[0]; };  // in (0, 1)
  // Poisson(mean) by multiplying uniforms (Knuth), capped for huge means.
  const double limit = std::exp(-o.mean_ellipses);
  int count = 0;
  for (double p = uniform(); p > limit && count < 10000; p *= uniform()) ++count;
  if (count < 1) count = 1;
  const double centre = o.interior ? 0.5 : 1.0;
  std::vector<phantom::Ellipse> shapes;
  for (int k = 0; k < count; ++k) {
    phantom::Ellipse e{};
    e.value = (uniform() - 0.5) * (-0.4 * std::log(uniform()));
    e.a = -0.2 * std::log(uniform());
    e.b = -0.2 * std::log(uniform());
    e.x0 = centre * (2 * uniform() - 1);
    e.y0 = centre * (2 * uniform() - 1);
    e.phi = 2 * std::numbers::pi * uniform();
    if (e.a > 0 && e.b > 0) shapes.push_back(e);
  }
  return shapes;
}

/// Phantom `index` of `split` on a grid of `shape` (H, W) unit pixels, as the samples hold it: the ellipses
/// filling the grid (phantom::fitted_scale), each pixel the mean of 2 x 2 samples.
template <class T, class Exec>
[[nodiscard]] inline Tensor<T, 2> ellipse_phantom(const Exec& exec, const EllipseDataOptions& o, DataSplit split,
                                                  std::uint64_t index, const Extents<2>& shape) {
  const ct::VolumeGeometry2D grid{shape[0], shape[1], 1.0, 1.0};
  return phantom::rasterize<T>(exec, random_ellipses(o, split, index), grid, phantom::fitted_scale(grid), 2);
}

/// Writes sample `index` of `split`: the phantom (H, W) into `image`, its noisy scaled projections (views,
/// cols) into `data`. `exec` rasterizes; the layer's operator projects.
template <class Exec, class Op>
inline void ellipse_sample(const Exec& exec, const ProjectorLayer<Op>& layer, const EllipseDataOptions& o,
                           DataSplit split, std::uint64_t index, typename Op::value_type* image,
                           typename Op::value_type* data) {
  using T = typename Op::value_type;
  require(o.noise >= 0 && std::isfinite(o.noise), [&] {
    return "ellipse_sample: the noise level must be finite and >= 0, got " + std::to_string(o.noise);
  });
  const Tensor<T, 2> phantom = ellipse_phantom<T>(exec, o, split, index, layer.image_shape());
  std::copy(phantom.data(), phantom.data() + layer.image_size(), image);
  layer.forward(1, image, data);
  double mean_abs = 0;
  for (index_t i = 0; i < layer.sinogram_size(); ++i) mean_abs += std::abs(static_cast<double>(data[i]));
  mean_abs /= static_cast<double>(layer.sinogram_size());
  const View<T, 2, HostSpace> view(data, layer.sinogram_shape());
  add_gaussian_noise(Serial{}, view, static_cast<T>(o.noise * mean_abs), o.seed,
                     (static_cast<std::uint64_t>(split) << 56) + (1ull << 55) + index);
}

}  // namespace pnpdist::learned
