// 2D CT: pnpdist.Geometry2D (parallel and fan beam, ASTRA's vector conventions), pnpdist.JosephProjector2D
// (float32 or float64) and pnpdist.fbp.

#include <nanobind/stl/array.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>

#include "ct_support.hpp"
#include "operator.hpp"
#include "pnpdist/physics/ct/fbp.hpp"
#include "pnpdist/physics/ct/geometry.hpp"
#include "pnpdist/physics/ct/projector.hpp"

namespace pnpdist::python {

namespace {

using BoundProjector2D = BoundOperator<ct::JosephProjector2D<float, HostExec>, ct::JosephProjector2D<double, HostExec>>;

ct::VolumeGeometry2D volume_of(const std::array<index_t, 2>& image_shape, double pixel_size) {
  return ct::VolumeGeometry2D{image_shape[0], image_shape[1], pixel_size, pixel_size};
}

ct::Geometry2D from_vectors(const Beam2D& beam, const ArrayLike& vectors, index_t detector_cols,
                            const std::array<index_t, 2>& image_shape, double pixel_size) {
  ct::Geometry2D g{parse_beam(beam), volume_of(image_shape, pixel_size), detector_cols, vector_rows<6>(vectors)};
  ct::validate(g);
  return g;
}

void construct_projector(BoundProjector2D* self, const ct::Geometry2D& geometry, const DTypeLike& dtype,
                         const ExecutorArg& executor) {
  const HostExec exec = executor_or_default(executor);
  const Shape domain{geometry.volume.rows, geometry.volume.cols};
  const Shape range{geometry.views(), geometry.detector_cols};
  if (parse_dtype(dtype) == DType::float32)
    new (self) BoundProjector2D(BoundProjector2D::Variant(std::in_place_index<0>, exec, geometry), domain, range);
  else
    new (self) BoundProjector2D(BoundProjector2D::Variant(std::in_place_index<1>, exec, geometry), domain, range);
}

template <class T>
void run_fbp(const HostExec& exec, const ct::Geometry2D& g, const void* sinogram, void* image, ct::Filter filter) {
  ct::fbp<T>(exec, g, View<const T, 2>(static_cast<const T*>(sinogram), g.sinogram_shape()),
             View<T, 2>(static_cast<T*>(image), g.volume.shape()), filter);
}

NumpyArray fbp(const ct::Geometry2D& g, const ArrayLike& sinogram, const FilterName& filter_name,
               const ExecutorArg& executor, const ArrayLike& out) {
  const ct::Filter filter = parse_filter(filter_name);
  const HostExec exec = executor_or_default(executor);
  const Shape range{g.views(), g.detector_cols}, domain{g.volume.rows, g.volume.cols};
  const ArrayArg in = take_array(sinogram, ArraySpec{"sinogram", {}, range, "(views, detector_cols)"});
  auto [result, image] = output_array(out, "out", in.dtype, domain, "the image shape");
  require_disjoint(in.data(), element_count(range), image, element_count(domain), in.dtype,
                   "out must not overlap sinogram");
  {
    nb::gil_scoped_release release;
    if (in.dtype == DType::float32)
      run_fbp<float>(exec, g, in.data(), image, filter);
    else
      run_fbp<double>(exec, g, in.data(), image, filter);
  }
  return nb::borrow<NumpyArray>(result);
}

}  // namespace

void bind_ct(nb::module_& m) {
  nb::class_<ct::Geometry2D>(
      m, "Geometry2D",
      "A 2D parallel- or fan-beam geometry: one ASTRA parallel_vec / fanflat_vec row (6 numbers) per view, an "
      "image of image_shape = (rows, cols) pixels of side pixel_size centred at the origin, detector_cols "
      "detector pixels. Sinograms are (views, detector_cols).")
      .def_static("from_vectors", &from_vectors, nb::arg("beam"), nb::arg("vectors"), nb::arg("detector_cols"),
                  nb::arg("image_shape"), nb::arg("pixel_size") = 1.0,
                  "From ASTRA-style vectors (views, 6) float64: parallel (ray, detector centre, u) or fan "
                  "(source, detector centre, u). beam: 'parallel' or 'fan'.")
      .def_prop_ro("beam",
                   [](const ct::Geometry2D& g) { return Beam2D{g.beam == ct::Beam::parallel ? "parallel" : "fan"}; })
      .def_prop_ro("image_shape", [](const ct::Geometry2D& g) { return nb::make_tuple(g.volume.rows, g.volume.cols); })
      .def_prop_ro("sinogram_shape", [](const ct::Geometry2D& g) { return nb::make_tuple(g.views(), g.detector_cols); })
      .def_prop_ro("views", &ct::Geometry2D::views)
      .def_ro("detector_cols", &ct::Geometry2D::detector_cols)
      .def_prop_ro("pixel_size", [](const ct::Geometry2D& g) { return g.volume.pixel_size_x; })
      .def_prop_ro(
          "vectors", [](const ct::Geometry2D& g) { return vectors_array(g.vectors); },
          "A copy of the per-view vectors, (views, 6) float64.")
      .def("__repr__", [](const ct::Geometry2D& g) {
        return std::string("pnpdist.Geometry2D(beam='") + (g.beam == ct::Beam::parallel ? "parallel" : "fan") +
               "', views=" + std::to_string(g.views()) + ", detector_cols=" + std::to_string(g.detector_cols) +
               ", image_shape=(" + std::to_string(g.volume.rows) + ", " + std::to_string(g.volume.cols) + "))";
      });

  m.def(
      "parallel_beam_2d",
      [](const Angles& angles, index_t detector_cols, const std::array<index_t, 2>& image_shape, double pixel_size,
         double detector_pixel_size, double detector_offset) {
        return ct::parallel_beam_2d(angles.values, ct::Detector2D{detector_cols, detector_pixel_size, detector_offset},
                                    volume_of(image_shape, pixel_size));
      },
      nb::arg("angles"), nb::arg("detector_cols"), nb::arg("image_shape"), nb::arg("pixel_size") = 1.0,
      nb::arg("detector_pixel_size") = 1.0, nb::arg("detector_offset") = 0.0,
      "Parallel beam on a circular orbit (ASTRA 'parallel'): angles in radians, sizes in world units.");
  m.def(
      "fan_beam_2d",
      [](const Angles& angles, index_t detector_cols, double source_origin, double origin_detector,
         const std::array<index_t, 2>& image_shape, double pixel_size, double detector_pixel_size,
         double detector_offset) {
        return ct::fan_beam_2d(angles.values, ct::Detector2D{detector_cols, detector_pixel_size, detector_offset},
                               source_origin, origin_detector, volume_of(image_shape, pixel_size));
      },
      nb::arg("angles"), nb::arg("detector_cols"), nb::arg("source_origin"), nb::arg("origin_detector"),
      nb::arg("image_shape"), nb::arg("pixel_size") = 1.0, nb::arg("detector_pixel_size") = 1.0,
      nb::arg("detector_offset") = 0.0,
      "Fan beam with a flat detector on a circular orbit (ASTRA 'fanflat'): angles in radians, distances from "
      "the source to the origin and from the origin to the detector in world units.");

  nb::class_<BoundProjector2D, LinearOperator>(
      m, "JosephProjector2D",
      "Joseph's projector of a Geometry2D: forward projection (image_shape -> sinogram_shape) and its exact "
      "transpose. Deterministic: the same bits for every thread count. float64 computes in float64 throughout "
      "(ray positions, weights, back-projected values).")
      .def("__init__", &construct_projector, nb::arg("geometry"), nb::arg("dtype") = "float32",
           nb::arg("executor") = nb::none())
      .def_prop_ro("geometry", [](const BoundProjector2D& p) {
        return std::visit([](const auto& op) { return op.geometry(); }, p.op());
      });

  m.def("fbp", &fbp, nb::arg("geometry"), nb::arg("sinogram"), nb::arg("filter") = "ram_lak",
        nb::arg("executor") = nb::none(), nb::arg("out") = nb::none(),
        "Filtered back projection of a (views, detector_cols) sinogram into an image_shape image, in the "
        "sinogram's dtype. filter: 'ram_lak', 'shepp_logan', 'cosine' or 'hann'. Views spread uniformly over 180 "
        "degrees (parallel) or 360 degrees (fan) reconstruct a constant disc to its value.");
}

}  // namespace pnpdist::python
