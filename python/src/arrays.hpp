#pragma once
// Array exchange between Python and the library. Every array argument goes through take_array(), which
// accepts any object exporting DLPack or the buffer protocol (numpy arrays, CPU torch tensors) without a
// copy or a cast, and raises
//   TypeError   for an object that is no array, an array on another device, or another dtype than expected;
//   ValueError  for another shape, a non-C-contiguous array, or a read-only array where one is written.
// Each message names the argument and the expected dtype / shape. New arrays are numpy arrays whose memory
// is a library Tensor owned by the array (no copy when a solver's result is returned).

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "pnpdist/core/types.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist::python {

namespace nb = nanobind;

/// The element types the bindings support.
enum class DType { float32, float64 };

/// Shapes as Python sees them (any rank).
using Shape = std::vector<index_t>;

template <class T>
constexpr DType dtype_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "float32 or float64");
  return std::is_same_v<T, float> ? DType::float32 : DType::float64;
}

/// "float32" or "float64".
const char* dtype_name(DType dtype);
/// The DType of a numpy dtype, a type (numpy.float32) or a name ("float32"); TypeError otherwise.
DType parse_dtype(nb::handle dtype);
/// "(2, 3)".
std::string shape_string(const Shape& shape);
/// The product of the extents.
index_t element_count(const Shape& shape);

namespace detail {
inline bool any_object(PyObject*) { return true; }
}  // namespace detail

/// An array argument as the binding signatures and type stubs name it: any object (take_array() checks it), shown as
/// `ArrayLike`, the alias `numpy.ndarray | torch.Tensor` that python/stubs.pat declares in the stub.
class ArrayLike : public nb::object {
  NB_OBJECT_DEFAULT(ArrayLike, object, "ArrayLike", detail::any_object)
};

/// A dtype argument as the signatures name it: any object (parse_dtype() checks it), shown as `DTypeLike`, the alias
/// of the float32 / float64 spellings (names, numpy types and dtypes) that python/stubs.pat declares in the stub.
class DTypeLike : public nb::object {
  NB_OBJECT_DEFAULT(DTypeLike, object, "DTypeLike", detail::any_object)
};

/// A numpy dtype result as the signatures name it (`numpy.dtype`).
class NumpyDType : public nb::object {
  NB_OBJECT_DEFAULT(NumpyDType, object, "numpy.dtype", detail::any_object)
};

/// A result array as the signatures name it (`numpy.ndarray`): the new arrays below, or an argument `out` returned.
class NumpyArray : public nb::object {
  NB_OBJECT_DEFAULT(NumpyArray, object, "numpy.ndarray", detail::any_object)
};

/// A checked array argument: keeps the exported array alive while its data is used.
struct ArrayArg {
  nb::ndarray<nb::ro> array;
  Shape shape;
  DType dtype = DType::float32;
  [[nodiscard]] const void* data() const { return array.data(); }
  /// The data as writable (only for arguments taken with writable = true).
  [[nodiscard]] void* mutable_data() const { return const_cast<void*>(array.data()); }
};

/// What an argument must be. An empty `dtypes` accepts float32 and float64; `shape` empty accepts any shape of
/// rank in [min_rank, max_rank]; `shape_meaning` names the expected shape in messages ("the operator's domain").
struct ArraySpec {
  const char* name;
  std::vector<DType> dtypes;
  Shape shape;
  const char* shape_meaning = "";
  std::size_t min_rank = 1;
  std::size_t max_rank = 8;
  bool writable = false;
};

/// Checks `object` against `spec` (see the file comment) and returns it without copying.
ArrayArg take_array(nb::handle object, const ArraySpec& spec);

/// A new numpy array of `shape` and `dtype` (uninitialized), owning a library tensor; `data` receives its address.
nb::object new_array(DType dtype, const Shape& shape, void** data);

/// The output array: `out` checked as a writable array of `shape` and `dtype` when given (not None), a new array
/// otherwise. Returns the array object and its data.
std::pair<nb::object, void*> output_array(nb::handle out, const char* name, DType dtype, const Shape& shape,
                                          const char* shape_meaning);

/// ValueError unless the `count_a` elements at `a` and the `count_b` at `b` (of `dtype`) are disjoint: the library's
/// inputs and outputs must not overlap.
void require_disjoint(const void* a, index_t count_a, const void* b, index_t count_b, DType dtype, const char* what);

/// A numpy array of `shape` viewing the contiguous tensor `tensor`, which it takes over (no copy).
template <class T, std::size_t Rank>
NumpyArray adopt_tensor(Tensor<T, Rank>&& tensor, const Shape& shape) {
  auto* owned = new Tensor<T, Rank>(std::move(tensor));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<Tensor<T, Rank>*>(p); });
  std::vector<std::size_t> extents(shape.begin(), shape.end());
  nb::ndarray<nb::numpy, T> array(owned->data(), extents.size(), extents.data(), owner);
  return nb::borrow<NumpyArray>(nb::cast(array, nb::rv_policy::reference));
}

/// A numpy array holding a copy of `values` (small host vectors: residual histories, geometry vectors).
NumpyArray array_from(const std::vector<double>& values, const Shape& shape);

}  // namespace pnpdist::python
