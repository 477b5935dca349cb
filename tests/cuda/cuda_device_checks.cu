// The device half of test_cuda_device: every result of the Cuda executor is compared with the Serial
// executor's, bit for bit. Compiled by nvcc with --fmad=false so that device arithmetic rounds like the
// host's (no a * b + c contracted into an FMA). Host data are ill-conditioned on purpose (magnitudes from
// 2^-20 to 2^20, both signs): any change in the order of a reduction changes the bits.

#include "cuda_device_checks.hpp"

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/reductions.hpp>
#include <pnpdist/tensor/tensor.hpp>

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using pnpdist::Cuda;
using pnpdist::CudaSpace;
using pnpdist::Extents;
using pnpdist::HostSpace;
using pnpdist::index_t;
using pnpdist::Serial;
using pnpdist::Tensor;

int failures = 0;

void check(bool ok, const std::string& what) {
  if (ok) return;
  ++failures;
  std::printf("FAIL: %s\n", what.c_str());
}

template <class T>
bool same_bits(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

std::string text(double x) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);
  return buffer;
}
std::string text(float x) { return text(static_cast<double>(x)); }
std::string text(index_t x) { return std::to_string(x); }

template <class T>
const char* type_name() {
  return std::is_same_v<T, float> ? "float" : "double";
}

/// Deterministic, exactly representable test value: +-(0..1) * 2^e, e in [-20, 20].
PNPDIST_HOST_DEVICE double test_value(index_t i) {
  std::uint64_t h = static_cast<std::uint64_t>(i) * 6364136223846793005ull + 1442695040888963407ull;
  h ^= h >> 29;
  const double mantissa = static_cast<double>(h % 2001) / 1000.0 - 1.0;
  const int exponent = static_cast<int>((h >> 11) % 41) - 20;
  double scale = 1.0;
  for (int k = 0; k < exponent; ++k) scale *= 2.0;
  for (int k = 0; k > exponent; --k) scale *= 0.5;
  return mantissa * scale;
}

/// The same values on the host (for Serial) and on the device (for Cuda).
template <class T, std::size_t Rank>
struct Mirrored {
  Tensor<T, Rank, HostSpace> host;
  Tensor<T, Rank, CudaSpace> device;
};

template <class T, std::size_t Rank>
Mirrored<T, Rank> mirrored(const Extents<Rank>& extents, index_t seed) {
  Tensor<T, Rank, HostSpace> host(extents);
  for (index_t i = 0; i < host.size(); ++i) host.data()[i] = static_cast<T>(test_value(seed + i));
  Tensor<T, Rank, CudaSpace> device = pnpdist::clone<CudaSpace>(host.const_view());
  return {std::move(host), std::move(device)};
}

/// True when the device copy holds the same bits as the host copy.
template <class T, std::size_t Rank>
bool same_contents(const Mirrored<T, Rank>& m) {
  const Tensor<T, Rank, HostSpace> back = pnpdist::clone<HostSpace>(m.device.const_view());
  return std::memcmp(back.data(), m.host.data(), m.host.bytes()) == 0;
}

// ---- for_each ------------------------------------------------------------------------------------------

template <class T>
struct Affine {  // y[i] = alpha * x[i] + beta: an FMA candidate
  const T* x;
  T* y;
  T alpha, beta;
  PNPDIST_HOST_DEVICE void operator()(index_t i) const { y[i] = alpha * x[i] + beta; }
};

template <class T>
struct Volume {  // out(a, b, c) from the multi-index
  T* out;
  index_t rows, columns;
  PNPDIST_HOST_DEVICE void operator()(index_t a, index_t b, index_t c) const {
    out[(a * rows + b) * columns + c] = static_cast<T>(test_value(a * 1000003 + b * 1009 + c)) * T(3) + T(0.5);
  }
};

template <class T>
void check_for_each(const Cuda& cuda) {
  for (const index_t n : {index_t{1}, index_t{255}, index_t{257}, index_t{100003}, index_t{4096 * 256 * 3 + 17}}) {
    auto x = mirrored<T, 1>(Extents<1>{n}, 11);
    auto y = mirrored<T, 1>(Extents<1>{n}, 12);
    pnpdist::for_each(Serial{}, n, Affine<T>{x.host.data(), y.host.data(), T(1.75), T(-0.375)});
    pnpdist::for_each(cuda, n, Affine<T>{x.device.data(), y.device.data(), T(1.75), T(-0.375)});
    pnpdist::synchronize(cuda);
    check(same_contents(y), std::string("for_each 1-D (") + type_name<T>() + ", n = " + std::to_string(n) + ")");
  }
  const Extents<3> extents{7, 33, 65};
  auto v = mirrored<T, 3>(extents, 13);
  pnpdist::for_each(Serial{}, extents, Volume<T>{v.host.data(), 33, 65});
  pnpdist::for_each(cuda, extents, Volume<T>{v.device.data(), 33, 65});
  pnpdist::synchronize(cuda);
  check(same_contents(v), std::string("for_each 3-D (") + type_name<T>() + ")");
  // n == 0 launches nothing.
  pnpdist::for_each(cuda, index_t{0}, Affine<T>{nullptr, nullptr, T(1), T(1)});
  pnpdist::for_each(cuda, Extents<3>{4, 0, 5}, Volume<T>{nullptr, 0, 5});
}

// ---- tensor algebra (elementwise: contiguous views use the 1-D launch, strided ones the N-D one) ---------

template <class T, class Operation>
void check_algebra_step(const Cuda& cuda, const std::string& what, Mirrored<T, 3>& x, Mirrored<T, 3>& y,
                        const Operation& operation) {
  operation(Serial{}, x.host.view(), y.host.view());
  operation(cuda, x.device.view(), y.device.view());
  pnpdist::synchronize(cuda);
  check(same_contents(x) && same_contents(y), "algebra " + what + " (" + type_name<T>() + ")");
}

template <class T>
void check_algebra(const Cuda& cuda) {
  const Extents<3> extents{7, 33, 65};
  const Extents<3> offset{1, 2, 3};
  const Extents<3> patch{5, 29, 60};  // a strided sub-view
  auto x = mirrored<T, 3>(extents, 21);
  auto y = mirrored<T, 3>(extents, 22);
  const auto sub = [offset, patch](auto view) { return pnpdist::subview(view, offset, patch); };

  check_algebra_step<T>(cuda, "fill", x, y, [](const auto& e, auto, auto b) { pnpdist::fill(e, b, T(0.25)); });
  check_algebra_step<T>(cuda, "fill patch", x, y,
                        [&](const auto& e, auto, auto b) { pnpdist::fill(e, sub(b), T(-4)); });
  check_algebra_step<T>(cuda, "copy", x, y, [](const auto& e, auto a, auto b) { pnpdist::copy(e, a, b); });
  y = mirrored<T, 3>(extents, 23);
  check_algebra_step<T>(cuda, "copy patch", x, y,
                        [&](const auto& e, auto a, auto b) { pnpdist::copy(e, sub(a), sub(b)); });
  check_algebra_step<T>(cuda, "scale", x, y, [](const auto& e, auto a, auto) { pnpdist::scale(e, T(2.5), a); });
  check_algebra_step<T>(cuda, "scale patch", x, y,
                        [&](const auto& e, auto a, auto) { pnpdist::scale(e, T(-0.3), sub(a)); });
  check_algebra_step<T>(cuda, "axpby", x, y,
                        [](const auto& e, auto a, auto b) { pnpdist::axpby(e, T(0.75), a, T(-1.25), b); });
  check_algebra_step<T>(cuda, "axpby patch", x, y,
                        [&](const auto& e, auto a, auto b) { pnpdist::axpby(e, T(1.1), sub(a), T(0.3), sub(b)); });
  check_algebra_step<T>(cuda, "axpby beta = 0", x, y,
                        [](const auto& e, auto a, auto b) { pnpdist::axpby(e, T(0.7), a, T(0), b); });
  check_algebra_step<T>(cuda, "axpby beta = 1", x, y,
                        [&](const auto& e, auto a, auto b) { pnpdist::axpby(e, T(0.9), sub(a), T(1), sub(b)); });
  check_algebra_step<T>(cuda, "axpy", x, y, [](const auto& e, auto a, auto b) { pnpdist::axpy(e, T(-0.6), a, b); });
  check_algebra_step<T>(cuda, "clamp", x, y,
                        [](const auto& e, auto a, auto) { pnpdist::clamp(e, a, T(-0.5), T(0.5)); });
  check_algebra_step<T>(cuda, "clamp patch", x, y,
                        [&](const auto& e, auto, auto b) { pnpdist::clamp(e, sub(b), T(-100), T(1)); });
}

// ---- reductions -----------------------------------------------------------------------------------------

template <class R>
void check_same(const std::string& what, R serial, R cuda) {
  check(same_bits(serial, cuda), what + ": serial " + text(serial) + ", cuda " + text(cuda));
}

template <class T, std::size_t Rank>
void check_reductions_of(const Cuda& cuda, const std::string& label, const Mirrored<T, Rank>& x,
                         const Mirrored<T, Rank>& y, const Extents<Rank>& offset, const Extents<Rank>& patch) {
  const auto hx = x.host.const_view();
  const auto hy = y.host.const_view();
  const auto dx = x.device.const_view();
  const auto dy = y.device.const_view();
  const std::string name = label + " " + type_name<T>();
  const Serial serial;
  check_same(name + " sum", pnpdist::sum(serial, hx), pnpdist::sum(cuda, dx));
  check_same(name + " dot", pnpdist::dot(serial, hx, hy), pnpdist::dot(cuda, dx, dy));
  check_same(name + " squared_norm", pnpdist::squared_norm(serial, hx), pnpdist::squared_norm(cuda, dx));
  check_same(name + " norm", pnpdist::norm(serial, hx), pnpdist::norm(cuda, dx));
  check_same(name + " max", pnpdist::max_value(serial, hx), pnpdist::max_value(cuda, dx));
  check_same(name + " min", pnpdist::min_value(serial, hx), pnpdist::min_value(cuda, dx));
  check_same(name + " count_nonfinite", pnpdist::count_nonfinite(serial, hx), pnpdist::count_nonfinite(cuda, dx));
  // Strided patches (non-contiguous element access).
  const auto px = pnpdist::subview(hx, offset, patch);
  const auto py = pnpdist::subview(hy, offset, patch);
  const auto qx = pnpdist::subview(dx, offset, patch);
  const auto qy = pnpdist::subview(dy, offset, patch);
  check_same(name + " patch sum", pnpdist::sum(serial, px), pnpdist::sum(cuda, qx));
  check_same(name + " patch dot", pnpdist::dot(serial, px, py), pnpdist::dot(cuda, qx, qy));
  check_same(name + " patch max", pnpdist::max_value(serial, px), pnpdist::max_value(cuda, qx));
  check_same(name + " patch min", pnpdist::min_value(serial, px), pnpdist::min_value(cuda, qx));
}

template <class T>
void check_reductions(const Cuda& cuda) {
  // 1-D sizes around the chunk boundaries (4096 values per chunk) and with 1, 2 and 3 reduction levels.
  for (const index_t n :
       {index_t{1}, index_t{255}, index_t{4096}, index_t{4097}, index_t{1000003}, index_t{4096} * 4096 + 5}) {
    auto x = mirrored<T, 1>(Extents<1>{n}, 31);
    auto y = mirrored<T, 1>(Extents<1>{n}, 32);
    const index_t patch = n > 2 ? n - 2 : n;
    check_reductions_of(cuda, "n = " + std::to_string(n), x, y, Extents<1>{n > 2 ? 1 : 0}, Extents<1>{patch});
  }
  auto x = mirrored<T, 3>(Extents<3>{9, 130, 97}, 33);
  auto y = mirrored<T, 3>(Extents<3>{9, 130, 97}, 34);
  check_reductions_of(cuda, "3-D", x, y, Extents<3>{1, 5, 2}, Extents<3>{7, 120, 90});

  // NaN and infinities propagate identically.
  auto z = mirrored<T, 1>(Extents<1>{10000}, 35);
  z.host.data()[1234] = std::numeric_limits<T>::infinity();
  z.host.data()[7777] = std::numeric_limits<T>::quiet_NaN();
  z.device = pnpdist::clone<CudaSpace>(z.host.const_view());
  check_reductions_of(cuda, "non-finite", z, z, Extents<1>{0}, Extents<1>{1235});
}

// ---- transform_reduce directly ------------------------------------------------------------------------

struct IllConditioned {
  PNPDIST_HOST_DEVICE double operator()(index_t i) const { return test_value(i); }
};
struct FloatSquare {
  PNPDIST_HOST_DEVICE float operator()(index_t i) const {
    const float v = static_cast<float>(test_value(i));
    return v * v;
  }
};
struct Modulo {
  PNPDIST_HOST_DEVICE index_t operator()(index_t i) const { return (i * 7919) % 1000 - 500; }
};

void check_transform_reduce(const Cuda& cuda) {
  for (const index_t n : {index_t{0}, index_t{1}, index_t{4095}, index_t{4096} * 33 + 1, index_t{50000000}}) {
    const std::string at = " (n = " + std::to_string(n) + ")";
    check_same("transform_reduce sum double" + at,
               pnpdist::transform_reduce(Serial{}, n, pnpdist::SumOp<double>{}, IllConditioned{}),
               pnpdist::transform_reduce(cuda, n, pnpdist::SumOp<double>{}, IllConditioned{}));
    check_same("transform_reduce sum float" + at,
               pnpdist::transform_reduce(Serial{}, n, pnpdist::SumOp<float>{}, FloatSquare{}),
               pnpdist::transform_reduce(cuda, n, pnpdist::SumOp<float>{}, FloatSquare{}));
    check_same("transform_reduce max" + at,
               pnpdist::transform_reduce(Serial{}, n, pnpdist::MaxOp<double>{}, IllConditioned{}),
               pnpdist::transform_reduce(cuda, n, pnpdist::MaxOp<double>{}, IllConditioned{}));
    check_same("transform_reduce min" + at,
               pnpdist::transform_reduce(Serial{}, n, pnpdist::MinOp<double>{}, IllConditioned{}),
               pnpdist::transform_reduce(cuda, n, pnpdist::MinOp<double>{}, IllConditioned{}));
    check_same("transform_reduce integer sum" + at,
               pnpdist::transform_reduce(Serial{}, n, pnpdist::SumOp<index_t>{}, Modulo{}),
               pnpdist::transform_reduce(cuda, n, pnpdist::SumOp<index_t>{}, Modulo{}));
  }
}

// ---- memory and copy accounting ------------------------------------------------------------------------

void check_accounting(const Cuda& cuda) {
  auto x = mirrored<float, 1>(Extents<1>{1000000}, 41);
  auto& device_memory = pnpdist::allocation_tracker<CudaSpace>();
  const auto before = device_memory.statistics();
  pnpdist::copy_tracker().reset();

  pnpdist::scale(cuda, 0.5f, x.device.view());
  pnpdist::synchronize(cuda);
  auto copies = pnpdist::copy_tracker().statistics();
  check(copies.count_of(pnpdist::CopyKind::host_to_device) + copies.count_of(pnpdist::CopyKind::device_to_host) +
                copies.count_of(pnpdist::CopyKind::device_to_device) ==
            0,
        "for_each on Cuda copies nothing");
  check(device_memory.statistics().allocations == before.allocations, "for_each on Cuda allocates nothing");

  (void)pnpdist::sum(cuda, x.device.const_view());  // 245 chunks: two levels, two scratch buffers
  copies = pnpdist::copy_tracker().statistics();
  check(copies.count_of(pnpdist::CopyKind::device_to_host) == 1 &&
            copies.bytes_of(pnpdist::CopyKind::device_to_host) == sizeof(double),
        "transform_reduce on Cuda copies exactly its result to the host");
  check(copies.count_of(pnpdist::CopyKind::host_to_device) == 0 &&
            copies.count_of(pnpdist::CopyKind::device_to_device) == 0,
        "transform_reduce on Cuda copies nothing else");
  const auto after = device_memory.statistics();
  check(after.current_bytes == before.current_bytes, "transform_reduce on Cuda frees its scratch memory");
  check(after.allocations == before.allocations + 2, "transform_reduce on Cuda allocates two scratch buffers, tracked");
}

void check_executor(const Cuda& cuda) {
  check(cuda.concurrency() > 0, "Cuda::concurrency() is positive");
  pnpdist::synchronize(cuda);
}

void run_all(const Cuda& cuda) {
  check_executor(cuda);
  check_for_each<float>(cuda);
  check_for_each<double>(cuda);
  check_algebra<float>(cuda);
  check_algebra<double>(cuda);
  check_reductions<float>(cuda);
  check_reductions<double>(cuda);
  check_transform_reduce(cuda);
  check_accounting(cuda);
}

}  // namespace

namespace pnpdist::test {

int run_cuda_device_checks() {
  failures = 0;
  try {
    std::printf("default stream\n");
    run_all(Cuda{});
    cudaStream_t stream = nullptr;
    PNPDIST_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    std::printf("non-blocking stream\n");
    try {
      run_all(Cuda{stream});
    } catch (...) {
      (void)cudaStreamDestroy(stream);
      throw;
    }
    PNPDIST_CUDA_CHECK(cudaStreamDestroy(stream));
  } catch (const std::exception& e) {
    check(false, std::string("exception: ") + e.what());
  }
  return failures;
}

}  // namespace pnpdist::test
