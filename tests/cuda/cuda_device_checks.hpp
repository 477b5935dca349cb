#pragma once
// The checks of test_cuda_device that need nvcc (they launch kernels); defined in cuda_device_checks.cu.

namespace pnpdist::test {

/// Runs for_each and transform_reduce (directly and through the tensor algebra and reductions) on the
/// Cuda executor and compares every result with the Serial executor's, bit for bit. Prints each failure;
/// returns the number of failed checks. Needs a CUDA device.
int run_cuda_device_checks();

}  // namespace pnpdist::test
