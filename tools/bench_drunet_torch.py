#!/usr/bin/env python3
"""PyTorch reference for benchmarks/nn/bench_drunet: the full-size colour DRUNet (widths 64..512, 4 blocks,
no biases, the official module layout of tools/make_drunet_fixtures.py) forward pass on the CPU, one
1 x 3 x H x W image, with random weights. Each size runs in a fresh process (this script re-invokes itself)
so that the peak resident memory (VmHWM of /proc/self/status, as pnpdist::peak_resident_bytes reads it)
belongs to that size alone. One untimed warm-up pass, then one timed pass.

    /usr/bin/python3 tools/bench_drunet_torch.py --threads 2 --size 512 512 --size 1024 1024 --size 1366 2048
"""
import argparse
import json
import os
import subprocess
import sys
import time

MACS_PER_PIXEL = 2117568


def peak_rss_bytes():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) * 1024
    return 0


def run_one(h, w, threads, warmup):
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_drunet_fixtures import DRUNet
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = DRUNet(3, (64, 128, 256, 512), 4, 2, False).eval()
    x = torch.rand(1, 3, h, w)
    with torch.no_grad():
        if warmup:
            net(x, 25 / 255)
        start = time.perf_counter()
        y = net(x, 25 / 255)
        seconds = time.perf_counter() - start
    padded = ((h + 7) // 8 * 8) * ((w + 7) // 8 * 8)
    print(json.dumps({'size': [h, w], 'threads': threads, 'seconds': seconds,
                      'gflops': 2 * MACS_PER_PIXEL * padded / seconds * 1e-9, 'peak_rss_bytes': peak_rss_bytes(),
                      'warmup': warmup, 'torch': torch.__version__, 'checksum': float(y.double().sum())}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--size', nargs=2, type=int, action='append', metavar=('H', 'W'))
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--no-warmup', action='store_true')
    parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.size or [[512, 512], [1024, 1024], [1366, 2048]]
    if args.child:
        run_one(sizes[0][0], sizes[0][1], args.threads, not args.no_warmup)
        return
    for h, w in sizes:
        command = [sys.executable, os.path.abspath(__file__), '--child', '--threads', str(args.threads),
                   '--size', str(h), str(w)] + (['--no-warmup'] if args.no_warmup else [])
        subprocess.run(command, check=True)


if __name__ == '__main__':
    main()
