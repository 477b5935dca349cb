#pragma once
/// \file
/// The priors module: the Denoiser concept, the non-learned denoisers (identity, total variation) and the
/// wrappers that build a denoiser from another (group average over symmetries, slice-wise volume denoiser, an
/// intensity window).
/// DRUNet lives in the nn module (pnpdist/nn/drunet.hpp).

#include "pnpdist/priors/denoiser.hpp"
#include "pnpdist/priors/equivariant_denoiser.hpp"
#include "pnpdist/priors/identity_denoiser.hpp"
#include "pnpdist/priors/intensity_window.hpp"
#include "pnpdist/priors/slice_denoiser.hpp"
#include "pnpdist/priors/tv_denoiser.hpp"
