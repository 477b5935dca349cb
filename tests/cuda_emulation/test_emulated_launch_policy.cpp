// Covers: cuda_for_each_kernel
// Launch policies on the emulated Cuda executor (backend/cuda/launch_policy.hpp): a CudaPolicy's block
// size, block limit and iterations per thread are the recorded launch shape, 1-D and N-D, and the same
// kernel gives the Serial executor's bits on spaces of odd sizes under every shape; the plain for_each
// keeps its shape (256 threads per block, one thread per index up to 4096 blocks).

#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include "emulated_test_support.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace pnpdist::test;
using pnpdist::CudaPolicy;
using pnpdist::MDRange;
using pnpdist::Range;
namespace emu = pnpdist_cuda_emulator;

template <class T>
struct Volume {  // out(a, b, c) += a value of the multi-index
  T* out;
  index_t rows, columns;
  PNPDIST_HOST_DEVICE void operator()(index_t a, index_t b, index_t c) const {
    out[(a * rows + b) * columns + c] += static_cast<T>(test_value(a * 1000003 + b * 1009 + c)) * T(3) + T(0.5);
  }
};

struct Shape {
  unsigned grid, block;
};

Shape only_launch(const emu::RecordLaunches& recording) {
  const auto records = recording.records();
  REQUIRE(records.size() == 1);
  CHECK(records[0].grid.y == 1);
  CHECK(records[0].block.y == 1);
  CHECK(records[0].threads == std::uint64_t{records[0].grid.x} * records[0].block.x);
  return {records[0].grid.x, records[0].block.x};
}

}  // namespace

TEST_CASE("emulated Cuda: a policy's shape is the launch shape, and the values are Serial's (1-D)", "[cuda-emulated]") {
  struct Case {
    CudaPolicy policy;
    index_t n;
    Shape expected;
  };
  const std::vector<Case> cases{
      {CudaPolicy(128), 1001, {8, 128}},           // one thread per index
      {CudaPolicy(32), 1, {1, 32}},                // one iteration, one warp
      {CudaPolicy(96, 3), 1001, {3, 96}},          // the block limit: grid-stride over 288 threads
      {CudaPolicy(256, 4096, 4), 5003, {5, 256}},  // about 4 iterations per thread
      {CudaPolicy(1024, 2, 1), 3 * 1024 + 7, {2, 1024}},
      {CudaPolicy{}, 3001, {12, 256}},  // the default shape
  };
  for (const Case& c : cases) {
    INFO("block " << c.policy.block_size() << ", max blocks " << c.policy.max_blocks() << ", iterations "
                  << c.policy.iterations_per_thread() << ", n = " << c.n);
    auto x = mirrored<double, 1>(Extents<1>{c.n}, 31);
    auto y = mirrored<double, 1>(Extents<1>{c.n}, 32);
    pnpdist::for_each(Serial{}, c.n, Affine<double>{x.host.data(), y.host.data(), 1.75, -0.375});
    {
      const emu::RecordLaunches recording;
      pnpdist::for_each(Cuda{}, c.policy, Range{c.n}, Affine<double>{x.device.data(), y.device.data(), 1.75, -0.375});
      const Shape shape = only_launch(recording);
      CHECK(shape.grid == c.expected.grid);
      CHECK(shape.block == c.expected.block);
    }
    pnpdist::synchronize(Cuda{});
    CHECK(same_contents(y));
  }
}

TEST_CASE("emulated Cuda: the plain for_each keeps its shape through the policy layer", "[cuda-emulated]") {
  for (const index_t n : {index_t{1}, index_t{255}, index_t{257}, index_t{4099}}) {
    INFO("n = " << n);
    auto x = mirrored<float, 1>(Extents<1>{n}, 41);
    auto y = mirrored<float, 1>(Extents<1>{n}, 42);
    const auto expected_blocks = static_cast<unsigned>((n + 255) / 256);
    {
      const emu::RecordLaunches recording;
      pnpdist::for_each(Cuda{}, n, Affine<float>{x.device.data(), y.device.data(), 2.f, 1.f});
      const Shape plain = only_launch(recording);
      CHECK(plain.grid == expected_blocks);
      CHECK(plain.block == 256u);
    }
    {
      const emu::RecordLaunches recording;
      pnpdist::for_each(Cuda{}, Range{n}, Affine<float>{x.device.data(), y.device.data(), 2.f, 1.f});
      const Shape named = only_launch(recording);
      CHECK(named.grid == expected_blocks);
      CHECK(named.block == 256u);
    }
  }
  // Empty spaces launch nothing under any policy.
  const emu::RecordLaunches recording;
  pnpdist::for_each(Cuda{}, CudaPolicy(64), Range{0}, Affine<float>{nullptr, nullptr, 1.f, 1.f});
  pnpdist::for_each(Cuda{}, CudaPolicy(64), MDRange{Extents<3>{4, 0, 5}}, Volume<float>{nullptr, 0, 5});
  CHECK(recording.records().empty());
}

TEMPLATE_TEST_CASE("emulated Cuda: N-D spaces run one thread per multi-index in the policy's shape", "[cuda-emulated]",
                   float, double) {
  using T = TestType;
  struct Case {
    CudaPolicy policy;
    Extents<3> extents;
    Shape expected;
  };
  const std::vector<Case> cases{
      {CudaPolicy(96), Extents<3>{5, 7, 9}, {4, 96}},       // 315 multi-indices
      {CudaPolicy(32, 2), Extents<3>{3, 13, 31}, {2, 32}},  // 1209 over 64 threads: grid-stride
      {CudaPolicy(128, 4096, 2), Extents<3>{1, 1, 1001}, {4, 128}},
      {CudaPolicy{}, Extents<3>{3, 17, 33}, {7, 256}},
  };
  for (const Case& c : cases) {
    INFO("extents " << pnpdist::to_string(c.extents) << ", block " << c.policy.block_size());
    auto v = mirrored<T, 3>(c.extents, 43);
    const Volume<T> host_kernel{v.host.data(), c.extents[1], c.extents[2]};
    const Volume<T> device_kernel{v.device.data(), c.extents[1], c.extents[2]};
    pnpdist::for_each(Serial{}, c.extents, host_kernel);
    {
      const emu::RecordLaunches recording;
      pnpdist::for_each(Cuda{}, c.policy, MDRange{c.extents}, device_kernel);
      const Shape shape = only_launch(recording);
      CHECK(shape.grid == c.expected.grid);
      CHECK(shape.block == c.expected.block);
      CHECK(recording.records()[0].functor.find("MultiIndexKernel") != std::string::npos);
    }
    pnpdist::synchronize(Cuda{});
    CHECK(same_contents(v));
  }
  // A 2-D space of odd sizes, the same kernel body through a 2-D functor.
  const Extents<2> e2{13, 31};
  auto w = mirrored<T, 2>(e2, 44);
  const auto kernel2 = [](T* out) {
    return [out](index_t a, index_t b) { out[a * 31 + b] = out[a * 31 + b] * T(2) - static_cast<T>(a - b); };
  };
  pnpdist::for_each(Serial{}, pnpdist::SerialPolicy{}, MDRange{e2}, kernel2(w.host.data()));
  pnpdist::for_each(Cuda{}, CudaPolicy(64, 3, 2), MDRange{e2}, kernel2(w.device.data()));
  pnpdist::synchronize(Cuda{});
  CHECK(same_contents(w));
}

TEST_CASE("emulated Cuda: invalid shapes are refused before any launch", "[cuda-emulated]") {
  const emu::RecordLaunches recording;
  const auto launch = [](index_t block, index_t max_blocks, index_t per_thread) {
    pnpdist::for_each(Cuda{}, CudaPolicy(block, max_blocks, per_thread), Range{100},
                      Affine<float>{nullptr, nullptr, 1.f, 1.f});
  };
  CHECK_THROWS_WITH(launch(0, 4096, 1), Catch::Contains("block size 0 is outside [32, 1024]"));
  CHECK_THROWS_WITH(launch(2048, 4096, 1), Catch::Contains("block size 2048 is outside [32, 1024]"));
  CHECK_THROWS_WITH(launch(100, 4096, 1), Catch::Contains("not a multiple of the warp size 32"));
  CHECK_THROWS_AS(launch(128, 0, 1), pnpdist::invalid_argument);
  CHECK_THROWS_AS(launch(128, 16, 0), pnpdist::invalid_argument);
  CHECK(recording.records().empty());
}
