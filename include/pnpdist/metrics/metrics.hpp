#pragma once
/// \file
/// Umbrella of the image-quality metrics: PSNR and SSIM against a reference, in the executor's memory space.

#include "pnpdist/metrics/psnr.hpp"
#include "pnpdist/metrics/ssim.hpp"
