#!/usr/bin/env python3
"""Training step time and peak memory: pnpdist's train_learned_primal_dual against the same learned primal-dual
in PyTorch with astra-toolbox's CPU projector as an autograd function (the setup of the ASTRA + PyTorch
integration, on the CPU), at the same thread counts, interleaved A B A B.

    /tmp/astra_venv/bin/python tools/bench_lpd_torch_astra.py \\
        --train-program BUILD/examples/train_learned_primal_dual --threads 1 2 --pairs 3 --steps 8 --warmup 2

The PyTorch network (written here, the configuration of include/pnpdist/learned/lpd.hpp and
tools/make_lpd_fixtures.py): 10 unrolled steps, primal and dual memories 5, width 32, PReLU (per channel,
initial slope 0), Xavier-uniform weights; dual input [h, s A f[:, 1], g], primal input [f, s A^T h[:, 0]],
residual updates, f0 = 0, output f[:, 0]. The projector: ASTRA's 2D CPU `linear` (Joseph) projector for
`ellipse_geometry(128, 30)` (parallel beam, 30 views over [0, pi), 183 detector columns of width 1, unit pixels),
forward astra.create_sino and back projection astra.create_backprojection, both scaled by s = 1/||A|| (power
method), each the other's gradient (torch.autograd.Function). ASTRA's CPU projectors are single-threaded.
Training: batch 1, a new random ellipse phantom per step (numpy) with its data (ASTRA projection + 5% Gaussian
noise relative to the mean absolute data), MSE loss, gradient norm clipped at 1, Adam (lr 1e-3, betas 0.9 /
0.99) with cosine decay: the same work per step as pnpdist's LpdTrainer::step (which also makes its sample).

Each run is its own process under /usr/bin/time -v (peak RSS = its maximum resident set size): PyTorch runs
this script with --worker; pnpdist runs `train_learned_primal_dual --size S --angles 30 --threads T --steps
W+K --validate-every 1 --validation 1` and its per-step times are read off its progress lines (validation
is outside the step timing). A run's step time is the median of its K steps after W warm-up steps; its CPU time
per step (process, all threads) is PyTorch's mean over the K steps and pnpdist's mean over all its steps (its
closing line). For each
thread count the runs alternate PyTorch, pnpdist, PyTorch, pnpdist, ... (--pairs pairs); the summary gives
the medians and ranges over the runs and the ratio of the medians. --precision f32 bf16 measures both sides
in float and then both in mixed bf16 precision (PyTorch's autocast, pnpdist's --conv-precision bf16), and
compares pnpdist in bf16 with PyTorch in float. Not run by CI (astra-toolbox is not a
dependency of the project): install it beside Debian's torch 1.13 / numpy 1.24 in a venv, as docs/learned.md
says. One JSON line per run and one summary line per thread count are printed.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

SIZE, ANGLES = 128, 30


def detector_cols(size):
    """ceil(sqrt(2) size) + 1, as learned::ellipse_geometry."""
    return int(np.ceil(np.sqrt(2.0) * size)) + 1


def astra_projector(size, angles):
    """ASTRA's 2D CPU `linear` projector of ellipse_geometry(size, angles) as (fp, bp, close): fp(image) is the
    sinogram (angles, cols), bp(sinogram) the back projection, both float32 numpy arrays; close() frees it."""
    import astra
    vol_geom = astra.create_vol_geom(size, size)
    proj_geom = astra.create_proj_geom('parallel', 1.0, detector_cols(size), np.arange(angles) * np.pi / angles)
    projector = astra.create_projector('linear', proj_geom, vol_geom)

    def fp(image):
        sid, sino = astra.create_sino(np.ascontiguousarray(image, dtype=np.float32), projector)
        astra.data2d.delete(sid)
        return sino

    def bp(sino):
        bid, image = astra.create_backprojection(np.ascontiguousarray(sino, dtype=np.float32), projector)
        astra.data2d.delete(bid)
        return image

    return fp, bp, lambda: astra.projector.delete(projector)


def norm_and_adjoint_error(fp, bp, size, angles, rng, iterations=50):
    """(||A||, the relative dot-product error of the pair) from a power method on A^T A and one random pair."""
    x = rng.standard_normal((size, size)).astype(np.float32)
    for _ in range(iterations):
        x = bp(fp(x))
        x /= np.linalg.norm(x)
    norm = np.sqrt(np.linalg.norm(bp(fp(x))))
    u, w = rng.standard_normal((size, size)), rng.standard_normal((angles, detector_cols(size)))
    au, atw = fp(u).astype(np.float64), bp(w).astype(np.float64)  # the gradient pair must be matched
    return float(norm), float(abs(np.sum(au * w) - np.sum(u * atw)) / (np.linalg.norm(au) * np.linalg.norm(w)))


def numpy_projector_functions(fp, bp, scale):
    """(Forward, Adjoint): torch.autograd.Functions of s A and s A^T on (N, 1, ...) tensors, each the other's
    gradient, calling the numpy functions fp and bp image by image."""
    import torch

    def apply_batch(fn, t):
        out = [torch.from_numpy(fn(item[0].float().numpy())) for item in t.detach()]
        return (torch.stack(out)[:, None] * scale).to(t.dtype)

    class Forward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, image):
            return apply_batch(fp, image)

        @staticmethod
        def backward(ctx, grad):
            return apply_batch(bp, grad)

    class Adjoint(torch.autograd.Function):
        @staticmethod
        def forward(ctx, sino):
            return apply_batch(bp, sino)

        @staticmethod
        def backward(ctx, grad):
            return apply_batch(fp, grad)

    return Forward, Adjoint


def learned_primal_dual(project, backproject, size, angles, steps=10, primal=5, dual=5, width=32):
    """The learned primal-dual of include/pnpdist/learned/lpd.hpp as a torch module on (N, 1, angles, cols)
    data; project and backproject map (N, 1, size, size) to (N, 1, angles, cols) and back (differentiable).
    Xavier-uniform weights from torch's global generator."""
    import torch
    from torch import nn
    cols = detector_cols(size)

    def block(cin, cout):
        layers = nn.Sequential(nn.Conv2d(cin, width, 3, padding=1), nn.PReLU(width, 0.0),
                               nn.Conv2d(width, width, 3, padding=1), nn.PReLU(width, 0.0),
                               nn.Conv2d(width, cout, 3, padding=1))
        for m in layers:
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        return layers

    class LearnedPrimalDual(nn.Module):
        def __init__(self):
            super().__init__()
            self.dual = nn.ModuleList([block(dual + 2, dual) for _ in range(steps)])
            self.primal = nn.ModuleList([block(primal + 1, primal) for _ in range(steps)])

        def forward(self, g):
            n = g.shape[0]
            f = torch.zeros(n, primal, size, size)
            h = torch.zeros(n, dual, angles, cols)
            for dual_block, primal_block in zip(self.dual, self.primal):
                h = h + dual_block(torch.cat([h, project(f[:, 1:2]), g], 1))
                f = f + primal_block(torch.cat([f, backproject(h[:, 0:1])], 1))
            return f[:, 0:1]

    return LearnedPrimalDual()


def ellipse_sampler(size, rng):
    """sample() -> a random ellipse phantom (size x size, float64) drawn from rng."""
    ys, xs = np.mgrid[0:size, 0:size]
    xs = (xs - (size - 1) / 2) / (size / 2)
    ys = (ys - (size - 1) / 2) / (size / 2)

    def sample():
        image = np.zeros((size, size))
        for _ in range(rng.poisson(50)):
            value = (rng.uniform() - 0.5) * rng.exponential(0.4)
            a, b = 0.2 * rng.exponential(1.0, 2)
            cx, cy = rng.uniform(-1, 1, 2)
            t = rng.uniform(0, 2 * np.pi)
            u = (xs - cx) * np.cos(t) + (ys - cy) * np.sin(t)
            v = -(xs - cx) * np.sin(t) + (ys - cy) * np.cos(t)
            image[(u / a) ** 2 + (v / b) ** 2 <= 1] += value
        return image

    return sample


def train(net, sample_pair, total_steps, step_hook=None, bf16=False):
    """Trains net for total_steps steps (batch 1: sample_pair() -> (truth, data) tensors, MSE loss, gradient
    norm clipped at 1, Adam lr 1e-3 betas 0.9 / 0.99, cosine decay over total_steps). bf16: the forward pass
    under torch.autocast('cpu', bfloat16) (convolutions in bf16, the loss in float). Returns per-step lists
    step_s (wall, sample included), cpu_s (process CPU time), data_s (the sample's wall time) and losses;
    step_hook(), if given, is called after each step (before the next one's timing starts)."""
    import torch
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.99))
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)
    step_s, cpu_s, data_s, losses = [], [], [], []
    for _ in range(total_steps):
        t0, c0 = time.perf_counter(), time.process_time()
        truth, data = sample_pair()
        t1 = time.perf_counter()
        optimizer.zero_grad()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            output = net(data)
        loss = torch.mean((output.float() - truth) ** 2)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        t2 = time.perf_counter()
        step_s.append(t2 - t0)
        cpu_s.append(time.process_time() - c0)
        data_s.append(t1 - t0)
        losses.append(float(loss))
        if step_hook:
            step_hook()
    return step_s, cpu_s, data_s, losses


def noisy_pair(image, fp, scale, rng):
    """(truth, data) tensors of batch 1: data = scale fp(image) + 5% Gaussian noise relative to its mean |value|."""
    import torch
    data = fp(image) * scale
    data = data + 0.05 * np.abs(data).mean() * rng.standard_normal(data.shape)
    return (torch.from_numpy(image.astype(np.float32))[None, None],
            torch.from_numpy(data.astype(np.float32))[None, None])


def worker(args):
    import astra
    import torch

    torch.set_num_threads(args.threads)
    size = args.size
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    fp, bp, close = astra_projector(size, args.angles)
    norm, adjoint_error = norm_and_adjoint_error(fp, bp, size, args.angles, rng)
    scale = 1.0 / norm
    Forward, Adjoint = numpy_projector_functions(fp, bp, scale)
    net = learned_primal_dual(Forward.apply, Adjoint.apply, size, args.angles)
    parameters = sum(p.numel() for p in net.parameters())
    sample = ellipse_sampler(size, rng)
    rss_before = rss_mib()
    step_s, cpu_s, data_s, losses = train(net, lambda: noisy_pair(sample(), fp, scale, rng),
                                          args.warmup + args.steps, bf16=args.precision[0] == 'bf16')
    close()
    measured = step_s[args.warmup:]
    print(json.dumps({
        'impl': 'pytorch+astra', 'threads': args.threads, 'precision': args.precision[0], 'torch': torch.__version__, 'astra': astra.__version__,
        'parameters': parameters, 'step_s': measured, 'median_step_s': statistics.median(measured),
        'mean_cpu_s': statistics.mean(cpu_s[args.warmup:]), 'median_data_s': statistics.median(data_s[args.warmup:]), 'loss_first': losses[0], 'loss_last': losses[-1],
        'rss_before_training_mib': rss_before, 'scale': scale, 'adjoint_error': adjoint_error,
    }), flush=True)


def rss_mib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return 0.0


def max_rss_mib(time_output):
    m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', time_output)
    return int(m.group(1)) / 1024 if m else float('nan')


def run_torch(args, threads, precision):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = ['/usr/bin/time', '-v', sys.executable, os.path.abspath(__file__), '--worker', '--threads', str(threads),
           '--precision', precision,
           '--steps', str(args.steps), '--warmup', str(args.warmup), '--size', str(args.size),
           '--angles', str(args.angles)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f'PyTorch run failed:\n{p.stderr}')
    result = json.loads(p.stdout.strip().splitlines()[-1])
    result['peak_rss_mib'] = max_rss_mib(p.stderr)
    return result


def run_native(args, threads, precision):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    steps = args.warmup + args.steps
    cmd = ['/usr/bin/time', '-v', args.train_program, '--size', str(args.size), '--angles', str(args.angles),
           '--threads', str(threads), '--steps', str(steps), '--validate-every', '1', '--validation', '1']
    if precision != 'f32':
        cmd += ['--conv-precision', precision]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f'pnpdist run failed:\n{p.stdout}\n{p.stderr}')
    step_s = [float(s) for s in re.findall(r'^step \d+/\d+ .* ([0-9.]+) s/step', p.stdout, re.M)]
    if len(step_s) != steps:
        raise RuntimeError(f'expected {steps} progress lines, found {len(step_s)}:\n{p.stdout}')
    measured = step_s[args.warmup:]
    cpu = re.search(r'cpu ([0-9.]+) s/step', p.stdout)
    return {'impl': 'pnpdist', 'threads': threads, 'precision': precision, 'step_s': measured, 'median_step_s': statistics.median(measured),
            'mean_cpu_s_all_steps': float(cpu.group(1)) if cpu else float('nan'),
            'peak_rss_mib': max_rss_mib(p.stderr), 'command': ' '.join(cmd[2:])}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--train-program', help='path of train_learned_primal_dual')
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--pairs', type=int, default=3, help='A B pairs per thread count')
    parser.add_argument('--steps', type=int, default=8, help='measured steps per run')
    parser.add_argument('--warmup', type=int, default=2, help='steps before the measured ones')
    parser.add_argument('--size', type=int, default=SIZE)
    parser.add_argument('--angles', type=int, default=ANGLES)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--precision', nargs='+', choices=['f32', 'bf16'], default=['f32'],
                        help='convolution precisions to measure, each on both sides (bf16: PyTorch autocast, '
                             'pnpdist --conv-precision bf16); with both, the summary also compares pnpdist in '
                             'bf16 with PyTorch in float')
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.threads = args.threads[0]
        worker(args)
        return
    if not args.train_program:
        parser.error('--train-program is required')
    with open('/proc/loadavg') as f:
        print(json.dumps({'loadavg_start': f.read().split()[:3]}), flush=True)
    for threads in args.threads:
        summaries = {}
        for precision in args.precision:
            runs = {'pytorch+astra': [], 'pnpdist': []}
            for _ in range(args.pairs):
                for name, fn in (('pytorch+astra', run_torch), ('pnpdist', run_native)):
                    r = fn(args, threads, precision)
                    runs[name].append(r)
                    print(json.dumps(r), flush=True)
            summary = {'threads': threads, 'precision': precision, 'size': args.size, 'angles': args.angles,
                       'pairs': args.pairs, 'steps': args.steps, 'warmup': args.warmup}
            for name, rs in runs.items():
                medians = [r['median_step_s'] for r in rs]
                rss = [r['peak_rss_mib'] for r in rs]
                cpu = [r.get('mean_cpu_s', r.get('mean_cpu_s_all_steps')) for r in rs]
                summary[name] = {'median_step_s': statistics.median(medians),
                                 'step_s_range': [min(medians), max(medians)],
                                 'cpu_s_per_step': statistics.median(cpu), 'cpu_s_range': [min(cpu), max(cpu)],
                                 'peak_rss_mib': statistics.median(rss),
                                 'peak_rss_mib_range': [min(rss), max(rss)]}
            summary['speedup'] = summary['pytorch+astra']['median_step_s'] / summary['pnpdist']['median_step_s']
            summary['pair_speedups'] = [a['median_step_s'] / b['median_step_s']
                                        for a, b in zip(runs['pytorch+astra'], runs['pnpdist'])]
            summary['cpu_ratio'] = summary['pytorch+astra']['cpu_s_per_step'] / summary['pnpdist']['cpu_s_per_step']
            summary['memory_ratio'] = summary['pytorch+astra']['peak_rss_mib'] / summary['pnpdist']['peak_rss_mib']
            with open('/proc/loadavg') as f:
                summary['loadavg_end'] = f.read().split()[:3]
            summaries[precision] = summary
            print(json.dumps({'summary': summary}), flush=True)
        if 'f32' in summaries and 'bf16' in summaries:
            torch_f32, native_bf16 = summaries['f32']['pytorch+astra'], summaries['bf16']['pnpdist']
            print(json.dumps({'pnpdist_bf16_vs_pytorch_f32': {
                'threads': threads,
                'speedup': torch_f32['median_step_s'] / native_bf16['median_step_s'],
                'cpu_ratio': torch_f32['cpu_s_per_step'] / native_bf16['cpu_s_per_step']}}), flush=True)

if __name__ == '__main__':
    main()
