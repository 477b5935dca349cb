#pragma once
/// \file
/// Umbrella of the classical iterative solvers: SIRT and CGLS, generic over any LinearOperator.

#include "pnpdist/solvers/cgls.hpp"
#include "pnpdist/solvers/sirt.hpp"
