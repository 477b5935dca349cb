// 3D CT: pnpdist.Geometry3D (parallel and cone beam, ASTRA's parallel3d_vec / cone_vec vectors),
// pnpdist.JosephProjector3D (float32 or float64) and pnpdist.fdk.

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

using BoundProjector3D = BoundOperator<ct::JosephProjector3D<float, HostExec>, ct::JosephProjector3D<double, HostExec>>;

ct::VolumeGeometry3D volume_of(const std::array<index_t, 3>& shape, double voxel_size) {
  return ct::VolumeGeometry3D{shape[0], shape[1], shape[2], voxel_size, voxel_size, voxel_size};
}

/// (rows, cols) detector with pixels of (height, width) and offsets along u and v.
ct::Detector3D detector_of(const std::array<index_t, 2>& shape, const std::array<double, 2>& pixel_size,
                           double offset_u, double offset_v) {
  return ct::Detector3D{shape[0], shape[1], pixel_size[0], pixel_size[1], offset_u, offset_v};
}

const char* beam_name(const ct::Geometry3D& g) { return g.beam == ct::Beam::parallel ? "parallel" : "cone"; }

ct::Geometry3D from_vectors(const Beam3D& beam, const ArrayLike& vectors,
                            const std::array<index_t, 2>& detector_shape, const std::array<index_t, 3>& volume_shape,
                            double voxel_size) {
  ct::Geometry3D g{parse_beam(beam), volume_of(volume_shape, voxel_size), detector_shape[0], detector_shape[1],
                   vector_rows<12>(vectors)};
  ct::validate(g);
  return g;
}

void construct_projector(BoundProjector3D* self, const ct::Geometry3D& geometry, const DTypeLike& dtype,
                         const ExecutorArg& executor) {
  const HostExec exec = executor_or_default(executor);
  const Shape domain{geometry.volume.slices, geometry.volume.rows, geometry.volume.cols};
  const Shape range{geometry.views(), geometry.detector_rows, geometry.detector_cols};
  if (parse_dtype(dtype) == DType::float32)
    new (self) BoundProjector3D(BoundProjector3D::Variant(std::in_place_index<0>, exec, geometry), domain, range);
  else
    new (self) BoundProjector3D(BoundProjector3D::Variant(std::in_place_index<1>, exec, geometry), domain, range);
}

template <class T>
void run_fdk(const HostExec& exec, const ct::Geometry3D& g, const void* projections, void* volume, ct::Filter filter) {
  ct::fdk<T>(exec, g, View<const T, 3>(static_cast<const T*>(projections), g.projection_shape()),
             View<T, 3>(static_cast<T*>(volume), g.volume.shape()), filter);
}

NumpyArray fdk(const ct::Geometry3D& g, const ArrayLike& projections, const FilterName& filter_name,
               const ExecutorArg& executor, const ArrayLike& out) {
  const ct::Filter filter = parse_filter(filter_name);
  const HostExec exec = executor_or_default(executor);
  const Shape range{g.views(), g.detector_rows, g.detector_cols};
  const Shape domain{g.volume.slices, g.volume.rows, g.volume.cols};
  const ArrayArg in =
      take_array(projections, ArraySpec{"projections", {}, range, "(views, detector_rows, detector_cols)"});
  auto [result, volume] = output_array(out, "out", in.dtype, domain, "the volume shape");
  require_disjoint(in.data(), element_count(range), volume, element_count(domain), in.dtype,
                   "out must not overlap projections");
  {
    nb::gil_scoped_release release;
    if (in.dtype == DType::float32)
      run_fdk<float>(exec, g, in.data(), volume, filter);
    else
      run_fdk<double>(exec, g, in.data(), volume, filter);
  }
  return nb::borrow<NumpyArray>(result);
}

}  // namespace

void bind_ct3d(nb::module_& m) {
  nb::class_<ct::Geometry3D>(
      m, "Geometry3D",
      "A 3D parallel- or cone-beam geometry: one ASTRA parallel3d_vec / cone_vec row (12 numbers: ray or "
      "source, detector centre, u (column step), v (row step)) per view, a volume of volume_shape = (slices, "
      "rows, cols) cubic voxels of side voxel_size centred at the origin (z, y, x), a detector of "
      "detector_shape = (rows, cols) pixels. Projections are (views, detector_rows, detector_cols).")
      .def_static("from_vectors", &from_vectors, nb::arg("beam"), nb::arg("vectors"), nb::arg("detector_shape"),
                  nb::arg("volume_shape"), nb::arg("voxel_size") = 1.0,
                  "From vectors (views, 12) float64 in pnpdist's volume layout. beam: 'parallel' or 'cone'.")
      .def_prop_ro("beam", [](const ct::Geometry3D& g) { return Beam3D{beam_name(g)}; })
      .def_prop_ro(
          "volume_shape",
          [](const ct::Geometry3D& g) { return nb::make_tuple(g.volume.slices, g.volume.rows, g.volume.cols); })
      .def_prop_ro("projection_shape",
                   [](const ct::Geometry3D& g) { return nb::make_tuple(g.views(), g.detector_rows, g.detector_cols); })
      .def_prop_ro("views", &ct::Geometry3D::views)
      .def_prop_ro("detector_shape",
                   [](const ct::Geometry3D& g) { return nb::make_tuple(g.detector_rows, g.detector_cols); })
      .def_prop_ro("voxel_size", [](const ct::Geometry3D& g) { return g.volume.voxel_size_x; })
      .def_prop_ro(
          "vectors", [](const ct::Geometry3D& g) { return vectors_array(g.vectors); },
          "A copy of the per-view vectors, (views, 12) float64.")
      .def("__repr__", [](const ct::Geometry3D& g) {
        return std::string("pnpdist.Geometry3D(beam='") + beam_name(g) + "', views=" + std::to_string(g.views()) +
               ", detector_shape=(" + std::to_string(g.detector_rows) + ", " + std::to_string(g.detector_cols) +
               "), volume_shape=(" + std::to_string(g.volume.slices) + ", " + std::to_string(g.volume.rows) + ", " +
               std::to_string(g.volume.cols) + "))";
      });

  m.def(
      "parallel_beam_3d",
      [](const Angles& angles, const std::array<index_t, 2>& detector_shape, const std::array<index_t, 3>& volume_shape,
         double voxel_size, const std::array<double, 2>& detector_pixel_size, double offset_u, double offset_v) {
        return ct::parallel_beam_3d(angles.values, detector_of(detector_shape, detector_pixel_size, offset_u, offset_v),
                                    volume_of(volume_shape, voxel_size));
      },
      nb::arg("angles"), nb::arg("detector_shape"), nb::arg("volume_shape"), nb::arg("voxel_size") = 1.0,
      nb::arg("detector_pixel_size") = std::array<double, 2>{1.0, 1.0}, nb::arg("offset_u") = 0.0,
      nb::arg("offset_v") = 0.0,
      "Parallel beam on a circular orbit about z (ASTRA 'parallel3d'): angles in radians, detector_pixel_size "
      "(height, width) and offsets in world units.");
  m.def(
      "cone_beam",
      [](const Angles& angles, const std::array<index_t, 2>& detector_shape, double source_origin,
         double origin_detector, const std::array<index_t, 3>& volume_shape, double voxel_size,
         const std::array<double, 2>& detector_pixel_size, double offset_u, double offset_v) {
        return ct::cone_beam(angles.values, detector_of(detector_shape, detector_pixel_size, offset_u, offset_v),
                             source_origin, origin_detector, volume_of(volume_shape, voxel_size));
      },
      nb::arg("angles"), nb::arg("detector_shape"), nb::arg("source_origin"), nb::arg("origin_detector"),
      nb::arg("volume_shape"), nb::arg("voxel_size") = 1.0,
      nb::arg("detector_pixel_size") = std::array<double, 2>{1.0, 1.0}, nb::arg("offset_u") = 0.0,
      nb::arg("offset_v") = 0.0,
      "Cone beam with a flat detector on a circular orbit about z (ASTRA 'cone'): angles in radians, distances "
      "from the source to the origin and from the origin to the detector in world units.");

  nb::class_<BoundProjector3D, LinearOperator>(
      m, "JosephProjector3D",
      "Joseph's projector of a Geometry3D: forward projection (volume_shape -> projection_shape) and its exact "
      "transpose, deterministic for every thread count. float64 computes in float64 throughout (ray positions, "
      "weights, back-projected values).")
      .def("__init__", &construct_projector, nb::arg("geometry"), nb::arg("dtype") = "float32",
           nb::arg("executor") = nb::none())
      .def_prop_ro("geometry", [](const BoundProjector3D& p) {
        return std::visit([](const auto& op) { return op.geometry(); }, p.op());
      });

  m.def("fdk", &fdk, nb::arg("geometry"), nb::arg("projections"), nb::arg("filter") = "ram_lak",
        nb::arg("executor") = nb::none(), nb::arg("out") = nb::none(),
        "FDK (cone beam) or row-by-row FBP (parallel beam) of (views, detector_rows, detector_cols) projections into "
        "a volume_shape volume, in the projections' dtype. Views spread uniformly over 360 degrees (cone) or 180 "
        "(parallel).");
}

}  // namespace pnpdist::python
