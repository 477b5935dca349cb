// nvcc compile check of the launch policy layer (linked into pnpdist_cuda_kernels_instantiation, never
// run): for_each on Cuda in a caller's CudaPolicy over a Range and over MDRanges (the grid-stride kernel
// with MultiIndexKernel), and the default policy through the named spaces.

#include <pnpdist/backend/backend.hpp>

namespace {

using pnpdist::index_t;

struct Fill1 {
  float* out;
  PNPDIST_HOST_DEVICE void operator()(index_t i) const { out[i] = static_cast<float>(i); }
};

struct Fill3 {
  double* out;
  index_t rows, columns;
  PNPDIST_HOST_DEVICE void operator()(index_t a, index_t b, index_t c) const {
    out[(a * rows + b) * columns + c] = static_cast<double>(a - b + c);
  }
};

}  // namespace

/// Instantiates everything above; never called.
void pnpdist_instantiate_launch_policies(const pnpdist::Cuda& exec, float* f, double* d) {
  const pnpdist::CudaPolicy policy = pnpdist::CudaPolicy(128).with_iterations_per_thread(4);
  pnpdist::for_each(exec, policy, pnpdist::Range{1001}, Fill1{f});
  pnpdist::for_each(exec, pnpdist::Range{1001}, Fill1{f});
  pnpdist::for_each(exec, policy, pnpdist::MDRange{pnpdist::Extents<3>{5, 7, 9}}, Fill3{d, 7, 9});
  pnpdist::for_each(exec, pnpdist::MDRange{pnpdist::Extents<3>{5, 7, 9}}, Fill3{d, 7, 9});
}
