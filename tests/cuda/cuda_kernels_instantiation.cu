// Compile-and-link check of the CUDA backend (built by the pnpdist_cuda_compile_check target, never run
// as a test): instantiates every kernel template of the backend with the functors the library launches
// (tensor algebra through elementwise, 1-D and N-D for_each, every reduction of tensor/reductions.hpp), so
// that nvcc compiles each __global__ instantiation for every configured architecture.
// Running it without arguments does nothing; with an argument it runs everything once on the device.

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/operators/operators.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/owning_tensor.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/reductions.hpp>

#include <vector>

#include <cstddef>
#include <cstdio>
#include <exception>
#include <type_traits>

namespace {

using pnpdist::Cuda;
using pnpdist::CudaSpace;

// Compiled by nvcc, Cuda and CudaSpace are in the inline namespace cuda_nvcc (backend/cuda/abi_tag.hpp): the
// instantiations here never share a mangled name with a host-compiled translation unit's.
static_assert(std::is_same_v<Cuda, pnpdist::cuda_nvcc::Cuda> && std::is_same_v<CudaSpace, pnpdist::cuda_nvcc::CudaSpace>);
using pnpdist::Extents;
using pnpdist::index_t;

template <class T, std::size_t Rank>
double instantiate_tensor_kernels(const Cuda& exec, const Extents<Rank>& extents) {
  pnpdist::Tensor<T, Rank, CudaSpace> x = pnpdist::zeros<T>(exec, extents);
  pnpdist::Tensor<T, Rank, CudaSpace> y(extents);
  const pnpdist::View<T, Rank, CudaSpace> xv = x.view();
  const pnpdist::View<T, Rank, CudaSpace> yv = y.view();
  const pnpdist::View<const T, Rank, CudaSpace> xc = x.const_view();

  // Element-wise algebra: each call instantiates the contiguous (1-D for_each) and the strided (N-D
  // for_each through RowKernel) kernels.
  pnpdist::fill(exec, yv, T(1));
  pnpdist::copy(exec, xc, yv);
  pnpdist::copy(exec, xv, yv);
  pnpdist::scale(exec, T(2), xv);
  pnpdist::axpby(exec, T(2), xc, T(0), yv);  // ScaledCopyOp
  pnpdist::axpby(exec, T(2), xc, T(1), yv);  // AxpyOp
  pnpdist::axpby(exec, T(2), xc, T(3), yv);  // AxpbyOp
  pnpdist::axpby(exec, T(2), xv, T(3), yv);
  pnpdist::axpy(exec, T(2), xc, yv);
  pnpdist::clamp(exec, xv, T(0), T(1));

  // Every reduction, on mutable and const views.
  double acc = 0;
  acc += static_cast<double>(pnpdist::sum(exec, xv));
  acc += static_cast<double>(pnpdist::sum(exec, xc));
  acc += static_cast<double>(pnpdist::dot(exec, xv, yv));
  acc += static_cast<double>(pnpdist::dot(exec, xc, yv));
  acc += static_cast<double>(pnpdist::squared_norm(exec, xv));
  acc += static_cast<double>(pnpdist::norm(exec, xc));
  acc += static_cast<double>(pnpdist::max_value(exec, xv));
  acc += static_cast<double>(pnpdist::min_value(exec, xc));
  acc += static_cast<double>(pnpdist::count_nonfinite(exec, xv));
  pnpdist::require_finite(exec, xc, "x");
  return acc;
}

// Strided views (patches), random fills and the operators module on the device.
template <class T>
double instantiate_patch_random_and_operators(const Cuda& exec) {
  pnpdist::Tensor<T, 3, CudaSpace> volume(Extents<3>{4, 16, 24});
  const auto patch = pnpdist::subview(volume.view(), Extents<3>{1, 2, 3}, Extents<3>{2, 8, 8});
  pnpdist::fill_uniform(exec, volume.view(), 1, 0, T(0), T(1));
  pnpdist::fill_normal(exec, patch, 1, 1, T(0), T(1));
  pnpdist::add_gaussian_noise(exec, patch, T(0.1), 1, 2);
  pnpdist::axpby(exec, T(1), pnpdist::View<const T, 3, CudaSpace>(patch), T(2), patch);
  double acc = pnpdist::dot(exec, patch, patch) + pnpdist::sum(exec, volume.view());

  const index_t rows = 40, cols = 30;
  std::vector<T> entries(static_cast<std::size_t>(rows * cols), T(0.5));
  const pnpdist::DenseMatrix<T, Cuda> a(exec, rows, cols, std::span<const T>(entries));
  const auto normal = pnpdist::add(pnpdist::compose(pnpdist::adjoint(a), a),
                                   pnpdist::scale(T(0.1), pnpdist::identity<T>(exec, Extents<1>{cols})));
  acc += pnpdist::adjoint_check(a).relative_error + pnpdist::adjoint_check(normal).relative_error;
  acc += pnpdist::power_method(normal).squared_norm;
  return acc;
}

struct Square {
  double* out;
  PNPDIST_HOST_DEVICE void operator()(index_t i) const { out[i] = static_cast<double>(i) * static_cast<double>(i); }
};

struct Plane {
  float* out;
  index_t width;
  PNPDIST_HOST_DEVICE void operator()(index_t row, index_t column) const {
    out[row * width + column] = static_cast<float>(row - column);
  }
};

double instantiate_all(const Cuda& exec) {
  double acc = 0;
  acc += instantiate_tensor_kernels<float, 1>(exec, Extents<1>{1000});
  acc += instantiate_tensor_kernels<float, 2>(exec, Extents<2>{30, 40});
  acc += instantiate_tensor_kernels<float, 4>(exec, Extents<4>{1, 3, 16, 24});
  acc += instantiate_tensor_kernels<double, 1>(exec, Extents<1>{1000});
  acc += instantiate_tensor_kernels<double, 3>(exec, Extents<3>{4, 16, 24});
  acc += instantiate_tensor_kernels<double, 5>(exec, Extents<5>{1, 1, 4, 8, 8});

  acc += instantiate_patch_random_and_operators<float>(exec);
  acc += instantiate_patch_random_and_operators<double>(exec);

  // Plain functors and device lambdas through the 1-D and N-D for_each, and transform_reduce directly.
  pnpdist::Tensor<double, 1, CudaSpace> squares(Extents<1>{5000});
  pnpdist::for_each(exec, index_t{5000}, Square{squares.data()});
  pnpdist::Tensor<float, 2, CudaSpace> plane(Extents<2>{64, 48});
  pnpdist::for_each(exec, Extents<2>{64, 48}, Plane{plane.data(), 48});
  float* const p = plane.data();
  pnpdist::for_each(exec, index_t{64 * 48}, [p] __device__(index_t i) { p[i] *= 0.5f; });
  pnpdist::for_each(exec, Extents<2>{64, 48}, [p] __device__(index_t r, index_t c) { p[r * 48 + c] += 1.0f; });
  const double* const s = squares.data();
  acc += pnpdist::transform_reduce(exec, 5000, pnpdist::SumOp<double>{}, [s] __device__(index_t i) { return s[i]; });
  acc += static_cast<double>(
      pnpdist::transform_reduce(exec, 5000, pnpdist::SumOp<index_t>{}, [] __device__(index_t i) { return i; }));
  pnpdist::synchronize(exec);
  return acc;
}

}  // namespace

int main(int argc, char** argv) {
  (void)argv;
  if (argc < 2) return 0;
  try {
    std::printf("%.17g\n", instantiate_all(Cuda{}));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
