#pragma once
// The benchmarks' timer: the median wall time of `repeats` calls of f after one warm-up call.
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

inline double median_seconds(int repeats, const std::function<void()>& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}
