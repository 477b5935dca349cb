// pnpdist.sirt and pnpdist.cgls for any bound LinearOperator (projectors, blurs), from x0 = 0.

#include <nanobind/stl/vector.h>

#include <mutex>
#include <optional>

#include "operator.hpp"
#include "pnpdist/solvers/cgls.hpp"
#include "pnpdist/solvers/sirt.hpp"

namespace pnpdist::python {

namespace {

/// The solver's result as a dict: x (the operator's domain shape, a new array that owns the solver's tensor),
/// residual_norms, weighted_residual_norms (float64 arrays), iterations, reached_stop_residual.
template <class T>
nb::dict result_dict(IterativeResult<T, 1, HostSpace>&& r, const Shape& domain) {
  nb::dict d;
  const index_t history = static_cast<index_t>(r.residual_norms.size());
  d["residual_norms"] = array_from(r.residual_norms, {history});
  d["weighted_residual_norms"] = array_from(r.weighted_residual_norms, {history});
  d["iterations"] = r.iterations;
  d["reached_stop_residual"] = r.reached_stop_residual;
  d["x"] = adopt_tensor(std::move(r.x), domain);
  return d;
}

/// Runs solve(ShapedOperator<T>, y view) with the GIL released and the operator's mutex held.
template <class T, class Solve>
nb::dict run(const LinearOperator& op, const ArrayArg& y, Solve solve) {
  const ShapedOperator<T> flat{&op, op.executor()};
  const View<const T, 1> yv(static_cast<const T*>(y.data()), flat.range_shape());
  std::optional<IterativeResult<T, 1, HostSpace>> result;
  {
    nb::gil_scoped_release release;
    const std::lock_guard<std::mutex> lock(op.mutex());
    result.emplace(solve(flat, yv));
  }
  return result_dict(std::move(*result), op.domain_shape());
}

template <class Solve>
nb::dict dispatch(const LinearOperator& op, nb::handle y, Solve solve) {
  const ArrayArg in = take_array(y, ArraySpec{"y", {op.dtype()}, op.range_shape(), "the operator's range"});
  if (op.dtype() == DType::float32) return run<float>(op, in, solve);
  return run<double>(op, in, solve);
}

}  // namespace

void bind_solvers(nb::module_& m) {
  m.def(
      "sirt",
      [](const LinearOperator& op, const ArrayLike& y, index_t iterations, double relaxation, bool nonnegative,
         double stop_residual) {
        const SirtOptions options{iterations, relaxation, nonnegative, stop_residual};
        return dispatch(op, y, [&](const auto& A, const auto& yv) { return sirt(A, yv, options); });
      },
      nb::arg("operator"), nb::arg("y"), nb::arg("iterations") = 100, nb::arg("relaxation") = 1.0,
      nb::arg("nonnegative") = false, nb::arg("stop_residual") = 0.0,
      "SIRT x_{k+1} = x_k + relaxation C A^T R (y - A x_k) from x0 = 0 (R, C: inverse row and column sums). "
      "Stops after `iterations` or at the first ||y - A x_k|| <= stop_residual (> 0). Returns a dict: x, "
      "residual_norms, weighted_residual_norms, iterations, reached_stop_residual.");
  m.def(
      "cgls",
      [](const LinearOperator& op, const ArrayLike& y, index_t iterations, double stop_residual) {
        const CglsOptions options{iterations, stop_residual};
        return dispatch(op, y, [&](const auto& A, const auto& yv) { return cgls(A, yv, options); });
      },
      nb::arg("operator"), nb::arg("y"), nb::arg("iterations") = 50, nb::arg("stop_residual") = 0.0,
      "CGLS (conjugate gradients on A^T A x = A^T y) from x0 = 0; the same stopping rule and result as sirt "
      "(weighted_residual_norms holds ||A^T (y - A x_k)||).");
}

}  // namespace pnpdist::python
