// The CPU emulation of CUDA itself (tests/cuda_emulation/include): indices, barriers and the schedules
// that make a missing barrier show, warp intrinsics against the documented CUDA semantics, mask checks,
// atomics and the runtime API. Kernels are launched through pnpdist::cuda_launch, like the library's.

#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include <pnpdist/backend/cuda/cuda.hpp>

#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

namespace {

namespace emu = pnpdist_cuda_emulator;
using pnpdist::cuda_launch;

/// Device buffer of n values of T, freed on scope exit.
template <class T>
struct DeviceBuffer {
  explicit DeviceBuffer(std::size_t count) : n(count) {
    REQUIRE(cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(T)) == cudaSuccess);
  }
  ~DeviceBuffer() { (void)cudaFree(p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void upload(const std::vector<T>& v) {
    REQUIRE(cudaMemcpy(p, v.data(), n * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  std::vector<T> download() const {
    std::vector<T> v(n);
    REQUIRE(cudaMemcpy(v.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
    return v;
  }
  std::size_t n;
  T* p = nullptr;
};

const emu::Schedule all_schedules[] = {emu::Schedule::forward, emu::Schedule::reverse, emu::Schedule::parallel,
                                       emu::Schedule::mixed};

/// A kernel fault is reported once by the next synchronization, as cudaErrorLaunchFailure, which also
/// becomes the thread's last error (as on a GPU).
void require_fault(const std::string& fragment) {
  CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure);
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
  CHECK(cudaDeviceSynchronize() == cudaSuccess);  // reported once, not sticky
  INFO(emu::statistics().last_fault);
  CHECK(emu::statistics().last_fault.find(fragment) != std::string::npos);
}

// ---- indices --------------------------------------------------------------------------------------------

__global__ void write_indices(unsigned* out) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
  out[block * threads + thread] = block * 1000 + thread;
}

TEST_CASE("emulated launch: every (block, thread) of a 3-D grid of 3-D blocks runs once", "[cuda-emulated]") {
  const dim3 grid(3, 2, 2);
  const dim3 block(4, 3, 5);
  DeviceBuffer<unsigned> out(12 * 60);
  const auto before = emu::statistics();
  cuda_launch(grid, block, 0, nullptr, &write_indices, out.p);
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  const auto v = out.download();
  for (unsigned b = 0; b < 12; ++b)
    for (unsigned t = 0; t < 60; ++t) REQUIRE(v[b * 60 + t] == b * 1000 + t);
  CHECK(emu::statistics().launches == before.launches + 1);
  CHECK(emu::statistics().blocks == before.blocks + 12);
}

TEST_CASE("emulated launch: invalid configurations are rejected like on a GPU", "[cuda-emulated]") {
  DeviceBuffer<unsigned> out(1);
  CHECK_THROWS_AS(cuda_launch(dim3(1), dim3(1025), 0, nullptr, &write_indices, out.p), pnpdist::cuda_error);
  CHECK_THROWS_WITH(cuda_launch(dim3(0), dim3(32), 0, nullptr, &write_indices, out.p),
                    Catch::Contains("cudaErrorInvalidConfiguration"));
  CHECK_THROWS_AS(cuda_launch(dim3(1), dim3(32, 32, 2), 0, nullptr, &write_indices, out.p), pnpdist::cuda_error);
  CHECK_THROWS_WITH(cuda_launch(dim3(1), dim3(32), 64 * 1024, nullptr, &write_indices, out.p),
                    Catch::Contains("cudaErrorInvalidValue"));
  CHECK(cudaGetLastError() == cudaSuccess);  // cuda_launch consumed the error
}

// ---- barriers and shared memory -------------------------------------------------------------------------

/// Block sum of in[] by the shared-memory tree; `Barrier` false omits the barrier between the loads and
/// the tree (the classic bug).
template <bool Barrier>
__global__ void block_sum_dynamic(const std::int64_t* in, std::int64_t* out) {
  std::int64_t* lanes = pnpdist::cuda_dynamic_shared<std::int64_t>();
  const unsigned t = threadIdx.x;
  lanes[t] = in[blockIdx.x * blockDim.x + t];
  if (Barrier) __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (t < stride) lanes[t] += lanes[t + stride];
    __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = lanes[0];
}

/// The same with a static __shared__ array and the barrier missing inside the tree instead.
template <bool Barrier>
__global__ void block_sum_static(const std::int64_t* in, std::int64_t* out) {
  __shared__ std::int64_t lanes[128];
  const unsigned t = threadIdx.x;
  lanes[t] = in[blockIdx.x * 128 + t];
  __syncthreads();
  for (unsigned stride = 64; stride > 0; stride /= 2) {
    if (t < stride) lanes[t] += lanes[t + stride];
    if (Barrier) __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = lanes[0];
}

struct BlockSumCase {
  std::vector<std::int64_t> expected;
  DeviceBuffer<std::int64_t> in{6 * 128};
  DeviceBuffer<std::int64_t> out{6};
  BlockSumCase() {
    std::vector<std::int64_t> values(6 * 128);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::int64_t>((i * 7919) % 1013) + 1;
    in.upload(values);
    for (std::size_t b = 0; b < 6; ++b)
      expected.push_back(std::accumulate(values.begin() + static_cast<std::ptrdiff_t>(b * 128),
                                         values.begin() + static_cast<std::ptrdiff_t>(b * 128 + 128), std::int64_t{0}));
  }
  template <class Kernel>
  std::vector<std::int64_t> run(Kernel kernel, std::size_t shared_bytes) {
    cuda_launch(dim3(6), dim3(128), shared_bytes, nullptr, kernel, static_cast<const std::int64_t*>(in.p), out.p);
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    return out.download();
  }
};

TEST_CASE("emulated barriers: a correct block reduction is exact under every schedule", "[cuda-emulated]") {
  BlockSumCase c;
  for (const emu::Schedule s : all_schedules) {
    INFO("schedule " << emu::schedule_name(s));
    const emu::ScheduleOverride schedule(s);
    CHECK(c.run(&block_sum_dynamic<true>, 128 * sizeof(std::int64_t)) == c.expected);
    CHECK(c.run(&block_sum_static<true>, 0) == c.expected);
  }
}

TEST_CASE("emulated barriers: a missing __syncthreads gives a wrong result deterministically", "[cuda-emulated]") {
  BlockSumCase c;
  // Missing before the tree: lane t < 64 adds lane t + 64 before that thread stored it. The forward
  // schedule runs thread t first; dynamic shared memory starts as 0xFF bytes, so every block is wrong.
  {
    const emu::ScheduleOverride schedule(emu::Schedule::forward);
    const auto got = c.run(&block_sum_dynamic<false>, 128 * sizeof(std::int64_t));
    for (std::size_t b = 0; b < 6; ++b) CHECK(got[b] != c.expected[b]);
  }
  // Missing inside the tree: thread 0 reads lanes[1] at stride 1 before thread 1 updated it at stride 2.
  {
    const emu::ScheduleOverride schedule(emu::Schedule::forward);
    const auto got = c.run(&block_sum_static<false>, 0);
    for (std::size_t b = 0; b < 6; ++b) CHECK(got[b] != c.expected[b]);
  }
  // The default (mixed) schedule gives a forward-ordered block in every launch of three blocks or more.
  {
    const emu::ScheduleOverride schedule(emu::Schedule::mixed);
    const auto got = c.run(&block_sum_dynamic<false>, 128 * sizeof(std::int64_t));
    CHECK(got != c.expected);
    const auto got_static = c.run(&block_sum_static<false>, 0);
    CHECK(got_static != c.expected);
  }
}

__global__ void divergent_barrier(int* out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}

TEST_CASE("emulated barriers: __syncthreads at different call sites is a kernel fault", "[cuda-emulated]") {
  DeviceBuffer<int> out(64);
  for (const emu::Schedule s : all_schedules) {
    INFO("schedule " << emu::schedule_name(s));
    const emu::ScheduleOverride schedule(s);
    cuda_launch(dim3(2), dim3(64), 0, nullptr, &divergent_barrier, out.p);
    require_fault("divergent __syncthreads");
  }
  // The fault surfaces as cuda_error at the library's synchronization point, then the device works again.
  cuda_launch(dim3(1), dim3(64), 0, nullptr, &divergent_barrier, out.p);
  CHECK_THROWS_WITH(pnpdist::synchronize(pnpdist::Cuda{}), Catch::Contains("cudaErrorLaunchFailure"));
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
  DeviceBuffer<unsigned> indices(32);
  cuda_launch(dim3(1), dim3(32), 0, nullptr, &write_indices, indices.p);
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
}

__global__ void barrier_variants(int* out) {
  const int t = static_cast<int>(threadIdx.x);
  const int count = __syncthreads_count(t % 3 == 0);
  const int all = __syncthreads_and(t < 1000);
  const int none = __syncthreads_and(t != 5);
  const int any = __syncthreads_or(t == 77);
  out[t] = count * 1000 + all * 100 + none * 10 + any;
}

TEST_CASE("emulated barriers: __syncthreads_count, _and and _or", "[cuda-emulated]") {
  DeviceBuffer<int> out(100);
  cuda_launch(dim3(1), dim3(100), 0, nullptr, &barrier_variants, out.p);
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  for (const int v : out.download()) CHECK(v == 34 * 1000 + 100 + 0 + 1);
}

__global__ void read_fresh_shared(unsigned char* out) {
  unsigned char* shared = pnpdist::cuda_dynamic_shared<unsigned char>();
  out[blockIdx.x * blockDim.x + threadIdx.x] = shared[threadIdx.x];  // before any write
  __syncthreads();
  shared[threadIdx.x] = 7;
}

TEST_CASE("emulated shared memory: dynamic shared memory starts every block as 0xFF bytes", "[cuda-emulated]") {
  DeviceBuffer<unsigned char> out(3 * 40);
  cuda_launch(dim3(3), dim3(40), 40, nullptr, &read_fresh_shared, out.p);
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  for (const unsigned char v : out.download()) CHECK(v == 0xFF);
}

// ---- warp intrinsics ------------------------------------------------------------------------------------

/// out[k * n + t] = result k of thread t; values v(t) = 100 + t.
__global__ void shuffles(int* out, unsigned n) {
  const int t = static_cast<int>(threadIdx.x);
  const int v = 100 + t;
  const unsigned full = 0xffffffffu;
  int k = 0;
  out[k++ * n + t] = __shfl_sync(full, v, 3);
  out[k++ * n + t] = __shfl_sync(full, v, 3, 8);
  out[k++ * n + t] = __shfl_sync(full, v, 35);  // src lane modulo width
  out[k++ * n + t] = __shfl_up_sync(full, v, 1);
  out[k++ * n + t] = __shfl_up_sync(full, v, 3, 16);
  out[k++ * n + t] = __shfl_down_sync(full, v, 4, 8);
  out[k++ * n + t] = __shfl_down_sync(full, v, 31);
  out[k++ * n + t] = __shfl_xor_sync(full, v, 1);
  out[k++ * n + t] = __shfl_xor_sync(full, v, 16, 16);
  out[k++ * n + t] = static_cast<int>(__ballot_sync(full, t % 3 == 0));
  out[k++ * n + t] = __all_sync(full, t < 40) * 10 + __any_sync(full, t == 40);
  // A warp sum by butterfly: every lane gets the total of its warp.
  int sum = v;
  for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(full, sum, offset);
  out[k++ * n + t] = sum;
  // Lanes 0..15 only, with their own mask and width 16 (lanes 14 and 15 keep their value); 8-byte values.
  if ((t % 32) < 16) {
    const double d = 0.5 * t;
    out[k * n + t] = static_cast<int>(2.0 * __shfl_down_sync(0x0000ffffu, d, 2, 16));
    out[(k + 1) * n + t] = static_cast<int>(__ballot_sync(0x0000ffffu, t % 2));
  }
}

TEST_CASE("emulated warp intrinsics: results follow the CUDA documentation", "[cuda-emulated]") {
  const unsigned n = 64;
  const int results = 14;
  for (const emu::Schedule s : all_schedules) {
    INFO("schedule " << emu::schedule_name(s));
    const emu::ScheduleOverride schedule(s);
    DeviceBuffer<int> out(results * n);
    REQUIRE(cudaMemset(out.p, 0, results * n * sizeof(int)) == cudaSuccess);
    cuda_launch(dim3(1), dim3(n), 0, nullptr, &shuffles, out.p, n);
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    const auto got = out.download();
    const auto at = [&](int k, int t) { return got[static_cast<std::size_t>(k) * n + static_cast<std::size_t>(t)]; };
    for (int t = 0; t < static_cast<int>(n); ++t) {
      INFO("thread " << t);
      const int lane = t % 32;
      const int warp = t - lane;  // first thread of the warp
      const auto v = [&](int l) { return 100 + warp + l; };
      CHECK(at(0, t) == v(3));
      CHECK(at(1, t) == v(lane / 8 * 8 + 3));
      CHECK(at(2, t) == v(3));
      CHECK(at(3, t) == (lane >= 1 ? v(lane - 1) : v(lane)));
      CHECK(at(4, t) == (lane % 16 >= 3 ? v(lane - 3) : v(lane)));
      CHECK(at(5, t) == (lane % 8 < 4 ? v(lane + 4) : v(lane)));
      CHECK(at(6, t) == (lane == 0 ? v(31) : v(lane)));
      CHECK(at(7, t) == v(lane ^ 1));
      CHECK(at(8, t) == (lane >= 16 ? v(lane - 16) : v(lane)));  // earlier segment readable, later not
      unsigned ballot = 0;
      for (int l = 0; l < 32; ++l) ballot |= (warp + l) % 3 == 0 ? 1u << l : 0u;
      CHECK(static_cast<unsigned>(at(9, t)) == ballot);
      CHECK(at(10, t) == (warp == 0 ? 10 : 1));
      CHECK(at(11, t) == 32 * 100 + 32 * warp + 496);
      if (lane < 16) {
        CHECK(at(12, t) == (lane + 2 < 16 ? t + 2 : t));
        CHECK(static_cast<unsigned>(at(13, t)) == 0x0000aaaau);
      } else {
        CHECK(at(12, t) == 0);
        CHECK(at(13, t) == 0);
      }
    }
  }
}

__global__ void full_mask_in_partial_warp(int* out) { out[threadIdx.x] = __shfl_sync(0xffffffffu, 1, 0); }
__global__ void own_lane_not_in_mask(int* out) { out[threadIdx.x] = __shfl_sync(0x1u, 1, 0); }
__global__ void different_masks(int* out) {
  out[threadIdx.x] = threadIdx.x < 16 ? __shfl_sync(0xffffffffu, 1, 0) : __shfl_sync(0xffff0000u, 1, 16);
}
__global__ void read_outside_mask(int* out) {
  if (threadIdx.x < 16) out[threadIdx.x] = __shfl_sync(0x0000ffffu, 1, 20);
}
__global__ void lane_exited(int* out) {
  if (threadIdx.x == 5) return;
  out[threadIdx.x] = static_cast<int>(__ballot_sync(0xffffffffu, 1));
}
__global__ void bad_width(int* out) { out[threadIdx.x] = __shfl_sync(0xffffffffu, 1, 0, 12); }
__global__ void warp_op_against_barrier(int* out) {
  if (threadIdx.x == 0)
    __syncthreads();
  else
    __syncwarp();
  out[threadIdx.x] = 1;
}

TEST_CASE("emulated warp intrinsics: broken mask protocols are kernel faults", "[cuda-emulated]") {
  DeviceBuffer<int> out(48);
  cuda_launch(dim3(1), dim3(48), 0, nullptr, &full_mask_in_partial_warp, out.p);
  require_fault("does not exist");
  cuda_launch(dim3(1), dim3(32), 0, nullptr, &own_lane_not_in_mask, out.p);
  require_fault("the calling lane is not in the mask");
  cuda_launch(dim3(1), dim3(32), 0, nullptr, &different_masks, out.p);
  require_fault("with mask 0x");
  cuda_launch(dim3(1), dim3(32), 0, nullptr, &read_outside_mask, out.p);
  require_fault("which is not in the mask");
  cuda_launch(dim3(1), dim3(32), 0, nullptr, &lane_exited, out.p);
  require_fault("has exited");
  cuda_launch(dim3(1), dim3(32), 0, nullptr, &bad_width, out.p);
  require_fault("not a power of two");
  cuda_launch(dim3(1), dim3(32), 0, nullptr, &warp_op_against_barrier, out.p);
  require_fault("waits at __syncthreads");
}

// ---- atomics --------------------------------------------------------------------------------------------

__global__ void atomics(unsigned long long* counter, int* extremes, float* total, unsigned* wrap) {
  const int t = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(counter, 1ull);
  atomicMax(&extremes[0], (t * 37) % 1001);
  atomicMin(&extremes[1], (t * 37) % 1001 - 500);
  atomicAdd(total, 0.5f);
  atomicInc(wrap, 9u);
  int expected = extremes[2];
  while (true) {  // a CAS loop: extremes[2] += 2
    const int old = atomicCAS(&extremes[2], expected, expected + 2);
    if (old == expected) break;
    expected = old;
  }
}

TEST_CASE("emulated atomics: exact under concurrent threads", "[cuda-emulated]") {
  for (const emu::Schedule s : all_schedules) {
    INFO("schedule " << emu::schedule_name(s));
    const emu::ScheduleOverride schedule(s);
    DeviceBuffer<unsigned long long> counter(1);
    DeviceBuffer<int> extremes(3);
    DeviceBuffer<float> total(1);
    DeviceBuffer<unsigned> wrap(1);
    counter.upload({0});
    extremes.upload({-1000000, 1000000, 0});
    total.upload({0.0f});
    wrap.upload({0});
    cuda_launch(dim3(4), dim3(250), 0, nullptr, &atomics, counter.p, extremes.p, total.p, wrap.p);
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    CHECK(counter.download()[0] == 1000);
    int max = -1000000;
    int min = 1000000;
    for (int t = 0; t < 1000; ++t) {
      max = std::max(max, (t * 37) % 1001);
      min = std::min(min, (t * 37) % 1001 - 500);
    }
    CHECK(extremes.download() == std::vector<int>{max, min, 2000});
    CHECK(total.download()[0] == 500.0f);
    CHECK(wrap.download()[0] == 1000u % 10u);
  }
}

// ---- runtime API ----------------------------------------------------------------------------------------

TEST_CASE("emulated runtime: memory, copies, streams, events and errors", "[cuda-emulated]") {
  std::vector<int> host(100);
  std::iota(host.begin(), host.end(), 0);
  int* device = nullptr;
  REQUIRE(cudaMalloc(reinterpret_cast<void**>(&device), 100 * sizeof(int)) == cudaSuccess);
  CHECK(reinterpret_cast<std::uintptr_t>(device) % 256 == 0);
  CHECK(cudaMemcpy(device, host.data(), 100 * sizeof(int), cudaMemcpyHostToDevice) == cudaSuccess);
  CHECK(cudaMemset(device + 10, 0, 5 * sizeof(int)) == cudaSuccess);
  std::vector<int> back(100, -1);
  CHECK(cudaMemcpy(back.data(), device, 100 * sizeof(int), cudaMemcpyDeviceToHost) == cudaSuccess);
  for (int i = 0; i < 100; ++i) CHECK(back[static_cast<std::size_t>(i)] == (i >= 10 && i < 15 ? 0 : i));

  // Directions and extents are checked against the allocation table.
  CHECK(cudaMemcpy(host.data(), device, 100 * sizeof(int), cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaSuccess);
  CHECK(cudaMemcpy(back.data(), device, 101 * sizeof(int), cudaMemcpyDeviceToHost) == cudaErrorInvalidValue);
  CHECK(cudaMemcpy(back.data(), host.data(), 4, cudaMemcpyDeviceToDevice) == cudaErrorInvalidValue);
  CHECK(cudaMemset(host.data(), 0, 4) == cudaErrorInvalidValue);
  CHECK(cudaFree(host.data()) == cudaErrorInvalidValue);
  CHECK(cudaFree(device) == cudaSuccess);
  CHECK(cudaFree(device) == cudaErrorInvalidValue);  // double free
  (void)cudaGetLastError();

  cudaStream_t stream = nullptr;
  REQUIRE(cudaStreamCreate(&stream) == cudaSuccess);
  cudaEvent_t start = nullptr;
  cudaEvent_t stop = nullptr;
  REQUIRE(cudaEventCreate(&start) == cudaSuccess);
  REQUIRE(cudaEventCreate(&stop) == cudaSuccess);
  float ms = -1;
  CHECK(cudaEventElapsedTime(&ms, start, stop) == cudaErrorInvalidResourceHandle);  // not recorded
  CHECK(cudaGetLastError() == cudaErrorInvalidResourceHandle);
  CHECK(cudaEventRecord(start, stream) == cudaSuccess);
  DeviceBuffer<unsigned> out(64);
  cuda_launch(dim3(2), dim3(32), 0, stream, &write_indices, out.p);
  CHECK(cudaEventRecord(stop, stream) == cudaSuccess);
  CHECK(cudaEventSynchronize(stop) == cudaSuccess);
  CHECK(cudaEventElapsedTime(&ms, start, stop) == cudaSuccess);
  CHECK(ms >= 0.0f);
  CHECK(cudaStreamWaitEvent(stream, stop, 0) == cudaSuccess);
  CHECK(cudaStreamSynchronize(stream) == cudaSuccess);
  pnpdist::synchronize(pnpdist::Cuda{stream});
  CHECK(cudaEventDestroy(start) == cudaSuccess);
  CHECK(cudaEventDestroy(stop) == cudaSuccess);
  CHECK(cudaStreamDestroy(stream) == cudaSuccess);
  CHECK(cudaStreamSynchronize(stream) == cudaErrorInvalidResourceHandle);  // destroyed
  (void)cudaGetLastError();
  CHECK_THROWS_WITH(cuda_launch(dim3(1), dim3(32), 0, stream, &write_indices, out.p),
                    Catch::Contains("cudaErrorInvalidResourceHandle"));

  CHECK(pnpdist::Cuda{}.concurrency() == emu::multiprocessor_count * emu::max_threads_per_multiprocessor);
  CHECK(std::string(cudaGetErrorName(cudaErrorInvalidConfiguration)) == "cudaErrorInvalidConfiguration");
}

}  // namespace
