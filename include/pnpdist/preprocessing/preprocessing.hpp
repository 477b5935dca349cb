#pragma once
/// \file
/// Umbrella of the preprocessing of raw projections (each step a function over views, any executor):
/// detector binning, averaged dark/flat fields and flat-field correction (averaged, interpolated or
/// per-projection flats), -log with a floor, zinger (outlier) removal, ring-artifact (stripe) reduction.

#include "pnpdist/preprocessing/binning.hpp"
#include "pnpdist/preprocessing/flat_field.hpp"
#include "pnpdist/preprocessing/rings.hpp"
#include "pnpdist/preprocessing/zingers.hpp"
