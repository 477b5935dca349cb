#pragma once
// The parts of the extension module: each bind_* function adds one group of names to the module
// (module.cpp calls them in order), and the host executor every binding runs on.

#include <nanobind/nanobind.h>

#include "pnpdist/backend/openmp.hpp"
#include "pnpdist/backend/serial.hpp"

namespace pnpdist::python {

namespace nb = nanobind;

/// The executor of every binding: OpenMP when the extension is built with it, serial otherwise.
#if defined(PNPDIST_HAS_OPENMP)
using HostExec = OpenMP;
#else
using HostExec = Serial;
#endif

/// An executor as Python sees it: the host executor with a thread count (0: the OpenMP default).
struct Executor {
  int threads = 0;
  [[nodiscard]] HostExec executor() const;
};

namespace detail {
inline bool any_executor(PyObject*) { return true; }
}  // namespace detail

/// An executor argument as the signatures name it (`Executor`, with `| None` where None is the default): any object,
/// checked by executor_or_default() with a TypeError naming the argument, as nanobind's own overload error would not.
class ExecutorArg : public nb::object {
  NB_OBJECT_DEFAULT(ExecutorArg, object, "Executor", detail::any_executor)
};

/// `executor` when given (not None), else the module's default executor (set_num_threads()); TypeError unless it
/// is None or a pnpdist.Executor.
HostExec executor_or_default(nb::handle executor);

void bind_errors(nb::module_& m);
void bind_executor(nb::module_& m);
void bind_operator(nb::module_& m);
void bind_ct(nb::module_& m);
void bind_ct3d(nb::module_& m);
void bind_blur(nb::module_& m);
void bind_stack(nb::module_& m);
void bind_distributed(nb::module_& m);
void bind_drunet(nb::module_& m);
void bind_solvers(nb::module_& m);
void bind_pnp_algorithms(nb::module_& m);
void bind_pnp(nb::module_& m);
void bind_metrics(nb::module_& m);
void bind_phantoms(nb::module_& m);
void bind_lpd(nb::module_& m);

}  // namespace pnpdist::python
