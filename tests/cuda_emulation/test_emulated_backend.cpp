// Covers: cuda_for_each_kernel
// The CUDA backend's for_each run by the CPU emulation of CUDA (label cuda-emulated): 1-D, N-D and the
// grid-stride loop, and what is built on it (tensor algebra, random fills, DenseMatrix, power_method) on
// the Cuda executor, compared bit for bit with the Serial executor. The kernels are the library's, compiled
// by the host compiler with -ffp-contract=off on both sides, so equal bits are required, not closeness.
// Sizes are small: the emulator runs the threads of a block as OS threads, one block after another.

#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include "emulated_test_support.hpp"

#include <pnpdist/operators/dense_matrix.hpp>
#include <pnpdist/operators/power_method.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/random.hpp>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

namespace {

using namespace pnpdist::test;
namespace emu = pnpdist_cuda_emulator;

// ---- for_each -------------------------------------------------------------------------------------------

struct CountVisits {  // visits[i] += 1: each index exactly once
  int* visits;
  PNPDIST_HOST_DEVICE void operator()(index_t i) const { visits[i] += 1; }
};

template <class T>
struct Volume {  // out(a, b, c) from the multi-index
  T* out;
  index_t rows, columns;
  PNPDIST_HOST_DEVICE void operator()(index_t a, index_t b, index_t c) const {
    out[(a * rows + b) * columns + c] = static_cast<T>(test_value(a * 1000003 + b * 1009 + c)) * T(3) + T(0.5);
  }
};

TEMPLATE_TEST_CASE("emulated Cuda for_each: 1-D and N-D launches equal Serial", "[cuda-emulated]", float, double) {
  using T = TestType;
  const Cuda cuda;
  for (const index_t n : {index_t{1}, index_t{255}, index_t{256}, index_t{257}, index_t{3001}}) {
    INFO("n = " << n);
    auto x = mirrored<T, 1>(Extents<1>{n}, 11);
    auto y = mirrored<T, 1>(Extents<1>{n}, 12);
    pnpdist::for_each(Serial{}, n, Affine<T>{x.host.data(), y.host.data(), T(1.75), T(-0.375)});
    pnpdist::for_each(cuda, n, Affine<T>{x.device.data(), y.device.data(), T(1.75), T(-0.375)});
    pnpdist::synchronize(cuda);
    CHECK(same_contents(y));
  }
  const Extents<3> extents{3, 17, 33};
  auto v = mirrored<T, 3>(extents, 13);
  pnpdist::for_each(Serial{}, extents, Volume<T>{v.host.data(), 17, 33});
  pnpdist::for_each(cuda, extents, Volume<T>{v.device.data(), 17, 33});
  pnpdist::synchronize(cuda);
  CHECK(same_contents(v));
  // Empty index spaces launch nothing.
  const auto launches = emu::statistics().launches;
  pnpdist::for_each(cuda, index_t{0}, Affine<T>{nullptr, nullptr, T(1), T(1)});
  pnpdist::for_each(cuda, Extents<3>{4, 0, 5}, Volume<T>{nullptr, 0, 5});
  CHECK(emu::statistics().launches == launches);
}

TEST_CASE("emulated Cuda for_each: the grid-stride loop visits every index once past the block limit",
          "[cuda-emulated]") {
  // More indices than cuda_for_each_max_blocks * cuda_for_each_block_size threads: some threads take two.
  const index_t n = pnpdist::cuda_for_each_max_blocks * pnpdist::cuda_for_each_block_size + 1000;
  int* visits = nullptr;
  REQUIRE(cudaMalloc(reinterpret_cast<void**>(&visits), static_cast<std::size_t>(n) * sizeof(int)) == cudaSuccess);
  REQUIRE(cudaMemset(visits, 0, static_cast<std::size_t>(n) * sizeof(int)) == cudaSuccess);
  const auto before = emu::statistics();
  pnpdist::for_each(Cuda{}, n, CountVisits{visits});
  pnpdist::synchronize(Cuda{});
  CHECK(emu::statistics().blocks - before.blocks == static_cast<std::uint64_t>(pnpdist::cuda_for_each_max_blocks));
  std::vector<int> host(static_cast<std::size_t>(n));
  REQUIRE(cudaMemcpy(host.data(), visits, host.size() * sizeof(int), cudaMemcpyDeviceToHost) == cudaSuccess);
  index_t wrong = 0;
  for (const int v : host) wrong += v != 1 ? 1 : 0;
  CHECK(wrong == 0);
  CHECK(cudaFree(visits) == cudaSuccess);
}

// ---- tensor algebra (contiguous views use the 1-D launch, strided sub-views the N-D one) ----------------

template <class T, class Operation>
void check_algebra_step(const std::string& what, Mirrored<T, 3>& x, Mirrored<T, 3>& y, const Operation& operation) {
  const Cuda cuda;
  operation(Serial{}, x.host.view(), y.host.view());
  operation(cuda, x.device.view(), y.device.view());
  pnpdist::synchronize(cuda);
  INFO(what);
  CHECK(same_contents(x));
  CHECK(same_contents(y));
}

TEMPLATE_TEST_CASE("emulated Cuda tensor algebra equals Serial", "[cuda-emulated]", float, double) {
  using T = TestType;
  const Extents<3> extents{3, 17, 33};
  const Extents<3> offset{1, 2, 3};
  const Extents<3> patch{2, 13, 28};
  auto x = mirrored<T, 3>(extents, 21);
  auto y = mirrored<T, 3>(extents, 22);
  const auto sub = [offset, patch](auto view) { return pnpdist::subview(view, offset, patch); };

  check_algebra_step<T>("fill", x, y, [](const auto& e, auto, auto b) { pnpdist::fill(e, b, T(0.25)); });
  check_algebra_step<T>("fill patch", x, y, [&](const auto& e, auto, auto b) { pnpdist::fill(e, sub(b), T(-4)); });
  check_algebra_step<T>("copy", x, y, [](const auto& e, auto a, auto b) { pnpdist::copy(e, a, b); });
  y = mirrored<T, 3>(extents, 23);
  check_algebra_step<T>("copy patch", x, y, [&](const auto& e, auto a, auto b) { pnpdist::copy(e, sub(a), sub(b)); });
  check_algebra_step<T>("scale", x, y, [](const auto& e, auto a, auto) { pnpdist::scale(e, T(2.5), a); });
  check_algebra_step<T>("scale patch", x, y, [&](const auto& e, auto a, auto) { pnpdist::scale(e, T(-0.3), sub(a)); });
  check_algebra_step<T>("axpby", x, y,
                        [](const auto& e, auto a, auto b) { pnpdist::axpby(e, T(0.75), a, T(-1.25), b); });
  check_algebra_step<T>("axpby patch", x, y,
                        [&](const auto& e, auto a, auto b) { pnpdist::axpby(e, T(1.1), sub(a), T(0.3), sub(b)); });
  check_algebra_step<T>("axpby beta = 0", x, y,
                        [](const auto& e, auto a, auto b) { pnpdist::axpby(e, T(0.7), a, T(0), b); });
  check_algebra_step<T>("axpby beta = 1", x, y,
                        [&](const auto& e, auto a, auto b) { pnpdist::axpby(e, T(0.9), sub(a), T(1), sub(b)); });
  check_algebra_step<T>("axpy", x, y, [](const auto& e, auto a, auto b) { pnpdist::axpy(e, T(-0.6), a, b); });
  check_algebra_step<T>("clamp", x, y, [](const auto& e, auto a, auto) { pnpdist::clamp(e, a, T(-0.5), T(0.5)); });
  check_algebra_step<T>("clamp patch", x, y,
                        [&](const auto& e, auto, auto b) { pnpdist::clamp(e, sub(b), T(-100), T(1)); });
  const auto host_zeros = pnpdist::zeros<T>(Serial{}, extents);
  const auto device_zeros = pnpdist::zeros<T>(Cuda{}, extents);
  const auto back = pnpdist::clone<HostSpace>(device_zeros.const_view());
  CHECK(std::memcmp(back.data(), host_zeros.data(), host_zeros.bytes()) == 0);
}

// ---- random fills, DenseMatrix, power_method -------------------------------------------------------------

TEMPLATE_TEST_CASE("emulated Cuda random fills equal Serial", "[cuda-emulated]", float, double) {
  using T = TestType;
  const Cuda cuda;
  auto x = mirrored<T, 3>(Extents<3>{2, 19, 23}, 51);
  auto y = mirrored<T, 3>(Extents<3>{2, 19, 23}, 52);
  check_algebra_step<T>("fill_normal", x, y,
                        [](const auto& e, auto a, auto) { pnpdist::fill_normal(e, a, 7, 3, T(0.5), T(2)); });
  check_algebra_step<T>("fill_uniform", x, y,
                        [](const auto& e, auto, auto b) { pnpdist::fill_uniform(e, b, 8, 0, T(-1), T(3)); });
  check_algebra_step<T>("add_gaussian_noise", x, y,
                        [](const auto& e, auto a, auto) { pnpdist::add_gaussian_noise(e, a, T(0.1), 9, 1); });
  check_algebra_step<T>("fill_normal on a strided patch", x, y, [](const auto& e, auto a, auto) {
    pnpdist::fill_normal(e, pnpdist::subview(a, Extents<3>{1, 2, 3}, Extents<3>{1, 15, 17}), 10, 0, T(0), T(1));
  });
}

TEMPLATE_TEST_CASE("emulated Cuda DenseMatrix and power_method equal Serial", "[cuda-emulated]", float, double) {
  using T = TestType;
  const index_t rows = 37;
  const index_t cols = 29;
  std::vector<T> entries(static_cast<std::size_t>(rows * cols));
  for (std::size_t k = 0; k < entries.size(); ++k)
    entries[k] = static_cast<T>(test_value(static_cast<index_t>(k)) / 1024.0);
  const pnpdist::DenseMatrix<T, Serial> host_matrix(Serial{}, rows, cols, std::span<const T>(entries));
  const pnpdist::DenseMatrix<T, Cuda> device_matrix(Cuda{}, rows, cols, std::span<const T>(entries));

  auto x = mirrored<T, 1>(Extents<1>{cols}, 61);
  auto y = mirrored<T, 1>(Extents<1>{rows}, 62);
  host_matrix.apply(x.host.const_view(), y.host.view());
  device_matrix.apply(x.device.const_view(), y.device.view());
  pnpdist::synchronize(Cuda{});
  CHECK(same_contents(y));
  host_matrix.apply_adjoint(y.host.const_view(), x.host.view());
  device_matrix.apply_adjoint(y.device.const_view(), x.device.view());
  pnpdist::synchronize(Cuda{});
  CHECK(same_contents(x));

  const pnpdist::PowerMethodOptions options{30, 1e-5, 4};
  const auto on_host = pnpdist::power_method(host_matrix, options);
  const auto on_device = pnpdist::power_method(device_matrix, options);
  CHECK(same_bits(on_host.squared_norm, on_device.squared_norm));
  CHECK(on_host.iterations == on_device.iterations);
  CHECK(on_host.converged == on_device.converged);
}

}  // namespace

TEST_CASE("emulated Cuda and CudaSpace are in the emulation's ABI-tagged inline namespace", "[cuda-emulated]") {
  // Distinct from the host compiler's and nvcc's (backend/cuda/abi_tag.hpp): an emulated instantiation of
  // a Cuda template never shares a mangled name with a real one.
  STATIC_REQUIRE(std::is_same_v<pnpdist::Cuda, pnpdist::cuda_emulated::Cuda>);
  STATIC_REQUIRE(std::is_same_v<pnpdist::CudaSpace, pnpdist::cuda_emulated::CudaSpace>);
  CHECK(std::string(typeid(pnpdist::Tensor<float, 1, pnpdist::CudaSpace>).name()).find("13cuda_emulated") !=
        std::string::npos);
}
