// Writes, for the 2D parallel-beam tomography benchmark at size N (100 views over [0, pi), N detectors),
// into DIR: phantom_N.npy (the modified Shepp-Logan phantom, 2x2 supersampled, (y, x), row 0 at y = -N/2),
// analytic_N.npy (its exact line integrals), fp_N.npy (our Joseph forward projection), bp_N.npy (our back
// projection of analytic_N), and prints the best-of-`repeats` wall and process CPU times (all threads) of FP
// and BP as a JSON line.
// Used by tools/bench_ct_astra.py, which runs ASTRA on the same data in the same run.
//
//   OMP_NUM_THREADS=2 ct_export DIR N [repeats]

#include <pnpdist/io/npy.hpp>
#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/ct.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <numbers>
#include <string>

int main(int argc, char** argv) {
  namespace ct = pnpdist::ct;
  namespace phantom = pnpdist::phantom;
  using pnpdist::index_t;
  if (argc < 3) {
    std::fprintf(stderr, "usage: ct_export DIR N [repeats]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const index_t n = std::stoll(argv[2]);
  const int repeats = argc > 3 ? std::stoi(argv[3]) : 3;
#if defined(PNPDIST_HAS_OPENMP)
  const pnpdist::OpenMP exec{};
#else
  const pnpdist::Serial exec{};
#endif
  const auto g = ct::parallel_beam_2d(ct::uniform_angles(100, 0, std::numbers::pi), {n, 1.0, 0.0}, {n, n, 1.0, 1.0});
  const double scale = phantom::fitted_scale(g.volume);
  const auto x = phantom::rasterize<float>(exec, phantom::shepp_logan_2d(), g.volume, scale, 2);
  const auto exact = phantom::analytic_projections(phantom::shepp_logan_2d(), scale, g);
  pnpdist::Tensor<float, 2> exact_f(exact.extents()), y(g.sinogram_shape()), z(g.volume.shape());
  for (index_t i = 0; i < exact.size(); ++i) exact_f.data()[i] = static_cast<float>(exact.data()[i]);
  const auto A = ct::make_projector<float>(exec, g);
  // Wall time and process CPU time (all threads; std::clock), best of `repeats`.
  double fp = 1e30, bp = 1e30, fp_cpu = 1e30, bp_cpu = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    A.apply(x.const_view(), y.view());
    const auto t1 = std::chrono::steady_clock::now();
    const std::clock_t c1 = std::clock();
    A.apply_adjoint(exact_f.const_view(), z.view());
    const auto t2 = std::chrono::steady_clock::now();
    const std::clock_t c2 = std::clock();
    fp = std::min(fp, std::chrono::duration<double>(t1 - t0).count());
    bp = std::min(bp, std::chrono::duration<double>(t2 - t1).count());
    fp_cpu = std::min(fp_cpu, static_cast<double>(c1 - c0) / CLOCKS_PER_SEC);
    bp_cpu = std::min(bp_cpu, static_cast<double>(c2 - c1) / CLOCKS_PER_SEC);
  }
  const std::string suffix = "_" + std::to_string(n) + ".npy";
  pnpdist::write_npy(dir + "/phantom" + suffix, x.const_view());
  pnpdist::write_npy(dir + "/analytic" + suffix, exact.const_view());
  pnpdist::write_npy(dir + "/fp" + suffix, y.const_view());
  pnpdist::write_npy(dir + "/bp" + suffix, z.const_view());
  std::printf(
      "{\"n\": %lld, \"threads\": %d, \"fp_s\": %.6f, \"bp_s\": %.6f, \"fp_cpu_s\": %.6f, \"bp_cpu_s\": %.6f}\n",
      static_cast<long long>(n), exec.concurrency(), fp, bp, fp_cpu, bp_cpu);
  return 0;
}
