#pragma once
/// \file
/// The FFT module: batched 2-D real transforms on any executor (real_fft_2d.hpp) through FFTW on the host
/// (fftw_plans.hpp) and cuFFT on the device (cufft_plans.hpp), with a device-ready complex type.

#include "pnpdist/physics/fft/complex.hpp"
#include "pnpdist/physics/fft/cufft_plans.hpp"
#include "pnpdist/physics/fft/fftw_plans.hpp"
#include "pnpdist/physics/fft/real_fft_2d.hpp"
