#pragma once
/// \file
/// Umbrella of the file formats: NumPy .npy arrays, PNG/JPEG images (pnpdist::imageio component),
/// bicubic resizing, safetensors weight files, TIFF stacks and projection stacks (pnpdist::tiff component), HDF5/NeXus
/// datasets (pnpdist::hdf5 component).

#include "pnpdist/io/hdf5.hpp"
#include "pnpdist/io/hdf5_writer.hpp"
#include "pnpdist/io/image.hpp"
#include "pnpdist/io/npy.hpp"
#include "pnpdist/io/projection_stack.hpp"
#include "pnpdist/io/resize.hpp"
#include "pnpdist/io/safetensors.hpp"
#include "pnpdist/io/tiff.hpp"
