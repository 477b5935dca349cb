// The PnP algorithms' parameters as Python classes: pnpdist.ProximalGradient, HalfQuadraticSplitting, ADMM
// (the library's structs; validated by the solver).

#include <nanobind/stl/optional.h>

#include <optional>

#include "bindings.hpp"
#include "pnpdist/solvers/admm.hpp"
#include "pnpdist/solvers/half_quadratic_splitting.hpp"
#include "pnpdist/solvers/proximal_gradient.hpp"

namespace pnpdist::python {

void bind_pnp_algorithms(nb::module_& m) {
  const ProximalGradient pgd;
  nb::class_<ProximalGradient>(m, "ProximalGradient",
                               "PnP-PGD: x+ = D_sigma(x - step grad f(x)); step None: step_factor / ||A||^2 from "
                               "the power method. relaxation or damping average the denoiser's output with the "
                               "gradient step.")
      .def(
          "__init__",
          [](ProximalGradient* self, std::optional<double> step, double step_factor, index_t power_iterations,
             double sigma, std::optional<double> relaxation, std::optional<double> damping) {
            new (self) ProximalGradient{};
            self->step = step;
            self->step_factor = step_factor;
            self->power_iterations = power_iterations;
            self->sigma = sigma;
            self->relaxation = relaxation;
            self->damping = damping;
          },
          nb::arg("step") = nb::none(), nb::arg("step_factor") = pgd.step_factor,
          nb::arg("power_iterations") = pgd.power_iterations, nb::arg("sigma") = pgd.sigma,
          nb::arg("relaxation") = nb::none(), nb::arg("damping") = nb::none())
      .def_rw("step", &ProximalGradient::step)
      .def_rw("step_factor", &ProximalGradient::step_factor)
      .def_rw("power_iterations", &ProximalGradient::power_iterations)
      .def_rw("sigma", &ProximalGradient::sigma)
      .def_rw("relaxation", &ProximalGradient::relaxation)
      .def_rw("damping", &ProximalGradient::damping);

  const HalfQuadraticSplitting hqs;
  nb::class_<HalfQuadraticSplitting>(
      m, "HalfQuadraticSplitting",
      "PnP-HQS with the DPIR schedule: sigma from sigma_start down to sigma_end (log-spaced) over "
      "schedule_iterations, data step weight data_weight (noise_level / sigma_k)^2, solved by at most "
      "cg_iterations conjugate-gradient steps to cg_tolerance.")
      .def(
          "__init__",
          [](HalfQuadraticSplitting* self, double sigma_start, double sigma_end, index_t schedule_iterations,
             double noise_level, double data_weight, index_t cg_iterations, double cg_tolerance) {
            new (self) HalfQuadraticSplitting{};
            self->sigma_start = sigma_start;
            self->sigma_end = sigma_end;
            self->schedule_iterations = schedule_iterations;
            self->noise_level = noise_level;
            self->data_weight = data_weight;
            self->data_step.max_iterations = cg_iterations;
            self->data_step.tolerance = cg_tolerance;
          },
          nb::arg("sigma_start") = hqs.sigma_start, nb::arg("sigma_end") = hqs.sigma_end,
          nb::arg("schedule_iterations") = hqs.schedule_iterations, nb::arg("noise_level") = hqs.noise_level,
          nb::arg("data_weight") = hqs.data_weight, nb::arg("cg_iterations") = hqs.data_step.max_iterations,
          nb::arg("cg_tolerance") = hqs.data_step.tolerance)
      .def_rw("sigma_start", &HalfQuadraticSplitting::sigma_start)
      .def_rw("sigma_end", &HalfQuadraticSplitting::sigma_end)
      .def_rw("schedule_iterations", &HalfQuadraticSplitting::schedule_iterations)
      .def_rw("noise_level", &HalfQuadraticSplitting::noise_level)
      .def_rw("data_weight", &HalfQuadraticSplitting::data_weight);

  const ADMM admm;
  nb::class_<ADMM>(m, "ADMM",
                   "PnP-ADMM: a data proximal step of weight `penalty` (conjugate gradients, at most cg_iterations "
                   "to cg_tolerance), the denoiser at `sigma`, the dual update.")
      .def(
          "__init__",
          [](ADMM* self, double sigma, double penalty, index_t cg_iterations, double cg_tolerance) {
            new (self) ADMM{};
            self->sigma = sigma;
            self->penalty = penalty;
            self->data_step.max_iterations = cg_iterations;
            self->data_step.tolerance = cg_tolerance;
          },
          nb::arg("sigma") = admm.sigma, nb::arg("penalty") = admm.penalty,
          nb::arg("cg_iterations") = admm.data_step.max_iterations, nb::arg("cg_tolerance") = admm.data_step.tolerance)
      .def_rw("sigma", &ADMM::sigma)
      .def_rw("penalty", &ADMM::penalty);
}

}  // namespace pnpdist::python
