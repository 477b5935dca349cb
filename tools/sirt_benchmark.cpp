// sirt_benchmark: the SIRT benchmark of the tomosipo / ASTRA + PyTorch integration (its sirt_benchmark.py,
// whose published figures for N = 256 and 200 iterations are 17.9 s with tomosipo and 19.3 s with ASTRA's
// SIRT3D_CUDA on one GPU), rebuilt with pnpdist's Joseph projector and its `sirt` on a host executor.
//
// Geometry (that script's `ts.volume(size=1, shape=N)` and `ts.parallel(angles=3N/2, shape=(N, 3N/2),
// size=(1, 1.5))`): an N^3 volume filling the unit cube (voxel 1/N), a 3D parallel beam with 3N/2 views
// uniform over [0, 2 pi) without the end point (what an integer angle count meant in the tomosipo of the
// benchmark; later tomosipo releases spread them over [0, pi): --arc 180), a detector of N rows x 3N/2
// columns of pixels 1/N. Data: the 3D Shepp-Logan phantom's projections plus Gaussian noise of standard
// deviation max / 20, as the script's first version (5% of the maximum). SIRT from x = 0, relaxation 1,
// unconstrained: the setup (row and column sums: one projection and one back projection of ones), then per
// iteration one projection, one back projection and the vector updates, as the script's loop.
//
//   cmake --build BUILD --target sirt_benchmark
//   BUILD/examples/sirt_benchmark --size 128 --iterations 200 --threads 2
//   BUILD/examples/sirt_benchmark --size 256 --iterations 3 --threads 2      (extrapolated to --target 200)
//
// Prints one JSON line: the geometry, the setup time, each iteration's wall time (the time between the
// starts of consecutive projections inside the loop), their median, the measured total, the total for
// --target iterations (setup + target x the median iteration + the final residual; marked extrapolated when
// fewer iterations ran), the same in process CPU time (all threads; on a machine shared with other jobs
// the wall time depends on the load, the CPU time much less), the forward and back projection times and the
// peak resident memory (during SIRT, and of the process). --progress prints each iteration's times as it ends. Exits
// with 1 unless SIRT's R-weighted residual decreased monotonically (its guarantee for relaxation in (0, 2)). --check
// also runs `sirt` on the bare projector and requires the same iterate bit for bit (the timing wrapper must not change
// what is computed).

#include <pnpdist/backend/openmp.hpp>
#include <pnpdist/backend/resident_memory.hpp>
#include <pnpdist/core/errors.hpp>
#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/solvers/sirt.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/reductions.hpp>

#include <nlohmann/json.hpp>

#include "example_options.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace ct = pnpdist::ct;
using pnpdist::index_t;
using Clock = std::chrono::steady_clock;
using Exec = pnpdist::OpenMP;
using Projector = ct::JosephProjector3D<float, Exec>;

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

/// The projector with the start and end of every call recorded (forwards everything, computes nothing else).
struct TimedProjector {
  using value_type = float;
  using executor_type = Exec;
  static constexpr std::size_t domain_rank = 3;
  static constexpr std::size_t range_rank = 3;

  const Projector* op;
  bool progress = false;  ///< a line per finished iteration on stderr
  mutable std::vector<std::pair<Clock::time_point, Clock::time_point>> forward, adjoint;
  mutable std::vector<double> forward_cpu;  ///< process CPU time (all threads) at the start of each projection

  [[nodiscard]] pnpdist::Extents<3> domain_shape() const { return op->domain_shape(); }
  [[nodiscard]] pnpdist::Extents<3> range_shape() const { return op->range_shape(); }
  [[nodiscard]] Exec executor() const { return op->executor(); }
  void apply(pnpdist::View<const float, 3> x, pnpdist::View<float, 3> y) const {
    const auto t0 = Clock::now();
    forward_cpu.push_back(cpu_seconds());
    const std::size_t k = forward.size();  // forward[k - 1] started iteration k - 1
    if (progress && k >= 2)
      std::fprintf(stderr, "iteration %zu: %.3f s wall, %.3f s cpu\n", k - 1, seconds(forward[k - 1].first, t0),
                   forward_cpu[k] - forward_cpu[k - 1]);
    op->apply(x, y);
    forward.emplace_back(t0, Clock::now());
  }
  void apply_adjoint(pnpdist::View<const float, 3> y, pnpdist::View<float, 3> x) const {
    const auto t0 = Clock::now();
    op->apply_adjoint(y, x);
    adjoint.emplace_back(t0, Clock::now());
  }
};
static_assert(pnpdist::LinearOperator<TimedProjector>);

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<double> durations(const std::vector<std::pair<Clock::time_point, Clock::time_point>>& calls) {
  std::vector<double> d;
  for (const auto& [a, b] : calls) d.push_back(seconds(a, b));
  return d;
}

struct Options {
  index_t size = 128;
  index_t iterations = 200;
  index_t target = 200;
  int threads = 2;
  double arc_degrees = 360;
  bool check = false;
  bool progress = false;
};

/// The options (examples/example_options.hpp: --help, --options-json, exit 2 naming a bad option).
Options parse(int argc, char** argv) {
  Options o;
  pnpdist_examples::OptionTable table(
      "sirt_benchmark: SIRT on the geometry of tomosipo's sirt_benchmark.py (N^3 unit cube, 3N/2 parallel views,\n"
      "detector N x 3N/2 of pixels 1/N) on the OpenMP executor; prints one JSON line (see tools/sirt_benchmark.cpp)");
  std::string arc = "360";
  index_t threads = o.threads;
  table.integer("--size", "volume edge N (even: 3N/2 views)", o.size, 2);
  table.integer("--iterations", "SIRT iterations run", o.iterations, 1, 1000000, "K");
  table.integer("--target", "iterations the total is given for (extrapolated when more than --iterations)",
                o.target, 1);
  table.integer("--threads", "OpenMP threads", threads, 1, 1024, "T");
  table.choice("--arc", "angular range of the views in degrees (360: the benchmark's tomosipo)", arc, {"360", "180"});
  table.flag("--check", "also run sirt on the bare projector and require the same iterate bit for bit", o.check);
  table.flag("--progress", "print each iteration's times as it ends", o.progress);
  table.add_check([&] {
    pnpdist::require(o.size % 2 == 0, [&] { return "--size must be even (3N/2 views), got " + std::to_string(o.size); });
  });
  table.parse(argc, argv);
  o.threads = static_cast<int>(threads);
  o.arc_degrees = arc == "180" ? 180.0 : 360.0;
  return o;
}

int run(const Options& o) {
  const Exec exec{o.threads};
  const index_t n = o.size;
  const double voxel = 1.0 / static_cast<double>(n);
  const ct::VolumeGeometry3D volume{n, n, n, voxel, voxel, voxel};
  const ct::Geometry3D geometry =
      ct::parallel_beam_3d(ct::uniform_angles(3 * n / 2, 0.0, o.arc_degrees / 180.0 * std::numbers::pi),
                           ct::Detector3D{n, 3 * n / 2, voxel, voxel, 0.0, 0.0}, volume);
  const Projector projector(exec, geometry);

  pnpdist::Tensor<float, 3> y(geometry.projection_shape());
  {
    const auto shapes = pnpdist::phantom::shepp_logan_3d();
    const auto truth =
        pnpdist::phantom::rasterize<float>(exec, shapes, volume, pnpdist::phantom::fitted_scale(volume), 1);
    projector.apply(truth.const_view(), y.view());
  }
  const float noise = pnpdist::max_value(exec, y.const_view()) / 20.0f;
  pnpdist::add_gaussian_noise(exec, y.view(), noise, 2024, 0);

  const bool peak_reset = pnpdist::reset_peak_resident_bytes();
  const TimedProjector timed{&projector, o.progress, {}, {}, {}};
  const pnpdist::SirtOptions sirt_options{o.iterations, 1.0, false, 0};
  const auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  const auto result = pnpdist::sirt(timed, y.const_view(), sirt_options);
  const auto end = Clock::now();
  const double cpu_end = cpu_seconds();
  const std::size_t sirt_peak = pnpdist::peak_resident_bytes();

  // forward[0]: the row sums; forward[1 .. K]: the residual of iterations 1 .. K; forward[K + 1]: the final one.
  const auto& f = timed.forward;
  pnpdist::require(static_cast<index_t>(f.size()) == o.iterations + 2 && timed.adjoint.size() == f.size() - 1,
                   "sirt_benchmark: unexpected number of projections");
  std::vector<double> iteration_s, iteration_cpu_s;
  for (std::size_t k = 1; k + 1 < f.size(); ++k) {
    iteration_s.push_back(seconds(f[k].first, f[k + 1].first));
    iteration_cpu_s.push_back(timed.forward_cpu[k + 1] - timed.forward_cpu[k]);
  }
  const double setup_s = seconds(start, f[1].first);
  const double final_s = seconds(f.back().first, end);
  const double total_s = seconds(start, end);
  const double per_iteration = median(iteration_s);
  const double target_total = setup_s + static_cast<double>(o.target) * per_iteration + final_s;

  bool monotone = true;
  const auto& w = result.weighted_residual_norms;
  for (std::size_t k = 1; k < w.size(); ++k) monotone = monotone && w[k] <= w[k - 1] * (1 + 1e-6);

  bool identical = true;
  if (o.check) {
    const auto bare = pnpdist::sirt(projector, y.const_view(), sirt_options);
    identical =
        std::memcmp(bare.x.data(), result.x.data(), sizeof(float) * static_cast<std::size_t>(bare.x.size())) == 0 &&
        bare.weighted_residual_norms == result.weighted_residual_norms;
  }

  const auto p = geometry.projection_shape();
  nlohmann::json out = {
      {"geometry",
       "parallel3d, tomosipo sirt_benchmark.py: ts.volume(size=1, shape=N), ts.parallel(angles=3N/2, "
       "shape=(N, 3N/2), size=(1, 1.5))"},
      {"size", n},
      {"views", p[0]},
      {"detector", {p[1], p[2]}},
      {"arc_degrees", o.arc_degrees},
      {"threads", exec.concurrency()},
      {"iterations", o.iterations},
      {"setup_s", setup_s},
      {"iteration_s", iteration_s},
      {"median_iteration_s", per_iteration},
      {"iteration_cpu_s", iteration_cpu_s},
      {"median_iteration_cpu_s", median(iteration_cpu_s)},
      {"setup_cpu_s", timed.forward_cpu[1] - cpu_start},
      {"measured_total_cpu_s", cpu_end - cpu_start},
      {"target_total_cpu_s", (timed.forward_cpu[1] - cpu_start) +
                                 static_cast<double>(o.target) * median(iteration_cpu_s) +
                                 (cpu_end - timed.forward_cpu.back())},
      {"min_iteration_s", *std::min_element(iteration_s.begin(), iteration_s.end())},
      {"max_iteration_s", *std::max_element(iteration_s.begin(), iteration_s.end())},
      {"median_forward_s", median(durations(f))},
      {"median_adjoint_s", median(durations(timed.adjoint))},
      {"final_residual_s", final_s},
      {"measured_total_s", total_s},
      {"target_iterations", o.target},
      {"target_total_s", target_total},
      {"target_total_extrapolated", o.iterations != o.target},
      {"peak_rss_during_sirt_mib", static_cast<double>(sirt_peak) / (1024.0 * 1024.0)},
      {"peak_rss_during_sirt_counted_from", peak_reset ? "start of sirt" : "process start"},
      {"process_peak_rss_mib", static_cast<double>(pnpdist::peak_resident_bytes()) / (1024.0 * 1024.0)},
      {"data_bytes_mib", static_cast<double>(y.size()) * 4.0 / (1024.0 * 1024.0)},
      {"residual_first", result.residual_norms.front()},
      {"residual_last", result.residual_norms.back()},
      {"weighted_residual_monotone", monotone},
  };
  if (o.check) out["identical_to_bare_sirt"] = identical;
  std::printf("%s\n", out.dump().c_str());
  if (!monotone) std::fprintf(stderr, "sirt_benchmark: the R-weighted residual increased\n");
  if (!identical) std::fprintf(stderr, "sirt_benchmark: the timed run differs from sirt on the bare projector\n");
  return monotone && identical ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const pnpdist::invalid_argument& e) {  // a bad option: status 2, as the examples
    std::fprintf(stderr, "sirt_benchmark: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sirt_benchmark: %s\n", e.what());
    return 1;
  }
}
