#pragma once
/// \file
/// What every pnpdist benchmark program records and how it runs: the build context (compiled backends,
/// compiler, build type, git hash; the three latter are compile definitions set by pnpdist_add_benchmark)
/// goes into Google Benchmark's context, so each JSON result says what produced it.

#include <benchmark/benchmark.h>

#include <pnpdist/core/config.hpp>

#include <string>

namespace pnpdist_bench {

/// Adds pnpdist_backends, compiler, build_type and git_hash to the benchmark context.
inline void add_build_context() {
  std::string features;
  for (const auto& f : pnpdist::compiled_features())
    if (f.compiled) features += (features.empty() ? "" : ",") + std::string(f.name);
  benchmark::AddCustomContext("pnpdist_backends", "serial" + (features.empty() ? "" : "," + features));
  benchmark::AddCustomContext("compiler", PNPDIST_COMPILER);
  benchmark::AddCustomContext("build_type", PNPDIST_BUILD_TYPE);
  benchmark::AddCustomContext("git_hash", PNPDIST_GIT_HASH);
}

/// Parses the benchmark flags and runs the registered benchmarks; 1 on an unrecognised argument.
inline int run_benchmarks(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace pnpdist_bench
