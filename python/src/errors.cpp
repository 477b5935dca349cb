// pnpdist's C++ exceptions as Python exceptions. Every class derives from pnpdist.Error (a RuntimeError) and,
// where one fits, from the matching built-in exception, so `except ValueError` also catches a shape mismatch.
// The message is the library's message without its source location.

#include <Python.h>

#include "bindings.hpp"
#include "pnpdist/core/errors.hpp"

namespace pnpdist::python {

namespace {

struct ErrorClasses {
  PyObject* base = nullptr;
  PyObject* dimension_mismatch = nullptr;
  PyObject* invalid_argument = nullptr;
  PyObject* io_error = nullptr;
  PyObject* not_compiled = nullptr;
  PyObject* numerical_error = nullptr;
  PyObject* cuda_error = nullptr;
  PyObject* mpi_error = nullptr;
};

ErrorClasses classes;

PyObject* add_class(nb::module_& m, const char* name, PyObject* builtin, const char* doc) {
  nb::object bases = builtin ? nb::make_tuple(nb::handle(classes.base), nb::handle(builtin))
                             : nb::make_tuple(nb::handle(PyExc_RuntimeError));
  const std::string qualified = std::string("pnpdist.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (!type) throw nb::python_error();
  m.attr(name) = nb::handle(type);
  return type;
}

void translate(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const dimension_mismatch& e) {
    PyErr_SetString(classes.dimension_mismatch, e.message().c_str());
  } catch (const invalid_argument& e) {
    PyErr_SetString(classes.invalid_argument, e.message().c_str());
  } catch (const io_error& e) {
    PyErr_SetString(classes.io_error, e.message().c_str());
  } catch (const not_compiled& e) {
    PyErr_SetString(classes.not_compiled, e.message().c_str());
  } catch (const numerical_error& e) {
    PyErr_SetString(classes.numerical_error, e.message().c_str());
  } catch (const cuda_error& e) {
    PyErr_SetString(classes.cuda_error, e.message().c_str());
  } catch (const mpi_error& e) {
    PyErr_SetString(classes.mpi_error, e.message().c_str());
  } catch (const error& e) {
    PyErr_SetString(classes.base, e.message().c_str());
  }
}

}  // namespace

void bind_errors(nb::module_& m) {
  classes.base = add_class(m, "Error", nullptr, "Base of the errors raised by pnpdist's library code.");
  classes.dimension_mismatch =
      add_class(m, "DimensionMismatch", PyExc_ValueError, "Shapes or sizes of arguments that do not fit together.");
  classes.invalid_argument =
      add_class(m, "InvalidArgument", PyExc_ValueError, "An argument value outside its documented domain.");
  classes.io_error =
      add_class(m, "IoError", PyExc_OSError, "A file that cannot be read or whose contents are corrupt.");
  classes.not_compiled =
      add_class(m, "NotCompiled", PyExc_NotImplementedError, "A feature whose dependency was not compiled in.");
  classes.numerical_error =
      add_class(m, "NumericalError", PyExc_ArithmeticError, "A computation that produced NaN or infinity.");
  classes.cuda_error = add_class(m, "CudaError", PyExc_RuntimeError, "A failed CUDA runtime or library call.");
  classes.mpi_error = add_class(m, "MpiError", PyExc_RuntimeError, "A failed MPI or NCCL call.");
  nb::register_exception_translator(translate);
}

}  // namespace pnpdist::python
