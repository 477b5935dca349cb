#pragma once
/// \file
/// Umbrella of the physics: blur (PSFs, FFT and direct blurs, the fused stack of circular blurs), the FFT
/// wrappers, and CT (geometries, Joseph projectors, FBP/FDK).

#include "pnpdist/physics/blur/blur.hpp"
#include "pnpdist/physics/clipped_gaussian.hpp"
#include "pnpdist/physics/ct/ct.hpp"
#include "pnpdist/physics/fft/fft.hpp"
