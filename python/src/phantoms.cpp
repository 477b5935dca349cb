// pnpdist.shepp_logan and pnpdist.shepp_logan_sinogram: the (2D or 3D) Shepp-Logan phantom and its exact line
// integrals along the rays of a geometry.

#include <nanobind/stl/array.h>

#include "arrays.hpp"
#include "bindings.hpp"
#include "pnpdist/phantoms/ellipses.hpp"
#include "pnpdist/phantoms/shepp_logan.hpp"

namespace pnpdist::python {

void bind_phantoms(nb::module_& m) {
  m.def(
      "shepp_logan",
      [](const std::array<index_t, 2>& shape, const DTypeLike& dtype, int supersampling, const ExecutorArg& executor) {
        const ct::VolumeGeometry2D grid{shape[0], shape[1], 1.0, 1.0};
        const HostExec exec = executor_or_default(executor);
        const Shape s{shape[0], shape[1]};
        const double scale = phantom::fitted_scale(grid);
        if (parse_dtype(dtype) == DType::float32)
          return adopt_tensor(phantom::rasterize<float>(exec, phantom::shepp_logan_2d(), grid, scale, supersampling),
                              s);
        return adopt_tensor(phantom::rasterize<double>(exec, phantom::shepp_logan_2d(), grid, scale, supersampling), s);
      },
      nb::arg("shape"), nb::arg("dtype") = "float32", nb::arg("supersampling") = 4, nb::arg("executor") = nb::none(),
      "The modified Shepp-Logan phantom (values in [0, 1]) filling a (rows, cols) grid: each pixel the mean of "
      "supersampling^2 samples.");
  m.def(
      "shepp_logan",
      [](const std::array<index_t, 3>& shape, const DTypeLike& dtype, int supersampling, const ExecutorArg& executor) {
        const ct::VolumeGeometry3D grid{shape[0], shape[1], shape[2], 1.0, 1.0, 1.0};
        const HostExec exec = executor_or_default(executor);
        const Shape s{shape[0], shape[1], shape[2]};
        const double scale = phantom::fitted_scale(grid);
        if (parse_dtype(dtype) == DType::float32)
          return adopt_tensor(phantom::rasterize<float>(exec, phantom::shepp_logan_3d(), grid, scale, supersampling),
                              s);
        return adopt_tensor(phantom::rasterize<double>(exec, phantom::shepp_logan_3d(), grid, scale, supersampling), s);
      },
      nb::arg("shape"), nb::arg("dtype") = "float32", nb::arg("supersampling") = 2, nb::arg("executor") = nb::none(),
      "The 3D Shepp-Logan phantom (modified densities) filling a (slices, rows, cols) grid: each voxel the mean of "
      "supersampling^3 samples.");
  m.def(
      "shepp_logan_sinogram",
      [](const ct::Geometry2D& g) {
        const double scale = phantom::fitted_scale(g.volume);
        return adopt_tensor(phantom::analytic_projections(phantom::shepp_logan_2d(), scale, g),
                            {g.views(), g.detector_cols});
      },
      nb::arg("geometry"),
      "The exact line integrals (float64, (views, detector_cols)) of the Shepp-Logan phantom filling the "
      "geometry's image, along the rays through the detector pixel centres.");
  m.def(
      "shepp_logan_sinogram",
      [](const ct::Geometry3D& g) {
        const double scale = phantom::fitted_scale(g.volume);
        return adopt_tensor(phantom::analytic_projections(phantom::shepp_logan_3d(), scale, g),
                            {g.views(), g.detector_rows, g.detector_cols});
      },
      nb::arg("geometry"),
      "The exact line integrals (float64, (views, detector_rows, detector_cols)) of the 3D Shepp-Logan phantom "
      "filling the geometry's volume.");
}

}  // namespace pnpdist::python
