// pnpdist.Executor and the module's default thread count.

#include <nanobind/stl/string.h>

#include "bindings.hpp"

namespace pnpdist::python {

namespace {
Executor default_executor;
}

HostExec Executor::executor() const {
#if defined(PNPDIST_HAS_OPENMP)
  OpenMP exec;
  exec.num_threads = threads;
  return exec;
#else
  return Serial{};
#endif
}

HostExec executor_or_default(nb::handle executor) {
  if (executor.is_none()) return default_executor.executor();
  if (!nb::isinstance<Executor>(executor))
    throw nb::type_error(("executor must be a pnpdist.Executor or None, got " +
                          nb::cast<std::string>(nb::str(executor.type().attr("__name__"))))
                             .c_str());
  return nb::cast<const Executor&>(executor).executor();
}

void bind_executor(nb::module_& m) {
  nb::class_<Executor>(m, "Executor",
                       "Where the library's kernels run: host threads (OpenMP) when the extension was built with "
                       "OpenMP, the calling thread otherwise. threads=0 uses OMP_NUM_THREADS or every core.")
      .def(
          "__init__",
          [](Executor* self, int threads) {
            if (threads < 0) throw nb::value_error("threads must be >= 0");
            new (self) Executor{threads};
          },
          nb::arg("threads") = 0)
      .def_ro("threads", &Executor::threads, "The requested thread count (0: the OpenMP default).")
      .def_prop_ro(
          "name", [](const Executor&) { return HostExec::name; }, "'openmp' or 'serial'.")
      .def_prop_ro(
          "concurrency", [](const Executor& e) { return e.executor().concurrency(); },
          "The number of threads a launch uses.")
      .def("__repr__", [](const Executor& e) {
        return "pnpdist.Executor(name='" + std::string(HostExec::name) + "', threads=" + std::to_string(e.threads) +
               ")";
      });
  m.def(
      "set_num_threads",
      [](int threads) {
        if (threads < 0) throw nb::value_error("threads must be >= 0");
        default_executor.threads = threads;
      },
      nb::arg("threads"),
      "Sets the thread count of the default executor (used where no executor is passed); 0: the OpenMP default.");
  m.def(
      "get_num_threads", []() { return default_executor.executor().concurrency(); },
      "The number of threads the default executor uses.");
  m.def(
      "default_executor", []() { return default_executor; }, "A copy of the default executor.");
}

}  // namespace pnpdist::python
