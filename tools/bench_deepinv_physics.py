#!/usr/bin/env python3
"""DeepInv's PnP on pnpdist's physics against DeepInv's PnP on its own Tomography (CPU): time per iteration.

The 2D CT problem of tomography_2d's defaults: a 256 x 256 Shepp-Logan phantom, 100 parallel-beam views over
180 degrees. DeepInv's own physics: deepinv.physics.Tomography(angles=100, img_width=256, circle=False,
normalize=False) (bilinear rotate-and-sum, adjoint by autograd); pnpdist's: pnpdist.deepinv.Tomography on
deepinv_parallel_geometry(the same angles, 256) (Joseph, the same detector and orientation). Both float32,
the same thread count (torch and OpenMP). Timed: one A followed by one A_adjoint, and DeepInv's PnP-PGD
(optim_builder("PGD"), step 1 / ||A||^2 of each physics, 5 iterations) with a DRUNet of the official size
(deepinv.models.DRUNet(1, 1), random weights: the cost of the trained one) and with no denoiser cost (the
identity as denoiser), median of --repeats runs. Needs DeepInv (see tools/compare_deepinv.py for the venv):

    PYTHONPATH=BUILD/python /tmp/dinv/bin/python tools/bench_deepinv_physics.py --threads 2
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import deepinv  # noqa: E402
from deepinv.optim import optim_builder  # noqa: E402
from deepinv.optim.data_fidelity import L2  # noqa: E402
from deepinv.optim.prior import PnP  # noqa: E402

import pnpdist  # noqa: E402
import pnpdist.deepinv as pdi  # noqa: E402


class Identity(torch.nn.Module):
    def forward(self, x, sigma, **kwargs):
        return x


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--views", type=int, default=100)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    pnpdist.set_num_threads(args.threads)
    n = args.size
    angles = np.linspace(0, 180, args.views, endpoint=False)
    own = deepinv.physics.Tomography(angles=torch.tensor(angles, dtype=torch.float32), img_width=n, circle=False,
                                     normalize=False)
    ours = pdi.Tomography(pdi.deepinv_parallel_geometry(angles, n))
    truth = torch.from_numpy(pnpdist.shepp_logan((n, n)))[None, None]
    y = own.A(truth)
    y = y + 0.01 * float(y.abs().max()) * torch.randn_like(y)
    rel = float((pdi.to_deepinv_sinogram(ours.A(truth)) - own.A(truth)).norm() / own.A(truth).norm())
    print(f"deepinv {deepinv.__version__}, torch {torch.__version__}, {args.threads} thread(s), {n}^2, "
          f"{args.views} views; sinograms differ by {rel:.2e} (relative)")
    ys = {"deepinv": y, "pnpdist": pdi.from_deepinv_sinogram(y).contiguous()}
    rows = []
    with torch.no_grad():
        for name, physics in (("deepinv", own), ("pnpdist", ours)):
            pair = median_seconds(lambda: physics.A_adjoint(physics.A(truth)), args.repeats)
            sq = float(physics.compute_sqnorm(torch.rand(1, 1, n, n), max_iter=30, verbose=False))
            per = {}
            for label, net in (("identity", Identity()), ("drunet", deepinv.models.DRUNet(1, 1, pretrained=None))):
                model = optim_builder(iteration="PGD", prior=PnP(denoiser=net), data_fidelity=L2(),
                                      params_algo={"stepsize": 1.0 / sq, "g_param": 0.01, "lambda": 1.0},
                                      max_iter=args.iterations, early_stop=False)
                per[label] = median_seconds(lambda: model(ys[name], physics, init=torch.zeros_like(truth)),
                                            args.repeats) / args.iterations
            rows.append((name, pair, per["identity"], per["drunet"]))
    print(f"{'physics':<10} {'A + A^T s':>10} {'PGD it. s (no denoiser)':>24} {'PGD it. s (DRUNet)':>19}")
    for name, pair, ident, dr in rows:
        print(f"{name:<10} {pair:>10.4f} {ident:>24.4f} {dr:>19.4f}")
    d, q = rows
    print(f"ratio deepinv / pnpdist: A + A^T {d[1] / q[1]:.2f}x, PGD iteration {d[2] / q[2]:.2f}x without and "
          f"{d[3] / q[3]:.2f}x with DRUNet")


if __name__ == "__main__":
    main()
