#pragma once
/// \file
/// <cuda_runtime.h> of the CPU emulation of CUDA, first on the include path of the `cuda-emulated`
/// tests only: the runtime API with host semantics (pnpdist_cuda_emulator/runtime.hpp, its types and device
/// state in device_state.hpp), kernel launches (launch.hpp) and the threads of a block (execution.hpp,
/// synchronization.hpp), the launch recorder (launch_records.hpp), qualifiers and device builtins
/// (device.hpp). See docs/cuda_emulation.md.

#include "pnpdist_cuda_emulator/device.hpp"
#include "pnpdist_cuda_emulator/execution.hpp"
#include "pnpdist_cuda_emulator/launch.hpp"
#include "pnpdist_cuda_emulator/runtime.hpp"
