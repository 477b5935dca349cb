// Joseph projectors: dot-product adjoint test for every geometry kind (odd sizes, detector offsets,
// non-square pixels, a 12-column vector geometry), identical bits on every host executor and thread count,
// forward projection against an independent reference implementation (tests/reference/ct_joseph.hpp).
#include <catch2/catch.hpp>

#include <pnpdist/operators/adjoint_check.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tensor/random.hpp>

#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

#include "reference/ct_joseph.hpp"
#include "support/host_executors.hpp"

using namespace pnpdist;
using pnpdist::ct::Beam;

namespace {

constexpr double pi = std::numbers::pi;

ct::Geometry2D parallel_2d() {
  return ct::parallel_beam_2d(ct::uniform_angles(13, 0.1, pi + 0.1), {23, 1.3, 2.1}, {17, 21, 1.0, 1.0});
}
ct::Geometry2D fan_2d() {
  return ct::fan_beam_2d(ct::uniform_angles(11, 0, 2 * pi), {29, 1.7, -1.4}, 40.0, 25.0, {19, 15, 1.2, 0.9});
}
ct::Geometry3D cone_3d() {
  return ct::cone_beam(ct::uniform_angles(9, 0.2, 2 * pi + 0.2), {13, 17, 1.6, 1.9, 0.7, -1.1}, 35.0, 30.0,
                       {9, 11, 13, 1.1, 0.9, 1.0});
}
ct::Geometry3D parallel_3d() {
  return ct::parallel_beam_3d(ct::uniform_angles(7, 0, pi), {11, 15, 1.1, 0.8, 0.4, 0.3}, {9, 10, 13, 1.0, 1.2, 0.8});
}
// A vector geometry with tilted detector and source off the central plane, as read from a 12-column file.
ct::Geometry3D tilted_cone_vectors() {
  ct::Geometry3D g{Beam::divergent, {8, 12, 10, 1.0, 1.0, 1.0}, 9, 14, {}};
  for (int k = 0; k < 6; ++k) {
    const double t = 0.9 * k + 0.3, c = std::cos(t), s = std::sin(t);
    g.vectors.push_back(
        {30 * s, -30 * c, 2.0 + 0.3 * k, -25 * s + 0.2, 25 * c, -1.0, 1.5 * c, 1.5 * s, 0.2, -0.1 * s, 0.1 * c, 1.4});
  }
  return g;
}

// Large enough for the grouped paths of joseph.hpp: full groups of 8 detector columns / 4 x 4 detector patches
// with a common interior, and back-projection runs of 8 slices inside the rays' interiors; the odd detector
// counts leave partial groups at the detector's edge (sampled ray by ray).
ct::Geometry2D parallel_2d_groups() {
  return ct::parallel_beam_2d(ct::uniform_angles(7, 0.05, pi + 0.05), {45, 1.0, 0.4}, {40, 44, 1.0, 1.0});
}
ct::Geometry2D fan_2d_groups() {
  return ct::fan_beam_2d(ct::uniform_angles(6, 0.3, 2 * pi + 0.3), {51, 1.3, 0.2}, 120.0, 60.0, {36, 41, 1.0, 1.0});
}
ct::Geometry3D cone_3d_groups() {
  return ct::cone_beam(ct::uniform_angles(5, 0.1, 2 * pi + 0.1), {23, 26, 1.6, 1.6, 0.3, -0.2}, 80.0, 60.0,
                       {26, 28, 30, 1.0, 1.0, 1.0});
}

}  // namespace

namespace {

// The dot-product test of the float and the double projector of `g`. Relative to ||A x|| ||y||, correct
// projectors reach ~1e-8 in float and ~1e-17 in double (their rays are set up and traversed in double); a
// back projection off by 2e-4 in scale gives >= 1.1e-6.
template <class Exec, class Geometry>
void check_dot_products(const Exec& exec, const Geometry& g, std::uint64_t seed) {
  CHECK(adjoint_check(ct::make_projector<float>(exec, g), seed).passed(1e-6));
  CHECK(adjoint_check(ct::make_projector<double>(exec, g), seed).passed(1e-14));
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("Joseph projectors pass the dot-product test", "[ct][adjoint]", test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    check_dot_products(exec, parallel_2d(), seed);
    check_dot_products(exec, fan_2d(), seed);
    check_dot_products(exec, cone_3d(), seed);
    check_dot_products(exec, parallel_3d(), seed);
    check_dot_products(exec, tilted_cone_vectors(), seed);
  }
}

TEMPLATE_LIST_TEST_CASE("Joseph projectors with ray groups pass the dot-product test", "[ct][adjoint]",
                        test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  for (std::uint64_t seed : {11u, 12u}) {
    check_dot_products(exec, parallel_2d_groups(), seed);
    check_dot_products(exec, fan_2d_groups(), seed);
    check_dot_products(exec, cone_3d_groups(), seed);
  }
}

TEST_CASE("Joseph projector adjoint on a geometry read from a 12-column vector file", "[ct][adjoint]") {
  const std::string path = "ct_test_vectors.txt";
  ct::write_vector_file(path, tilted_cone_vectors());
  const ct::Geometry3D g = ct::read_vector_file(path, Beam::divergent, {8, 12, 10, 1.0, 1.0, 1.0}, 9, 14);
  std::remove(path.c_str());
  REQUIRE(g.views() == 6);
  CHECK(adjoint_check(ct::make_projector<float>(Serial{}, g), 7).passed(1e-6));
}

namespace {

template <class Geometry, class Exec>
void check_against_reference(const Exec& exec, const Geometry& g) {
  const auto A = ct::make_projector<float>(exec, g);
  auto x = make_domain_tensor(A);
  fill_normal(Serial{}, x.view(), 5, 0, 0.0f, 1.0f);
  auto y = make_range_tensor(A);
  A.apply(x.const_view(), y.view());
  const auto expected = test::reference_joseph_forward(g, x.const_view());
  double worst = 0, scale = 0;
  for (index_t i = 0; i < y.size(); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(y.data()[i]) - expected[static_cast<std::size_t>(i)]));
    scale = std::max(scale, std::abs(expected[static_cast<std::size_t>(i)]));
  }
  CHECK(worst <= 1e-4 * scale);
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("Joseph forward projection matches the reference implementation", "[ct]", test::HostExecutors) {
  const auto exec = test::make_executor<TestType>();
  check_against_reference(exec, parallel_2d());
  check_against_reference(exec, fan_2d());
  check_against_reference(exec, cone_3d());
  check_against_reference(exec, parallel_3d());
  check_against_reference(exec, tilted_cone_vectors());
  check_against_reference(exec, parallel_2d_groups());
  check_against_reference(exec, fan_2d_groups());
  check_against_reference(exec, cone_3d_groups());
}

#if defined(PNPDIST_HAS_OPENMP)
namespace {

template <class Geometry>
void check_same_bits(const Geometry& g) {
  const auto a1 = ct::make_projector<float>(OpenMP{1}, g);
  const auto a2 = ct::make_projector<float>(OpenMP{2}, g);
  const auto s = ct::make_projector<float>(Serial{}, g);
  auto y = make_range_tensor(a1);
  fill_normal(Serial{}, y.view(), 9, 1, 0.0f, 1.0f);
  auto x1 = make_domain_tensor(a1), x2 = make_domain_tensor(a1), x0 = make_domain_tensor(a1);
  a1.apply_adjoint(y.const_view(), x1.view());
  a2.apply_adjoint(y.const_view(), x2.view());
  s.apply_adjoint(y.const_view(), x0.view());
  CHECK(std::memcmp(x1.data(), x2.data(), x1.bytes()) == 0);
  CHECK(std::memcmp(x1.data(), x0.data(), x1.bytes()) == 0);
  auto f1 = make_range_tensor(a1), f2 = make_range_tensor(a1);
  a1.apply(x1.const_view(), f1.view());
  a2.apply(x1.const_view(), f2.view());
  CHECK(std::memcmp(f1.data(), f2.data(), f1.bytes()) == 0);
}

}  // namespace

TEST_CASE("Joseph back projection has the same bits at 1 and 2 threads", "[ct][determinism]") {
  // Large enough for the OpenMP executor to split the slices among its threads.
  check_same_bits(ct::parallel_beam_2d(ct::uniform_angles(20, 0, pi), {181, 1.0, 0.3}, {160, 170, 1.0, 1.0}));
  check_same_bits(
      ct::fan_beam_2d(ct::uniform_angles(20, 0, 2 * pi), {201, 1.5, 0.0}, 300.0, 200.0, {150, 150, 1.0, 1.0}));
  check_same_bits(ct::cone_beam(ct::uniform_angles(6, 0, 2 * pi), {40, 44, 2.0, 2.0, 0, 0}, 100.0, 100.0,
                                {40, 41, 42, 1.0, 1.0, 1.0}));
}
#endif

TEST_CASE("Joseph projectors reject wrong shapes", "[ct]") {
  const auto A = ct::make_projector<float>(Serial{}, parallel_2d());
  Tensor<float, 2> x(Extents<2>{17, 20}), y(A.range_shape());
  CHECK_THROWS_AS(A.apply(x.const_view(), y.view()), dimension_mismatch);
  CHECK_THROWS_AS(A.apply_adjoint(y.const_view(), x.view()), dimension_mismatch);
}

TEST_CASE("Joseph 3D ray groups give the same sums with 32- and 64-bit voxel offsets", "[ct]") {
  // The projectors use 32-bit offsets for volumes below 2^31 voxels and 64-bit ones above; both variants of
  // the group kernels must agree bit for bit (here on a small volume, where both are valid), and agree with
  // the per-sample functions.
  const ct::Geometry3D g = cone_3d_groups();
  const ct::JosephGrid3D grid = ct::make_joseph_grid(g);
  Tensor<float, 1> volume(Extents<1>{grid.n[0] * grid.n[1] * grid.n[2]});
  fill_normal(Serial{}, volume.view(), 21, 0, 0.0f, 1.0f);
  int groups = 0;
  for (index_t r0 = 0; r0 + ct::joseph_patch <= g.detector_rows; r0 += ct::joseph_patch)
    for (index_t c0 = 0; c0 + ct::joseph_patch <= g.detector_cols; c0 += ct::joseph_patch) {
      ct::JosephRay3D<float> rays[ct::joseph_group_3d];
      bool same_axis = true;
      for (int k = 0; k < ct::joseph_group_3d; ++k) {
        rays[k] =
            ct::joseph_ray_3d<float>(grid, g.vectors[0].data(), r0 + k / ct::joseph_patch, c0 + k % ct::joseph_patch);
        same_axis = same_axis && rays[k].axis == rays[0].axis;
      }
      index_t lo, hi;
      ct::joseph_common_interior(rays, ct::joseph_group_3d, lo, hi);
      if (!same_axis || lo > hi) continue;
      ++groups;
      const bool swapped = ct::slice_layout_swapped(grid, rays[0].axis);
      REQUIRE_FALSE(swapped);  // this view's rays run along y: the volume's own layout
      const ct::SampleAxes3D ax = ct::sample_axes(grid, rays[0].axis, false);
      float a[ct::joseph_group_3d] = {}, b[ct::joseph_group_3d] = {};
      ct::joseph_gather_group_3d<float, int>(volume.data(), ax.stride_a, ax.stride_0, rays, lo, hi, a);
      ct::joseph_gather_group_3d<float, index_t>(volume.data(), ax.stride_a, ax.stride_0, rays, lo, hi, b);
      CHECK(std::memcmp(a, b, sizeof a) == 0);
      for (int k = 0; k < ct::joseph_group_3d; ++k) {
        ct::GatherPolicy<float> gather{volume.data()};
        for (index_t s = lo; s <= hi; ++s) ct::joseph_sample_3d_interior<float>(ax, rays[k], s, gather);
        CHECK(std::abs(a[k] - gather.sum()) <= 1e-4f * (1.0f + std::abs(gather.sum())));
      }
      Tensor<float, 1> sa(volume.extents()), sb(volume.extents());
      fill(Serial{}, sa.view(), 0.0f);
      fill(Serial{}, sb.view(), 0.0f);
      for (int k = 0; k < ct::joseph_group_3d; ++k) rays[k].value = 0.5f + 0.1f * static_cast<float>(k);
      ct::joseph_scatter_group<float, int>(sa.data(), ax, rays, lo, hi);
      ct::joseph_scatter_group<float, index_t>(sb.data(), ax, rays, lo, hi);
      CHECK(std::memcmp(sa.data(), sb.data(), sa.bytes()) == 0);
    }
  CHECK(groups > 0);
}

TEST_CASE("Joseph back projection prefetches towards the next detector row", "[ct]") {
  // A performance hint only (it changes no bits): the row joseph_scatter_group prefetches must lie on the side
  // where the next detector row's rays sample the slice, +2 when that side is larger indices, -1 otherwise.
  ct::Geometry3D g = ct::cone_beam(ct::uniform_angles(8, 0.1, 2 * pi + 0.1), {24, 20, 2.0, 2.0, 0, 0}, 60.0, 60.0,
                                   {20, 22, 24, 1.0, 1.0, 1.0});
  for (const bool flipped : {false, true}) {
    if (flipped)
      for (auto& e : g.vectors)
        for (int k = 9; k < 12; ++k) e[static_cast<std::size_t>(k)] = -e[static_cast<std::size_t>(k)];
    const ct::JosephGrid3D grid = ct::make_joseph_grid(g);
    const index_t pixels = g.detector_rows * g.detector_cols;
    for (index_t view = 0; view < g.views(); ++view) {
      std::vector<ct::JosephRay3D<float>> rays(static_cast<std::size_t>(pixels));
      for (index_t p = 0; p < pixels; ++p)
        rays[static_cast<std::size_t>(p)] = ct::joseph_pixel_ray<float>(grid, g.vectors[0].data(), view, p);
      const int axis = rays[static_cast<std::size_t>(pixels / 2)].axis;
      // The rows of the first other axis (z for every view here) where the central column's rays cross the
      // middle slice, detector row by detector row.
      const float middle = 0.5f * static_cast<float>(grid.n[axis] - 1);
      const index_t col = g.detector_cols / 2;
      const auto row_at = [&](index_t row) {
        const ct::JosephRay3D<float>& ray = rays[static_cast<std::size_t>(row * g.detector_cols + col)];
        return ray.q0[0] + middle * ray.dq[0];
      };
      const bool increasing = row_at(g.detector_rows - 1) > row_at(0);
      CAPTURE(view, flipped, axis);
      CHECK(increasing == !flipped);
      CHECK(ct::joseph_prefetch_row(grid, rays.data(), axis) == (increasing ? 2 : -1));
    }
  }
}
