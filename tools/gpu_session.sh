#!/bin/bash
# The checks to run when a GPU machine is lent: builds the two GPU programs with nvcc alone (no CMake, no
# dependency beyond the CUDA toolkit and its cuFFT), runs test_cuda_device (the Cuda executor against Serial,
# bit for bit) and bench_gpu_operators (the hot operations checked against Serial, then timed at the sizes of
# docs/gpu_model.md, whose predictions the times go next to). Run from the repository root:
#
#     bash tools/gpu_session.sh            # logs under $OUT (the device tool's folder) or ./gpu_out
#
# PNPDIST_GPU_ARCH (default 90: H100/H200) picks the SASS target; BENCH_ARGS (default "--repetitions 5") is
# passed to bench_gpu_operators ("--quick" times at a quarter of the sizes). Exits with the first failure.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-$PWD/gpu_out}
mkdir -p "$out"
build=$(mktemp -d)
arch=${PNPDIST_GPU_ARCH:-90}
flags=(-std=c++20 --expt-relaxed-constexpr --extended-lambda -O3 "-arch=sm_${arch}" -Iinclude -Itests
       -DPNPDIST_HAS_CUDA=1 -DPNPDIST_HAS_CUFFT=1)

{ nvidia-smi || true; nvcc --version; } > "$out/device.txt" 2>&1
echo "== building (sm_${arch})"
# test_cuda_device compares device and host arithmetic bit for bit: no FMA contraction on the device.
( nvcc "${flags[@]}" --fmad=false tests/cuda/test_cuda_device.cpp tests/cuda/cuda_device_checks.cu \
    -o "$build/test_cuda_device" &&
  nvcc "${flags[@]}" tests/cuda/bench_gpu_operators.cu -lcufft -o "$build/bench_gpu_operators" ) \
  2>&1 | tee "$out/build.log" || { echo "build failed (see build.log)"; exit 1; }

echo "== test_cuda_device"
"$build/test_cuda_device" 2>&1 | tee "$out/test_cuda_device.log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || { echo "test_cuda_device: exit $status"; exit "$status"; }

echo "== bench_gpu_operators ${BENCH_ARGS:---repetitions 5}"
# shellcheck disable=SC2086  # BENCH_ARGS is a list of options
"$build/bench_gpu_operators" ${BENCH_ARGS:---repetitions 5} 2>&1 | tee "$out/bench_gpu_operators.log"
exit "${PIPESTATUS[0]}"
