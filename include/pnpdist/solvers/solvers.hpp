#pragma once
/// \file
/// Umbrella of the solvers: the classical iterative solvers SIRT and CGLS (any LinearOperator) and the
/// Plug-and-Play loop (any Physics and Denoiser) with its algorithms (proximal gradient, HQS with the DPIR
/// schedule, ADMM), the data proximal step, options, records, step size, observers and checkpoints.

#include "pnpdist/solvers/admm.hpp"
#include "pnpdist/solvers/cgls.hpp"
#include "pnpdist/solvers/checkpoint.hpp"
#include "pnpdist/solvers/checkpoint_resume.hpp"
#include "pnpdist/solvers/data_proximal.hpp"
#include "pnpdist/solvers/half_quadratic_splitting.hpp"
#include "pnpdist/solvers/iteration_record.hpp"
#include "pnpdist/solvers/observers.hpp"
#include "pnpdist/solvers/pnp_options.hpp"
#include "pnpdist/solvers/pnp_solver.hpp"
#include "pnpdist/solvers/pnp_step_support.hpp"
#include "pnpdist/solvers/proximal_gradient.hpp"
#include "pnpdist/solvers/sirt.hpp"
#include "pnpdist/solvers/solver_ranks.hpp"
#include "pnpdist/solvers/step_size.hpp"
