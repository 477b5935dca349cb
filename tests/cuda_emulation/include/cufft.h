#pragma once
/// \file
/// <cufft.h> of the CPU emulation of CUDA: cuFFT has no emulation, so the subset of its API the library
/// calls (single-precision real-to-complex and complex-to-real batched 2-D plans) is served by FFTW
/// (fftwf_plan_many_dft_r2c / _c2r, FFTW_ESTIMATE | FFTW_UNALIGNED) behind the same interface. The
/// library's cuFFT wrapper (physics/fft/cufft_plans.hpp) thus runs unchanged in the emulated build when it
/// defines PNPDIST_HAS_CUFFT and links FFTW. Each execution checks that its arrays lie inside emulated
/// device allocations (CUFFT_INVALID_VALUE otherwise). Results are FFTW's, not cuFFT's: they agree up to
/// round-off, not bit for bit.

#include <fftw3.h>

#include <cstddef>
#include <map>
#include <mutex>

#include "pnpdist_cuda_emulator/launch_records.hpp"
#include "pnpdist_cuda_emulator/runtime.hpp"

typedef int cufftHandle;
typedef float cufftReal;
struct cufftComplex {
  float x, y;
};

enum cufftResult_t {
  CUFFT_SUCCESS = 0,
  CUFFT_INVALID_PLAN = 1,
  CUFFT_ALLOC_FAILED = 2,
  CUFFT_INVALID_TYPE = 3,
  CUFFT_INVALID_VALUE = 4,
  CUFFT_INTERNAL_ERROR = 5,
  CUFFT_EXEC_FAILED = 6,
  CUFFT_SETUP_FAILED = 7,
  CUFFT_INVALID_SIZE = 8,
};
typedef enum cufftResult_t cufftResult;

enum cufftType_t {
  CUFFT_R2C = 0x2a,
  CUFFT_C2R = 0x2c,
};
typedef enum cufftType_t cufftType;

namespace pnpdist_cuda_emulator::cufft {

struct Plan {
  fftwf_plan plan = nullptr;
  cufftType type = CUFFT_R2C;
  std::size_t real_floats = 0;     // floats of the real side, all batches
  std::size_t complex_values = 0;  // complex values of the spectral side, all batches
  std::size_t points = 0;          // real points of one transform
};

/// Records an execution of `p` (launch_records.hpp) while recording is on: it reads one side and writes
/// the other; its samples are points x log2(points per transform), summed over the batch (an FFT of N
/// points takes about 2.5 N log2 N real flops). Returns whether it must run (false in count-only mode).
inline bool record_execution(const char* name, const Plan& p, bool forward) {
  std::size_t log2 = 0;
  while ((std::size_t{2} << log2) <= p.points) ++log2;  // floor(log2(points))
  const std::uint64_t real_bytes = p.real_floats * sizeof(float), spectral_bytes = p.complex_values * 2 * sizeof(float);
  return detail::record_library_call(
      name, reinterpret_cast<const void*>(name),
      DeclaredCost{true, forward ? real_bytes : spectral_bytes, forward ? spectral_bytes : real_bytes,
                   static_cast<std::uint64_t>(p.real_floats) * log2, 0, 0});
}

struct Registry {
  std::mutex mutex;  // FFTW planning is not thread-safe
  std::map<cufftHandle, Plan> plans;
  cufftHandle next = 1;
};

/// Never destroyed: plan caches of the library destroy their plans from static destructors.
inline Registry& registry() {
  static Registry* const r = new Registry;
  return *r;
}

}  // namespace pnpdist_cuda_emulator::cufft

/// Batched rank-1..3 R2C or C2R plan. inembed/onembed must be null (the basic layout, as the library uses).
inline cufftResult cufftPlanMany(cufftHandle* plan, int rank, int* n, int* inembed, int istride, int idist,
                                 int* onembed, int ostride, int odist, cufftType type, int batch) {
  namespace emu = pnpdist_cuda_emulator::cufft;
  if (plan == nullptr || n == nullptr || rank < 1 || rank > 3 || batch < 1) return CUFFT_INVALID_VALUE;
  if (inembed != nullptr || onembed != nullptr || istride != 1 || ostride != 1) return CUFFT_INVALID_VALUE;
  if (type != CUFFT_R2C && type != CUFFT_C2R) return CUFFT_INVALID_TYPE;
  std::size_t real = 1;
  std::size_t spectral = 1;
  for (int d = 0; d < rank; ++d) {
    if (n[d] < 1) return CUFFT_INVALID_SIZE;
    real *= static_cast<std::size_t>(n[d]);
    spectral *= static_cast<std::size_t>(d == rank - 1 ? n[d] / 2 + 1 : n[d]);
  }
  const int real_distance = type == CUFFT_R2C ? idist : odist;
  const int spectral_distance = type == CUFFT_R2C ? odist : idist;
  if (static_cast<std::size_t>(real_distance) < real || static_cast<std::size_t>(spectral_distance) < spectral)
    return CUFFT_INVALID_VALUE;
  emu::Plan p;
  p.type = type;
  p.real_floats = static_cast<std::size_t>(real_distance) * static_cast<std::size_t>(batch);
  p.complex_values = static_cast<std::size_t>(spectral_distance) * static_cast<std::size_t>(batch);
  p.points = real;
  float* real_array = fftwf_alloc_real(p.real_floats);
  fftwf_complex* complex_array = fftwf_alloc_complex(p.complex_values);
  if (real_array == nullptr || complex_array == nullptr) {
    fftwf_free(real_array);
    fftwf_free(complex_array);
    return CUFFT_ALLOC_FAILED;
  }
  const unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;  // ESTIMATE: the arrays are not touched
  std::lock_guard<std::mutex> lock(emu::registry().mutex);
  if (type == CUFFT_R2C)
    p.plan = fftwf_plan_many_dft_r2c(rank, n, batch, real_array, nullptr, 1, real_distance, complex_array, nullptr, 1,
                                     spectral_distance, flags);
  else
    p.plan = fftwf_plan_many_dft_c2r(rank, n, batch, complex_array, nullptr, 1, spectral_distance, real_array, nullptr,
                                     1, real_distance, flags);
  fftwf_free(real_array);
  fftwf_free(complex_array);
  if (p.plan == nullptr) return CUFFT_SETUP_FAILED;
  *plan = emu::registry().next++;
  emu::registry().plans[*plan] = p;
  return CUFFT_SUCCESS;
}

inline cufftResult cufftSetStream(cufftHandle plan, cudaStream_t stream) {
  namespace emu = pnpdist_cuda_emulator::cufft;
  if (!pnpdist_cuda_emulator::valid_stream(stream)) return CUFFT_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(emu::registry().mutex);
  return emu::registry().plans.count(plan) != 0 ? CUFFT_SUCCESS : CUFFT_INVALID_PLAN;
}

inline cufftResult cufftDestroy(cufftHandle plan) {
  namespace emu = pnpdist_cuda_emulator::cufft;
  std::lock_guard<std::mutex> lock(emu::registry().mutex);
  const auto it = emu::registry().plans.find(plan);
  if (it == emu::registry().plans.end()) return CUFFT_INVALID_PLAN;
  fftwf_destroy_plan(it->second.plan);
  emu::registry().plans.erase(it);
  return CUFFT_SUCCESS;
}

namespace pnpdist_cuda_emulator::cufft {

/// The plan `handle` of `type` whose arrays lie in emulated device memory, or nullptr.
inline const Plan* checked(cufftHandle handle, cufftType type, const void* real, const void* spectral) {
  const auto it = registry().plans.find(handle);
  if (it == registry().plans.end() || it->second.type != type) return nullptr;
  std::lock_guard<std::mutex> lock(device().mutex);
  if (!inside_device_allocation(real, it->second.real_floats * sizeof(float)) ||
      !inside_device_allocation(spectral, it->second.complex_values * sizeof(cufftComplex)))
    return nullptr;
  return &it->second;
}

}  // namespace pnpdist_cuda_emulator::cufft

inline cufftResult cufftExecR2C(cufftHandle plan, cufftReal* idata, cufftComplex* odata) {
  namespace emu = pnpdist_cuda_emulator::cufft;
  std::lock_guard<std::mutex> lock(emu::registry().mutex);
  const emu::Plan* p = emu::checked(plan, CUFFT_R2C, idata, odata);
  if (p == nullptr) return CUFFT_INVALID_VALUE;
  if (!emu::record_execution("cufftExecR2C", *p, true)) return CUFFT_SUCCESS;  // count-only: not run
  fftwf_execute_dft_r2c(p->plan, idata, reinterpret_cast<fftwf_complex*>(odata));
  return CUFFT_SUCCESS;
}

/// Overwrites idata (as cuFFT's out-of-place C2R may).
inline cufftResult cufftExecC2R(cufftHandle plan, cufftComplex* idata, cufftReal* odata) {
  namespace emu = pnpdist_cuda_emulator::cufft;
  std::lock_guard<std::mutex> lock(emu::registry().mutex);
  const emu::Plan* p = emu::checked(plan, CUFFT_C2R, odata, idata);
  if (p == nullptr) return CUFFT_INVALID_VALUE;
  if (!emu::record_execution("cufftExecC2R", *p, false)) return CUFFT_SUCCESS;  // count-only: not run
  fftwf_execute_dft_c2r(p->plan, reinterpret_cast<fftwf_complex*>(idata), odata);
  return CUFFT_SUCCESS;
}
