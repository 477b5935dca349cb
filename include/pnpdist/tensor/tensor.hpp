#pragma once
/// \file
/// The tensor module: views, owning tensors, shapes, element-wise algebra, reductions and random fills.

#include "pnpdist/tensor/algebra.hpp"
#include "pnpdist/tensor/elementwise.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"
#include "pnpdist/tensor/random.hpp"
#include "pnpdist/tensor/reductions.hpp"
#include "pnpdist/tensor/shapes.hpp"
#include "pnpdist/tensor/view.hpp"
