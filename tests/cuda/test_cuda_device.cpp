// GPU test (CTest label gpu): the Cuda executor against the Serial one, bit for bit. Exits 77, reported
// by CTest as skipped, when this build has no CUDA component or no CUDA device is usable.

#include <cstdio>

#if defined(PNPDIST_HAS_CUDA)
#include <cuda_runtime.h>

#include "cuda_device_checks.hpp"
#endif

namespace {
constexpr int skipped = 77;
}

int main() {
#if !defined(PNPDIST_HAS_CUDA)
  std::printf("SKIPPED: this build has no CUDA component (configure with PNPDIST_WITH_CUDA=ON)\n");
  return skipped;
#else
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess) {
    std::printf("SKIPPED: no usable CUDA device: cudaGetDeviceCount failed: %s (%s)\n", cudaGetErrorName(status),
                cudaGetErrorString(status));
    return skipped;
  }
  if (devices == 0) {
    std::printf("SKIPPED: no CUDA device present\n");
    return skipped;
  }
  cudaDeviceProp properties{};
  if (cudaGetDeviceProperties(&properties, 0) == cudaSuccess)
    std::printf("device 0: %s (sm_%d%d)\n", properties.name, properties.major, properties.minor);
  const int failures = pnpdist::test::run_cuda_device_checks();
  if (failures != 0) {
    std::printf("FAILED: %d check(s)\n", failures);
    return 1;
  }
  std::printf("all checks passed\n");
  return 0;
#endif
}
