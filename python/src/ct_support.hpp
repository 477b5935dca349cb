#pragma once
// Helpers shared by the 2D and 3D CT bindings: filter names and per-view vectors from a float64 array.

#include <array>
#include <string>
#include <vector>

#include <nanobind/stl/vector.h>

#include "arrays.hpp"
#include "options.hpp"
#include "pnpdist/physics/ct/filters.hpp"
#include "pnpdist/physics/ct/geometry.hpp"

namespace pnpdist::python {

/// The filter named 'ram_lak', 'shepp_logan', 'cosine' or 'hann'; ValueError otherwise.
inline ct::Filter parse_filter(const FilterName& name) {
  constexpr ct::Filter filters[] = {ct::Filter::ram_lak, ct::Filter::shepp_logan, ct::Filter::cosine, ct::Filter::hann};
  return filters[name.index()];
}

/// The rows of a (views, Columns) float64 array `vectors`; TypeError / ValueError naming it otherwise.
template <std::size_t Columns>
std::vector<std::array<double, Columns>> vector_rows(nb::handle vectors) {
  const ArrayArg v = take_array(vectors, ArraySpec{"vectors", {DType::float64}, {}, "", 2, 2});
  if (v.shape[1] != static_cast<index_t>(Columns))
    throw nb::value_error(
        ("vectors must have shape (views, " + std::to_string(Columns) + "), got " + shape_string(v.shape)).c_str());
  std::vector<std::array<double, Columns>> rows(static_cast<std::size_t>(v.shape[0]));
  const auto* data = static_cast<const double*>(v.data());
  for (std::size_t k = 0; k < rows.size(); ++k)
    for (std::size_t j = 0; j < Columns; ++j) rows[k][j] = data[k * Columns + j];
  return rows;
}

/// A (views, Columns) float64 array holding the geometry's vectors.
template <std::size_t Columns>
NumpyArray vectors_array(const std::vector<std::array<double, Columns>>& rows) {
  std::vector<double> flat;
  for (const auto& row : rows) flat.insert(flat.end(), row.begin(), row.end());
  return array_from(flat, {static_cast<index_t>(rows.size()), static_cast<index_t>(Columns)});
}

/// 'parallel' or the divergent beam's name ('fan' in 2D, 'cone' in 3D); ValueError for other names.
template <class Tag>
ct::Beam parse_beam(const Option<Tag>& name) {
  return name.index() == 0 ? ct::Beam::parallel : ct::Beam::divergent;
}

/// View angles in radians: a sequence of numbers or a 1D numpy array (copied as float64), so named in the
/// signatures and stubs.
struct Angles {
  std::vector<double> values;
};

}  // namespace pnpdist::python

namespace nanobind::detail {

/// Angles convert as std::vector<double> does; only the name in signatures differs.
template <>
struct type_caster<pnpdist::python::Angles> {
  NB_TYPE_CASTER(pnpdist::python::Angles, const_name("numpy.ndarray | collections.abc.Sequence[float]"))

  bool from_python(handle src, uint32_t flags, cleanup_list* cleanup) noexcept {
    make_caster<std::vector<double>> caster;
    if (!caster.from_python(src, flags, cleanup)) return false;
    value.values = std::move(caster.value);
    return true;
  }
};

}  // namespace nanobind::detail
