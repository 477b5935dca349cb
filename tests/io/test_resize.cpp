#include <catch2/catch.hpp>

#include <pnpdist/io/npy.hpp>
#include <pnpdist/io/resize.hpp>

#include "physics/blur/blur_test_support.hpp"
#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;

TEMPLATE_LIST_TEST_CASE("resize_bicubic equals torch's antialiased bicubic interpolation", "[io][resize]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  const auto input = pnpdist::read_npy<float, 3>(pnpdist::test::blur_fixture("resize_input.npy"));
  for (const auto& [h, w, name] : {std::tuple{9, 12, "resize_9x12.npy"}, std::tuple{30, 41, "resize_30x41.npy"}}) {
    INFO(name);
    const auto expected = pnpdist::read_npy<float, 3>(pnpdist::test::blur_fixture(name));
    const auto resized = pnpdist::resize_bicubic(exec, input.const_view(), h, w);
    REQUIRE(resized.extents() == expected.extents());
    CHECK(pnpdist::test::relative_max_difference(resized, expected) < 1e-5);
  }
}

TEST_CASE("resize_larger_side scales the larger side to the requested size", "[io][resize]") {
  CHECK(pnpdist::larger_side_size(3000, 2000, 2048) == Extents<2>{2048, 1365});
  CHECK(pnpdist::larger_side_size(1366, 2049, 2048) == Extents<2>{1365, 2048});
  CHECK(pnpdist::larger_side_size(100, 100, 50) == Extents<2>{50, 50});
  CHECK_THROWS_AS(pnpdist::larger_side_size(0, 10, 5), pnpdist::invalid_argument);
  const auto input = pnpdist::read_npy<float, 3>(pnpdist::test::blur_fixture("resize_input.npy"));
  const auto out = pnpdist::resize_larger_side(pnpdist::Serial{}, input.const_view(), 46);
  CHECK(out.extents() == Extents<3>{3, 34, 46});
  // A constant image stays constant (the weights sum to one).
  pnpdist::Tensor<float, 3> flat(Extents<3>{1, 7, 5});
  for (index_t i = 0; i < flat.size(); ++i) flat.data()[i] = 0.25f;
  const auto up = pnpdist::resize_bicubic(pnpdist::Serial{}, flat.const_view(), 15, 11);
  for (index_t i = 0; i < up.size(); ++i) CHECK(up.data()[i] == Approx(0.25f).epsilon(1e-6));
}
