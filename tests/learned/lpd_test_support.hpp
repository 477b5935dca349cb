#pragma once
// What the learned primal-dual tests share: random vectors, a tiny network configuration, a projector as an
// explicit matrix (exactly linear in double) and the finite-difference check of every parameter's gradient.
#include <catch2/catch.hpp>

#include <pnpdist/learned/fbp_start.hpp>
#include <pnpdist/learned/lpd.hpp>
#include <pnpdist/operators/dense_matrix.hpp>
#include <pnpdist/physics/ct/projector.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace lpd_test {

using namespace pnpdist;
using namespace pnpdist::learned;

template <class T>
inline std::vector<T> random_vector(index_t n, std::uint64_t stream) {
  std::vector<T> v(static_cast<std::size_t>(n));
  fill_uniform(Serial{}, View<T, 1, HostSpace>(v.data(), Extents<1>{n}), 11, stream, T(-1), T(1));
  return v;
}

template <class T>
inline double dot(const std::vector<T>& a, const std::vector<T>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return s;
}

inline LpdConfig tiny_config() {
  LpdConfig c;
  c.iterations = 2;
  c.primal_memory = 2;
  c.dual_memory = 2;
  c.width = 3;
  c.prelu_init = 0.2;
  c.seed = 5;
  return c;
}

// A matrix with image and sinogram shapes (a random one, or the projector of `geometry`): exactly linear in
// double whatever the projector's internal precision, so finite differences see only the network.
class ExplicitProjector {
public:
  using value_type = double;
  using executor_type = Serial;
  static constexpr std::size_t domain_rank = 2;
  static constexpr std::size_t range_rank = 2;

  ExplicitProjector(Extents<2> image, Extents<2> sinogram, Tensor<double, 2> entries)
      : image_(image), sinogram_(sinogram), matrix_(Serial{}, std::move(entries)) {}
  explicit ExplicitProjector(const ct::Geometry2D& geometry)
      : image_(geometry.volume.shape()), sinogram_(geometry.sinogram_shape()),
        matrix_(Serial{}, sinogram_[0] * sinogram_[1], image_[0] * image_[1]) {
    const auto projector = ct::make_projector<double>(Serial{}, geometry);
    Tensor<double, 2> unit(image_), column(sinogram_);
    for (index_t j = 0; j < unit.size(); ++j) {
      fill(Serial{}, unit.view(), 0.0);
      unit.data()[j] = 1.0;
      projector.apply(unit.const_view(), column.view());
      for (index_t i = 0; i < column.size(); ++i) matrix_.entries()(i, j) = column.data()[i];
    }
  }
  [[nodiscard]] Extents<2> domain_shape() const { return image_; }
  [[nodiscard]] Extents<2> range_shape() const { return sinogram_; }
  [[nodiscard]] Serial executor() const { return {}; }
  void apply(View<const double, 2, HostSpace> x, View<double, 2, HostSpace> y) const {
    matrix_.apply(flat(x), flat(y));
  }
  void apply_adjoint(View<const double, 2, HostSpace> y, View<double, 2, HostSpace> x) const {
    matrix_.apply_adjoint(flat(y), flat(x));
  }

private:
  template <class U>
  static View<U, 1, HostSpace> flat(View<U, 2, HostSpace> v) {
    return View<U, 1, HostSpace>(v.data(), Extents<1>{v.size()});
  }
  Extents<2> image_, sinogram_;
  DenseMatrix<double, Serial> matrix_;
};

// Every parameter's gradient of <c, LPD(g)> against central differences through the physics `projector` of
// `geometry` (explicit matrices: exactly linear in double); with the FBP start (fbp_start of `geometry`) when
// `start` is fbp.
template <class Physics>
inline void check_lpd_gradient_through(const Physics& projector, const ct::Geometry2D& geometry,
                                       InitialPrimal start = InitialPrimal::zero) {
  const ProjectorLayer layer(projector, inverse_operator_norm(projector));
  LpdConfig config = tiny_config();
  config.initial_primal = start;
  LearnedPrimalDual net(layer, config,
                        start == InitialPrimal::fbp ? fbp_start(Serial{}, layer, geometry) : PrimalStart<double>{});
  auto& store = net.parameters();
  // Random biases too, so that every PReLU sees both signs.
  store.values() = random_vector<double>(store.size(), 1);
  for (double& v : store.values()) v *= 0.5;
  const auto g = random_vector<double>(layer.sinogram_size(), 2);
  const auto c = random_vector<double>(layer.image_size(), 3);
  std::vector<double> out(c.size());
  const auto loss = [&] {
    net.forward(Serial{}, 1, g.data(), out.data());
    return dot(c, out);
  };
  loss();
  store.zero_gradients();
  net.backward(Serial{}, c.data());
  const std::vector<double> analytic = store.gradients();
  double worst = 0;
  for (std::size_t i = 0; i < analytic.size(); ++i) {
    const double keep = store.values()[i];
    store.values()[i] = keep + 1e-6;
    const double up = loss();
    store.values()[i] = keep - 1e-6;
    const double down = loss();
    store.values()[i] = keep;
    const double numeric = (up - down) / 2e-6;
    worst = std::max(worst, std::abs(numeric - analytic[i]) / (1e-6 + std::abs(analytic[i])));
    CHECK(numeric == Approx(analytic[i]).margin(1e-6).epsilon(1e-5));
  }
  INFO("largest relative difference " << worst);
  CHECK(worst < 1e-4);
}

// check_lpd_gradient_through the explicit matrix of `geometry`.
inline void check_lpd_gradient(const ct::Geometry2D& geometry, InitialPrimal start = InitialPrimal::zero) {
  check_lpd_gradient_through(ExplicitProjector(geometry), geometry, start);
}


}  // namespace lpd_test
