#pragma once
/// \file
/// The CT module: geometry (ASTRA-style per-view vectors), vector files, Joseph projectors and their exact
/// transposes, split_views, FBP / FDK. Conventions: docs/ct.md.

#include "pnpdist/physics/ct/fbp.hpp"
#include "pnpdist/physics/ct/filters.hpp"
#include "pnpdist/physics/ct/geometry.hpp"
#include "pnpdist/physics/ct/joseph.hpp"
#include "pnpdist/physics/ct/projector.hpp"
#include "pnpdist/physics/ct/split_views.hpp"
#include "pnpdist/physics/ct/vector_file.hpp"
