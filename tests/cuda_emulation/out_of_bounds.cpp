// An emulated kernel that reads one element past its memory must be an AddressSanitizer report: run with
// `shared` (dynamic shared memory, exactly shared_bytes long) or `global` (a cudaMalloc allocation). Built
// and run (expecting the report) only with -fsanitize=address; see CMakeLists.txt.

#include <cuda_runtime.h>

#include <pnpdist/backend/cuda/launch.hpp>

#include <cstdio>
#include <cstring>

namespace {

__global__ void read_past_shared(float* out, int n) {
  float* shared = pnpdist::cuda_dynamic_shared<float>();
  shared[threadIdx.x] = 1.0f;
  __syncthreads();
  if (threadIdx.x == 0) out[0] = shared[n];  // n == blockDim.x: one past the end
}

__global__ void read_past_global(const float* in, float* out, int n) {
  const int i = static_cast<int>(threadIdx.x);
  out[i] = in[i + 1];  // thread n - 1 reads in[n]
  (void)n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  float* in = nullptr;
  float* out = nullptr;
  if (cudaMalloc(reinterpret_cast<void**>(&in), 32 * sizeof(float)) != cudaSuccess ||
      cudaMalloc(reinterpret_cast<void**>(&out), 32 * sizeof(float)) != cudaSuccess)
    return 3;
  if (std::strcmp(argv[1], "shared") == 0)
    pnpdist::cuda_launch(dim3(1), dim3(32), 32 * sizeof(float), nullptr, &read_past_shared, out, 32);
  else
    pnpdist::cuda_launch(dim3(1), dim3(32), 0, nullptr, &read_past_global, static_cast<const float*>(in), out, 32);
  (void)cudaDeviceSynchronize();
  std::puts("no out-of-bounds access was reported");
  return 0;
}
