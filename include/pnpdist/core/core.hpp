#pragma once
/// \file
/// The core module: portability macros, errors, index types, build configuration, random bits.

#include "pnpdist/core/config.hpp"
#include "pnpdist/core/cuda_check.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/macros.hpp"
#include "pnpdist/core/philox.hpp"
#include "pnpdist/core/types.hpp"
