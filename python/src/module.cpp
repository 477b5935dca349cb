// The extension module pnpdist._pnpdist; the package pnpdist (python/pnpdist) re-exports it.

#include "bindings.hpp"

NB_MODULE(_pnpdist, m) {
  namespace py = pnpdist::python;
  m.doc() = "pnpdist's C++ library: CT projectors, blurs, DRUNet, FBP / SIRT / CGLS, metrics, phantoms.";
  m.attr("__version__") = PNPDIST_PYTHON_VERSION;  // the project's version (CMake, from pnpdist/pnp.hpp)
  // Operators held by a torch autograd graph that is still alive at interpreter exit are never freed by
  // Python; nanobind would list them as leaks on every such exit.
  nanobind::set_leak_warnings(false);
  py::bind_errors(m);
  py::bind_executor(m);
  py::bind_operator(m);
  py::bind_ct(m);
  py::bind_ct3d(m);
  py::bind_blur(m);
  py::bind_stack(m);
  py::bind_distributed(m);  // exposed by pnpdist.mpi
  py::bind_drunet(m);
  py::bind_solvers(m);
  py::bind_pnp_algorithms(m);
  py::bind_pnp(m);
  py::bind_metrics(m);
  py::bind_phantoms(m);
  py::bind_lpd(m);
}
