// Covers: cuda_reduce_chunks_kernel
// The CUDA backend's transform_reduce run by the CPU emulation of CUDA (label cuda-emulated): every
// reduction of tensor/reductions.hpp on contiguous and strided views, NaN and infinity, one and two
// reduction levels, and the memory and copy accounting, on the Cuda executor against the Serial executor,
// bit for bit (the chunk and tree order is the same; see backend/reduce.hpp).

#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include "emulated_test_support.hpp"

#include <pnpdist/tensor/algebra.hpp>
#include <pnpdist/tensor/reductions.hpp>

#include <limits>

namespace {

using namespace pnpdist::test;
namespace emu = pnpdist_cuda_emulator;

// ---- reductions -----------------------------------------------------------------------------------------

template <class T, std::size_t Rank>
void check_reductions_of(const Mirrored<T, Rank>& x, const Mirrored<T, Rank>& y, const Extents<Rank>& offset,
                         const Extents<Rank>& patch) {
  const Cuda cuda;
  const Serial serial;
  const auto hx = x.host.const_view();
  const auto hy = y.host.const_view();
  const auto dx = x.device.const_view();
  const auto dy = y.device.const_view();
  CHECK(same_bits(pnpdist::sum(serial, hx), pnpdist::sum(cuda, dx)));
  CHECK(same_bits(pnpdist::dot(serial, hx, hy), pnpdist::dot(cuda, dx, dy)));
  CHECK(same_bits(pnpdist::squared_norm(serial, hx), pnpdist::squared_norm(cuda, dx)));
  CHECK(same_bits(pnpdist::norm(serial, hx), pnpdist::norm(cuda, dx)));
  CHECK(same_bits(pnpdist::max_value(serial, hx), pnpdist::max_value(cuda, dx)));
  CHECK(same_bits(pnpdist::min_value(serial, hx), pnpdist::min_value(cuda, dx)));
  CHECK(pnpdist::count_nonfinite(serial, hx) == pnpdist::count_nonfinite(cuda, dx));
  const auto px = pnpdist::subview(hx, offset, patch);
  const auto py = pnpdist::subview(hy, offset, patch);
  const auto qx = pnpdist::subview(dx, offset, patch);
  const auto qy = pnpdist::subview(dy, offset, patch);
  CHECK(same_bits(pnpdist::sum(serial, px), pnpdist::sum(cuda, qx)));
  CHECK(same_bits(pnpdist::dot(serial, px, py), pnpdist::dot(cuda, qx, qy)));
  CHECK(same_bits(pnpdist::max_value(serial, px), pnpdist::max_value(cuda, qx)));
  CHECK(same_bits(pnpdist::min_value(serial, px), pnpdist::min_value(cuda, qx)));
}

TEMPLATE_TEST_CASE("emulated Cuda reductions equal Serial bit for bit", "[cuda-emulated]", float, double) {
  using T = TestType;
  // Around the chunk size (4096) and with two reduction levels (more than one chunk).
  for (const index_t n : {index_t{1}, index_t{255}, index_t{4096}, index_t{4097}, index_t{4096} * 3 + 3}) {
    INFO("n = " << n);
    auto x = mirrored<T, 1>(Extents<1>{n}, 31);
    auto y = mirrored<T, 1>(Extents<1>{n}, 32);
    check_reductions_of(x, y, Extents<1>{n > 2 ? 1 : 0}, Extents<1>{n > 2 ? n - 2 : n});
  }
  {
    INFO("3-D");
    auto x = mirrored<T, 3>(Extents<3>{3, 30, 50}, 33);
    auto y = mirrored<T, 3>(Extents<3>{3, 30, 50}, 34);
    check_reductions_of(x, y, Extents<3>{1, 5, 2}, Extents<3>{2, 22, 45});
  }
  {
    INFO("NaN and infinity propagate identically");
    auto z = mirrored<T, 1>(Extents<1>{6000}, 35);
    z.host.data()[1234] = std::numeric_limits<T>::infinity();
    z.host.data()[4777] = std::numeric_limits<T>::quiet_NaN();
    z.device = pnpdist::clone<CudaSpace>(z.host.const_view());
    check_reductions_of(z, z, Extents<1>{0}, Extents<1>{1235});
  }
}

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

TEST_CASE("emulated Cuda transform_reduce equals Serial for sums, extrema and integers", "[cuda-emulated]") {
  const Cuda cuda;
  for (const index_t n : {index_t{0}, index_t{1}, index_t{4095}, index_t{4096} * 4 + 1}) {
    INFO("n = " << n);
    CHECK(same_bits(pnpdist::transform_reduce(Serial{}, n, pnpdist::SumOp<double>{}, IllConditioned{}),
                    pnpdist::transform_reduce(cuda, n, pnpdist::SumOp<double>{}, IllConditioned{})));
    CHECK(same_bits(pnpdist::transform_reduce(Serial{}, n, pnpdist::SumOp<float>{}, FloatSquare{}),
                    pnpdist::transform_reduce(cuda, n, pnpdist::SumOp<float>{}, FloatSquare{})));
    CHECK(same_bits(pnpdist::transform_reduce(Serial{}, n, pnpdist::MaxOp<double>{}, IllConditioned{}),
                    pnpdist::transform_reduce(cuda, n, pnpdist::MaxOp<double>{}, IllConditioned{})));
    CHECK(same_bits(pnpdist::transform_reduce(Serial{}, n, pnpdist::MinOp<double>{}, IllConditioned{}),
                    pnpdist::transform_reduce(cuda, n, pnpdist::MinOp<double>{}, IllConditioned{})));
    CHECK(pnpdist::transform_reduce(Serial{}, n, pnpdist::SumOp<index_t>{}, Modulo{}) ==
          pnpdist::transform_reduce(cuda, n, pnpdist::SumOp<index_t>{}, Modulo{}));
  }
}

TEST_CASE("emulated Cuda backend: allocations and copies are tracked as documented", "[cuda-emulated]") {
  const Cuda cuda;
  auto x = mirrored<float, 1>(Extents<1>{20000}, 41);
  auto& device_memory = pnpdist::allocation_tracker<CudaSpace>();
  const auto before = device_memory.statistics();
  const std::size_t emulated_before = emu::device_bytes_in_use();
  pnpdist::copy_tracker().reset();

  pnpdist::scale(cuda, 0.5f, x.device.view());
  pnpdist::synchronize(cuda);
  auto copies = pnpdist::copy_tracker().statistics();
  CHECK(copies.count_of(pnpdist::CopyKind::host_to_device) + copies.count_of(pnpdist::CopyKind::device_to_host) +
            copies.count_of(pnpdist::CopyKind::device_to_device) ==
        0);
  CHECK(device_memory.statistics().allocations == before.allocations);

  (void)pnpdist::sum(cuda, x.device.const_view());  // 5 chunks: two levels, two scratch buffers
  copies = pnpdist::copy_tracker().statistics();
  CHECK(copies.count_of(pnpdist::CopyKind::device_to_host) == 1);
  CHECK(copies.bytes_of(pnpdist::CopyKind::device_to_host) == sizeof(double));
  CHECK(copies.count_of(pnpdist::CopyKind::host_to_device) == 0);
  CHECK(copies.count_of(pnpdist::CopyKind::device_to_device) == 0);
  const auto after = device_memory.statistics();
  CHECK(after.current_bytes == before.current_bytes);
  CHECK(after.allocations == before.allocations + 2);
  CHECK(emu::device_bytes_in_use() == emulated_before);  // the runtime saw every scratch buffer freed
}

}  // namespace
