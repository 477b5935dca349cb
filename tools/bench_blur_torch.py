#!/usr/bin/env python3
"""PyTorch reference for the blur-stack gradient benchmark (benchmarks/physics/blur/bench_blur.cpp).

    /usr/bin/python3 tools/bench_blur_torch.py --threads 2 --out /tmp/blur_bench [--repeats 5] \
        [--pnpdist-bench build/release/benchmarks/physics/blur/bench_blur]

Builds the high-resolution benchmark's problem: 8 circular Gaussian blurs, sigma (0.01 S, 0.005 S) with
S = 2048 (139 x 139 PSFs), angles linspace(0, 180, 8), on a 1 x 3 x 1366 x 2048 image; measurements
y_i = clamp(A_i x_true + 0.1 n_i, 0, 1). It times the data-fidelity gradient sum_i A_i^T (A_i x - y_i)
computed operator by operator with torch.fft (rfft2 / irfft2: A_i then A_i^T, as a per-operator physics
does), on `--threads` threads, and writes x.npy, y_<i>.npy and grad_torch.npy to --out, so that
PNPDIST_BLUR_BENCH_DATA=<out> bench_blur computes the same gradient from the same data and compares.
Prints one JSON line with the timings. With --pnpdist-bench, it then runs that bench_blur program on the
same data and thread count (OMP_NUM_THREADS) right after its own timing, and adds pnpdist's fused and
per-operator gradient times, the speed-up and the relative differences to the JSON line.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_blur_fixtures import gaussian_psf  # noqa: E402  (same PSF rule as the test fixtures)


def transfer_function(psf, h, w):
    kh, kw = psf.shape
    padded = torch.zeros(h, w, dtype=torch.float32)
    padded[:kh, :kw] = psf
    padded = torch.roll(padded, shifts=(-(kh // 2), -(kw // 2)), dims=(0, 1))
    return torch.fft.rfft2(padded)


def blur(x, k):
    return torch.fft.irfft2(torch.fft.rfft2(x) * k, s=x.shape[-2:])


def blur_adjoint(y, k):
    return torch.fft.irfft2(torch.fft.rfft2(y) * torch.conj(k), s=y.shape[-2:])


def gradient(x, ys, ks):
    g = torch.zeros_like(x)
    for y, k in zip(ys, ks):
        g += blur_adjoint(blur(x, k) - y, k)
    return g


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", required=True)
    parser.add_argument("--height", type=int, default=1366)
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--blurs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pnpdist-bench", help="path of the bench_blur program to run on the same data")
    parser.add_argument("--double-reference", action="store_true",
                        help="also compute the gradient in float64 (grad_double.npy) to measure both float errors")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    h, w, size = args.height, args.width, max(args.height, args.width)

    generator = torch.Generator().manual_seed(0)
    truth = torch.rand(1, 3, h, w, generator=generator)
    x = torch.rand(1, 3, h, w, generator=generator)
    ks, ys = [], []
    for i in range(args.blurs):
        angle = 180.0 * i / (args.blurs - 1)
        ks.append(transfer_function(gaussian_psf((0.01 * size, 0.005 * size), angle), h, w))
        y = blur(truth, ks[-1]) + 0.1 * torch.randn(1, 3, h, w, generator=generator)
        ys.append(y.clamp(0, 1))
    np.save(os.path.join(args.out, "x.npy"), x.numpy())
    for i, y in enumerate(ys):
        np.save(os.path.join(args.out, f"y_{i}.npy"), y.numpy())

    g = gradient(x, ys, ks)  # warm-up
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        g = gradient(x, ys, ks)
        times.append(time.perf_counter() - start)
    np.save(os.path.join(args.out, "grad_torch.npy"), g.numpy())
    if args.double_reference:
        exact = gradient(x.double(), [y.double() for y in ys], [k.to(torch.complex128) for k in ks])
        np.save(os.path.join(args.out, "grad_double.npy"), exact.numpy())
        exact_max = float(exact.abs().max())
        torch_vs_double = float((g.double() - exact).abs().max()) / exact_max
    result = {"benchmark": "torch_per_operator_fft_gradient", "threads": args.threads, "image": [1, 3, h, w],
              "blurs": args.blurs, "psf_side": 2 * int(0.01 * size / 0.3 + 1) + 1, "torch": torch.__version__,
              "times_s": times, "median_ms": 1e3 * float(np.median(times)), "min_ms": 1e3 * min(times)}
    if args.double_reference:
        result["torch_vs_double_max_rel_diff"] = torch_vs_double
    if args.pnpdist_bench:
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), PNPDIST_BLUR_BENCH_DATA=os.path.abspath(args.out))
        run = subprocess.run([args.pnpdist_bench, "--benchmark_filter=stack", "--benchmark_format=json",
                              "--benchmark_repetitions=3"], env=env, check=True, capture_output=True, text=True)
        report = json.loads(run.stdout)
        medians = {b["run_name"].split("/")[0]: b["real_time"] for b in report["benchmarks"]
                   if b.get("aggregate_name") == "median"}
        units = {"ms": 1.0, "us": 1e-3, "ns": 1e-6, "s": 1e3}
        unit = units[report["benchmarks"][0]["time_unit"]]
        fused_ms = medians["bm_stack_gradient_fused"] * unit
        result["pnpdist_fused_median_ms"] = fused_ms
        result["pnpdist_per_operator_median_ms"] = medians["bm_stack_gradient_per_operator"] * unit
        result["speedup_fused_vs_torch"] = result["median_ms"] / fused_ms
        for key in ("fused_vs_torch_max_rel_diff", "fused_vs_torch_norm_rel_diff",
                    "per_operator_vs_torch_max_rel_diff",
                    "fused_vs_per_operator_max_rel_diff", "fused_vs_double_max_rel_diff",
                    "per_operator_vs_double_max_rel_diff"):
            if key in report["context"]:
                result[key] = float(report["context"][key])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
