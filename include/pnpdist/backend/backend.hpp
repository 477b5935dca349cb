#pragma once
/// \file
/// The whole backend: memory spaces and their trackers, the executors (Serial, OpenMP, Cuda), their launch
/// policies and iteration spaces, for_each and the deterministic transform_reduce on each of them.

#include "pnpdist/backend/allocation_tracker.hpp"
#include "pnpdist/backend/cuda/cuda.hpp"
#include "pnpdist/backend/executor.hpp"
#include "pnpdist/backend/for_each.hpp"
#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/backend/iteration_space.hpp"
#include "pnpdist/backend/launch_policy.hpp"
#include "pnpdist/backend/openmp.hpp"
#include "pnpdist/backend/openmp_policy.hpp"
#include "pnpdist/backend/reduce.hpp"
#include "pnpdist/backend/resident_memory.hpp"
#include "pnpdist/backend/serial.hpp"
