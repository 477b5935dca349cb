#pragma once
/// \file
/// pnpdist: distributed Plug-and-Play reconstruction for imaging inverse problems. The one header users
/// include; each module also has its own umbrella (core/core.hpp, backend/backend.hpp, tensor/tensor.hpp,
/// operators/operators.hpp).

#include "pnpdist/backend/backend.hpp"
#include "pnpdist/core/core.hpp"
#include "pnpdist/operators/operators.hpp"
#include "pnpdist/tensor/tensor.hpp"

namespace pnpdist {

/// Library version (major, minor, patch).
inline constexpr int version_major = 0;
inline constexpr int version_minor = 1;
inline constexpr int version_patch = 0;

}  // namespace pnpdist
