#pragma once
/// \file
/// Umbrella of the file formats: NumPy .npy arrays, PNG/JPEG images (pnpdist::imageio component),
/// bicubic resizing, safetensors weight files.

#include "pnpdist/io/image.hpp"
#include "pnpdist/io/npy.hpp"
#include "pnpdist/io/resize.hpp"
#include "pnpdist/io/safetensors.hpp"
