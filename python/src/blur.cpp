// Blur: pnpdist.gaussian_psf and pnpdist.Blur (convolution with one PSF: direct, float32 or float64, or
// circular through FFTs, float32).

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <string>

#include "operator.hpp"
#include "pnpdist/physics/blur/direct_blur.hpp"
#include "pnpdist/physics/blur/fft_blur.hpp"
#include "pnpdist/physics/blur/psf.hpp"

namespace pnpdist::python {

namespace {

using BoundBlur =
    BoundOperator<blur::DirectBlur<float, HostExec>, blur::DirectBlur<double, HostExec>, blur::FftBlur<HostExec>>;

blur::Boundary parse_boundary(const std::string& name) {
  if (name == "circular") return blur::Boundary::circular;
  if (name == "same") return blur::Boundary::same;
  if (name == "valid") return blur::Boundary::valid;
  throw nb::value_error(("boundary must be 'circular', 'same' or 'valid', got '" + name + "'").c_str());
}

/// (H, W), (C, H, W) or (N, C, H, W) as N x C x H x W.
ImageShape image_shape_of(const Shape& shape) {
  if (shape.size() < 2 || shape.size() > 4)
    throw nb::value_error(("shape must be (H, W), (C, H, W) or (N, C, H, W), got " + shape_string(shape)).c_str());
  ImageShape s{1, 1, 1, 1};
  for (std::size_t d = 0; d < shape.size(); ++d) s[4 - shape.size() + d] = shape[d];
  return s;
}

/// The Python shape of the range: the domain shape with the last two extents of the C++ range.
Shape range_of(const Shape& domain, const ImageShape& range) {
  Shape out = domain;
  out[out.size() - 2] = range[2];
  out[out.size() - 1] = range[3];
  return out;
}

/// Alternative I of the operator variant, built from the PSF `psf` (of element type T) and the remaining
/// constructor arguments.
template <std::size_t I, class T, class... Args>
void construct(BoundBlur* self, const HostExec& exec, const ArrayArg& psf, const Shape& shape, Args... args) {
  const View<const T, 2> kernel(static_cast<const T*>(psf.data()), Extents<2>{psf.shape[0], psf.shape[1]});
  BoundBlur::Variant op(std::in_place_index<I>, exec, kernel, image_shape_of(shape), args...);
  const ImageShape range = std::get<I>(op).range_shape();
  new (self) BoundBlur(std::move(op), shape, range_of(shape, range));
}

void construct_blur(BoundBlur* self, nb::handle psf, const Shape& shape, const std::string& boundary,
                    const std::string& method, nb::handle executor) {
  const ArrayArg kernel = take_array(psf, ArraySpec{"psf", {}, {}, "", 2, 2});
  const blur::Boundary b = parse_boundary(boundary);
  image_shape_of(shape);  // checks the rank first
  const HostExec exec = executor_or_default(executor);
  if (method == "fft") {
    if (b != blur::Boundary::circular) throw nb::value_error("method='fft' needs boundary='circular'");
    if (kernel.dtype != DType::float32) throw nb::type_error("method='fft' needs a float32 psf");
    construct<2, float>(self, exec, kernel, shape);
  } else if (method == "direct") {
    if (kernel.dtype == DType::float32)
      construct<0, float>(self, exec, kernel, shape, b);
    else
      construct<1, double>(self, exec, kernel, shape, b);
  } else {
    throw nb::value_error(("method must be 'direct' or 'fft', got '" + method + "'").c_str());
  }
}

nb::object gaussian_psf(double sigma, std::optional<double> sigma_2, double angle, nb::handle dtype) {
  const double s2 = sigma_2.value_or(sigma);
  if (parse_dtype(dtype) == DType::float32) {
    auto psf = blur::gaussian_psf<float>(sigma, s2, angle);
    const Shape shape{psf.extent(0), psf.extent(1)};
    return adopt_tensor(std::move(psf), shape);
  }
  auto psf = blur::gaussian_psf<double>(sigma, s2, angle);
  const Shape shape{psf.extent(0), psf.extent(1)};
  return adopt_tensor(std::move(psf), shape);
}

}  // namespace

void bind_blur(nb::module_& m) {
  m.def("gaussian_psf", &gaussian_psf, nb::arg("sigma"), nb::arg("sigma_2") = nb::none(), nb::arg("angle") = 0.0,
        nb::arg("dtype") = "float32",
        "A Gaussian PSF normalized to sum 1 (DeepInv's rule): standard deviation `sigma` along the rows and "
        "`sigma_2` (default: sigma) along the columns, rotated by `angle` degrees; side 2 int(max / 0.3 + 1) + 1.");

  nb::class_<BoundBlur, LinearOperator>(
      m, "Blur",
      "Convolution of images of `shape` ((H, W), (C, H, W) or (N, C, H, W)) with one PSF (the same for every "
      "channel), in the PSF's dtype, and its exact transpose. boundary: 'circular' (periodic), 'same' (zero "
      "outside) or 'valid' (range (H - kh + 1, W - kw + 1)). method: 'direct' (the sum over the PSF, float32 "
      "or float64) or 'fft' (circular only, float32, FFTW: the cost does not grow with the PSF). The PSF is used "
      "as given (not normalized); it needs odd sides except for 'valid'.")
      .def("__init__", &construct_blur, nb::arg("psf"), nb::arg("shape"), nb::arg("boundary") = "circular",
           nb::arg("method") = "direct", nb::arg("executor") = nb::none())
      .def_prop_ro("boundary",
                   [](const BoundBlur& b) {
                     return std::visit(
                         [](const auto& op) {
                           if constexpr (requires { op.boundary(); })
                             return std::string(blur::to_string(op.boundary()));
                           else
                             return std::string("circular");
                         },
                         b.op());
                   })
      .def_prop_ro("method", [](const BoundBlur& b) { return b.op().index() == 2 ? "fft" : "direct"; });
}

}  // namespace pnpdist::python
