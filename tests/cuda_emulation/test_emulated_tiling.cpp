// TiledDenoiser and DistributedDenoiser on the emulated Cuda executor against the Serial oracle: the batched
// tile gather and scatter (tiling/tiled_denoiser.hpp) give the same bits as on Serial, and each batch of
// tiles is one gather launch, the wrapped denoiser's launches, and one scatter launch.

#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/distributed/distributed_denoiser.hpp>
#include <pnpdist/distributed/self_communicator.hpp>
#include <pnpdist/priors/tv_denoiser.hpp>
#include <pnpdist/tiling/tiling.hpp>

#include "emulated_test_support.hpp"

#include <cstring>
#include <string>

namespace {

namespace emu = pnpdist_cuda_emulator;
using namespace pnpdist::test;  // NOLINT: the shared test vocabulary

template <std::size_t Rank>
using TV = pnpdist::TVDenoiser<float, Rank, Serial>;
template <std::size_t Rank>
using DeviceTV = pnpdist::TVDenoiser<float, Rank, Cuda>;

template <std::size_t Rank>
bool same_bits_as(const Tensor<float, Rank, HostSpace>& host, const Tensor<float, Rank, CudaSpace>& device) {
  const auto back = pnpdist::clone<HostSpace>(device.const_view());
  return std::memcmp(back.data(), host.data(), host.bytes()) == 0;
}

/// Launches of `functor` (a fragment of its demangled type) among `records`.
std::size_t launches_of(const std::vector<emu::LaunchRecord>& records, const std::string& functor) {
  std::size_t n = 0;
  for (const emu::LaunchRecord& r : records) n += r.functor.find(functor) != std::string::npos ? 1 : 0;
  return n;
}

/// Tiled TV (a local denoiser whose batch items are independent) on Serial and on Cuda, compared bit for bit;
/// the gather and the scatter are launched once per batch.
template <std::size_t Rank>
void check_tiled(const Extents<Rank>& shape, const pnpdist::PatchTiler<Rank - 2>& tiler, index_t max_batch) {
  const auto x = mirrored<float, Rank>(shape, 3);
  auto host = pnpdist::tiled(TV<Rank>(Serial{}, 4, 1.0f), tiler, max_batch);
  auto device = pnpdist::tiled(DeviceTV<Rank>(Cuda{}, 4, 1.0f), tiler, max_batch);
  Tensor<float, Rank, HostSpace> y(shape);
  Tensor<float, Rank, CudaSpace> dy(shape);
  host.denoise(x.host.const_view(), 0.2f, y.view());
  const emu::RecordLaunches recording;
  device.denoise(x.device.const_view(), 0.2f, dy.view());
  pnpdist::synchronize(Cuda{});
  CHECK(same_bits_as(y, dy));
  const index_t tiles = host.grid(shape).size();
  const auto batches = static_cast<std::size_t>(max_batch == 0 ? 1 : (tiles + max_batch - 1) / max_batch);
  INFO(tiles << " tiles, max batch " << max_batch);
  CHECK(tiles > 1);
  CHECK(launches_of(recording.records(), "GatherTilesKernel") == batches);
  CHECK(launches_of(recording.records(), "ScatterCoresKernel") == batches);
}

}  // namespace

TEST_CASE("emulated Cuda TiledDenoiser equals the Serial TiledDenoiser, one gather and one scatter per batch",
          "[cuda-emulated][tiling]") {
  SECTION("2D, two images, partial last batch") {
    check_tiled<4>(Extents<4>{2, 3, 23, 30}, pnpdist::PatchTiler<2>({8, 9}, {3, 2}), 5);
  }
  SECTION("2D, all tiles in one batch, halo wider than the last core") {
    check_tiled<4>(Extents<4>{1, 1, 17, 13}, pnpdist::PatchTiler<2>({6, 6}, {4, 4}), 0);
  }
  SECTION("3D") { check_tiled<5>(Extents<5>{1, 2, 9, 11, 10}, pnpdist::PatchTiler<3>({4, 5, 6}, {2, 2, 2}), 3); }
}

TEST_CASE("emulated Cuda gather_tiles and scatter_cores equal Serial on a range of tiles", "[cuda-emulated][tiling]") {
  const Extents<4> shape{2, 2, 21, 17};
  const auto x = mirrored<float, 4>(shape, 7);
  const pnpdist::TileGrid<2> grid = pnpdist::PatchTiler<2>({5, 6}, {3, 2}).grid({21, 17}, 2, 4);
  const pnpdist::TileRange range{4, 9};
  const Extents<4> windows_shape{range.size, 2, grid.tile_extents()[0], grid.tile_extents()[1]};
  Tensor<float, 4, HostSpace> windows(windows_shape);
  Tensor<float, 4, CudaSpace> device_windows(windows_shape);
  pnpdist::gather_tiles<Serial, float, 2>(Serial{}, x.host.const_view(), grid, range, windows.view());
  pnpdist::gather_tiles<Cuda, float, 2>(Cuda{}, x.device.const_view(), grid, range, device_windows.view());
  CHECK(same_bits_as(windows, device_windows));
  auto y = mirrored<float, 4>(shape, 8);  // the samples outside the cores keep these values
  pnpdist::scatter_cores<Serial, float, 2>(Serial{}, windows.const_view(), grid, range, y.host.view());
  pnpdist::scatter_cores<Cuda, float, 2>(Cuda{}, device_windows.const_view(), grid, range, y.device.view());
  pnpdist::synchronize(Cuda{});
  CHECK(same_contents(y));
}

TEST_CASE("emulated Cuda DistributedDenoiser (one rank) equals the Serial one", "[cuda-emulated][tiling]") {
  const Extents<4> shape{1, 2, 26, 19};
  const auto x = mirrored<float, 4>(shape, 5);
  const pnpdist::PatchTiler<2> tiler({7, 7}, {3, 3});
  auto host = pnpdist::distribute_denoiser(TV<4>(Serial{}, 4, 1.0f), tiler, pnpdist::SelfCommunicator{}, 4);
  auto device = pnpdist::distribute_denoiser(DeviceTV<4>(Cuda{}, 4, 1.0f), tiler, pnpdist::SelfCommunicator{}, 4);
  Tensor<float, 4, HostSpace> y(shape);
  Tensor<float, 4, CudaSpace> dy(shape);
  host.denoise(x.host.const_view(), 0.2f, y.view());
  const emu::RecordLaunches recording;
  device.denoise(x.device.const_view(), 0.2f, dy.view());
  pnpdist::synchronize(Cuda{});
  CHECK(same_bits_as(y, dy));
  REQUIRE(device.tiled().grid(shape).size() == 12);  // 4 x 3 tiles in batches of 4
  CHECK(launches_of(recording.records(), "GatherTilesKernel") == 3);
  CHECK(launches_of(recording.records(), "ScatterCoresKernel") == 3);
}
