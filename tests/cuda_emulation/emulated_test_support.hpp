#pragma once
// Shared by the emulated tests: values, mirrored host/device tensors and comparisons of a host result with
// the emulated device result.

#include <cuda_runtime.h>

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/tensor/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

namespace pnpdist::test {

using pnpdist::Cuda;
using pnpdist::CudaSpace;
using pnpdist::Extents;
using pnpdist::HostSpace;
using pnpdist::index_t;
using pnpdist::Serial;
using pnpdist::Tensor;

template <class T>
inline bool same_bits(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

/// Deterministic, exactly representable, ill-conditioned test value: +-(0..1) * 2^e, e in [-20, 20]. Any
/// change in the order of a reduction changes the bits of the result.
PNPDIST_HOST_DEVICE double test_value(index_t i) {
  std::uint64_t h = static_cast<std::uint64_t>(i) * 6364136223846793005ull + 1442695040888963407ull;
  h ^= h >> 29;
  const double mantissa = static_cast<double>(h % 2001) / 1000.0 - 1.0;
  const int exponent = static_cast<int>((h >> 11) % 41) - 20;
  return std::ldexp(mantissa, exponent);
}

/// The same values on the host (for Serial) and on the emulated device (for Cuda).
template <class T, std::size_t Rank>
struct Mirrored {
  Tensor<T, Rank, HostSpace> host;
  Tensor<T, Rank, CudaSpace> device;
};

template <class T, std::size_t Rank>
inline Mirrored<T, Rank> mirrored(const Extents<Rank>& extents, index_t seed) {
  Tensor<T, Rank, HostSpace> host(extents);
  for (index_t i = 0; i < host.size(); ++i) host.data()[i] = static_cast<T>(test_value(seed * 1000003 + i));
  Tensor<T, Rank, CudaSpace> device = pnpdist::clone<CudaSpace>(host.const_view());
  return {std::move(host), std::move(device)};
}

/// True when the device copy holds the same bits as the host copy.
template <class T, std::size_t Rank>
inline bool same_contents(const Mirrored<T, Rank>& m) {
  const Tensor<T, Rank, HostSpace> back = pnpdist::clone<HostSpace>(m.device.const_view());
  return std::memcmp(back.data(), m.host.data(), m.host.bytes()) == 0;
}

/// A host tensor of deterministic values in [-1, 1] (multiples of 1/1000), different for each seed.
template <class T, std::size_t Rank>
inline Tensor<T, Rank, HostSpace> uniform_test_tensor(const Extents<Rank>& extents, std::uint64_t seed) {
  Tensor<T, Rank, HostSpace> t(extents);
  for (index_t i = 0; i < t.size(); ++i) {
    const std::uint64_t h =
        (static_cast<std::uint64_t>(i) + seed * 7919) * 6364136223846793005ull + 1442695040888963407ull;
    t.data()[i] = static_cast<T>(static_cast<double>((h >> 33) % 2001) / 1000.0 - 1.0);
  }
  return t;
}

/// Number of elements whose bits differ between the host result and the emulated device result.
template <class T, std::size_t Rank>
inline index_t bit_mismatches(const Tensor<T, Rank, HostSpace>& host, const Tensor<T, Rank, CudaSpace>& device) {
  const auto back = pnpdist::clone<HostSpace>(device.const_view());
  index_t wrong = 0;
  for (index_t i = 0; i < host.size(); ++i) wrong += same_bits(back.data()[i], host.data()[i]) ? 0 : 1;
  return wrong;
}

/// Number of elements whose values differ (== comparison, so -0 equals +0).
template <class T, std::size_t Rank>
inline index_t value_mismatches(const Tensor<T, Rank, HostSpace>& host, const Tensor<T, Rank, CudaSpace>& device) {
  const auto back = pnpdist::clone<HostSpace>(device.const_view());
  index_t wrong = 0;
  for (index_t i = 0; i < host.size(); ++i) wrong += back.data()[i] == host.data()[i] ? 0 : 1;
  return wrong;
}

/// max |device - host| / max |host|.
template <class T, std::size_t Rank>
inline double relative_difference(const Tensor<T, Rank, HostSpace>& host, const Tensor<T, Rank, CudaSpace>& device) {
  const auto back = pnpdist::clone<HostSpace>(device.const_view());
  double difference = 0;
  double scale = 0;
  for (index_t i = 0; i < host.size(); ++i) {
    difference = std::max(difference, std::abs(static_cast<double>(back.data()[i]) - host.data()[i]));
    scale = std::max(scale, std::abs(static_cast<double>(host.data()[i])));
  }
  return difference / scale;
}

/// A for_each kernel: y[i] = alpha * x[i] + beta.
template <class T>
struct Affine {
  const T* x;
  T* y;
  T alpha, beta;
  PNPDIST_HOST_DEVICE void operator()(index_t i) const { y[i] = alpha * x[i] + beta; }
};

}  // namespace pnpdist::test
