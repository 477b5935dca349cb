"""Times A^T A x from Python as one call, op.normal(x, out=z), against op.adjoint(op.forward(x)) (a new sinogram
array per call, as a caller without normal() writes it) and against the two calls into preallocated arrays, on a
pnpdist.JosephProjector2D (default: the 256 x 256 Shepp-Logan problem of tomography_2d, 100 parallel views over
180 degrees, 384 detector columns, float32). The three are interleaved, repeat after repeat, so that a loaded
machine slows them alike; prints the wall and process CPU medians and the ratios, and checks that the results are
equal bit for bit.

    PYTHONPATH=build/<dir>/python OMP_NUM_THREADS=1 nice -n 15 python3 tools/bench_python_normal.py --threads 1
"""

import argparse
import statistics
import time

import numpy as np

import pnpdist


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--views", type=int, default=100)
    parser.add_argument("--cols", type=int, default=384)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=0, help="pnpdist threads (0: the default executor's)")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    angles = np.linspace(0, np.pi, args.views, endpoint=False)
    geometry = pnpdist.parallel_beam_2d(angles, args.cols, (args.size, args.size))
    op = pnpdist.JosephProjector2D(geometry, dtype=args.dtype, executor=pnpdist.Executor(threads=args.threads))
    x = pnpdist.shepp_logan((args.size, args.size), dtype=args.dtype)
    z, y = np.empty_like(x), np.empty(op.range_shape, dtype=args.dtype)
    cases = {
        "normal(x, out=z)": lambda: op.normal(x, out=z),
        "adjoint(forward(x))": lambda: op.adjoint(op.forward(x)),
        "forward(x, out=y); adjoint(y, out=z)": lambda: op.adjoint(op.forward(x, out=y), out=z),
    }
    reference = op.adjoint(op.forward(x))
    assert np.array_equal(op.normal(x), reference), "normal(x) differs from adjoint(forward(x))"
    for run in cases.values():  # warm-up (the buffer of normal() is allocated here)
        run()
    wall = {name: [] for name in cases}
    cpu = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, run in cases.items():
            w, c = time.perf_counter(), time.process_time()
            run()
            cpu[name].append(time.process_time() - c)
            wall[name].append(time.perf_counter() - w)
    print(f"{args.size} x {args.size}, {args.views} views, {args.cols} columns, {args.dtype}, {op.threads} "
          f"thread(s), median of {args.repeats}")
    base = "normal(x, out=z)"
    for name in cases:
        mw, mc = statistics.median(wall[name]), statistics.median(cpu[name])
        print(f"  {name:40s} wall {mw * 1e3:9.3f} ms ({mw / statistics.median(wall[base]):.3f}x)   "
              f"CPU {mc * 1e3:9.3f} ms ({mc / statistics.median(cpu[base]):.3f}x)")


if __name__ == "__main__":
    main()
