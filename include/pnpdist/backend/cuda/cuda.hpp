#pragma once
/// \file
/// The CUDA backend: CudaSpace and its copies, the Cuda executor, the launch function and launch policy,
/// for_each and transform_reduce on Cuda. Compiles everywhere; launching kernels needs nvcc (see
/// launch.hpp), device memory and the runtime need the pnpdist::cuda component (PNPDIST_HAS_CUDA).

#include "pnpdist/backend/cuda/cuda_executor.hpp"
#include "pnpdist/backend/cuda/cuda_space.hpp"
#include "pnpdist/backend/cuda/for_each.hpp"
#include "pnpdist/backend/cuda/launch.hpp"
#include "pnpdist/backend/cuda/launch_policy.hpp"
#include "pnpdist/backend/cuda/reduce.hpp"
