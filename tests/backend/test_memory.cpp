#include <catch2/catch.hpp>

#include <pnpdist/backend/allocation_tracker.hpp>
#include <pnpdist/backend/host_space.hpp>
#include <pnpdist/tensor/owning_tensor.hpp>

#include <cstdint>
#include <utility>

using pnpdist::HostSpace;

TEST_CASE("host allocations are 64-byte aligned and tracked with a resettable high-water mark", "[memory][unit]") {
  auto& tracker = pnpdist::allocation_tracker<HostSpace>();
  const auto before = tracker.statistics();
  tracker.reset_peak();
  {
    pnpdist::Tensor<float, 2> a(pnpdist::Extents<2>{100, 100});  // 40000 bytes
    CHECK(reinterpret_cast<std::uintptr_t>(a.data()) % 64 == 0);
    {
      pnpdist::Tensor<double, 1> b(pnpdist::Extents<1>{1000});  // 8000 bytes
      CHECK(reinterpret_cast<std::uintptr_t>(b.data()) % 64 == 0);
      CHECK(tracker.statistics().current_bytes == before.current_bytes + 48000);
    }
    CHECK(tracker.statistics().current_bytes == before.current_bytes + 40000);
    CHECK(tracker.statistics().peak_bytes == before.current_bytes + 48000);
    tracker.reset_peak();
    CHECK(tracker.statistics().peak_bytes == before.current_bytes + 40000);
  }
  const auto after = tracker.statistics();
  CHECK(after.current_bytes == before.current_bytes);
  CHECK(after.allocations == before.allocations + 2);
  CHECK(after.deallocations == before.deallocations + 2);
}

TEST_CASE("moving a tensor transfers ownership without allocating", "[memory][unit]") {
  auto& tracker = pnpdist::allocation_tracker<HostSpace>();
  pnpdist::Tensor<float, 1> a(pnpdist::Extents<1>{256});
  const float* storage = a.data();
  const auto allocations = tracker.statistics().allocations;
  pnpdist::Tensor<float, 1> b(std::move(a));
  CHECK(b.data() == storage);
  CHECK(a.data() == nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is documented
  CHECK(a.size() == 0);
  pnpdist::Tensor<float, 1> c;
  c = std::move(b);
  CHECK(c.data() == storage);
  CHECK(tracker.statistics().allocations == allocations);
}

TEST_CASE("copies between memory spaces are counted", "[memory][unit]") {
  auto& copies = pnpdist::copy_tracker();
  const auto before = copies.statistics();
  pnpdist::Tensor<float, 1> a(pnpdist::Extents<1>{10});
  for (int i = 0; i < 10; ++i) a(i) = static_cast<float>(i);
  auto b = pnpdist::clone(a.const_view());
  CHECK(b(9) == 9.0f);
  pnpdist::deep_copy(b.view(), a.const_view());
  const auto after = copies.statistics();
  CHECK(after.count_of(pnpdist::CopyKind::host_to_host) == before.count_of(pnpdist::CopyKind::host_to_host) + 2);
  CHECK(after.bytes_of(pnpdist::CopyKind::host_to_host) == before.bytes_of(pnpdist::CopyKind::host_to_host) + 80);
  CHECK(after.count_of(pnpdist::CopyKind::host_to_device) == before.count_of(pnpdist::CopyKind::host_to_device));
}

TEST_CASE("a negative extent is rejected", "[memory][unit]") {
  CHECK_THROWS_AS((pnpdist::Tensor<float, 2>(pnpdist::Extents<2>{3, -1})), pnpdist::invalid_argument);
}
