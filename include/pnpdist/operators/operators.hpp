#pragma once
/// \file
/// The operators module: the LinearOperator concept, composites (adjoint, compose, add, scale,
/// OperatorRef), the Identity and DenseMatrix operators, and the tools every operator is checked and
/// used with (adjoint_check, power_method).

#include "pnpdist/operators/adjoint.hpp"
#include "pnpdist/operators/adjoint_check.hpp"
#include "pnpdist/operators/composition.hpp"
#include "pnpdist/operators/dense_matrix.hpp"
#include "pnpdist/operators/identity.hpp"
#include "pnpdist/operators/linear_operator.hpp"
#include "pnpdist/operators/operator_ref.hpp"
#include "pnpdist/operators/power_method.hpp"
#include "pnpdist/operators/scaled.hpp"
#include "pnpdist/operators/sum.hpp"
