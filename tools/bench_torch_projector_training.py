#!/usr/bin/env python3
"""A PyTorch training loop through pnpdist's projector against the same loop through astra-toolbox's: the
learned primal-dual of tools/bench_lpd_torch_astra.py (its network, phantoms, noise, loss, clipping and Adam
schedule, imported from there), trained in ordinary PyTorch where the projector autograd function is either

  pnpdist: pnpdist.torch.LinearFunction of pnpdist.JosephProjector2D (float32, backward = the matched
           adjoint) of pnpdist.geometry_from_astra of the ASTRA dicts below, on pnpdist.Executor(threads=T);
  astra:   astra-toolbox's 2D CPU `linear` (Joseph) projector, create_sino / create_backprojection as
           torch.autograd.Functions (single-threaded), as in bench_lpd_torch_astra.py.

    PYTHONPATH=BUILD/python /tmp/astra_venv/bin/python tools/bench_torch_projector_training.py \\
        --threads 1 2 --pairs 3 --steps 10 --warmup 2

The geometry is ellipse_geometry(128, 30) (30 parallel views over [0, pi), 183 detector columns of width 1,
unit pixels) in ASTRA's image layout (row 0 at +y), so both projectors see the same phantom arrays; the check
below confirms that it is pnpdist.parallel_beam_2d of the same angles on the rows reversed. Both arms: the
same seeds (phantoms and noise from numpy seed S, torch.manual_seed(S) before the network is built, so the
initial weights are equal; the power method on seed S + 1), the data made by the arm's own projector, each
scaled by 1/||A|| of its own projector; torch.set_num_threads(T) and OMP_NUM_THREADS=T in both.

Each run is its own process under /usr/bin/time -v (peak RSS), alternating pnpdist, astra, pnpdist, astra,
... (--pairs pairs per thread count). Per run: the median wall time of the K steps after W warm-up ones, the
mean process CPU time per step (all threads), and the mean wall and process CPU time per step spent inside
the projector autograd functions (their forward and backward bodies: 39 calls per step, 20 in the network's
forward pass and 19 in its backward pass, where the projection of the zero initial primal needs no gradient;
the data simulation is outside). Before the runs the driver compares the two
projectors on a phantom (relative differences of A x and A^T y: different discretisations of the same
geometry, not round-off). The summary gives medians over the runs, the ratios astra / pnpdist, and the mean
loss of the first and last three steps. One JSON line per run and per summary. Not run by CI (astra-toolbox
is not a dependency): install it as docs/learned.md says.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from bench_lpd_torch_astra import (ANGLES, SIZE, astra_projector, detector_cols, ellipse_sampler,
                                   learned_primal_dual, max_rss_mib, noisy_pair, norm_and_adjoint_error,
                                   numpy_projector_functions, rss_mib, train)

IMPLS = ('pnpdist', 'astra')


def astra_dicts(size, angles):
    """ASTRA's proj_geom and vol_geom of ellipse_geometry(size, angles), as astra_projector builds them."""
    vol_geom = {'GridRowCount': size, 'GridColCount': size, 'option': {'WindowMinX': -size / 2,
                'WindowMaxX': size / 2, 'WindowMinY': -size / 2, 'WindowMaxY': size / 2}}
    proj_geom = {'type': 'parallel', 'DetectorWidth': 1.0, 'DetectorCount': detector_cols(size),
                 'ProjectionAngles': np.arange(angles) * np.pi / angles}
    return proj_geom, vol_geom


def pnpdist_projector(size, angles, threads):
    """(A, fp, bp): pnpdist's float32 Joseph projector of astra_dicts(size, angles) on `threads` threads."""
    import pnpdist
    A = pnpdist.JosephProjector2D(pnpdist.geometry_from_astra(*astra_dicts(size, angles)), dtype='float32',
                                  executor=pnpdist.Executor(threads=threads))

    def fp(image):
        return A.forward(np.ascontiguousarray(image, dtype=np.float32))

    def bp(sino):
        return A.adjoint(np.ascontiguousarray(sino, dtype=np.float32))

    return A, fp, bp


def timed(function, clock):
    """A subclass of the autograd function `function` whose forward and backward bodies add their wall and
    process CPU time to clock['wall'] and clock['cpu'] and count themselves in clock['calls']."""

    def timing(body):
        def run(ctx, *args):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return body(ctx, *args)
            finally:
                clock['wall'] += time.perf_counter() - t0
                clock['cpu'] += time.process_time() - c0
                clock['calls'] += 1
        return staticmethod(run)

    return type('Timed' + function.__name__, (function,),
                {'forward': timing(function.forward), 'backward': timing(function.backward)})


def worker(args):
    import torch

    torch.set_num_threads(args.threads)
    size, angles = args.size, args.angles
    clock = {'wall': 0.0, 'cpu': 0.0, 'calls': 0}
    if args.impl == 'pnpdist':
        import pnpdist
        import pnpdist.torch as pt
        A, fp, bp = pnpdist_projector(size, angles, args.threads)
        norm, adjoint_error = norm_and_adjoint_error(fp, bp, size, angles, np.random.default_rng(args.seed + 1))
        scale = 1.0 / norm
        function = timed(pt.LinearFunction, clock)
        transposed = pt.Adjoint(A)
        project = lambda t: scale * function.apply(t, A)  # noqa: E731
        backproject = lambda t: scale * function.apply(t, transposed)  # noqa: E731
        versions = {'pnpdist': pnpdist.__version__, 'executor_threads': A.threads}
        close = lambda: None  # noqa: E731
    else:
        import astra
        fp, bp, close = astra_projector(size, angles)
        norm, adjoint_error = norm_and_adjoint_error(fp, bp, size, angles, np.random.default_rng(args.seed + 1))
        scale = 1.0 / norm
        forward, adjoint = (timed(f, clock) for f in numpy_projector_functions(fp, bp, scale))
        project, backproject = forward.apply, adjoint.apply
        versions = {'astra': astra.__version__}
    torch.manual_seed(args.seed)
    net = learned_primal_dual(project, backproject, size, angles)
    rng = np.random.default_rng(args.seed)
    sample = ellipse_sampler(size, rng)
    projector_wall, projector_cpu, calls = [], [], []

    def record():
        projector_wall.append(clock['wall'])
        projector_cpu.append(clock['cpu'])
        calls.append(clock['calls'])
        clock.update(wall=0.0, cpu=0.0, calls=0)

    rss_before = rss_mib()
    step_s, cpu_s, data_s, losses = train(net, lambda: noisy_pair(sample(), fp, scale, rng),
                                          args.warmup + args.steps, record)
    close()
    w = args.warmup
    print(json.dumps({
        'impl': args.impl, 'threads': args.threads, 'torch': torch.__version__, **versions,
        'torch_threads': torch.get_num_threads(), 'norm': norm, 'adjoint_error': adjoint_error,
        'step_s': step_s[w:], 'median_step_s': statistics.median(step_s[w:]),
        'mean_cpu_s': statistics.mean(cpu_s[w:]), 'median_data_s': statistics.median(data_s[w:]),
        'projector_wall_s': statistics.mean(projector_wall[w:]), 'projector_cpu_s': statistics.mean(projector_cpu[w:]),
        'projector_calls': calls[w:], 'losses': losses, 'rss_before_training_mib': rss_before,
    }), flush=True)


def check(args):
    """The two projectors on one phantom of the training sampler: relative differences (float64 sums)."""
    import pnpdist
    afp, abp, close = astra_projector(args.size, args.angles)
    A, pfp, pbp = pnpdist_projector(args.size, args.angles, 1)
    x = ellipse_sampler(args.size, np.random.default_rng(args.seed))()
    ya, yp = afp(x).astype(np.float64), pfp(x).astype(np.float64)
    ba, bp_ = abp(ya).astype(np.float64), pbp(ya).astype(np.float64)
    own = pnpdist.JosephProjector2D(pnpdist.parallel_beam_2d(np.arange(args.angles) * np.pi / args.angles,
                                                             detector_cols(args.size), (args.size, args.size)))
    mirrored = own.forward(np.ascontiguousarray(x[::-1], dtype=np.float32)).astype(np.float64)
    close()
    rel = lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(b))  # noqa: E731
    return {'check': {'forward_rel_diff': rel(yp, ya), 'backprojection_rel_diff': rel(bp_, ba),
                      'forward_max_abs_diff_rel_to_max': float(np.abs(yp - ya).max() / np.abs(ya).max()),
                      'parallel_beam_2d_on_reversed_rows_rel_diff': rel(mirrored, yp)}}


def run(args, impl, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = ['/usr/bin/time', '-v', sys.executable, os.path.abspath(__file__), '--worker', impl, '--threads',
           str(threads), '--steps', str(args.steps), '--warmup', str(args.warmup), '--size', str(args.size),
           '--angles', str(args.angles), '--seed', str(args.seed)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f'{impl} run failed:\n{p.stdout}\n{p.stderr}')
    result = json.loads(p.stdout.strip().splitlines()[-1])
    result['peak_rss_mib'] = max_rss_mib(p.stderr)
    return result


def loadavg():
    with open('/proc/loadavg') as f:
        return f.read().split()[:3]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--pairs', type=int, default=3, help='pnpdist / astra pairs per thread count')
    parser.add_argument('--steps', type=int, default=10, help='measured steps per run')
    parser.add_argument('--warmup', type=int, default=2, help='steps before the measured ones')
    parser.add_argument('--size', type=int, default=SIZE)
    parser.add_argument('--angles', type=int, default=ANGLES)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--worker', choices=IMPLS, dest='impl', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.impl:
        args.threads = args.threads[0]
        worker(args)
        return
    print(json.dumps({'loadavg_start': loadavg()}), flush=True)
    print(json.dumps(check(args)), flush=True)
    for threads in args.threads:
        runs = {impl: [] for impl in IMPLS}
        for _ in range(args.pairs):
            for impl in IMPLS:
                r = run(args, impl, threads)
                runs[impl].append(r)
                print(json.dumps(r), flush=True)
        summary = {'threads': threads, 'size': args.size, 'angles': args.angles, 'pairs': args.pairs,
                   'steps': args.steps, 'warmup': args.warmup}
        keys = ('median_step_s', 'mean_cpu_s', 'projector_wall_s', 'projector_cpu_s', 'peak_rss_mib')
        for impl, rs in runs.items():
            summary[impl] = {k: statistics.median(r[k] for r in rs) for k in keys}
            summary[impl].update({k + '_range': [min(r[k] for r in rs), max(r[k] for r in rs)] for k in keys})
            losses = rs[0]['losses']
            summary[impl]['loss_first3_last3'] = [statistics.mean(losses[:3]), statistics.mean(losses[-3:])]
            summary[impl]['losses_equal_across_runs'] = all(r['losses'] == losses for r in rs)
        summary['ratio_astra_over_pnpdist'] = {k: summary['astra'][k] / summary['pnpdist'][k] for k in keys}
        summary['pair_step_ratios'] = [a['median_step_s'] / p['median_step_s']
                                       for p, a in zip(runs['pnpdist'], runs['astra'])]
        la, lp = np.array(runs['astra'][0]['losses']), np.array(runs['pnpdist'][0]['losses'])
        summary['loss_max_rel_diff_between_arms'] = float(np.max(np.abs(lp - la) / la))
        summary['loadavg_end'] = loadavg()
        print(json.dumps({'summary': summary}), flush=True)


if __name__ == '__main__':
    main()
