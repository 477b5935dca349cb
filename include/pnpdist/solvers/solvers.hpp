#pragma once
/// \file
/// Umbrella of the solvers: the classical iterative solvers SIRT and CGLS (any LinearOperator) and the
/// Plug-and-Play proximal-gradient solver (any Physics and Denoiser) with its options, records, step size,
/// observers and checkpoints.

#include "pnpdist/solvers/cgls.hpp"
#include "pnpdist/solvers/checkpoint.hpp"
#include "pnpdist/solvers/iteration_record.hpp"
#include "pnpdist/solvers/observers.hpp"
#include "pnpdist/solvers/pnp_options.hpp"
#include "pnpdist/solvers/pnp_solver.hpp"
#include "pnpdist/solvers/sirt.hpp"
#include "pnpdist/solvers/step_size.hpp"
