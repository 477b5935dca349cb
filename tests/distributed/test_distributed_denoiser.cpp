// DistributedDenoiser against the untiled denoiser (bit for bit: the box filter's receptive field fits in
// the overlap and the reassembly sums one value with zeros) and against the single-process TiledDenoiser,
// on every rank, at whatever rank count the test runs with, for several batch limits, in 2D and 3D, and
// with more ranks than tiles.
#include <pnpdist/distributed/distributed_denoiser.hpp>
#include <pnpdist/distributed/mpi/mpi_communicator.hpp>
#include <pnpdist/tensor/random.hpp>

#include <catch2/catch.hpp>

#include "distributed/test_world.hpp"
#include "support/host_executors.hpp"
#include "tiling/box_filter_denoiser.hpp"

using namespace pnpdist;
using pnpdist::test::BoxFilterDenoiser;

namespace {

template <std::size_t Rank>
bool identical(const Tensor<float, Rank>& a, const Tensor<float, Rank>& b) {
  for (index_t e = 0; e < a.size(); ++e)
    if (a.data()[e] != b.data()[e]) return false;
  return true;
}

template <std::size_t Rank, class Exec>
void check_distributed(const Exec& exec, const Extents<Rank>& shape, const PatchTiler<Rank - 2>& tiler, index_t passes,
                       index_t max_batch) {
  const auto comm = test::world();
  INFO("shape " << to_string(shape) << " max batch " << max_batch << " rank " << comm.rank() << " of " << comm.size());
  Tensor<float, Rank> x(shape);
  fill_normal(Serial{}, x.view(), 17, 0, 0.0f, 1.0f);
  Tensor<float, Rank> untiled(shape);
  BoxFilterDenoiser<Rank, Exec>(passes, 1, exec).denoise(x.view(), 0.05f, untiled.view());
  Tensor<float, Rank> single(shape);
  tiled(BoxFilterDenoiser<Rank, Exec>(passes, 8, exec), tiler, max_batch).denoise(x.view(), 0.05f, single.view());

  auto distributed = distribute_denoiser(BoxFilterDenoiser<Rank, Exec>(passes, 8, exec), tiler, comm, max_batch);
  Tensor<float, Rank> y(shape);
  fill(exec, y.view(), std::nanf(""));
  distributed.denoise(x.view(), 0.05f, y.view());
  CHECK(identical(y, untiled));
  CHECK(identical(y, single));

  // This rank denoised only its block of tiles, in batches of at most max_batch.
  const TileRange mine = distributed.local_tiles(shape);
  const index_t tiles = distributed.tiled().grid(shape).size();
  CHECK(std::abs(mine.size - tiles / comm.size()) <= 1);
  const auto& inner = distributed.tiled().denoiser();
  if (mine.size == 0)
    CHECK(inner.calls() == 0);
  else
    CHECK(inner.largest_batch() == (max_batch == 0 ? mine.size : std::min(max_batch, mine.size)));
}

}  // namespace

static_assert(Denoiser<DistributedDenoiser<BoxFilterDenoiser<4>, SelfCommunicator>>);
static_assert(Denoiser<DistributedDenoiser<BoxFilterDenoiser<5>, MpiCommunicator>>);

TEMPLATE_LIST_TEST_CASE("Distributed denoise equals the untiled and the single-process tiled denoise (2D)",
                        "[distributed][mpi]", pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  for (const index_t max_batch : {index_t{0}, index_t{1}, index_t{3}})
    check_distributed<4>(exec, Extents<4>{2, 3, 45, 38}, PatchTiler<2>({12, 10}, {3, 2}), 2, max_batch);
  // One tile only: most ranks have nothing to do.
  check_distributed<4>(exec, Extents<4>{1, 1, 9, 7}, PatchTiler<2>(16, 2), 2, 0);
}

TEST_CASE("Distributed denoise equals the untiled and the single-process tiled denoise (3D)", "[distributed][mpi]") {
  for (const index_t max_batch : {index_t{0}, index_t{2}})
    check_distributed<5>(Serial{}, Extents<5>{1, 1, 14, 20, 17}, PatchTiler<3>({4, 8, 8}, {2, 2, 2}), 1, max_batch);
}
