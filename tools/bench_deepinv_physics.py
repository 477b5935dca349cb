#!/usr/bin/env python3
r"""DeepInv's PnP on pnpdist's physics against DeepInv's PnP on its own physics (CPU): time per iteration.

--problem ct (default): the 2D CT problem of tomography_2d's defaults: a 256 x 256 Shepp-Logan phantom, 100
parallel-beam views over 180 degrees. DeepInv's own physics: deepinv.physics.Tomography(angles=100,
img_width=256, circle=False, normalize=False) (bilinear rotate-and-sum, adjoint by autograd); pnpdist's:
pnpdist.deepinv.Tomography on deepinv_parallel_geometry(the same angles, 256) (Joseph, the same detector and
orientation). Timed: one A followed by one A_adjoint, and DeepInv's PnP-PGD (optim_builder("PGD"), step
1 / ||A||^2 of each physics, 5 iterations) with a DRUNet of the official size (deepinv.models.DRUNet(1, 1),
random weights: the cost of the trained one) and with no denoiser cost (the identity as denoiser).

--problem deblur: highres_deblur's problem at a CPU size: its photograph resized (bicubic) to a larger side
of S = --size (512: 3 x 384 x 512), blurred circularly by its first PSF, pnpdist.gaussian_psf(0.01 S,
0.005 S, 0) (37 x 37 at S = 512; DeepInv's gaussian_blur of the same sigmas is the same kernel), Gaussian
noise of --noise (0.03) added, not clamped. DeepInv's physics on that PSF: Blur(padding="circular")
(direct, torch convolutions), Blur(padding="circular", use_fft=True) and BlurFFT; pnpdist's:
pnpdist.deepinv.Blur of pnpdist.Blur(psf, (3, H, W), "circular", "direct") and of the "fft" method. All are
true convolutions with the PSF centre on the output pixel: the script first shows A x and A^T y agree to
float round-off on a random PSF with no symmetry (and that the PSF rotated by 180 degrees does not), then on
the photograph. Timed: one A and one A_adjoint, A^T A x of pnpdist fft as A_adjoint_A and as
A_adjoint(A(x)), and PnP-PGD (step 1 = 1 / ||A||^2, the PSF summing to 1;
--iterations from y) with the identity as denoiser and with the colour DRUNet of
weights/drunet_color.safetensors loaded into deepinv.models.DRUNet (widths 16-128, 2 blocks), denoiser
sigma --denoiser-sigma (not tuned: the PSNR is there to compare the physics, not to rate the method). The
PSNR of the same number of iterations must agree within --psnr-tolerance (0.01 dB) across the physics (exit
status 1 otherwise).

Both problems: float32, the same thread count for torch and pnpdist (OpenMP, FFTW), median of --repeats
runs; both report the process CPU time (the work, on a shared machine where a niced run waits for the core
most of the wall time; wall times are printed beside it). ct also times A^T A x of pnpdist's physics as
A_adjoint_A (the projector's normal(), one call) and as A_adjoint(A(x)). Needs DeepInv (docs/python.md,
DeepInv, says how the venv was made). Measured with

    PYTHONPATH=BUILD/python OMP_NUM_THREADS=1 nice -n 15 /tmp/dinv/bin/python tools/bench_deepinv_physics.py \
        --threads 1
    PYTHONPATH=BUILD/python OMP_NUM_THREADS=1 nice -n 15 /tmp/dinv/bin/python tools/bench_deepinv_physics.py \
        --problem deblur --threads 1

(the full tables: docs/python.md, DeepInv). The ct run of 2026-12-07 (256^2, 100 views, 1 thread, DeepInv
0.5.0, torch 2.15.0, load average 4.5 to 6.5, process CPU seconds, DeepInv's physics then pnpdist's): A + A^T
0.234 and 0.0172 (13.7x), PnP-PGD iteration with the identity 0.402 and 0.0277 (14.5x), with the DRUNet 2.67
and 2.37 (1.13x); pnpdist's A^T A x as A_adjoint_A 0.0160 s, as A_adjoint(A(x)) 0.0159 s. The deblur run of
2026-12-06 (3 x 384 x 512, 37 x 37 PSF, 1 thread, DeepInv 0.5.0, torch 2.15.0, the 2-core machine at load
average 1.1 to 2.2, process CPU seconds):
A + A^T 0.218 (DeepInv Blur), 0.0066 (Blur use_fft), 0.0062 (BlurFFT), 0.117 (pnpdist direct), 0.0068
(pnpdist fft); PnP-PGD iteration with the identity 0.341, 0.0108, 0.0084, 0.173, 0.0092, with the DRUNet
0.690, 0.346, 0.309, 0.478, 0.331; PSNR after 5 iterations 21.376 dB (identity) and 21.697 dB (DRUNet) on all
five, from 19.80 dB. A^T A x of pnpdist fft (last line printed): A_adjoint_A (pnpdist.Blur.normal, one FFT
pair) 0.0039 s against A_adjoint(A(x)) 0.0062 s, 1.58x.
"""
import argparse
import json
import os
import pathlib
import statistics
import struct
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


def median_cpu_seconds(fn, repeats):
    """(median process CPU time, median wall time) of fn: on a shared machine a niced process waits for the core
    most of the wall time, and its CPU time is the measure of the work (all threads of the process counted)."""
    cpu, wall = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return statistics.median(cpu), statistics.median(wall)


def ct(args):
    n = args.size or 256
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
            pair = median_cpu_seconds(lambda: physics.A_adjoint(physics.A(truth)), args.repeats)
            sq = float(physics.compute_sqnorm(torch.rand(1, 1, n, n), max_iter=30, verbose=False))
            per = {}
            for label, net in (("identity", Identity()), ("drunet", deepinv.models.DRUNet(1, 1, pretrained=None))):
                model = optim_builder(iteration="PGD", prior=PnP(denoiser=net), data_fidelity=L2(),
                                      params_algo={"stepsize": 1.0 / sq, "g_param": 0.01, "lambda": 1.0},
                                      max_iter=args.iterations, early_stop=False)
                cpu, wall = median_cpu_seconds(lambda: model(ys[name], physics, init=torch.zeros_like(truth)),
                                               args.repeats)
                per[label] = (cpu / args.iterations, wall / args.iterations)
            rows.append((name, pair, per["identity"], per["drunet"]))
        # A^T A x of pnpdist's physics: one normal() call (DeepInv's L2 gradient) against A_adjoint(A(x)).
        normal = median_cpu_seconds(lambda: ours.A_adjoint_A(truth), 10)[0]
        round_trip = median_cpu_seconds(lambda: ours.A_adjoint(ours.A(truth)), 10)[0]
    print("process CPU seconds (wall seconds in brackets)")
    print(f"{'physics':<10} {'A + A^T':>18} {'PGD it. (no denoiser)':>24} {'PGD it. (DRUNet)':>20}")
    for name, pair, ident, dr in rows:
        print(f"{name:<10} {pair[0]:>8.4f} ({pair[1]:7.4f}) {ident[0]:>13.4f} ({ident[1]:7.4f}) "
              f"{dr[0]:>9.4f} ({dr[1]:7.4f})")
    d, q = rows
    print(f"ratio deepinv / pnpdist (CPU time): A + A^T {d[1][0] / q[1][0]:.2f}x, PGD iteration "
          f"{d[2][0] / q[2][0]:.2f}x without and {d[3][0] / q[3][0]:.2f}x with DRUNet")
    print(f"pnpdist A^T A x (CPU time): A_adjoint_A {normal:.4f} s, A_adjoint(A(x)) {round_trip:.4f} s "
          f"({round_trip / normal:.2f}x)")


def load_safetensors(path):
    """{name: float32 tensor} of a safetensors file (the format's 8-byte header length, JSON header, raw data)."""
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {entry['dtype']}, expected F32")
        begin, end = entry["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[begin:end], np.float32).reshape(entry["shape"]).copy())
    return tensors


def deepinv_drunet(path):
    """deepinv.models.DRUNet with the weights of a pnpdist DRUNet file (PyTorch state_dict names), its widths and
    block count read from the weights."""
    state = load_safetensors(path)
    widths = [state[f"m_down{i}.2.weight"].shape[1] for i in (1, 2, 3)] + [state["m_down3.2.weight"].shape[0]]
    blocks = len([k for k in state if k.startswith("m_down1.") and k.endswith(".res.0.weight")])
    channels = state["m_tail.weight"].shape[0]
    net = deepinv.models.DRUNet(channels, channels, nc=widths, nb=blocks, pretrained=None)
    net.load_state_dict(state, strict=True)
    return net.eval()


def relative(a, b):
    return float((a - b).norm() / b.norm())


def check_conventions(generator):
    """A x and A^T y of the four circular blurs on a random image and a random PSF with no symmetry (7 x 5): the
    flip and centre conventions agree. The same comparison with the PSF rotated by 180 degrees shows the check
    tells a convolution from a correlation."""
    x = torch.rand(1, 3, 24, 20, generator=generator)
    y = torch.rand(1, 3, 24, 20, generator=generator)
    psf = torch.rand(7, 5, generator=generator)
    psf /= psf.sum()
    reference = deepinv.physics.Blur(filter=psf[None, None], padding="circular")
    others = {
        "deepinv Blur(use_fft=True)": deepinv.physics.Blur(filter=psf[None, None], padding="circular", use_fft=True),
        "deepinv BlurFFT": deepinv.physics.BlurFFT(img_size=(3, 24, 20), filter=psf[None, None]),
        "pnpdist direct": pdi.Blur(pnpdist.Blur(psf.numpy(), (3, 24, 20), "circular", "direct")),
        "pnpdist fft": pdi.Blur(pnpdist.Blur(psf.numpy(), (3, 24, 20), "circular", "fft")),
    }
    ax, aty = reference.A(x), reference.A_adjoint(y)
    print("conventions (random 3 x 24 x 20 image, random 7 x 5 PSF), relative to deepinv Blur(padding='circular'):")
    for name, physics in others.items():
        print(f"  {name:<28} A x {relative(physics.A(x), ax):.1e}, A^T y {relative(physics.A_adjoint(y), aty):.1e}")
    flipped = pdi.Blur(pnpdist.Blur(psf.flip(0, 1).numpy().copy(), (3, 24, 20), "circular", "direct"))
    print(f"  (the PSF rotated by 180 degrees: A x differs by {relative(flipped.A(x), ax):.1e})")


def deblur(args):
    """The deblurring problem: highres_deblur's first blur at a CPU size (see the module docstring)."""
    from PIL import Image

    n = args.size or 512
    photo = Image.open(args.image).convert("RGB")
    scale = n / max(photo.size)
    photo = photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.BICUBIC)
    truth = torch.from_numpy(np.asarray(photo, np.float32) / 255).permute(2, 0, 1).contiguous()[None]
    _, c, h, w = truth.shape
    psf = pnpdist.gaussian_psf(0.01 * n, 0.005 * n, args.angle)
    own_psf = deepinv.physics.functional.gaussian_blur(sigma=(0.01 * n, 0.005 * n), angle=args.angle)
    kernel = torch.from_numpy(psf)[None, None]
    generator = torch.Generator().manual_seed(0)
    print(f"deepinv {deepinv.__version__}, torch {torch.__version__}, {args.threads} thread(s), {c} x {h} x {w}, "
          f"PSF {psf.shape[0]} x {psf.shape[1]} (sigma {0.01 * n:g}, {0.005 * n:g} px, angle {args.angle:g}); "
          f"deepinv's gaussian_blur of the same sigmas is {tuple(own_psf.shape[-2:])}, largest difference "
          f"{float((own_psf[0, 0] - kernel[0, 0]).abs().max()) if own_psf.shape == kernel.shape else float('nan'):.1e}")
    check_conventions(generator)
    physics = {
        "deepinv Blur": deepinv.physics.Blur(filter=kernel, padding="circular"),
        "deepinv Blur(use_fft=True)": deepinv.physics.Blur(filter=kernel, padding="circular", use_fft=True),
        "deepinv BlurFFT": deepinv.physics.BlurFFT(img_size=(c, h, w), filter=kernel),
        "pnpdist direct": pdi.Blur(pnpdist.Blur(psf, (c, h, w), "circular", "direct")),
        "pnpdist fft": pdi.Blur(pnpdist.Blur(psf, (c, h, w), "circular", "fft")),
    }
    reference = physics["deepinv Blur"]
    with torch.no_grad():
        clean = reference.A(truth)
        y = (clean + args.noise * torch.randn(clean.shape, generator=generator)).contiguous()
        aty = reference.A_adjoint(y)
        print("the photograph, relative to deepinv Blur:")
        for name, p in physics.items():
            print(f"  {name:<28} A x {relative(p.A(truth), clean):.1e}, A^T y {relative(p.A_adjoint(y), aty):.1e}")
        drunet = deepinv_drunet(args.weights)
        drunet(y, args.denoiser_sigma)  # warm-up (first-call allocations), untimed
        rows = {}
        for name, p in physics.items():
            pair, pair_wall = median_cpu_seconds(lambda: p.A_adjoint(p.A(truth)), args.repeats)
            row = {"pair": pair, "wall": [pair_wall]}
            for label, net in (("identity", Identity()), ("drunet", drunet)):
                # ||A|| = 1 for a PSF of positive values summing to 1 (the largest gain of the transfer function).
                model = optim_builder(iteration="PGD", prior=PnP(denoiser=net), data_fidelity=L2(),
                                      params_algo={"stepsize": 1.0, "g_param": args.denoiser_sigma, "lambda": 1.0},
                                      max_iter=args.iterations, early_stop=False)
                result = []
                seconds, wall = median_cpu_seconds(lambda: result.append(model(y, p, init=y.clone())), args.repeats)
                row["wall"].append(wall / args.iterations)
                x = result[-1].clamp(0, 1)
                row[label] = (seconds / args.iterations, float(10 * torch.log10(1 / (x - truth).square().mean())), x)
            rows[name] = row
        # The L2 gradient's A^T A x of pnpdist fft: one call of Blur.normal against the A, A^T round trip.
        fft = physics["pnpdist fft"]
        normal, _ = median_cpu_seconds(lambda: fft.A_adjoint_A(truth), max(args.repeats, 10))
        round_trip, _ = median_cpu_seconds(lambda: fft.A_adjoint(fft.A(truth)), max(args.repeats, 10))
    psnr_y = float(10 * torch.log10(1 / (y.clamp(0, 1) - truth).square().mean()))
    print(f"measurement PSNR {psnr_y:.2f} dB; PnP-PGD {args.iterations} iterations from y, step 1, "
          f"denoiser sigma {args.denoiser_sigma}; process CPU seconds (median of {args.repeats}), wall in brackets")
    print(f"{'physics':<28} {'A + A^T s':>10} {'PGD it. s (identity)':>21} {'PSNR dB':>8} "
          f"{'PGD it. s (DRUNet)':>19} {'PSNR dB':>8}")
    for name, row in rows.items():
        print(f"{name:<28} {row['pair']:>10.4f} {row['identity'][0]:>21.4f} {row['identity'][1]:>8.3f} "
              f"{row['drunet'][0]:>19.4f} {row['drunet'][1]:>8.3f}   "
              f"[{row['wall'][0]:.3f} {row['wall'][1]:.3f} {row['wall'][2]:.3f}]")
    spread = {label: max(abs(row[label][1] - rows["deepinv Blur"][label][1]) for row in rows.values())
              for label in ("identity", "drunet")}
    iterates = {label: max(float((row[label][2] - rows["deepinv Blur"][label][2]).abs().max()) for row in rows.values())
                for label in ("identity", "drunet")}
    print(f"PSNR spread over the physics: {spread['identity']:.1e} dB (identity), {spread['drunet']:.1e} dB (DRUNet); "
          f"largest iterate difference {iterates['identity']:.1e}, {iterates['drunet']:.1e}")
    for ours, own in (("pnpdist fft", "deepinv BlurFFT"), ("pnpdist fft", "deepinv Blur(use_fft=True)"),
                      ("pnpdist fft", "deepinv Blur"), ("pnpdist direct", "deepinv Blur")):
        a, b = rows[own], rows[ours]
        print(f"ratio {own} / {ours} (CPU time): A + A^T {a['pair'] / b['pair']:.2f}x, PGD iteration "
              f"{a['identity'][0] / b['identity'][0]:.2f}x (identity), {a['drunet'][0] / b['drunet'][0]:.2f}x (DRUNet)")
    print(f"pnpdist fft A^T A x (CPU time): A_adjoint_A {normal:.4f} s, A_adjoint(A(x)) {round_trip:.4f} s "
          f"({round_trip / normal:.2f}x)")
    if max(spread.values()) > args.psnr_tolerance:
        raise SystemExit(f"the PSNRs differ by more than {args.psnr_tolerance} dB")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--problem", choices=("ct", "deblur"), default="ct")
    p.add_argument("--size", type=int, default=None, help="image side (ct: 256) or larger side (deblur: 512)")
    p.add_argument("--views", type=int, default=100, help="ct: parallel views")
    p.add_argument("--image", default="/usr/share/backgrounds/Dragonfly_by_Bolly.jpg",
                   help="deblur: the photograph (highres_deblur's default)")
    p.add_argument("--angle", type=float, default=0.0, help="deblur: PSF angle in degrees")
    p.add_argument("--noise", type=float, default=0.03, help="deblur: noise standard deviation")
    p.add_argument("--denoiser-sigma", type=float, default=0.03, help="deblur: DRUNet's sigma in PnP-PGD")
    p.add_argument("--weights", default=str(pathlib.Path(__file__).resolve().parents[1] / "weights" /
                                            "drunet_color.safetensors"), help="deblur: the colour DRUNet")
    p.add_argument("--psnr-tolerance", type=float, default=0.01, help="deblur: largest PSNR difference, dB")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    pnpdist.set_num_threads(args.threads)
    (ct if args.problem == "ct" else deblur)(args)


if __name__ == "__main__":
    main()
