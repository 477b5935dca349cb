"""Times pnpdist.mpi.DistributedDenoiser (the tiled DRUNet with its tiles dealt to the ranks) against the tiled
DRUNet on one process, and checks that both give the same image bit for bit. Run under mpirun, one thread per
rank, e.g.

    OMP_NUM_THREADS=1 mpirun -np 2 --oversubscribe python3 tools/bench_distributed_denoiser.py --size 256 \\
        --tile 64 --overlap 16 --repeats 3

with PYTHONPATH pointing at a build's python/ folder (build/release/python). Rank 0 prints one line: ranks,
tiles, the median wall time of a collective denoise (barrier to barrier), that of the tiled DRUNet on rank 0
alone (--reference), and whether the images are equal bit for bit."""

import argparse
import pathlib
import statistics
import time

import numpy as np

import pnpdist
import pnpdist.mpi as mpi

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=str(ROOT / "weights" / "drunet_gray.safetensors"))
    parser.add_argument("--size", type=int, default=256, help="image size (square)")
    parser.add_argument("--tile", type=int, default=64)
    parser.add_argument("--overlap", type=int, default=16)
    parser.add_argument("--tile-batch", type=int, default=0)
    parser.add_argument("--sigma", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference", action="store_true", help="also time the tiled DRUNet on rank 0 alone")
    args = parser.parse_args()

    comm = mpi.world()
    net = pnpdist.DRUNet(args.weights)
    dist = mpi.DistributedDenoiser(net, comm, tile=args.tile, overlap=args.overlap, tile_batch=args.tile_batch)
    image = pnpdist.shepp_logan((args.size, args.size))
    x = (image + args.sigma * np.random.default_rng(0).standard_normal(image.shape)).astype(np.float32)
    y = dist(x, args.sigma)  # warm-up (plans the network's buffers)
    seconds = []
    for _ in range(args.repeats):
        comm.barrier()
        start = time.perf_counter()
        y = dist(x, args.sigma)
        comm.barrier()
        seconds.append(time.perf_counter() - start)
    first, count = dist.local_tiles(x.shape)
    counts = np.zeros(comm.size, np.float64)
    counts[comm.rank] = count
    for r in range(comm.size):
        comm.broadcast(counts[r:r + 1], root=r)
    if comm.rank != 0:
        return
    line = (f"ranks {comm.size}: tiles {int(counts.sum())} ({'+'.join(str(int(c)) for c in counts)}), "
            f"distributed {statistics.median(seconds):.3f} s")
    if args.reference:
        tiled = pnpdist.DRUNet(args.weights, tile=args.tile, overlap=args.overlap, tile_batch=args.tile_batch)
        reference = tiled(x, args.sigma)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            reference = tiled(x, args.sigma)
            times.append(time.perf_counter() - start)
        line += f", tiled on one process {statistics.median(times):.3f} s, bit for bit {np.array_equal(y, reference)}"
    print(line, flush=True)


if __name__ == "__main__":
    main()
