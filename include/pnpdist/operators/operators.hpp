#pragma once
/// \file
/// The operators module: the LinearOperator concept, composites (adjoint, compose, add, scale,
/// OperatorRef), the Identity and DenseMatrix operators, the tools every operator is checked and used
/// with (adjoint_check, power_method), and the data-fidelity side: the Physics concept, StackedPhysics and
/// contiguous_blocks.

#include "pnpdist/operators/adjoint.hpp"
#include "pnpdist/operators/adjoint_check.hpp"
#include "pnpdist/operators/composition.hpp"
#include "pnpdist/operators/dense_matrix.hpp"
#include "pnpdist/operators/identity.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/operators/operator_ref.hpp"
#include "pnpdist/operators/physics.hpp"
#include "pnpdist/operators/power_method.hpp"
#include "pnpdist/operators/scaled.hpp"
#include "pnpdist/operators/split_blocks.hpp"
#include "pnpdist/operators/stacked_physics.hpp"
#include "pnpdist/operators/sum.hpp"
