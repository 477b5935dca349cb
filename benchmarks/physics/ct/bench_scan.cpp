// Reading and preprocessing a raw scan directory (physics/ct/scan_directory.hpp): N projections of
// 512 x 512 16-bit counts (one TIFF each, uncompressed), 2 dark and 2 flat frames, read by T threads and
// preprocessed (dark/flat correction, -log) in blocks of 32 on the OpenMP executor with T threads. The files
// are written once into a temporary directory and read from the page cache (the figure is decoding and
// preprocessing, not disk speed). Counters: raw MB/s (16-bit input), the peak resident memory over the
// process's life (peak_rss_MB) and the size of the raw stack and of the result (float line integrals).
//
//   bench_scan --benchmark_filter='read_scan/200'        (200 projections; /1000: 1000)

#include "benchmark_main.hpp"

#include <pnpdist/backend/resident_memory.hpp>
#include <pnpdist/io/tiff.hpp>
#include <pnpdist/physics/ct/scan_directory.hpp>
#include <pnpdist/physics/ct/vector_file.hpp>

#include <cstdio>
#include <filesystem>
#include <map>
#include <numbers>
#include <string>

namespace {

using pnpdist::index_t;
namespace ct = pnpdist::ct;
namespace fs = std::filesystem;

constexpr index_t side = 512;

/// The directory of a synthetic scan of `count` projections (written on first use).
std::string scan_directory(index_t count) {
  static std::map<index_t, std::string> written;
  if (auto it = written.find(count); it != written.end()) return it->second;
  const fs::path dir = fs::temp_directory_path() / ("pnpdist_bench_scan_" + std::to_string(count));
  fs::remove_all(dir);
  fs::create_directories(dir);
  pnpdist::Tensor<std::uint16_t, 3> frame(pnpdist::Extents<3>{1, side, side});
  const auto write = [&](const std::string& name, int level) {
    for (index_t i = 0; i < frame.size(); ++i)
      frame.data()[i] = static_cast<std::uint16_t>(level + (i * 7919 + level) % 1000);
    pnpdist::write_tiff((dir / name).string(), frame.const_view());
  };
  char name[32];
  for (index_t k = 0; k < 2; ++k) {
    std::snprintf(name, sizeof name, "di%06lld.tif", static_cast<long long>(k));
    write(name, 100);
    std::snprintf(name, sizeof name, "io%06lld.tif", static_cast<long long>(k));
    write(name, 30000);
  }
  for (index_t k = 0; k < count; ++k) {
    std::snprintf(name, sizeof name, "scan_%06lld.tif", static_cast<long long>(k));
    write(name, 5000 + static_cast<int>(k % 100));
  }
  const ct::VolumeGeometry3D volume{8, 8, 8, 1, 1, 1};
  ct::write_vector_file((dir / "scan_geom.geom").string(),
                        ct::cone_beam(ct::uniform_angles(count, 0.0, 2 * std::numbers::pi),
                                      ct::Detector3D{side, side, 1.0, 1.0, 0.0, 0.0}, 500.0, 500.0, volume));
  return written[count] = dir.string();
}

void read_scan(benchmark::State& state) {
  const index_t count = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const std::string dir = scan_directory(count);
#if defined(PNPDIST_HAS_OPENMP)
  const pnpdist::OpenMP exec{threads};
#else
  const pnpdist::Serial exec{};
#endif
  ct::ScanReadOptions options;
  options.threads = threads;
  for (auto _ : state) {
    const ct::Scan scan = ct::read_scan(exec, dir, {8, 8, 8, 1, 1, 1}, options);
    benchmark::DoNotOptimize(scan.projections.data());
  }
  const double raw_bytes = static_cast<double>(count * side * side * 2);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(raw_bytes));
  state.counters["raw_MB_per_s"] =
      benchmark::Counter(raw_bytes / 1e6 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["raw_stack_MB"] = raw_bytes / 1e6;
  state.counters["result_MB"] = 2 * raw_bytes / 1e6;
  state.counters["peak_rss_MB"] = static_cast<double>(pnpdist::peak_resident_bytes()) / 1e6;
  state.counters["threads"] = threads;
}

BENCHMARK(read_scan)->ArgsProduct({{200, 1000}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  pnpdist_bench::add_build_context();
  return pnpdist_bench::run_benchmarks(argc, argv);
}
