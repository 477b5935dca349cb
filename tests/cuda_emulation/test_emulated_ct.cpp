// Covers: cuda_for_each_kernel
// The CT projectors (physics/ct/projector.hpp) and FBP / FDK (physics/ct/fbp.hpp) on the Cuda executor, run
// by the CPU emulation of CUDA: their functors (JosephForwardRays, JosephForward3D, JosephBlockRays,
// JosephGatherAdjoint, SwapLastAxesElements, FbpPreweight, FbpFilterRows, FbpBackproject) launched through
// cuda_for_each_kernel, against the same operators on Serial. The 3D forward projection, FBP and FDK compute
// every output element by one iteration of the same functor with the same arithmetic in the same order (no
// atomics, no reductions across iterations), and the emulated build sets -ffp-contract=off, so they agree
// bit for bit. The 2D forward projection on Cuda is ray-driven (one thread per ray, joseph/forward.hpp) and
// the back projection the voxel-driven gather (joseph/gather.hpp): the same terms as on Serial (ray groups),
// summed in another order, so they agree to round-off. The dot-product test runs on Cuda too (its inner
// products go through cuda_reduce_chunks_kernel): it passes at 1e-5, in 3D with the same <Ax, y> as on
// Serial, in 2D with one equal to it to round-off.

#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/operators/adjoint_check.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/tensor.hpp>

#include "emulated_test_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <type_traits>

namespace {

namespace emu = pnpdist_cuda_emulator;
using namespace pnpdist::test;  // NOLINT: the shared test vocabulary
namespace ct = pnpdist::ct;

constexpr double pi = std::numbers::pi;

// Small geometries: 17 x 23 images with 9 views, several detector offsets; 9 x 10 x 11 volume with 5 views on a
// 7 x 8 detector. The wider ones reach the grouped paths of the Serial back projection (joseph/adjoint.hpp).
ct::Geometry2D parallel_2d() {
  return ct::parallel_beam_2d(ct::uniform_angles(9, 0.1, pi + 0.1), {25, 1.1, 0.7}, {17, 23, 1.0, 1.0});
}
ct::Geometry2D parallel_2d_wide() {
  return ct::parallel_beam_2d(ct::uniform_angles(7, 0.05, pi + 0.05), {45, 1.0, -3.4}, {40, 33, 1.0, 1.2});
}
ct::Geometry2D fan_2d() {
  return ct::fan_beam_2d(ct::uniform_angles(9, 0.2, 2 * pi + 0.2), {27, 1.6, -0.9}, 40.0, 25.0, {17, 23, 1.1, 0.9});
}
ct::Geometry2D fan_2d_wide() {
  return ct::fan_beam_2d(ct::uniform_angles(6, 0.3, 2 * pi + 0.3), {51, 1.3, 2.2}, 120.0, 60.0, {36, 41, 1.0, 1.0});
}
ct::Geometry3D cone_3d() {
  return ct::cone_beam(ct::uniform_angles(5, 0.3, 2 * pi + 0.3), {7, 8, 2.3, 2.1, 0.4, -0.6}, 35.0, 30.0,
                       {9, 10, 11, 1.1, 0.9, 1.0});
}
ct::Geometry3D parallel_3d() {
  return ct::parallel_beam_3d(ct::uniform_angles(4, 0, pi), {11, 15, 1.1, 0.8, 0.4, 0.3}, {9, 10, 13, 1.0, 1.2, 0.8});
}

template <class T, std::size_t Rank>
Tensor<T, Rank, HostSpace> host_values(const Extents<Rank>& extents, std::uint64_t seed) {
  Tensor<T, Rank, HostSpace> t(extents);
  pnpdist::fill_uniform(Serial{}, t.view(), seed, 0, T(-1), T(1));
  return t;
}

/// max |a - b| <= tolerance(T) max |a| (round-off), with max |a| > 0.
template <class T, std::size_t Rank>
void check_round_off(const Tensor<T, Rank, HostSpace>& a, const Tensor<T, Rank, CudaSpace>& device_b,
                     const char* what) {
  const auto b = pnpdist::clone<HostSpace>(device_b.const_view());
  double largest = 0, error = 0;
  for (index_t i = 0; i < a.size(); ++i) {
    largest = std::max(largest, std::abs(static_cast<double>(a.data()[i])));
    error = std::max(error, std::abs(static_cast<double>(b.data()[i]) - static_cast<double>(a.data()[i])));
  }
  INFO(what << ": largest difference " << error << ", largest value " << largest);
  CHECK(largest > 0);
  CHECK(error <= (std::is_same_v<T, float> ? 1e-5 : 1e-12) * largest);
}

template <class T, class Geometry>
void check_projector(const Geometry& g) {
  // The 3D forward projection runs the same functor on both executors; the 2D one is ray-driven on Cuda.
  constexpr bool same_forward = std::is_same_v<Geometry, ct::Geometry3D>;
  const auto host_op = ct::make_projector<T>(Serial{}, g);
  const auto device_op = ct::make_projector<T>(Cuda{}, g);
  REQUIRE(device_op.range_shape() == host_op.range_shape());

  // Forward projection.
  const auto x = host_values<T>(host_op.domain_shape(), 1);
  const auto dx = pnpdist::clone<CudaSpace>(x.const_view());
  auto y = pnpdist::make_range_tensor(host_op);
  auto dy = pnpdist::make_range_tensor(device_op);
  host_op.apply(x.const_view(), y.view());
  const auto launches = emu::statistics().launches;
  device_op.apply(dx.const_view(), dy.view());
  pnpdist::synchronize(Cuda{});
  CHECK(emu::statistics().launches > launches);  // the device result comes from emulated kernels
  if (same_forward)
    CHECK(bit_mismatches(y, dy) == 0);
  else
    check_round_off(y, dy, "forward projection");

  // Back projection.
  const auto r = host_values<T>(host_op.range_shape(), 2);
  const auto dr = pnpdist::clone<CudaSpace>(r.const_view());
  auto z = pnpdist::make_domain_tensor(host_op);
  auto dz = pnpdist::make_domain_tensor(device_op);
  host_op.apply_adjoint(r.const_view(), z.view());
  device_op.apply_adjoint(dr.const_view(), dz.view());
  pnpdist::synchronize(Cuda{});
  check_round_off(z, dz, "back projection");

  // The dot-product test on Cuda (FP and BP both on Cuda): passes, with the same <Ax, y> as on Serial (to
  // round-off where the forward projections differ in their order of summation).
  for (std::uint64_t seed : {3u, 4u}) {
    const auto device_check = pnpdist::adjoint_check(device_op, seed);
    const auto host_check = pnpdist::adjoint_check(host_op, seed);
    INFO("seed " << seed << ": <Ax, y> " << device_check.forward_inner << ", <x, A^T y> " << device_check.adjoint_inner
                 << ", relative error " << device_check.relative_error);
    CHECK(device_check.passed(1e-5));
    if (same_forward)
      CHECK(device_check.forward_inner == host_check.forward_inner);
    else
      CHECK(std::abs(device_check.forward_inner - host_check.forward_inner) <=
            (std::is_same_v<T, float> ? 1e-5 : 1e-12) * device_check.scale);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("emulated Cuda Joseph projectors equal the Serial projectors", "[cuda-emulated][ct]", float,
                   double) {
  SECTION("2D parallel beam") { check_projector<TestType>(parallel_2d()); }
  SECTION("2D parallel beam, 40 x 33, detector offset -3.4") { check_projector<TestType>(parallel_2d_wide()); }
  SECTION("2D fan beam") { check_projector<TestType>(fan_2d()); }
  SECTION("2D fan beam, 36 x 41, detector offset 2.2") { check_projector<TestType>(fan_2d_wide()); }
  SECTION("3D cone beam") { check_projector<TestType>(cone_3d()); }
  SECTION("3D parallel beam") { check_projector<TestType>(parallel_3d()); }
}

TEST_CASE("emulated Cuda FBP and FDK equal the Serial ones", "[cuda-emulated][ct]") {
  using T = float;
  for (const ct::Geometry2D& g : {parallel_2d(), fan_2d()}) {
    INFO((g.beam == ct::Beam::parallel ? "parallel" : "fan") << " beam FBP");
    const auto sinogram = host_values<T>(g.sinogram_shape(), 5);
    const auto dsinogram = pnpdist::clone<CudaSpace>(sinogram.const_view());
    Tensor<T, 2, HostSpace> image(g.volume.shape());
    Tensor<T, 2, CudaSpace> dimage(g.volume.shape());
    ct::fbp<T>(Serial{}, g, sinogram.const_view(), image.view());
    ct::fbp<T>(Cuda{}, g, dsinogram.const_view(), dimage.view());
    pnpdist::synchronize(Cuda{});
    CHECK(bit_mismatches(image, dimage) == 0);
  }
  const ct::Geometry3D g = cone_3d();
  const auto projections = host_values<T>(g.projection_shape(), 6);
  const auto dprojections = pnpdist::clone<CudaSpace>(projections.const_view());
  Tensor<T, 3, HostSpace> volume(g.volume.shape());
  Tensor<T, 3, CudaSpace> dvolume(g.volume.shape());
  ct::fdk<T>(Serial{}, g, projections.const_view(), volume.view());
  ct::fdk<T>(Cuda{}, g, dprojections.const_view(), dvolume.view());
  pnpdist::synchronize(Cuda{});
  CHECK(bit_mismatches(volume, dvolume) == 0);
}
