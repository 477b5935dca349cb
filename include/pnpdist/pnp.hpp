#pragma once
/// \file
/// pnpdist: distributed Plug-and-Play reconstruction for imaging inverse problems. The one header users
/// include; each module also has its own umbrella (core/core.hpp, backend/backend.hpp, tensor/tensor.hpp,
/// operators/operators.hpp, physics/physics.hpp, phantoms/phantoms.hpp, nn/nn.hpp, priors/priors.hpp,
/// tiling/tiling.hpp, distributed/distributed.hpp, solvers/solvers.hpp, metrics/metrics.hpp, io/io.hpp,
/// preprocessing/preprocessing.hpp). Features whose
/// optional dependency is not linked compile and throw pnpdist::not_compiled when used.

#include "pnpdist/backend/backend.hpp"
#include "pnpdist/core/core.hpp"
#include "pnpdist/distributed/distributed.hpp"
#include "pnpdist/io/io.hpp"
#include "pnpdist/metrics/metrics.hpp"
#include "pnpdist/nn/nn.hpp"
#include "pnpdist/operators/operators.hpp"
#include "pnpdist/phantoms/phantoms.hpp"
#include "pnpdist/physics/physics.hpp"
#include "pnpdist/preprocessing/preprocessing.hpp"
#include "pnpdist/priors/priors.hpp"
#include "pnpdist/solvers/solvers.hpp"
#include "pnpdist/tensor/tensor.hpp"
#include "pnpdist/tiling/tiling.hpp"

namespace pnpdist {

/// Library version (major, minor, patch).
inline constexpr int version_major = 0;
inline constexpr int version_minor = 1;
inline constexpr int version_patch = 0;

}  // namespace pnpdist
