#include <catch2/catch.hpp>

#include <pnpdist/io/npy.hpp>
#include <pnpdist/operators/adjoint_check.hpp>
#include <pnpdist/physics/blur/direct_blur.hpp>
#include <pnpdist/physics/blur/fft_blur.hpp>
#include <pnpdist/physics/blur/psf.hpp>
#include <pnpdist/physics/fft/real_fft_2d.hpp>

#include <cmath>
#include <complex>
#include <numbers>

#include "physics/blur/blur_test_support.hpp"
#include "support/host_executors.hpp"

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;
using pnpdist::blur::Boundary;
using pnpdist::blur::DirectBlur;
using pnpdist::blur::FftBlur;

#if defined(PNPDIST_HAS_FFTW)

namespace {
struct EstimatePlanning {
  // Small test shapes: the measured planner would spend more time than the transforms.
  EstimatePlanning() { pnpdist::fft::set_fftw_planning(pnpdist::fft::FftwPlanning::estimate); }
};
}  // namespace

TEST_CASE("RealFft2d computes the DFT and its unnormalized inverse", "[blur][fft]") {
  EstimatePlanning estimate;
  const pnpdist::Serial exec;
  const index_t h = 6, w = 5;
  const auto x = pnpdist::test::random_tensor(Extents<3>{2, h, w}, 3);
  const pnpdist::fft::RealFft2d<pnpdist::Serial> fft(exec, 2, h, w);
  Tensor<pnpdist::fft::Complex<float>, 3> X(fft.spectrum_shape());
  fft.forward(x.const_view(), X.view());
  for (index_t b = 0; b < 2; ++b) {
    for (index_t u = 0; u < h; ++u) {
      for (index_t v = 0; v < w / 2 + 1; ++v) {
        std::complex<double> s = 0;
        for (index_t i = 0; i < h; ++i)
          for (index_t j = 0; j < w; ++j)
            s += static_cast<double>(x(b, i, j)) *
                 std::polar(1.0, -2 * std::numbers::pi * (double(u * i) / double(h) + double(v * j) / double(w)));
        CHECK(X(b, u, v).re == Approx(s.real()).margin(1e-5));
        CHECK(X(b, u, v).im == Approx(s.imag()).margin(1e-5));
      }
    }
  }
  Tensor<float, 3> back(fft.real_shape());
  fft.inverse(X.view(), back.view());
  for (index_t i = 0; i < x.size(); ++i) CHECK(back.data()[i] == Approx(h * w * x.data()[i]).margin(1e-4));
  Tensor<float, 3> wrong(Extents<3>{2, h, w + 1});
  CHECK_THROWS_AS(fft.forward(wrong.const_view(), X.view()), pnpdist::dimension_mismatch);
}

TEMPLATE_LIST_TEST_CASE("FftBlur equals the PyTorch FFT reference and the direct circular blur", "[blur][fft]",
                        pnpdist::test::HostExecutors) {
  EstimatePlanning estimate;
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  const auto x = pnpdist::read_npy<float, 4>(pnpdist::test::blur_fixture("image_2x3x20x24.npy"));
  for (const char* name : {"psf_2_1_30.npy", "psf_5x3.npy"}) {
    INFO(name);
    const auto psf = pnpdist::read_npy<float, 2>(pnpdist::test::blur_fixture(name));
    const auto reference = pnpdist::read_npy<float, 4>(pnpdist::test::blur_fixture(
        std::string(name) == "psf_5x3.npy" ? "blur_circular_5x3.npy" : "blur_circular.npy"));
    const FftBlur<Exec> op(exec, psf.const_view(), x.extents());
    Tensor<float, 4> y(x.extents());
    op.apply(x.const_view(), y.view());
    CHECK(pnpdist::test::relative_max_difference(y, reference) < 1e-5);
  }
  // Odd widths and heights (the half spectrum without a Nyquist column), against the direct blur.
  const Extents<4> shape{1, 2, 17, 15};
  const auto psf = pnpdist::test::random_tensor(Extents<2>{7, 5}, 21);
  const auto image = pnpdist::test::random_tensor(shape, 22);
  const FftBlur<Exec> fft_op(exec, psf.const_view(), shape);
  const DirectBlur<float, Exec> direct(exec, psf.const_view(), shape, Boundary::circular);
  Tensor<float, 4> a(shape), b(shape);
  fft_op.apply(image.const_view(), a.view());
  direct.apply(image.const_view(), b.view());
  CHECK(pnpdist::test::relative_max_difference(a, b) < 1e-5);
  fft_op.apply_adjoint(image.const_view(), a.view());
  direct.apply_adjoint(image.const_view(), b.view());
  CHECK(pnpdist::test::relative_max_difference(a, b) < 1e-5);
}

TEMPLATE_LIST_TEST_CASE("FftBlur is matched with its adjoint", "[blur][fft][adjoint]", pnpdist::test::HostExecutors) {
  EstimatePlanning estimate;
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  const auto psf = pnpdist::blur::gaussian_psf<float>(2.0, 1.0, 60.0);
  const FftBlur<Exec> op(exec, psf.const_view(), Extents<4>{2, 3, 16, 19});
  CHECK(pnpdist::adjoint_check(op, 5).passed(1e-5));
  const auto odd = pnpdist::test::random_tensor(Extents<2>{3, 9}, 4);
  const FftBlur<Exec> op2(exec, odd.const_view(), Extents<4>{1, 1, 9, 9});
  CHECK(pnpdist::adjoint_check(op2, 6).passed(1e-5));
}

TEST_CASE("FftBlur has no half-pixel shift", "[blur][fft]") {
  EstimatePlanning estimate;
  const pnpdist::Serial exec;
  const Extents<4> shape{1, 1, 16, 18};
  // A delta image blurred by a PSF is the PSF centred on the delta (the PSF centre lands on the pixel).
  const auto psf = pnpdist::test::random_tensor(Extents<2>{5, 7}, 31);
  Tensor<float, 4> x(shape);
  for (index_t i = 0; i < x.size(); ++i) x.data()[i] = 0.0f;
  x(0, 0, 6, 9) = 1.0f;
  const FftBlur<pnpdist::Serial> op(exec, psf.const_view(), shape);
  Tensor<float, 4> y(shape);
  op.apply(x.const_view(), y.view());
  for (index_t i = 0; i < 16; ++i) {
    for (index_t j = 0; j < 18; ++j) {
      const index_t a = i - 6 + 2, b = j - 9 + 3;
      const float expected = (a >= 0 && a < 5 && b >= 0 && b < 7) ? psf(a, b) : 0.0f;
      CHECK(y(0, 0, i, j) == Approx(expected).margin(1e-6));
    }
  }
  // A centred delta PSF is the identity.
  Tensor<float, 2> delta(Extents<2>{3, 3});
  for (index_t i = 0; i < 9; ++i) delta.data()[i] = 0.0f;
  delta(1, 1) = 1.0f;
  const auto image = pnpdist::test::random_tensor(shape, 32);
  const FftBlur<pnpdist::Serial> identity(exec, delta.const_view(), shape);
  identity.apply(image.const_view(), y.view());
  CHECK(pnpdist::test::relative_max_difference(y, image) < 1e-6);
}

TEMPLATE_LIST_TEST_CASE("FftBlur::apply_normal equals apply followed by apply_adjoint", "[blur][fft][adjoint]",
                        pnpdist::test::HostExecutors) {
  EstimatePlanning estimate;
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  const Extents<4> shape{2, 3, 16, 19};
  const auto image = pnpdist::test::random_tensor(shape, 43);
  // A PSF with no symmetry: A^T A differs from A A and from A.
  const FftBlur<Exec> op(exec, pnpdist::test::random_tensor(Extents<2>{5, 3}, 44).const_view(), shape);
  Tensor<float, 4> blurred(shape), expected(shape), got(shape);
  op.apply(image.const_view(), blurred.view());
  op.apply_adjoint(blurred.const_view(), expected.view());
  op.apply_normal(image.const_view(), got.view());
  CHECK(pnpdist::test::relative_max_difference(got, expected) < 1e-6);
  op.apply(blurred.const_view(), got.view());  // A A x, not A^T A x
  CHECK(pnpdist::test::relative_max_difference(got, expected) > 1e-2);
  Tensor<float, 4> in_place = pnpdist::clone(image.const_view());
  op.apply_normal(in_place.const_view(), in_place.view());
  CHECK(pnpdist::test::relative_max_difference(in_place, expected) < 1e-6);
  Tensor<float, 4> small(Extents<4>{1, 3, 16, 19});
  CHECK_THROWS_AS(op.apply_normal(image.const_view(), small.view()), pnpdist::dimension_mismatch);
}

TEMPLATE_LIST_TEST_CASE("FftBlur::apply_to_spectrum blurs the image whose spectrum it is given", "[blur][fft]",
                        pnpdist::test::HostExecutors) {
  EstimatePlanning estimate;
  const auto exec = pnpdist::test::make_executor<TestType>();
  using Exec = std::remove_const_t<decltype(exec)>;
  const Extents<4> shape{2, 3, 16, 19};
  const auto image = pnpdist::test::random_tensor(shape, 41);
  const FftBlur<Exec> first(exec, pnpdist::blur::gaussian_psf<float>(2.0, 1.0, 30.0).const_view(), shape);
  const FftBlur<Exec> second(exec, pnpdist::test::random_tensor(Extents<2>{5, 3}, 42).const_view(), shape);
  // One transform of the image serves both blurs (the transform of `first` is the one `second` uses too).
  Tensor<typename FftBlur<Exec>::complex_type, 3> spectrum(first.transform().spectrum_shape());
  first.transform().forward(pnpdist::reshape(image.const_view(), Extents<3>{6, 16, 19}), spectrum.view());
  for (const FftBlur<Exec>* op : {&first, &second}) {
    Tensor<float, 4> expected(shape), got(shape);
    op->apply(image.const_view(), expected.view());
    op->apply_to_spectrum(spectrum.const_view(), got.view());
    CHECK(pnpdist::test::relative_max_difference(got, expected) < 1e-6);
  }
  Tensor<float, 4> small(Extents<4>{1, 3, 16, 19});
  CHECK_THROWS_AS(first.apply_to_spectrum(spectrum.const_view(), small.view()), pnpdist::dimension_mismatch);
  Tensor<typename FftBlur<Exec>::complex_type, 3> wrong(Extents<3>{1, 16, 10});
  CHECK_THROWS_AS(first.apply_to_spectrum(wrong.const_view(), pnpdist::Tensor<float, 4>(shape).view()),
                  pnpdist::dimension_mismatch);
}

TEST_CASE("FftBlur rejects bad PSFs and shapes", "[blur][fft][errors]") {
  const pnpdist::Serial exec;
  const auto even = pnpdist::test::random_tensor(Extents<2>{4, 3}, 1);
  const auto big = pnpdist::test::random_tensor(Extents<2>{9, 9}, 2);
  CHECK_THROWS_AS(FftBlur<pnpdist::Serial>(exec, even.const_view(), Extents<4>{1, 1, 8, 8}), pnpdist::invalid_argument);
  CHECK_THROWS_AS(FftBlur<pnpdist::Serial>(exec, big.const_view(), Extents<4>{1, 1, 8, 16}),
                  pnpdist::dimension_mismatch);
  EstimatePlanning estimate;
  const auto psf = pnpdist::test::random_tensor(Extents<2>{3, 3}, 3);
  const FftBlur<pnpdist::Serial> op(exec, psf.const_view(), Extents<4>{1, 3, 8, 8});
  Tensor<float, 4> gray(Extents<4>{1, 1, 8, 8});
  Tensor<float, 4> colour(Extents<4>{1, 3, 8, 8});
  CHECK_THROWS_AS(op.apply(gray.const_view(), colour.view()), pnpdist::dimension_mismatch);
}

#else

TEST_CASE("FftBlur says that FFTW was not compiled", "[blur][fft]") {
  const pnpdist::Serial exec;
  Tensor<float, 2> psf(Extents<2>{3, 3});
  for (index_t i = 0; i < 9; ++i) psf.data()[i] = 1.0f / 9;
  CHECK_THROWS_AS(FftBlur<pnpdist::Serial>(exec, psf.const_view(), Extents<4>{1, 1, 8, 8}), pnpdist::not_compiled);
}

#endif
