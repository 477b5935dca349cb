#pragma once
/// \file
/// The nn module: DRUNet (drunet.hpp), its layers (layers.hpp), engines (reference_engine.hpp,
/// onednn_engine.hpp, cuda/cudnn_engine.hpp) and weights (drunet_weights.hpp, io/safetensors.hpp).

#include "pnpdist/io/safetensors.hpp"
#include "pnpdist/nn/cuda/cudnn_engine.hpp"
#include "pnpdist/nn/drunet.hpp"
#include "pnpdist/nn/drunet_schedule.hpp"
#include "pnpdist/nn/drunet_weights.hpp"
#include "pnpdist/nn/layers.hpp"
#include "pnpdist/nn/onednn_engine.hpp"
#include "pnpdist/nn/padding.hpp"
#include "pnpdist/nn/reference_engine.hpp"
