// pnpdist.LinearOperator: forward / adjoint / __call__ and the shapes, shared by every bound operator.

#include "operator.hpp"

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace pnpdist::python {

namespace {

nb::tuple shape_tuple(const Shape& shape) {
  nb::list items;
  for (index_t e : shape) items.append(e);
  return nb::tuple(items);
}

}  // namespace

nb::object LinearOperator::forward(nb::handle x, nb::handle out) const {
  const ArrayArg in = take_array(x, ArraySpec{"x", {dtype_}, domain_, "the operator's domain"});
  auto [result, y] = output_array(out, "out", dtype_, range_, "the operator's range");
  require_disjoint(in.data(), element_count(domain_), y, element_count(range_), dtype_, "out must not overlap x");
  {
    nb::gil_scoped_release release;
    const std::lock_guard<std::mutex> lock(mutex_);
    apply_raw(in.data(), y);
  }
  return result;
}

nb::object LinearOperator::adjoint(nb::handle y, nb::handle out) const {
  const ArrayArg in = take_array(y, ArraySpec{"y", {dtype_}, range_, "the operator's range"});
  auto [result, x] = output_array(out, "out", dtype_, domain_, "the operator's domain");
  require_disjoint(in.data(), element_count(range_), x, element_count(domain_), dtype_, "out must not overlap y");
  {
    nb::gil_scoped_release release;
    const std::lock_guard<std::mutex> lock(mutex_);
    adjoint_raw(in.data(), x);
  }
  return result;
}

void LinearOperator::normal_raw(const void* x, void* out) const {
  if (std::holds_alternative<std::monostate>(scratch_)) {
    const Extents<1> n{element_count(range_)};
    if (dtype_ == DType::float32)
      scratch_.emplace<Tensor<float, 1>>(n);
    else
      scratch_.emplace<Tensor<double, 1>>(n);
  }
  void* y = std::holds_alternative<Tensor<float, 1>>(scratch_)
                ? static_cast<void*>(std::get<Tensor<float, 1>>(scratch_).data())
                : static_cast<void*>(std::get<Tensor<double, 1>>(scratch_).data());
  apply_raw(x, y);
  adjoint_raw(y, out);
}

nb::object LinearOperator::normal(nb::handle x, nb::handle out) const {
  const ArrayArg in = take_array(x, ArraySpec{"x", {dtype_}, domain_, "the operator's domain"});
  auto [result, z] = output_array(out, "out", dtype_, domain_, "the operator's domain");
  if (z != in.data())
    require_disjoint(in.data(), element_count(domain_), z, element_count(domain_), dtype_,
                     "out must be x or not overlap it");
  {
    nb::gil_scoped_release release;
    const std::lock_guard<std::mutex> lock(mutex_);
    normal_raw(in.data(), z);
  }
  return result;
}

void bind_operator(nb::module_& m) {
  nb::class_<LinearOperator>(m, "LinearOperator",
                             "A linear operator A with its matched adjoint A^T (<A x, y> = <x, A^T y> up to "
                             "round-off). Arrays must be C-contiguous CPU arrays of the operator's dtype and shapes; "
                             "they are used in place, never copied or converted.")
      .def("forward", &LinearOperator::forward, nb::arg("x"), nb::arg("out") = nb::none(),
           nb::sig("def forward(self, x: ArrayLike, out: ArrayLike | None = None) -> numpy.ndarray"),
           "A x. x: the domain shape; the result is written into `out` when given, else into a new array.")
      .def("__call__", &LinearOperator::forward, nb::arg("x"), nb::arg("out") = nb::none(),
           nb::sig("def __call__(self, x: ArrayLike, out: ArrayLike | None = None) -> numpy.ndarray"), "A x (forward).")
      .def("adjoint", &LinearOperator::adjoint, nb::arg("y"), nb::arg("out") = nb::none(),
           nb::sig("def adjoint(self, y: ArrayLike, out: ArrayLike | None = None) -> numpy.ndarray"),
           "A^T y. y: the range shape; the result is written into `out` when given, else into a new array.")
      .def("normal", &LinearOperator::normal, nb::arg("x"), nb::arg("out") = nb::none(),
           nb::sig("def normal(self, x: ArrayLike, out: ArrayLike | None = None) -> numpy.ndarray"),
           "A^T A x in one call (the normal operator; equals adjoint(forward(x)) up to round-off). x: the domain "
           "shape; `out` may be x itself (in place). Blur with method='fft': one forward and one inverse FFT "
           "(multiplication by |H|^2) instead of two of each; other operators: forward then adjoint in C++ "
           "through a range-sized buffer that the object allocates on its first normal() call and keeps. Calls "
           "on one object are serialized (it is not thread-safe: the buffer is shared); separate objects run "
           "concurrently.")
      .def_prop_ro(
          "domain_shape", [](const LinearOperator& op) { return shape_tuple(op.domain_shape()); },
          "Shape of x in y = A x.")
      .def_prop_ro(
          "range_shape", [](const LinearOperator& op) { return shape_tuple(op.range_shape()); },
          "Shape of y in y = A x.")
      .def_prop_ro(
          "dtype",
          [](const LinearOperator& op) {
            return nb::borrow<NumpyDType>(nb::module_::import_("numpy").attr("dtype")(dtype_name(op.dtype())));
          },
          "numpy.float32 or numpy.float64.")
      .def_prop_ro(
          "threads", [](const LinearOperator& op) { return op.executor().concurrency(); },
          "The number of threads its executor uses.");
}

}  // namespace pnpdist::python
