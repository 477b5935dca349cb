#pragma once
/// \file
/// The tiling module: PatchTiler<Dim> (index algebra of overlapping tiles, reflect padding, batching) and
/// TiledDenoiser (any Denoiser applied tile by tile).

#include "pnpdist/tiling/patch_tiler.hpp"
#include "pnpdist/tiling/tiled_denoiser.hpp"
