#pragma once
/// \file
/// The blur module: PSFs (psf.hpp), the direct blur with circular / same / valid boundaries
/// (direct_blur.hpp), the circular FFT blur (fft_blur.hpp), the fused data-fidelity gradient of a stack of
/// circular blurs (circular_blur_stack.hpp) and their kernels (kernels.hpp, cuda/direct_blur_tiled.hpp).

#include "pnpdist/physics/blur/circular_blur_stack.hpp"
#include "pnpdist/physics/blur/clipped_blur_stack.hpp"
#include "pnpdist/physics/blur/cuda/direct_blur_tiled.hpp"
#include "pnpdist/physics/blur/direct_blur.hpp"
#include "pnpdist/physics/blur/fft_blur.hpp"
#include "pnpdist/physics/blur/kernels.hpp"
#include "pnpdist/physics/blur/psf.hpp"
