#pragma once
/// \file
/// The priors module: the Denoiser concept and the non-learned denoisers (identity, total variation).
/// DRUNet lives in the nn module (pnpdist/nn/drunet.hpp).

#include "pnpdist/priors/denoiser.hpp"
#include "pnpdist/priors/equivariant_denoiser.hpp"
#include "pnpdist/priors/identity_denoiser.hpp"
#include "pnpdist/priors/tv_denoiser.hpp"
