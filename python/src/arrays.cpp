#include "arrays.hpp"

#include <nanobind/stl/string.h>

#include <algorithm>
#include <cstdint>

namespace pnpdist::python {

namespace {

constexpr int dlpack_cpu = 1;

std::string array_dtype_name(const nb::ndarray<nb::ro>& a) {
  const auto dt = a.dtype();
  const char* prefix = "unknown";
  switch (dt.code) {
    case static_cast<std::uint8_t>(nb::dlpack::dtype_code::Int):
      prefix = "int";
      break;
    case static_cast<std::uint8_t>(nb::dlpack::dtype_code::UInt):
      prefix = "uint";
      break;
    case static_cast<std::uint8_t>(nb::dlpack::dtype_code::Float):
      prefix = "float";
      break;
    case static_cast<std::uint8_t>(nb::dlpack::dtype_code::Bool):
      return "bool";
    case static_cast<std::uint8_t>(nb::dlpack::dtype_code::Complex):
      prefix = "complex";
      break;
    default:
      break;
  }
  return std::string(prefix) + std::to_string(dt.bits);
}

bool is_dtype(const nb::ndarray<nb::ro>& a, DType dtype) {
  return a.dtype() == (dtype == DType::float32 ? nb::dtype<float>() : nb::dtype<double>());
}

std::string dtype_list(const std::vector<DType>& dtypes) {
  std::string s;
  for (std::size_t i = 0; i < dtypes.size(); ++i) s += std::string(i ? " or " : "") + dtype_name(dtypes[i]);
  return s;
}

std::string expected_shape(const ArraySpec& spec) {
  std::string s = shape_string(spec.shape);
  if (spec.shape_meaning[0] != '\0') s += " (" + std::string(spec.shape_meaning) + ")";
  return s;
}

}  // namespace

const char* dtype_name(DType dtype) { return dtype == DType::float32 ? "float32" : "float64"; }

DType parse_dtype(nb::handle dtype) {
  std::string name;
  try {
    name = nb::cast<std::string>(nb::module_::import_("numpy").attr("dtype")(dtype).attr("name"));
  } catch (const nb::python_error&) {
    throw nb::type_error("dtype must be float32 or float64 (a numpy dtype or its name)");
  }
  if (name == "float32") return DType::float32;
  if (name == "float64") return DType::float64;
  throw nb::type_error(("dtype must be float32 or float64, got " + name).c_str());
}

std::string shape_string(const Shape& shape) {
  std::string s = "(";
  for (std::size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  if (shape.size() == 1) s += ",";
  return s + ")";
}

index_t element_count(const Shape& shape) {
  index_t n = 1;
  for (index_t e : shape) n *= e;
  return n;
}

ArrayArg take_array(nb::handle object, const ArraySpec& spec) {
  const std::string name = spec.name;
  ArrayArg arg;
  if (spec.writable) {
    nb::ndarray<> writable;
    if (nb::try_cast(object, writable, false)) {
      arg.array = nb::ndarray<nb::ro>(writable);
    } else if (nb::try_cast(object, arg.array, false)) {
      throw nb::value_error((name + " is read-only; the result is written into it").c_str());
    }
  } else {
    (void)nb::try_cast(object, arg.array, false);
  }
  if (!arg.array.is_valid()) {
    if (nb::hasattr(object, "requires_grad") && object.attr("requires_grad").is(nb::handle(Py_True)))
      throw nb::type_error((name + " is a torch tensor that requires grad: pass " + name +
                            ".detach(), or use pnpdist.torch for autograd")
                               .c_str());
    const std::string type = nb::cast<std::string>(nb::type_name(object.type()));
    throw nb::type_error((name + " must be an array (numpy array or CPU torch tensor), got " + type).c_str());
  }
  const nb::ndarray<nb::ro>& a = arg.array;
  if (a.device_type() != dlpack_cpu)
    throw nb::type_error((name + " lives on a device other than the CPU; only CPU arrays are supported").c_str());
  const std::vector<DType> allowed =
      spec.dtypes.empty() ? std::vector<DType>{DType::float32, DType::float64} : spec.dtypes;
  const auto match = std::find_if(allowed.begin(), allowed.end(), [&](DType d) { return is_dtype(a, d); });
  if (match == allowed.end())
    throw nb::type_error((name + " must have dtype " + dtype_list(allowed) + ", got " + array_dtype_name(a) +
                          " (no implicit conversion: convert it with .astype())")
                             .c_str());
  arg.dtype = *match;
  for (std::size_t d = 0; d < a.ndim(); ++d) arg.shape.push_back(static_cast<index_t>(a.shape(d)));
  if (!spec.shape.empty()) {
    if (arg.shape != spec.shape)
      throw nb::value_error(
          (name + " must have shape " + expected_shape(spec) + ", got " + shape_string(arg.shape)).c_str());
  } else if (a.ndim() < spec.min_rank || a.ndim() > spec.max_rank) {
    throw nb::value_error((name + " must have " + std::to_string(spec.min_rank) + " to " +
                           std::to_string(spec.max_rank) + " dimensions, got shape " + shape_string(arg.shape))
                              .c_str());
  }
  // C order: strides (in elements) of the row-major layout, ignoring extents of 1.
  index_t expected = 1;
  for (std::size_t d = a.ndim(); d-- > 0;) {
    if (a.shape(d) != 1 && a.stride(d) != expected)
      throw nb::value_error(
          (name + " must be C-contiguous (row-major); pass numpy.ascontiguousarray(" + name + ")").c_str());
    expected *= static_cast<index_t>(a.shape(d));
  }
  return arg;
}

nb::object new_array(DType dtype, const Shape& shape, void** data) {
  const Extents<1> n{element_count(shape)};
  if (dtype == DType::float32) {
    Tensor<float, 1> t(n);
    *data = t.data();
    return adopt_tensor(std::move(t), shape);
  }
  Tensor<double, 1> t(n);
  *data = t.data();
  return adopt_tensor(std::move(t), shape);
}

std::pair<nb::object, void*> output_array(nb::handle out, const char* name, DType dtype, const Shape& shape,
                                          const char* shape_meaning) {
  if (out.is_none()) {
    void* data = nullptr;
    nb::object array = new_array(dtype, shape, &data);
    return {array, data};
  }
  const ArrayArg arg = take_array(out, ArraySpec{name, {dtype}, shape, shape_meaning, 1, 8, true});
  return {nb::borrow(out), arg.mutable_data()};
}

void require_disjoint(const void* a, index_t count_a, const void* b, index_t count_b, DType dtype, const char* what) {
  const auto size = static_cast<std::uintptr_t>(dtype == DType::float32 ? sizeof(float) : sizeof(double));
  const auto pa = reinterpret_cast<std::uintptr_t>(a), pb = reinterpret_cast<std::uintptr_t>(b);
  if (pa < pb + static_cast<std::uintptr_t>(count_b) * size && pb < pa + static_cast<std::uintptr_t>(count_a) * size)
    throw nb::value_error(what);
}

NumpyArray array_from(const std::vector<double>& values, const Shape& shape) {
  void* data = nullptr;
  nb::object array = new_array(DType::float64, shape, &data);
  std::copy(values.begin(), values.end(), static_cast<double*>(data));
  return nb::borrow<NumpyArray>(array);
}

}  // namespace pnpdist::python
