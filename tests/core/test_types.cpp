#include <catch2/catch.hpp>

#include <pnpdist/core/types.hpp>
#include <pnpdist/tensor/shapes.hpp>

#include <type_traits>

TEST_CASE("Extents: product, comparison and formatting", "[types][unit]") {
  constexpr pnpdist::Extents<3> e{2, 3, 4};
  static_assert(pnpdist::product(e) == 24);
  static_assert(pnpdist::Extents<3>::rank() == 3);
  CHECK(pnpdist::to_string(e) == "(2, 3, 4)");
  CHECK(e == pnpdist::Extents<3>{2, 3, 4});
  CHECK_FALSE(e == pnpdist::Extents<3>{2, 4, 3});
  CHECK(pnpdist::product(pnpdist::Extents<2>{5, 0}) == 0);
  CHECK(pnpdist::product(pnpdist::Extents<0>{}) == 1);
}

TEST_CASE("image and volume shapes name their axes", "[types][unit]") {
  constexpr auto image = pnpdist::image_shape(2, 3, 480, 640);
  static_assert(pnpdist::batch_size(image) == 2 && pnpdist::channels(image) == 3);
  static_assert(pnpdist::height(image) == 480 && pnpdist::width(image) == 640);
  constexpr auto volume = pnpdist::volume_shape(1, 1, 64, 128, 256);
  static_assert(pnpdist::depth(volume) == 64 && pnpdist::height(volume) == 128 && pnpdist::width(volume) == 256);
  static_assert(std::is_same_v<pnpdist::accumulator_t<float>, double>);
  static_assert(std::is_same_v<pnpdist::accumulator_t<pnpdist::index_t>, pnpdist::index_t>);
}
