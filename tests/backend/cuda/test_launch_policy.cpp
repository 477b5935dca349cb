#include <catch2/catch.hpp>

#include <pnpdist/backend/cuda/launch_policy.hpp>

#include <type_traits>

// CudaPolicy (backend/cuda/launch_policy.hpp) on the host: validation of the shape at construction and
// the block count of a launch. That launches take this shape is checked in the CUDA emulation
// (tests/cuda_emulation/test_emulated_launch_policy.cpp).

using pnpdist::CudaPolicy;
using pnpdist::index_t;

TEST_CASE("CudaPolicy's default is the plain Cuda for_each shape", "[launch_policy][unit]") {
  STATIC_REQUIRE(std::is_same_v<pnpdist::launch_policy_t<pnpdist::Cuda>, CudaPolicy>);
  STATIC_REQUIRE(CudaPolicy::md_shape == pnpdist::MDShape::elements);
  STATIC_REQUIRE(pnpdist::kernel_form_v<pnpdist::Cuda> == pnpdist::KernelForm::per_element);
  constexpr CudaPolicy p = default_launch_policy(pnpdist::Cuda{});
  STATIC_REQUIRE(p.block_size() == 256);
  STATIC_REQUIRE(p.max_blocks() == 4096);
  STATIC_REQUIRE(p.iterations_per_thread() == 1);
}

TEST_CASE("CudaPolicy refuses invalid shapes at construction", "[launch_policy][unit]") {
  for (const index_t b : {index_t{0}, index_t{-32}, index_t{16}, index_t{1056}, index_t{2048}}) {
    INFO("block size " << b);
    CHECK_THROWS_AS(CudaPolicy(b), pnpdist::invalid_argument);
    CHECK_THROWS_WITH(CudaPolicy(b), Catch::Contains("outside [32, 1024]"));
  }
  for (const index_t b : {index_t{33}, index_t{100}, index_t{1000}}) {
    INFO("block size " << b);
    CHECK_THROWS_WITH(CudaPolicy(b), Catch::Contains("not a multiple of the warp size 32"));
  }
  CHECK_THROWS_WITH(CudaPolicy(128, 0), Catch::Contains("block limit 0"));
  CHECK_THROWS_WITH(CudaPolicy(128, index_t{1} << 31), Catch::Contains("block limit 2147483648"));
  CHECK_THROWS_WITH(CudaPolicy(128, 16, 0), Catch::Contains("0 iterations per thread"));
  CHECK_THROWS_AS(CudaPolicy{}.with_block_size(48), pnpdist::invalid_argument);
  CHECK_THROWS_AS(CudaPolicy{}.with_max_blocks(-1), pnpdist::invalid_argument);
  CHECK_THROWS_AS(CudaPolicy{}.with_iterations_per_thread(-2), pnpdist::invalid_argument);
  for (const index_t b : {index_t{32}, index_t{96}, index_t{128}, index_t{1024}})
    CHECK(CudaPolicy(b).block_size() == b);
}

TEST_CASE("CudaPolicy's block count: one thread per iteration, then iterations per thread, then the limit",
          "[launch_policy][unit]") {
  const CudaPolicy p;
  CHECK(p.blocks(1) == 1);
  CHECK(p.blocks(256) == 1);
  CHECK(p.blocks(257) == 2);
  CHECK(p.blocks(4096 * 256) == 4096);
  CHECK(p.blocks(4096 * 256 + 1) == 4096);  // the grid-stride loop takes the rest
  const CudaPolicy q = p.with_block_size(128);
  CHECK(q.blocks(1001) == 8);
  CHECK(q.with_iterations_per_thread(4).blocks(1001) == 2);  // 8 one-per-thread blocks, 4 iterations each
  CHECK(q.with_iterations_per_thread(3).blocks(1001) == 3);  // ceil(8 / 3)
  CHECK(q.with_max_blocks(5).blocks(1001) == 5);
  CHECK(q.with_iterations_per_thread(1000000).blocks(1001) == 1);
  // No overflow at the end of the index range.
  const index_t huge = (index_t{1} << 62) + 1;
  CHECK(CudaPolicy(1024, pnpdist::cuda_max_grid_blocks).blocks(huge) == pnpdist::cuda_max_grid_blocks);
  CHECK(CudaPolicy(1024, pnpdist::cuda_max_grid_blocks, index_t{1} << 40).blocks(huge) == 4097);
}
