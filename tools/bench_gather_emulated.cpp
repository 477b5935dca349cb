// bench_gather_emulated: the CPU time of the voxel-driven (gather) Joseph back projection of device executors
// (physics/ct/joseph/gather.hpp), the kernel a GPU would run, timed in the CUDA emulation (tests/cuda_emulation)
// at mid sizes: 2D parallel beam 512^2 with 100 views over [0, pi) and 512 detector columns, and 3D cone beam
// 64^3 with 32 views over 2 pi (source-origin 500, origin-detector 500, 64 x 64 detector pixels of 2: the
// magnification of bench_ct's 3D geometry). It prints, per case and repetition, the wall and process CPU time
// of one apply_adjoint on the emulated Cuda executor (the emulator's own threads; the gather launches are
// most of it) and of the gather functor alone on Serial in the calling thread. Build and run:
//
//     cmake --build BUILD --target bench_gather_emulated && BUILD/tests/cuda_emulation/bench_gather_emulated [reps]
//
// An emulated time is a CPU time, not a GPU time; it compares builds of the candidate search on one machine.

#include <cuda_runtime.h>

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/tensor.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <numbers>
#include <vector>

namespace {

using namespace pnpdist;
namespace ct = pnpdist::ct;

struct Times {
  double wall = 0, cpu = 0;
};

template <class F>
Times timed(const F& f) {
  const auto w0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  f();
  const std::clock_t c1 = std::clock();
  const auto w1 = std::chrono::steady_clock::now();
  return {std::chrono::duration<double>(w1 - w0).count(), static_cast<double>(c1 - c0) / CLOCKS_PER_SEC};
}

template <class Geometry>
std::vector<double> flat_vectors(const Geometry& g) {
  std::vector<double> out;
  for (const auto& e : g.vectors) out.insert(out.end(), e.begin(), e.end());
  return out;
}

/// The gather functor on Serial over all views (one block), from the rays of `y`.
template <class Geometry, std::size_t Rank>
Times serial_gather(const Geometry& g, const Tensor<float, Rank, HostSpace>& y, Tensor<float, Rank, HostSpace>& x) {
  using R = float;
  const auto grid = ct::make_joseph_grid(g);
  using Grid = decltype(grid);
  using Ray = decltype(ct::joseph_pixel_ray<R>(grid, nullptr, 0, 0));
  const std::vector<double> vectors = flat_vectors(g);
  const index_t views = g.views(), pixels = y.size() / views;
  std::vector<decltype(ct::joseph_detector_map<R>(grid, vectors.data()))> maps;
  for (index_t v = 0; v < views; ++v)
    maps.push_back(ct::joseph_detector_map<R>(grid, vectors.data() + (vectors.size() / g.vectors.size()) * v));
  std::vector<unsigned char> masks(static_cast<std::size_t>(views), 0);
  std::vector<Ray> rays(static_cast<std::size_t>(views * pixels));
  for_each(Serial{}, views * pixels,
           ct::JosephBlockRays<float, Grid, Ray>{grid, vectors.data(), y.data(), 0, pixels, rays.data()});
  for (index_t v = 0; v < views; ++v)
    for (index_t p = 0; p < pixels; ++p)
      masks[static_cast<std::size_t>(v)] |= static_cast<unsigned char>(1u << rays[static_cast<std::size_t>(v * pixels + p)].axis);
  const ct::JosephGatherAdjoint<float, Grid, Ray> op{grid, rays.data(), maps.data(), masks.data(), views, x.data(), false};
  return timed([&] { for_each(Serial{}, op.iterations(), op); });
}

template <class Geometry>
void run(const char* name, const Geometry& g, int reps) {
  const auto op = ct::make_projector<float>(Cuda{}, g);
  const auto host_op = ct::make_projector<float>(Serial{}, g);
  auto y = make_range_tensor(host_op);
  fill_uniform(Serial{}, y.view(), 3, 0, -1.0f, 1.0f);
  auto x = make_domain_tensor(host_op);
  Tensor<float, decltype(y)::rank, CudaSpace> dy(y.extents());
  Tensor<float, decltype(x)::rank, CudaSpace> dx(x.extents());
  deep_copy(dy.view(), y.const_view());
  for (int r = 0; r < reps; ++r) {
    const Times emulated = timed([&] { op.apply_adjoint(dy.const_view(), dx.view()); });
    const Times serial = serial_gather(g, y, x);
    std::printf("%s rep %d: emulated Cuda apply_adjoint wall %.3f s cpu %.3f s; gather functor on Serial wall %.3f s cpu %.3f s\n",
                name, r, emulated.wall, emulated.cpu, serial.wall, serial.cpu);
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 3;
  constexpr double pi = std::numbers::pi;
  run("2D parallel 512^2, 100 views", ct::parallel_beam_2d(ct::uniform_angles(100, 0, pi), {512, 1.0, 0.0}, {512, 512, 1.0, 1.0}),
      reps);
  run("3D cone 64^3, 32 views", ct::cone_beam(ct::uniform_angles(32, 0, 2 * pi), {64, 64, 2.0, 2.0, 0, 0}, 500.0, 500.0,
                                               {64, 64, 64, 1.0, 1.0, 1.0}),
      reps);
  return 0;
}
