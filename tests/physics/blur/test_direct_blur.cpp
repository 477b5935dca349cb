#include <catch2/catch.hpp>

#include <pnpdist/io/npy.hpp>
#include <pnpdist/operators/adjoint_check.hpp>
#include <pnpdist/physics/blur/direct_blur.hpp>
#include <pnpdist/physics/blur/psf.hpp>

#include <string>

#include "physics/blur/blur_test_support.hpp"
#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;
using pnpdist::blur::Boundary;
using pnpdist::blur::DirectBlur;

TEMPLATE_LIST_TEST_CASE("DirectBlur equals the PyTorch conv2d / FFT references", "[blur][direct]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  const auto x = pnpdist::read_npy<float, 4>(pnpdist::test::blur_fixture("image_2x3x20x24.npy"));
  const auto psf = pnpdist::read_npy<float, 2>(pnpdist::test::blur_fixture("psf_2_1_30.npy"));
  const auto small = pnpdist::read_npy<float, 2>(pnpdist::test::blur_fixture("psf_5x3.npy"));
  struct Case {
    const char* file;
    bool small_psf;
    Boundary boundary;
  };
  const Case cases[] = {{"blur_same.npy", false, Boundary::same},
                        {"blur_valid.npy", false, Boundary::valid},
                        {"blur_circular.npy", false, Boundary::circular},
                        {"blur_valid_5x3.npy", true, Boundary::valid},
                        {"blur_circular_5x3.npy", true, Boundary::circular}};
  for (const Case& c : cases) {
    INFO(c.file);
    const auto reference = pnpdist::read_npy<float, 4>(pnpdist::test::blur_fixture(c.file));
    const DirectBlur<float, Exec> op(exec, (c.small_psf ? small : psf).const_view(), x.extents(), c.boundary);
    REQUIRE(op.range_shape() == reference.extents());
    Tensor<float, 4> y(op.range_shape());
    op.apply(x.const_view(), y.view());
    CHECK(pnpdist::test::relative_max_difference(y, reference) < 1e-5);
  }
}

TEMPLATE_LIST_TEST_CASE("DirectBlur is matched with its adjoint for every boundary", "[blur][direct][adjoint]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  const auto odd = pnpdist::test::random_tensor(Extents<2>{5, 3}, 7);
  const auto even = pnpdist::test::random_tensor(Extents<2>{4, 6}, 8);
  const Extents<4> shape{2, 3, 13, 11};
  for (Boundary b : {Boundary::circular, Boundary::same, Boundary::valid}) {
    INFO(pnpdist::blur::to_string(b));
    const DirectBlur<float, Exec> op(exec, odd.const_view(), shape, b);
    CHECK(pnpdist::adjoint_check(op, 1).passed(1e-5));
  }
  const DirectBlur<float, Exec> valid_even(exec, even.const_view(), shape, Boundary::valid);
  CHECK(valid_even.range_shape() == Extents<4>{2, 3, 10, 6});
  CHECK(pnpdist::adjoint_check(valid_even, 2).passed(1e-5));
  // A PSF as large as the image, with wrap-around in both directions.
  const auto full = pnpdist::test::random_tensor(Extents<2>{13, 11}, 9);
  const DirectBlur<float, Exec> wide(exec, full.const_view(), shape, Boundary::circular);
  CHECK(pnpdist::adjoint_check(wide, 3).passed(1e-5));
  const DirectBlur<double, Exec> in_double(exec, odd.const_view(), shape, Boundary::same);
  CHECK(pnpdist::adjoint_check(in_double, 4).passed(1e-12));
}

TEMPLATE_LIST_TEST_CASE("A centred delta PSF leaves the image in place", "[blur][direct]",
                        pnpdist::test::HostExecutors) {
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  Tensor<float, 2> delta(Extents<2>{5, 7});
  for (index_t i = 0; i < delta.size(); ++i) delta.data()[i] = 0.0f;
  delta(2, 3) = 1.0f;
  const auto x = pnpdist::test::random_tensor(Extents<4>{1, 2, 9, 10}, 11);
  for (Boundary b : {Boundary::circular, Boundary::same}) {
    const DirectBlur<float, Exec> op(exec, delta.const_view(), x.extents(), b);
    Tensor<float, 4> y(x.extents());
    op.apply(x.const_view(), y.view());
    CHECK(pnpdist::test::relative_max_difference(y, x) == 0.0);
  }
  // A one-pixel shift kernel moves the content by one pixel, in the convolution's direction.
  delta(2, 3) = 0.0f;
  delta(2, 4) = 1.0f;  // h(c, c + 1): y(i, j) = x(i, j - 1)
  const DirectBlur<float, Exec> shift(exec, delta.const_view(), x.extents(), Boundary::circular);
  Tensor<float, 4> y(x.extents());
  shift.apply(x.const_view(), y.view());
  CHECK(y(0, 1, 4, 5) == x(0, 1, 4, 4));
  CHECK(y(0, 1, 4, 0) == x(0, 1, 4, 9));
}

TEST_CASE("DirectBlur rejects bad PSFs and shapes with clear errors", "[blur][direct][errors]") {
  const pnpdist::Serial exec;
  const auto psf = pnpdist::test::random_tensor(Extents<2>{5, 5}, 1);
  const auto even = pnpdist::test::random_tensor(Extents<2>{4, 5}, 2);
  const Extents<4> shape{1, 3, 8, 8};
  using Op = DirectBlur<float, pnpdist::Serial>;
  CHECK_THROWS_AS(Op(exec, psf.const_view(), Extents<4>{1, 1, 4, 8}, Boundary::same), pnpdist::dimension_mismatch);
  CHECK_THROWS_AS(Op(exec, psf.const_view(), Extents<4>{1, 1, 8, 3}, Boundary::valid), pnpdist::dimension_mismatch);
  CHECK_THROWS_AS(Op(exec, even.const_view(), shape, Boundary::same), pnpdist::invalid_argument);
  CHECK_THROWS_AS(Op(exec, even.const_view(), shape, Boundary::circular), pnpdist::invalid_argument);
  CHECK_NOTHROW(Op(exec, even.const_view(), shape, Boundary::valid));
  try {
    Op(exec, even.const_view(), shape, Boundary::same);
  } catch (const pnpdist::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::Contains("4 x 5") && Catch::Contains("odd"));
  }
  const Op op(exec, psf.const_view(), shape, Boundary::same);
  Tensor<float, 4> one_channel(Extents<4>{1, 1, 8, 8});
  Tensor<float, 4> y(shape);
  CHECK_THROWS_AS(op.apply(one_channel.const_view(), y.view()), pnpdist::dimension_mismatch);
  CHECK_THROWS_AS(op.apply_adjoint(y.const_view(), one_channel.view()), pnpdist::dimension_mismatch);
}
