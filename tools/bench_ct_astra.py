#!/usr/bin/env python3
"""ASTRA's CPU 'linear' (Joseph) projector next to pnpdist's, on the 2D parallel-beam tomography benchmark
(N x N Shepp-Logan, 100 views over [0, pi), N detectors of width 1), in the same run.

For each N: runs pnpdist's ct_export (benchmarks/physics/ct), which writes the phantom, its exact line integrals,
our forward projection and our back projection of the exact sinogram as .npy and prints our best times; then
times ASTRA's forward projection of the same phantom and back projection of the same exact sinogram
(best of --repeats, wall and process CPU time), writes astra_fp_N.npy / astra_bp_N.npy, and prints one JSON line per N with the times and
the relative differences (||a - b|| / ||b||): ASTRA and ours against the analytic line integrals, and ours
against ASTRA (FP and BP).

ASTRA's image rows run from +y to -y, ours from -y to +y: the phantom is flipped vertically for ASTRA and
ASTRA's back projection flipped back. Needs the astra-toolbox package (PyPI wheel or Debian contrib's
python3-astra-toolbox); its 2D CPU projectors run without a GPU and single-threaded.

    OMP_NUM_THREADS=2 python3 tools/bench_ct_astra.py --export build/release/benchmarks/physics/ct/ct_export \
        --dir /tmp/ct_astra --sizes 512 1024 2048
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np


def rel(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def best_time(fn, repeats):
    """Best wall time and best process CPU time of `repeats` calls, and the last result."""
    best, best_cpu, out = float("inf"), float("inf"), None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best, best_cpu, out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export", required=True, help="path of the ct_export program")
    parser.add_argument("--dir", required=True, help="folder for the .npy files")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import astra  # imported here so that --help works without it

    os.makedirs(args.dir, exist_ok=True)
    for n in args.sizes:
        ours = json.loads(
            subprocess.run([args.export, args.dir, str(n), str(args.repeats)], check=True, capture_output=True,
                           text=True).stdout.strip().splitlines()[-1])
        load = lambda name: np.load(os.path.join(args.dir, f"{name}_{n}.npy"))
        phantom, exact, fp, bp = load("phantom"), load("analytic"), load("fp"), load("bp")

        vol_geom = astra.create_vol_geom(n, n)
        angles = np.arange(100) * np.pi / 100
        proj_geom = astra.create_proj_geom("parallel", 1.0, n, angles)
        projector = astra.create_projector("linear", proj_geom, vol_geom)
        image = np.ascontiguousarray(phantom[::-1], dtype=np.float32)
        sinogram = np.ascontiguousarray(exact, dtype=np.float32)

        def astra_fp():
            sid, s = astra.create_sino(image, projector)
            astra.data2d.delete(sid)
            return s

        def astra_bp():
            bid, b = astra.create_backprojection(sinogram, projector)
            astra.data2d.delete(bid)
            return b

        fp_s, fp_cpu, a_fp = best_time(astra_fp, args.repeats)
        bp_s, bp_cpu, a_bp = best_time(astra_bp, args.repeats)
        a_bp = a_bp[::-1]
        astra.projector.delete(projector)
        np.save(os.path.join(args.dir, f"astra_fp_{n}.npy"), a_fp.astype(np.float32))
        np.save(os.path.join(args.dir, f"astra_bp_{n}.npy"), np.ascontiguousarray(a_bp, dtype=np.float32))
        print(json.dumps({
            "n": n, "views": 100, "detectors": n,
            "pnpdist_threads": ours["threads"], "pnpdist_fp_s": ours["fp_s"], "pnpdist_bp_s": ours["bp_s"],
            "astra_version": astra.__version__, "astra_fp_s": round(fp_s, 6), "astra_bp_s": round(bp_s, 6),
            "fp_speedup": round(fp_s / ours["fp_s"], 3), "bp_speedup": round(bp_s / ours["bp_s"], 3),
            "pnpdist_fp_cpu_s": ours["fp_cpu_s"], "pnpdist_bp_cpu_s": ours["bp_cpu_s"],
            "astra_fp_cpu_s": round(fp_cpu, 6), "astra_bp_cpu_s": round(bp_cpu, 6),
            "pnpdist_fp_vs_analytic": rel(fp, exact), "astra_fp_vs_analytic": rel(a_fp, exact),
            "pnpdist_fp_vs_astra": rel(fp, a_fp), "pnpdist_bp_vs_astra": rel(bp, a_bp),
        }), flush=True)


if __name__ == "__main__":
    main()
