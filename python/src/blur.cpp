// Blur: pnpdist.gaussian_psf, pnpdist.Blur (convolution with one PSF: direct, float32 or float64, or
// circular through FFTs, float32) and pnpdist.CircularBlurStack (circular FFT blurs stacked, with the fused
// data term of blur::CircularBlurStack).

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <string>
#include <vector>

#include "blur_stack.hpp"
#include "operator.hpp"
#include "options.hpp"
#include "pnpdist/physics/blur/direct_blur.hpp"
#include "pnpdist/physics/blur/fft_blur.hpp"
#include "pnpdist/physics/blur/psf.hpp"

namespace pnpdist::python {

namespace {

using BoundBlur =
    BoundOperator<blur::DirectBlur<float, HostExec>, blur::DirectBlur<double, HostExec>, blur::FftBlur<HostExec>>;

blur::Boundary parse_boundary(const Boundary& name) {
  constexpr blur::Boundary boundaries[] = {blur::Boundary::circular, blur::Boundary::same, blur::Boundary::valid};
  return boundaries[name.index()];
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

void construct_blur(BoundBlur* self, const ArrayLike& psf, const Shape& shape, const Boundary& boundary,
                    const BlurMethod& method, const ExecutorArg& executor) {
  const ArrayArg kernel = take_array(psf, ArraySpec{"psf", {}, {}, "", 2, 2});
  const blur::Boundary b = parse_boundary(boundary);
  const bool fft = method.index() == 1;
  image_shape_of(shape);  // checks the rank first
  const HostExec exec = executor_or_default(executor);
  if (fft) {
    if (b != blur::Boundary::circular) throw nb::value_error("method='fft' needs boundary='circular'");
    if (kernel.dtype != DType::float32) throw nb::type_error("method='fft' needs a float32 psf");
    construct<2, float>(self, exec, kernel, shape);
  } else if (kernel.dtype == DType::float32) {
    construct<0, float>(self, exec, kernel, shape, b);
  } else {
    construct<1, double>(self, exec, kernel, shape, b);
  }
}

NumpyArray gaussian_psf(double sigma, std::optional<double> sigma_2, double angle, const DTypeLike& dtype) {
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

void construct_blur_stack(BoundBlurStack* self, const std::vector<ArrayLike>& psfs, const Shape& shape,
                          const ArrayLike& measurements, const ExecutorArg& executor) {
  if (psfs.empty()) throw nb::value_error("psfs must hold at least one PSF");
  const ImageShape image = image_shape_of(shape);
  const HostExec exec = executor_or_default(executor);
  std::vector<BoundBlurStack::Blur> blurs;
  for (std::size_t i = 0; i < psfs.size(); ++i) {
    const std::string name = "psfs[" + std::to_string(i) + "]";
    const ArrayArg psf = take_array(psfs[i], ArraySpec{name.c_str(), {DType::float32}, {}, "", 2, 2});
    blurs.emplace_back(
        exec, View<const float, 2>(static_cast<const float*>(psf.data()), Extents<2>{psf.shape[0], psf.shape[1]}),
        image);
  }
  new (self) BoundBlurStack(std::move(blurs), shape);
  if (!measurements.is_none()) {
    const ArrayArg y = take_array(
        measurements, ArraySpec{"measurements", {DType::float32}, self->range_shape(), "(len(psfs), *shape)"});
    self->set_measurements(static_cast<const float*>(y.data()));
  }
}

/// x as the stack's domain (float32), checked.
const float* domain_data(const BoundBlurStack& s, nb::handle x, const char* name, ArrayArg& holder) {
  holder = take_array(x, ArraySpec{name, {DType::float32}, s.domain_shape(), "the stack's domain"});
  return static_cast<const float*>(holder.data());
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
                             return Boundary{std::string(blur::to_string(op.boundary()))};
                           else
                             return Boundary{"circular"};
                         },
                         b.op());
                   })
      .def_prop_ro("method", [](const BoundBlur& b) { return BlurMethod{b.op().index() == 2 ? "fft" : "direct"}; });

  nb::class_<BoundBlurStack, LinearOperator>(
      m, "CircularBlurStack",
      "N circular blurs (FFT, float32) of images of `shape` ((H, W), (C, H, W) or (N, C, H, W)), one per PSF "
      "in `psfs`: forward x -> (A_1 x, ..., A_N x) of shape (len(psfs), *shape), adjoint sum_i A_i^T y_i; with "
      "the measurements y ((len(psfs), *shape), zeros when None), the data term f(x) = 1/2 sum_i ||A_i x - "
      "y_i||^2 through the combined normal operator (one transform pair per gradient whatever N).")
      .def("__init__", &construct_blur_stack, nb::arg("psfs"), nb::arg("shape"), nb::arg("measurements") = nb::none(),
           nb::arg("executor") = nb::none())
      .def("__len__", &BoundBlurStack::size)
      .def(
          "set_measurements",
          [](BoundBlurStack& s, const ArrayLike& y) {
            const ArrayArg in = take_array(y, ArraySpec{"y", {DType::float32}, s.range_shape(), "(len(psfs), *shape)"});
            nb::gil_scoped_release release;
            const std::lock_guard<std::mutex> lock(s.mutex());
            s.set_measurements(static_cast<const float*>(in.data()));
          },
          nb::arg("y"), "Replaces the measurements (copied).")
      .def(
          "data_fidelity",
          [](const BoundBlurStack& s, const ArrayLike& x) {
            ArrayArg holder;
            const float* data = domain_data(s, x, "x", holder);
            nb::gil_scoped_release release;
            const std::lock_guard<std::mutex> lock(s.mutex());
            return s.data_fidelity(data);
          },
          nb::arg("x"), "f(x) = 1/2 sum_i ||A_i x - y_i||^2 (Parseval, accumulated in double).")
      .def(
          "gradient",
          [](const BoundBlurStack& s, const ArrayLike& x, const ArrayLike& out) -> NumpyArray {
            ArrayArg holder;
            const float* data = domain_data(s, x, "x", holder);
            auto [result, g] = output_array(out, "out", DType::float32, s.domain_shape(), "the stack's domain");
            require_disjoint(data, element_count(s.domain_shape()), g, element_count(s.domain_shape()), DType::float32,
                             "out must not overlap x");
            {
              nb::gil_scoped_release release;
              const std::lock_guard<std::mutex> lock(s.mutex());
              s.gradient(data, static_cast<float*>(g));
            }
            return nb::borrow<NumpyArray>(result);
          },
          nb::arg("x"), nb::arg("out") = nb::none(), "sum_i A_i^T (A_i x - y_i).")
      .def(
          "proximal",
          [](const BoundBlurStack& s, const ArrayLike& z, double weight, const ArrayLike& out) -> NumpyArray {
            ArrayArg holder;
            const float* data = domain_data(s, z, "z", holder);
            auto [result, x] = output_array(out, "out", DType::float32, s.domain_shape(), "the stack's domain");
            if (x != data)
              require_disjoint(data, element_count(s.domain_shape()), x, element_count(s.domain_shape()),
                               DType::float32, "out must be z or not overlap it");
            {
              nb::gil_scoped_release release;
              const std::lock_guard<std::mutex> lock(s.mutex());
              s.proximal(data, weight, static_cast<float*>(x));
            }
            return nb::borrow<NumpyArray>(result);
          },
          nb::arg("z"), nb::arg("weight"), nb::arg("out") = nb::none(),
          "argmin_x f(x) + weight/2 ||x - z||^2 in closed form (weight > 0); out may be z.");
}

}  // namespace pnpdist::python
