#pragma once
/// \file
/// insert_sorted(v, n, x): inserts x into the ascending prefix v[0 .. n) and increments n; for the medians of
/// small windows that kernels keep in registers (zingers.hpp, rings.hpp). v must have room for n + 1 values.

#include "pnpdist/core/macros.hpp"

namespace pnpdist::preprocessing::detail {

PNPDIST_HOST_DEVICE void insert_sorted(float* v, int& n, float x) {
  int p = n++;
  while (p > 0 && v[p - 1] > x) {
    v[p] = v[p - 1];
    --p;
  }
  v[p] = x;
}

}  // namespace pnpdist::preprocessing::detail
