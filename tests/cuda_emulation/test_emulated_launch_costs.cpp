// The bytes and samples kernels declare per launch (backend/launch_cost.hpp), recorded by the emulation's
// launch recorder, against counts made independently at small sizes: the analytic bytes of element-wise
// kernels, the samples a Serial run writes (tile scatter), a brute-force enumeration of a convolution's
// in-image taps, and the interpolation taps of the CT projections counted by instrumenting the traversal
// of every ray with a counting policy (the path that visits every sample of a ray); the gather back
// projection's candidate searches and checks against an enumeration of every detector pixel per search.

#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/nn/layers.hpp>
#include <pnpdist/physics/blur/kernels.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tiling/tiling.hpp>

#include "emulated_test_support.hpp"

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace emu = pnpdist_cuda_emulator;
namespace ct = pnpdist::ct;
using namespace pnpdist::test;  // NOLINT: the shared test vocabulary

/// The one recorded launch whose functor contains `fragment`.
emu::LaunchRecord only_launch(const std::vector<emu::LaunchRecord>& records, const std::string& fragment) {
  std::vector<emu::LaunchRecord> found;
  for (const emu::LaunchRecord& r : records)
    if (r.functor.find(fragment) != std::string::npos) found.push_back(r);
  INFO("launches of " << fragment);
  REQUIRE(found.size() == 1);
  return found[0];
}

/// Counts the taps a traversal gives it (the instrument).
struct CountingPolicy {
  std::uint64_t* taps;
  void operator()(index_t, float, int = 0) const { ++*taps; }
};

/// Taps of every ray of `g`, by running each ray's full traversal (joseph_traverse) with a counting policy.
template <class Geometry>
std::uint64_t traversed_taps(const Geometry& g) {
  const auto grid = ct::make_joseph_grid(g);
  std::vector<double> vectors;
  for (const auto& e : g.vectors) vectors.insert(vectors.end(), e.begin(), e.end());
  const index_t pixels = ct::joseph_detector_rows(grid) * grid.detector_cols;
  std::uint64_t taps = 0;
  for (index_t v = 0; v < g.views(); ++v)
    for (index_t p = 0; p < pixels; ++p) {
      const auto ray = ct::joseph_pixel_ray<float>(grid, vectors.data(), v, p);
      CountingPolicy counter{&taps};
      ct::joseph_traverse<float>(ct::sample_axes(grid, ray.axis, ct::slice_layout_swapped(grid, ray.axis)), ray,
                                 counter);
    }
  return taps;
}

/// The gather's candidate searches and checks of `g`, counted by brute force: a search per voxel, view and
/// dominant axis some ray of the view has (the axes read off every ray), and the detector pixels of the
/// whole detector that lie in the search's candidate box (every pixel tested).
template <class Geometry>
std::pair<std::uint64_t, std::uint64_t> enumerated_searches(const Geometry& g) {
  const auto grid = ct::make_joseph_grid(g);
  constexpr int D = sizeof(grid.n) / sizeof(grid.n[0]);
  std::vector<double> vectors;
  for (const auto& e : g.vectors) vectors.insert(vectors.end(), e.begin(), e.end());
  const std::size_t stride = vectors.size() / g.vectors.size();
  const index_t rows = ct::joseph_detector_rows(grid), cols = grid.detector_cols;
  index_t voxels = 1;
  for (const index_t n : grid.n) voxels *= n;
  std::uint64_t searches = 0, checks = 0;
  for (index_t v = 0; v < g.views(); ++v) {
    bool axis[3] = {false, false, false};
    for (index_t pixel = 0; pixel < rows * cols; ++pixel)
      axis[ct::joseph_pixel_ray<float>(grid, vectors.data(), v, pixel).axis] = true;
    const auto m = ct::joseph_detector_map<float>(grid, vectors.data() + stride * v);
    for (index_t i = 0; i < voxels; ++i) {
      index_t p[D];
      for (index_t k = D - 1, rest = i; k >= 0; --k) {
        p[k] = rest % grid.n[k];
        rest /= grid.n[k];
      }
      for (int a = 0; a < D; ++a) {
        if (!axis[a]) continue;
        ++searches;
        const auto c = ct::joseph_candidates(m, p, a, rows, cols);
        for (index_t r = 0; r < rows; ++r)
          for (index_t k = 0; k < cols; ++k)
            checks += (r >= c.row_lo && r <= c.row_hi && k >= c.col_lo && k <= c.col_hi) ? 1 : 0;
      }
    }
  }
  return {searches, checks};
}

/// Forward and back projection of `g` on Cuda, recorded: the projection kernels declare the traversed taps,
/// the gather its enumerated searches and checks.
template <class Geometry>
void check_projector(const Geometry& g, const std::string& forward_kernel) {
  const auto op = ct::make_projector<float>(Cuda{}, g);
  auto x = pnpdist::make_domain_tensor(op);
  auto y = pnpdist::make_range_tensor(op);
  const std::uint64_t taps = traversed_taps(g);
  CHECK(taps > 0);
  const emu::RecordLaunches recording;
  op.apply(x.const_view(), y.view());
  const auto forward = only_launch(recording.records(), forward_kernel);
  CHECK(forward.cost_declared);
  CHECK(forward.samples == taps);
  CHECK(forward.bytes_written == static_cast<std::uint64_t>(y.size()) * sizeof(float));
  CHECK(forward.bytes_read >= static_cast<std::uint64_t>(x.size()) * sizeof(float));  // the volume at least
  emu::clear_launch_records();
  op.apply_adjoint(y.const_view(), x.view());
  std::uint64_t gathered = 0, searches = 0, checks = 0;
  for (const emu::LaunchRecord& r : recording.records())
    if (r.functor.find("JosephGatherAdjoint") != std::string::npos) {
      CHECK(r.cost_declared);
      CHECK(r.bytes_written == static_cast<std::uint64_t>(x.size()) * sizeof(float));
      gathered += r.samples;
      searches += r.searches;
      checks += r.checks;
    }
  CHECK(gathered == taps);  // the gather's terms are the forward projection's taps
  const auto [expected_searches, expected_checks] = enumerated_searches(g);
  INFO("searches " << searches << ", checks " << checks << ", terms " << taps);
  CHECK(searches == expected_searches);
  CHECK(checks == expected_checks);
  CHECK(checks >= taps);  // every term is a checked candidate
}

}  // namespace

TEST_CASE("declared launch costs: element-wise kernels give their analytic bytes", "[cuda-emulated][census]") {
  const index_t rows = 37, cols = 53, count = 3, n = count * rows * cols;
  Tensor<float, 1, CudaSpace> a(Extents<1>{n}), b(Extents<1>{n});
  const emu::RecordLaunches recording;
  for (const bool accumulate : {false, true}) {
    emu::clear_launch_records();
    ct::detail::swap_last_axes(Cuda{}, a.data(), b.data(), count, rows, cols, accumulate);
    const auto r = only_launch(recording.records(), "SwapLastAxesElements");
    CHECK(r.cost_declared);
    CHECK(r.bytes_read == (accumulate ? 2u : 1u) * n * sizeof(float));  // in (and out when accumulating)
    CHECK(r.bytes_written == n * sizeof(float));
    CHECK(r.samples == static_cast<std::uint64_t>(n));
  }
  // The spectrum multiply: n complex values in and out, one transfer plane of 40 values.
  using C = pnpdist::fft::Complex<float>;
  Tensor<C, 1, CudaSpace> in(Extents<1>{120}), transfer(Extents<1>{40});
  emu::clear_launch_records();
  pnpdist::for_each(Cuda{}, index_t{120},
                    pnpdist::blur::SpectrumMultiplyKernel<float>{in.data(), in.data(), transfer.data(), 40, false});
  const auto r = only_launch(recording.records(), "SpectrumMultiplyKernel");
  CHECK(r.bytes_read == (120 + 40) * sizeof(C));
  CHECK(r.bytes_written == 120 * sizeof(C));
  CHECK(r.samples == 120);
  // A kernel that declares nothing records no cost.
  emu::clear_launch_records();
  pnpdist::fill(Cuda{}, a.view(), 1.0f);
  REQUIRE(recording.records().size() == 1);
  CHECK_FALSE(recording.records()[0].cost_declared);
  CHECK(recording.records()[0].samples == 0);
}

TEST_CASE("declared launch costs: the tile gather and scatter", "[cuda-emulated][census][tiling]") {
  const Extents<4> shape{2, 3, 21, 17};
  const auto x = mirrored<float, 4>(shape, 2);
  const pnpdist::TileGrid<2> grid = pnpdist::PatchTiler<2>({5, 6}, {3, 2}).grid({21, 17}, 2, 4);
  const pnpdist::TileRange range{3, 8};
  const Extents<4> windows_shape{range.size, 3, grid.tile_extents()[0], grid.tile_extents()[1]};
  const auto window_samples = static_cast<std::uint64_t>(pnpdist::product(windows_shape));
  Tensor<float, 4, CudaSpace> windows(windows_shape);
  Tensor<float, 4, CudaSpace> y(shape);
  const emu::RecordLaunches recording;
  pnpdist::gather_tiles<Cuda, float, 2>(Cuda{}, x.device.const_view(), grid, range, windows.view());
  pnpdist::scatter_cores<Cuda, float, 2>(Cuda{}, windows.const_view(), grid, range, y.view());
  const auto gather = only_launch(recording.records(), "GatherTilesKernel");
  CHECK(gather.bytes_read == window_samples * sizeof(float));
  CHECK(gather.bytes_written == window_samples * sizeof(float));
  CHECK(gather.samples == window_samples);
  // The samples a Serial scatter writes: counted as the NaN sentinels it overwrites.
  Tensor<float, 4, HostSpace> host_windows(windows_shape), host_y(shape);
  pnpdist::fill(Serial{}, host_windows.view(), 1.0f);
  pnpdist::fill(Serial{}, host_y.view(), std::nanf(""));
  pnpdist::scatter_cores<Serial, float, 2>(Serial{}, host_windows.const_view(), grid, range, host_y.view());
  std::uint64_t written = 0;
  for (index_t i = 0; i < host_y.size(); ++i) written += std::isnan(host_y.data()[i]) ? 0 : 1;
  const auto scatter = only_launch(recording.records(), "ScatterCoresKernel");
  CHECK(written > 0);
  CHECK(scatter.samples == written);
  CHECK(scatter.bytes_read == written * sizeof(float));
  CHECK(scatter.bytes_written == written * sizeof(float));
}

TEST_CASE("declared launch costs: the convolutions' multiply-adds, a 3 x 3 one enumerated", "[cuda-emulated][census][nn]") {
  for (const bool with_bias : {false, true}) {
    const Extents<4> in_shape{2, 3, 7, 10}, out_shape{2, 4, 7, 10};
    Tensor<float, 4, CudaSpace> in(in_shape), out(out_shape);
    Tensor<float, 1, CudaSpace> weight(Extents<1>{4 * 3 * 9}), bias(Extents<1>{4});
    const emu::RecordLaunches recording;
    pnpdist::nn::conv3<Cuda, float, 4>(Cuda{}, in.const_view(), weight.data(), with_bias ? bias.data() : nullptr,
                                       out.view(), pnpdist::nn::PostOps{true, false});
    // Brute force: every (image, output channel, input channel, output sample, tap) whose tap is inside.
    std::uint64_t inside = 0;
    for (index_t n = 0; n < 2; ++n)
      for (index_t co = 0; co < 4; ++co)
        for (index_t ci = 0; ci < 3; ++ci)
          for (index_t i = 0; i < 7; ++i)
            for (index_t j = 0; j < 10; ++j)
              for (index_t di = -1; di <= 1; ++di)
                for (index_t dj = -1; dj <= 1; ++dj)
                  inside += (i + di >= 0 && i + di < 7 && j + dj >= 0 && j + dj < 10) ? 1 : 0;
    const auto r = only_launch(recording.records(), "Conv3Kernel");
    CHECK(r.samples == inside);
    // The input, the weights, the bias, and the output read because the post-op adds to it.
    CHECK(r.bytes_read == (2 * 3 * 70 + 4 * 3 * 9 + (with_bias ? 4 : 0) + 2 * 4 * 70) * sizeof(float));
    CHECK(r.bytes_written == 2 * 4 * 70 * sizeof(float));
  }
  // The stride-2 convolution (4 taps, all inside) and its transpose (one tap per input channel).
  Tensor<float, 4, CudaSpace> fine(Extents<4>{1, 3, 8, 6}), coarse(Extents<4>{1, 5, 4, 3});
  Tensor<float, 1, CudaSpace> weight(Extents<1>{5 * 3 * 4});
  const emu::RecordLaunches recording;
  pnpdist::nn::conv_down2<Cuda, float, 4>(Cuda{}, fine.const_view(), weight.data(), nullptr, coarse.view());
  pnpdist::nn::conv_up2<Cuda, float, 4>(Cuda{}, coarse.const_view(), weight.data(), nullptr, fine.view());
  const auto down = only_launch(recording.records(), "Down2Kernel");
  CHECK(down.samples == 5 * 12 * 3 * 4);  // outputs x C_in x taps
  CHECK(down.bytes_read == (3 * 48 + 5 * 3 * 4) * sizeof(float));
  CHECK(down.bytes_written == 5 * 12 * sizeof(float));
  const auto up = only_launch(recording.records(), "Up2Kernel");
  CHECK(up.samples == 3 * 48 * 5);  // outputs x C_in
  CHECK(up.bytes_read == (5 * 12 + 3 * 5 * 4) * sizeof(float));
  CHECK(up.bytes_written == 3 * 48 * sizeof(float));
}

TEST_CASE("declared launch costs: the CT projections' interpolation taps, counted by traversal",
          "[cuda-emulated][census][ct]") {
  SECTION("2D parallel beam") {
    check_projector(ct::parallel_beam_2d(ct::uniform_angles(13, 0, std::numbers::pi), {31, 1.0, 0.25}, {24, 24, 1.0, 1.0}),
                    "JosephForwardRays");
  }
  SECTION("2D fan beam") {
    check_projector(ct::fan_beam_2d(ct::uniform_angles(11, 0, 2 * std::numbers::pi), {29, 1.5, 0.0}, 40.0, 30.0,
                                    {20, 26, 1.0, 1.0}),
                    "JosephForwardRays");
  }
  SECTION("3D cone beam") {
    check_projector(ct::cone_beam(ct::uniform_angles(7, 0, 2 * std::numbers::pi), {13, 11, 2.0, 2.0, 0, 0}, 40.0, 40.0,
                                  {9, 10, 11, 1.0, 1.0, 1.0}),
                    "JosephForward3D");
  }
}
