#!/usr/bin/env python3
"""PnP in pnpdist against PnP in DeepInv (CPU): the same weights, the same algorithm, the same measurements.

Acceptance check: the same DRUNet weights and the same PnP algorithm reach the same PSNR (within 0.1 dB) in
pnpdist (the example programs) and in DeepInv. Cases (--cases, default all):

  deblur_hqs   highres_deblur --size 512 (8 circular Gaussian blurs of the photograph, noise 0.1), DeepInv's
               own DPIR (deepinv.optim.DPIR: HQS, 8 iterations, sigma log-spaced from 49/255 to the noise
               level, stepsize 1/0.23 (sigma_k / noise)^2) against pnpdist --algorithm hqs with the same
               schedule and data weight 0.23 (w_k = 0.23 (noise / sigma_k)^2 = 1 / DeepInv's stepsize), both
               from A^T y. DeepInv's data step is its generic CG prox of the stacked physics (--deblur-cg-*:
               100 iterations at most, relative residual 1e-6), or with --deblur-prox fourier the closed form
               that pnpdist uses (sum_i A_i^T A_i is circulant: one FFT pair).
  deblur_pgd   the same data, PnP-PGD with the benchmark's parameters: step 0.1, sigma 0.005, 30
               iterations from zeros (deepinv.optim.optim_builder("PGD", ...)).
  ct_hqs       tomography_2d --size 256 (Shepp-Logan, 100 parallel-beam views in 8 blocks, noise 0.01):
               DeepInv's DPIR(sigma=0.01) (8 iterations, sigma 49/255 -> 0.01, data weight 0.23) against
               pnpdist --algorithm hqs with the same schedule and weight, from A^T y; the data step by
               conjugate gradients in both with the same settings (--ct-cg-iterations 10, --ct-cg-tolerance
               1e-4: both started from the point of the prox, both stop at ||b - M x|| <= tol ||b||).
  ct_pgd       the same data, PnP-PGD: step 0.99 / ||A||^2 (pnpdist's power-method value, read from its
               result.json and handed to DeepInv), sigma 0.01, 100 iterations from zeros.

The same operators:
  - Blurs: DeepInv's BlurFFT per blur, stacked (deepinv.physics.StackedLinearPhysics), with the PSF of
    pnpdist's rule (physics/blur/psf.hpp: DeepInv's gaussian_blur rule as it was up to DeepInv 0.2, the
    Gaussian rotated by bilinear image rotation; written here as tools/make_blur_fixtures.py writes it).
    DeepInv >= 0.3 builds the rotated Gaussian analytically on the grid, which gives a slightly different
    PSF; the script prints the difference and uses pnpdist's PSF, so that the operator is the same. It also
    checks that BlurFFT.A equals the circular blur pnpdist computes (tools/make_blur_fixtures.py's rule).
  - CT: pnpdist's Joseph projector exported as a sparse matrix by tools/export_projector_matrix.cpp
    (the example's geometry and blocks; that program checks each block's matrix against the block's projector),
    used as a deepinv.physics.LinearPhysics with torch sparse CSR matmuls for A and A^T.
  - Measurements and ground truth: written by the example itself (--save-measurements DIR, float32 .npy).
  - Weights: weights/drunet_gray.safetensors and drunet_color.safetensors (official DRUNet key layout,
    no biases; widths and blocks read from the tensor shapes) loaded into
    deepinv.models.DRUNet(C, C, nc=widths, nb=blocks, pretrained=None) by state_dict (strict); the
    script cross-checks its output against tools/drunet_torch.py's model on a random image.
PSNR: 10 log10(1 / MSE) over all pixels, MSE in double, data range 1 (both examples' truths lie in [0, 1]),
no clipping in either program (pnpdist's examples do not clip; DeepInv's optimisers do not either).

Install (Debian 12; DeepInv >= 0.3.3 needs torch >= 2.2, Debian's python3-torch is 1.13, so the venv gets
PyPI's torch wheel; DeepInv 0.3.0 and older accept any torch in their metadata but import torchvision,
which Debian 12 does not package):

    /usr/bin/python3 -m venv --system-site-packages /tmp/dinv
    /tmp/dinv/bin/pip install deepinv==0.5.0     # torch 2.x from PyPI with its CUDA wheels: ~5.4 GB in the venv

Run (from the repository root, after building the examples and the exporter):

    cmake --build BUILD --target highres_deblur tomography_2d export_projector_matrix
    /tmp/dinv/bin/python tools/compare_deepinv.py --build-dir BUILD --work /tmp/cmp --threads 2

Prints one line per case and writes WORK/compare_deepinv.json (both PSNRs, the difference, both times:
pnpdist's solve time from its result.json and DeepInv's loop time, same machine, same thread count).
Not needed to build or test the project.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

# Both programs use OpenMP (pnpdist directly, torch through its intra-op pool): on a machine shared with other
# jobs, threads that spin while waiting make either one many times slower (10 CG iterations of the CT data step:
# 9 s instead of 0.4 s on the loaded 2-core machine). Passive waiting for both, set before torch starts.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import deepinv as dinv  # noqa: E402
from deepinv.optim import DPIR, optim_builder  # noqa: E402
from deepinv.optim.data_fidelity import L2  # noqa: E402
from deepinv.optim.prior import PnP  # noqa: E402

from drunet_torch import architecture_of, network_of, read_safetensors  # noqa: E402

warnings.filterwarnings("ignore", message="Sparse")  # torch's notes on its (beta) sparse CSR tensors

CASES = ["deblur_hqs", "deblur_pgd", "ct_hqs", "ct_pgd"]


# ---- Helpers -------------------------------------------------------------------------------------------

def psnr(x, truth):
    mse = np.mean((np.asarray(x, dtype=np.float64) - np.asarray(truth, dtype=np.float64)) ** 2)
    return float("inf") if mse == 0 else 10.0 * math.log10(1.0 / mse)


def load_drunet(path, channels, check=True):
    """deepinv.models.DRUNet with the weights of `path` (strict state_dict), cross-checked against the
    project's own PyTorch model (tools/drunet_torch.py) on a random image."""
    state = {k: v.float() for k, v in read_safetensors(str(path)).items()}
    _, widths, blocks, _, _ = architecture_of(state)
    model = dinv.models.DRUNet(channels, channels, nc=list(widths), nb=blocks, pretrained=None)
    model.load_state_dict(state, strict=True)
    model.eval()
    if check:
        ref = network_of(state)
        g = torch.Generator().manual_seed(0)
        x = torch.rand(1, channels, 64, 64, generator=g)
        with torch.no_grad():
            a = model(x, 0.05)
            b = ref(x, torch.tensor(0.05))
        diff = (a - b).abs().max().item()
        print(f"  DRUNet {path.name}: DeepInv vs tools/drunet_torch.py max |diff| {diff:.2e}")
        if diff > 1e-4:
            raise SystemExit(f"DRUNet mismatch: {diff}")
    return model


def run_pnpdist(binary, args, out, threads, save=None):
    cmd = [str(binary), *args, "--threads", str(threads), "--baselines", "0", "--quiet", "--output-dir", str(out)]
    if save is not None:
        cmd += ["--save-measurements", str(save)]
    print("  $ " + " ".join(cmd), flush=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    subprocess.run(cmd, check=True, env=env)
    result = json.loads((Path(out) / "result.json").read_text())
    recs = result["records"][0]  # rank 0's records (one rank here)
    return {"psnr": result["final"]["psnr"], "init_psnr": result["init"]["psnr"],
            "iterations": result["final"]["iterations"],
            "seconds": sum(r["iteration_seconds"] for r in recs),  # the iterations, observers excluded
            "wall_seconds": result["final"]["total_seconds"],  # with the PSNR/SSIM observer
            "step": result["final"]["step"], "squared_norm": result["final"]["squared_norm"],
            "psnr_per_iteration": [r["psnr"] for r in recs], "command": " ".join(cmd)}


class Denoiser(torch.nn.Module):
    """The DRUNet as a DeepInv denoiser D(x, sigma) (no clipping: pnpdist's examples do not clip)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x, sigma, **kwargs):
        return self.net(x, sigma)


def timed_solve(model, y, physics, init, truth):
    """Runs a DeepInv optimiser (with its per-iteration PSNR against the truth); returns the result as a
    dictionary (PSNR, seconds, PSNR per iteration)."""
    with torch.no_grad():
        start = time.perf_counter()
        x, metrics = model(y, physics, init=init, x_gt=truth, compute_metrics=True)
        seconds = time.perf_counter() - start
    per_iteration = [float(v) for v in metrics["psnr"][0]] if "psnr" in metrics else None
    return {"psnr": psnr(x.numpy(), truth.numpy()), "seconds": seconds, "psnr_per_iteration": per_iteration}


# ---- Deblurring ----------------------------------------------------------------------------------------

def gaussian_psf_pnpdist(sigma, angle):
    """pnpdist's PSF rule (physics/blur/psf.hpp) as tools/make_blur_fixtures.py computes it: DeepInv's
    gaussian_blur up to 0.2 (Gaussian on the grid, rotated like torchvision's rotate: affine grid, bilinear,
    zero padding), normalized."""
    s = max(sigma)
    c = int(s / 0.3 + 1)
    k = 2 * c + 1
    delta = torch.arange(k, dtype=torch.float64)
    x, y = torch.meshgrid(delta, delta, indexing="ij")
    x, y = x - c, y - c
    filt = torch.exp(-((x / sigma[0]) ** 2 + (y / sigma[1]) ** 2) / 2.0)
    r = math.radians(-angle)
    theta = torch.tensor([[math.cos(r), math.sin(r), 0.0], [-math.sin(r), math.cos(r), 0.0]], dtype=torch.float64)
    grid = F.affine_grid(theta[None], [1, 1, k, k], align_corners=False)
    rotated = F.grid_sample(filt[None, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0, 0]
    return (rotated / rotated.sum()).to(torch.float32)


def circular_blur_reference(x, psf):
    """The circular blur pnpdist computes (tools/make_blur_fixtures.py): PSF zero-padded, rolled so that its
    centre is at (0, 0), products of real FFTs (in double)."""
    h, w = x.shape[-2:]
    kh, kw = psf.shape
    padded = torch.zeros(h, w, dtype=torch.float64)
    padded[:kh, :kw] = psf.double()
    padded = torch.roll(padded, shifts=(-(kh // 2), -(kw // 2)), dims=(0, 1))
    return torch.fft.irfft2(torch.fft.rfft2(x.double()) * torch.fft.rfft2(padded), s=(h, w)).float()


class FourierStack(dinv.physics.StackedLinearPhysics):
    """The stack of BlurFFT with the data step in closed form (as pnpdist's CircularBlurStack computes it):
    sum_i A_i^T A_i is circulant, so argmin_x gamma/2 sum_i ||A_i x - y_i||^2 + 1/2 ||x - z||^2 is
    IDFT((gamma sum_i conj(K_i) DFT(y_i) + DFT(z)) / (gamma sum_i |K_i|^2 + 1)); A^T y is computed by the
    BlurFFTs themselves."""

    def __init__(self, physics_list, psfs, hw):
        super().__init__(physics_list)
        h, w = hw
        spectra = []
        for p in psfs:
            kh, kw = p.shape
            padded = torch.zeros(h, w, dtype=torch.float64)
            padded[:kh, :kw] = p.double()
            spectra.append(torch.fft.rfft2(torch.roll(padded, shifts=(-(kh // 2), -(kw // 2)), dims=(0, 1))))
        self.power = sum(k.abs() ** 2 for k in spectra)
        self.hw = (h, w)

    def prox_l2(self, z, y, gamma, **kwargs):
        rhs = torch.fft.rfft2((gamma * self.A_adjoint(y) + z).double())
        return torch.fft.irfft2(rhs / (gamma * self.power + 1), s=self.hw).to(z.dtype)


def deblur_data(args, cases, report):
    binary = Path(args.build_dir) / "examples" / "highres_deblur"
    work = Path(args.work) / "deblur"
    data = work / "data"
    size, k = args.deblur_size, 8
    # DeepInv's data fidelity is the Gaussian one: pnpdist runs with the same (not the clipped default).
    common = ["--size", str(size), "--operators", str(k), "--noise", "0.1", "--data-model", "gaussian"]
    results = {}

    # pnpdist runs (the first one writes the measurements and the truth).
    hqs_args = common + ["--algorithm", "hqs", "--iterations", "8", "--schedule-iterations", "8",
                         "--sigma-start", repr(49.0 / 255.0), "--sigma", "0.1", "--data-weight", "0.23",
                         "--init", "adjoint"]
    pgd_args = common + ["--algorithm", "pgd", "--step", "0.1", "--sigma", "0.005",
                         "--iterations", str(args.deblur_pgd_iterations), "--init", "zeros"]
    first = True
    for case, pargs in (("deblur_hqs", hqs_args), ("deblur_pgd", pgd_args)):
        if case in cases:
            results[case] = {"pnpdist": run_pnpdist(binary, pargs, work / case, args.threads,
                                                    save=data if first else None)}
            first = False
    if first:
        return

    truth = torch.from_numpy(np.load(data / "truth.npy"))  # 1 x 3 x H x W
    ys = [torch.from_numpy(np.load(data / f"measurement_{i}.npy")) for i in range(k)]
    h, w = truth.shape[-2:]
    s = float(size)
    angles = [180.0 * i / (k - 1) for i in range(k)]
    psfs = [gaussian_psf_pnpdist((0.01 * s, 0.005 * s), a) for a in angles]

    # Checks: the PSF rule against DeepInv's current gaussian_blur, BlurFFT against pnpdist's circular blur.
    psf_diff = max((gaussian_psf_pnpdist((0.01 * s, 0.005 * s), a)
                    - dinv.physics.functional.blur.gaussian_blur(sigma=(0.01 * s, 0.005 * s), angle=a)[0])
                   .abs().max().item()
                   for a in angles)
    physics_list = [dinv.physics.BlurFFT(img_size=(3, h, w), filter=p[None, None]) for p in psfs]
    blur_diff = max((ph.A(truth) - circular_blur_reference(truth, p)).abs().max().item()
                    for ph, p in zip(physics_list, psfs))
    residual = [float(torch.sqrt(torch.mean((ph.A(truth) - y) ** 2))) for ph, y in zip(physics_list, ys)]
    print(f"  PSF: pnpdist rule vs deepinv {dinv.__version__} gaussian_blur max |diff| {psf_diff:.2e} "
          f"(peak {max(p.max().item() for p in psfs):.2e}); BlurFFT.A vs pnpdist's circular blur max |diff| "
          f"{blur_diff:.2e}; rms(A_i x - y_i) {min(residual):.4f}..{max(residual):.4f} (noise 0.1, clamped)")
    physics = (FourierStack(physics_list, psfs, (h, w)) if args.deblur_prox == "fourier"
               else dinv.physics.StackedLinearPhysics(physics_list))
    physics.max_iter, physics.tol = args.deblur_cg_iterations, args.deblur_cg_tolerance
    physics.solver = "CG"
    physics.implicit_backward_solver = False
    y = dinv.utils.TensorList(ys)
    net = Denoiser(load_drunet(ROOT / "weights" / "drunet_color.safetensors", 3))

    if "deblur_hqs" in cases:
        model = DPIR(sigma=0.1, denoiser=net)
        results["deblur_hqs"]["deepinv"] = timed_solve(model, y, physics, None, truth)
        prox = ("the closed form IDFT((gamma sum_i conj(K_i) DFT(y_i) + DFT(z)) / (gamma sum_i |K_i|^2 + 1)) "
                "(--deblur-prox fourier)" if args.deblur_prox == "fourier" else
                f"DeepInv's CG (max_iter {physics.max_iter}, tol {physics.tol})")
        results["deblur_hqs"]["deepinv"]["what"] = ( f"deepinv.optim.DPIR(sigma=0.1): 8 HQS iterations from A^T y, data step by {prox} on the "
            "StackedLinearPhysics of 8 BlurFFT")
    if "deblur_pgd" in cases:
        model = optim_builder(iteration="PGD", prior=PnP(denoiser=net), data_fidelity=L2(),
                              params_algo={"stepsize": 0.1, "g_param": 0.005, "lambda": 1.0},
                              max_iter=args.deblur_pgd_iterations, early_stop=False)
        results["deblur_pgd"]["deepinv"] = timed_solve(model, y, physics, torch.zeros_like(truth), truth)
        results["deblur_pgd"]["deepinv"]["what"] = (
            f"optim_builder('PGD'): stepsize 0.1, g_param 0.005, {args.deblur_pgd_iterations} iterations from zeros")
    report.update(results)
    report.setdefault("checks", {})["deblur"] = {"psf_max_diff_vs_deepinv_gaussian_blur": psf_diff,
                                                 "blurfft_vs_pnpdist_circular_blur_max_diff": blur_diff,
                                                 "rms_residual_per_blur": residual}


# ---- CT ------------------------------------------------------------------------------------------------

class SparseMatrixPhysics(dinv.physics.LinearPhysics):
    """y = A x for a sparse matrix A (rows: the sinogram views x bins, row-major; columns: the image,
    row-major), with torch CSR matmuls for A and A^T; the image is 1 x 1 x N x N, the measurement 1 x 1 x V x B."""

    def __init__(self, indptr, indices, data, shape, image_shape, sinogram_shape, **kwargs):
        super().__init__(**kwargs)
        import scipy.sparse
        m = scipy.sparse.csr_matrix((data, indices, indptr), shape=shape)
        mt = m.T.tocsr()
        self.a = torch.sparse_csr_tensor(torch.from_numpy(m.indptr.astype(np.int64)),
                                         torch.from_numpy(m.indices.astype(np.int64)),
                                         torch.from_numpy(m.data.astype(np.float32)), size=m.shape)
        self.at = torch.sparse_csr_tensor(torch.from_numpy(mt.indptr.astype(np.int64)),
                                          torch.from_numpy(mt.indices.astype(np.int64)),
                                          torch.from_numpy(mt.data.astype(np.float32)), size=mt.shape)
        self.image_shape, self.sinogram_shape = tuple(image_shape), tuple(sinogram_shape)

    def A(self, x, **kwargs):
        b = x.shape[0]
        return (self.a @ x.reshape(b, -1).T).T.reshape(b, 1, *self.sinogram_shape)

    def A_adjoint(self, y, **kwargs):
        b = y.shape[0]
        return (self.at @ y.reshape(b, -1).T).T.reshape(b, 1, *self.image_shape)


def ct_data(args, cases, report):
    binary = Path(args.build_dir) / "examples" / "tomography_2d"
    exporter = Path(args.build_dir) / "examples" / "export_projector_matrix"
    work = Path(args.work) / "ct"
    data = work / "data"
    size, views, blocks = args.ct_size, 100, 8
    common = ["--size", str(size), "--angles", str(views), "--operators", str(blocks), "--noise", "0.01"]
    cg = ["--cg-iterations", str(args.ct_cg_iterations), "--cg-tolerance", repr(args.ct_cg_tolerance)]
    hqs_args = common + ["--algorithm", "hqs", "--iterations", "8", "--schedule-iterations", "8",
                         "--sigma-start", repr(49.0 / 255.0), "--sigma", "0.01", "--data-weight", "0.23",
                         "--init", "adjoint"] + cg
    pgd_args = common + ["--algorithm", "pgd", "--step", "auto", "--sigma", "0.01",
                         "--iterations", str(args.ct_pgd_iterations), "--init", "zeros"]
    results = {}
    first = True
    for case, pargs in (("ct_hqs", hqs_args), ("ct_pgd", pgd_args)):
        if case in cases:
            results[case] = {"pnpdist": run_pnpdist(binary, pargs, work / case, args.threads,
                                                    save=data if first else None)}
            first = False
    if first:
        return

    matrix = work / "matrix"
    cmd = [str(exporter), str(matrix), str(size), str(views), str(blocks)]
    print("  $ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    info = json.loads((matrix / "projector.json").read_text())
    truth = torch.from_numpy(np.load(data / "truth.npy"))[None, None]  # 1 x 1 x N x N
    ys = [np.load(data / f"measurement_{i}.npy") for i in range(blocks)]
    sinogram = torch.from_numpy(np.concatenate(ys, axis=0))[None, None]  # the blocks in order: views x bins
    physics = SparseMatrixPhysics(np.load(matrix / "projector_indptr.npy"), np.load(matrix / "projector_indices.npy"),
                                  np.load(matrix / "projector_data.npy"), (info["rows"], info["cols"]),
                                  (size, size), (views, info["bins"]),
                                  max_iter=args.ct_cg_iterations, tol=args.ct_cg_tolerance, solver="CG",
                                  implicit_backward_solver=False)
    residual = float(torch.sqrt(torch.mean((physics.A(truth) - sinogram) ** 2)))
    print(f"  projector: {info['nnz']} non-zeros, block check forward {info['max_relative_error_forward']:.1e} "
          f"adjoint {info['max_relative_error_adjoint']:.1e}; rms(A x - y) {residual:.5f} (noise 0.01)")
    net = Denoiser(load_drunet(ROOT / "weights" / "drunet_gray.safetensors", 1))

    if "ct_hqs" in cases:
        model = DPIR(sigma=0.01, denoiser=net)
        results["ct_hqs"]["deepinv"] = timed_solve(model, sinogram, physics, None, truth)
        results["ct_hqs"]["deepinv"]["what"] = (
            f"deepinv.optim.DPIR(sigma=0.01): 8 HQS iterations from A^T y, sigma 49/255 -> 0.01 log-spaced, "
            f"stepsize (1/0.23) (sigma_k / 0.01)^2, data step by DeepInv's CG (max_iter {args.ct_cg_iterations}, "
            f"tol {args.ct_cg_tolerance}, started from the prox point)")
    if "ct_pgd" in cases:
        step = results["ct_pgd"]["pnpdist"]["step"]
        model = optim_builder(iteration="PGD", prior=PnP(denoiser=net), data_fidelity=L2(),
                              params_algo={"stepsize": step, "g_param": 0.01, "lambda": 1.0},
                              max_iter=args.ct_pgd_iterations, early_stop=False)
        results["ct_pgd"]["deepinv"] = timed_solve(model, sinogram, physics, torch.zeros_like(truth), truth)
        results["ct_pgd"]["deepinv"]["what"] = (
            f"optim_builder('PGD'): stepsize {step:.6g} (pnpdist's 0.99 / ||A||^2), g_param 0.01, "
            f"{args.ct_pgd_iterations} iterations from zeros")
    report.update(results)
    report.setdefault("checks", {})["ct"] = {"projector": info, "rms_residual": residual}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build-dir", default="build/release", help="CMake build folder with the examples")
    p.add_argument("--work", default="/tmp/compare_deepinv", help="output folder")
    p.add_argument("--threads", type=int, default=2, help="threads of both programs (OpenMP, torch)")
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of " + ",".join(CASES))
    p.add_argument("--deblur-size", type=int, default=512)
    p.add_argument("--deblur-pgd-iterations", type=int, default=30)
    p.add_argument("--deblur-prox", choices=["cg", "fourier"], default="cg",
                   help="HQS data step of the blur stack in DeepInv: its generic CG prox (default) or the closed form")
    p.add_argument("--deblur-cg-iterations", type=int, default=100, help="DeepInv's CG prox of the blur stack")
    p.add_argument("--deblur-cg-tolerance", type=float, default=1e-6)
    p.add_argument("--ct-size", type=int, default=256)
    p.add_argument("--ct-cg-iterations", type=int, default=10)
    p.add_argument("--ct-cg-tolerance", type=float, default=1e-4)
    p.add_argument("--ct-pgd-iterations", type=int, default=100)
    args = p.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    unknown = set(cases) - set(CASES)
    if unknown:
        p.error(f"unknown cases {sorted(unknown)}")
    torch.set_num_threads(args.threads)
    Path(args.work).mkdir(parents=True, exist_ok=True)
    report = {"deepinv": dinv.__version__, "torch": torch.__version__, "threads": args.threads,
              "arguments": vars(args), "load_average_at_start": os.getloadavg()}
    print(f"deepinv {dinv.__version__}, torch {torch.__version__}, {args.threads} thread(s)")
    if any(c.startswith("deblur") for c in cases):
        deblur_data(args, cases, report)
    if any(c.startswith("ct") for c in cases):
        ct_data(args, cases, report)

    ok = True
    print(f"\n{'case':<12} {'pnpdist dB':>11} {'DeepInv dB':>11} {'diff dB':>8} {'max it. diff':>12} "
          f"{'pnpdist s':>10} {'DeepInv s':>10}")
    for case in CASES:
        if case not in report:
            continue
        a, b = report[case]["pnpdist"], report[case]["deepinv"]
        diff = a["psnr"] - b["psnr"]
        report[case]["difference_db"] = diff
        report[case]["within_0.1_db"] = abs(diff) <= 0.1
        pa, pb = a.get("psnr_per_iteration"), b.get("psnr_per_iteration")
        if pa and pb and len(pb) >= len(pa):  # DeepInv's list starts with the initial iterate
            report[case]["max_iteration_difference_db"] = max(abs(u - v) for u, v in zip(pa, pb[-len(pa):]))
        ok = ok and abs(diff) <= 0.1
        it = report[case].get("max_iteration_difference_db", float("nan"))
        print(f"{case:<12} {a['psnr']:>11.3f} {b['psnr']:>11.3f} {diff:>+8.3f} {it:>12.3f} {a['seconds']:>10.2f} "
              f"{b['seconds']:>10.2f}")
    out = Path(args.work) / "compare_deepinv.json"
    report["load_average_at_end"] = os.getloadavg()
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'all within 0.1 dB' if ok else 'NOT all within 0.1 dB'}; {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
