#include <catch2/catch.hpp>

#include <pnpdist/tensor/owning_tensor.hpp>
#include <pnpdist/tensor/shapes.hpp>
#include <pnpdist/tensor/view.hpp>

#include <string>

using pnpdist::Extents;
using pnpdist::index_t;

TEST_CASE("contiguous views are row-major", "[view][unit]") {
  pnpdist::Tensor<int, 4> t(pnpdist::image_shape(2, 3, 4, 5));
  for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<int>(i);
  const auto v = t.view();
  CHECK(v.strides() == Extents<4>{60, 20, 5, 1});
  CHECK(v.is_contiguous());
  CHECK(v(1, 2, 3, 4) == 1 * 60 + 2 * 20 + 3 * 5 + 4);
  CHECK(t(0, 1, 0, 2) == 22);
  pnpdist::View<const int, 4> cv = v;  // const conversion
  CHECK(cv(1, 0, 0, 0) == 60);
}

TEST_CASE("subviews address patches of the parent", "[view][unit]") {
  pnpdist::Tensor<int, 3> t(Extents<3>{4, 6, 8});
  for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<int>(i);
  const auto patch = pnpdist::subview(t.view(), Extents<3>{1, 2, 3}, Extents<3>{2, 3, 4});
  CHECK(patch.extents() == Extents<3>{2, 3, 4});
  CHECK_FALSE(patch.is_contiguous());
  CHECK(patch.size() == 24);
  for (index_t i = 0; i < 2; ++i)
    for (index_t j = 0; j < 3; ++j)
      for (index_t k = 0; k < 4; ++k) REQUIRE(patch(i, j, k) == t(i + 1, j + 2, k + 3));
  // A patch of a patch.
  const auto inner = pnpdist::subview(patch, Extents<3>{1, 1, 1}, Extents<3>{1, 2, 3});
  CHECK(inner(0, 1, 2) == t(2, 4, 6));
  // Full-width rows are contiguous.
  CHECK(pnpdist::subview(t.view(), Extents<3>{1, 0, 0}, Extents<3>{2, 6, 8}).is_contiguous());
}

TEST_CASE("subviews outside the parent are rejected with the shapes in the message", "[view][unit]") {
  pnpdist::Tensor<float, 2> t(Extents<2>{4, 4});
  try {
    (void)pnpdist::subview(t.view(), Extents<2>{2, 2}, Extents<2>{3, 1});
    FAIL("no exception");
  } catch (const pnpdist::dimension_mismatch& e) {
    const std::string m = e.message();
    CHECK(m.find("(2, 2)") != std::string::npos);
    CHECK(m.find("(3, 1)") != std::string::npos);
    CHECK(m.find("(4, 4)") != std::string::npos);
  }
  CHECK_THROWS_AS(pnpdist::subview(t.view(), Extents<2>{-1, 0}, Extents<2>{1, 1}), pnpdist::dimension_mismatch);
}

TEST_CASE("reshape keeps the elements and checks the size", "[view][unit]") {
  pnpdist::Tensor<int, 2> t(Extents<2>{6, 4});
  for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<int>(i);
  const auto r = pnpdist::reshape(t.view(), Extents<3>{2, 3, 4});
  CHECK(r(1, 2, 3) == 23);
  CHECK_THROWS_AS(pnpdist::reshape(t.view(), Extents<1>{25}), pnpdist::dimension_mismatch);
  const auto patch = pnpdist::subview(t.view(), Extents<2>{0, 1}, Extents<2>{6, 2});
  CHECK_THROWS_AS(pnpdist::reshape(patch, Extents<1>{12}), pnpdist::dimension_mismatch);
}

TEST_CASE("clone copies contiguous views and refuses strided ones", "[view][unit]") {
  pnpdist::Tensor<float, 2> t(Extents<2>{3, 3});
  for (index_t i = 0; i < t.size(); ++i) t.data()[i] = 0.5f * static_cast<float>(i);
  auto c = pnpdist::clone(t.const_view());
  CHECK(c.data() != t.data());
  CHECK(c(2, 2) == 4.0f);
  CHECK_THROWS_AS(pnpdist::clone(pnpdist::subview(t.view(), Extents<2>{0, 0}, Extents<2>{2, 2})),
                  pnpdist::dimension_mismatch);
  pnpdist::Tensor<float, 2> other(Extents<2>{3, 2});
  CHECK_THROWS_AS(pnpdist::deep_copy(other.view(), t.const_view()), pnpdist::dimension_mismatch);
}
