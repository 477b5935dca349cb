#!/usr/bin/env python3
"""Fine-tunes the colour DRUNet through the deblurring benchmark's PnP-HQS (unrolled training): the network is
trained as the denoiser of the 8 HQS iterations that `highres_deblur` runs (configs/highres_color_image_cpu.yaml),
on training photographs, so that it learns the errors of HQS's data steps (coloured, blur-shaped), not only
white noise. The result is the same network with other weights, used by the same solver (docs/model_card.md).

    /usr/bin/python3 tools/train_unrolled_deblur.py train --work DIR --weights weights/drunet_color.safetensors \
        --steps 2400 --threads 1 [--bf16]
    /usr/bin/python3 tools/train_unrolled_deblur.py export --work DIR --out weights/drunet_color_deblur.safetensors
    /usr/bin/python3 tools/train_unrolled_deblur.py validate --work DIR --weights FILE  # validation photographs

DIR is a work directory of tools/train_drunet.py (its data_3.npz cache is made there if missing). --bf16 runs
the convolutions in bfloat16 (fast on CPUs with AMX; PyTorch 2 from PyPI in a virtual environment was used for
the shipped weights, docs/model_card.md); Debian's PyTorch runs the same script in float32.

The HQS replica (`unrolled_hqs`) is that of solvers/half_quadratic_splitting.hpp with the clipped data model of
blur::ClippedBlurStack: data step in closed form in the Fourier domain, the clipped samples replaced by their
conditional means at the previous iterate, then x = clip(D(v, sigma_k), 0, 1); sigma_k log-spaced from sigma_start
to sigma_end, weight w_k = data_weight (noise / sigma_k)^2. `validate` runs it on the validation photographs at the
benchmark's size with the C++ program's settings, so its PSNR can be compared with `highres_deblur` (the replica is
checked that way, docs/model_card.md).

Training data: the training split of tools/train_drunet.py (photographs of Debian wallpaper packages; the validation
photographs and the test images are never used). Each step draws crops of the photographs resized so that the
image's larger side would be 512 x [0.8, 1.25] pixels, random flips and quarter turns, the benchmark's 8 PSFs at a
scale jittered by [0.85, 1.15] and noise in [0.08, 0.12]; all of it a function of (seed, step), so a resumed run
(DIR/unrolled.pt, atomic, every --checkpoint-every steps) sees the same data as an uninterrupted one.
"""
import argparse
import hashlib
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_torch import read_safetensors, write_safetensors  # noqa: E402
from drunet_training import learning_rate, new_network, prepare, widths_of  # noqa: E402

# The benchmark's HQS (configs/highres_color_image_cpu.yaml).
SIGMA_START = 49.0 / 255.0
SIGMA_END = 0.03
ITERATIONS = 8
DATA_WEIGHT = 0.2
NOISE = 0.1
OPERATORS = 8
BENCHMARK_SIZE = 512


def gaussian_psf(sigma_1, sigma_2, angle_degrees):
    """blur::gaussian_psf (physics/blur/psf.hpp): the rotated anisotropic Gaussian on a (2c+1)^2 grid, bilinear
    rotation with zero fill, normalized to sum 1."""
    c = int(max(sigma_1, sigma_2) / 0.3 + 1.0)
    size = 2 * c + 1
    idx = np.arange(size, dtype=np.float64)
    base = np.exp(-0.5 * (((idx[:, None] - c) / sigma_1) ** 2 + ((idx[None, :] - c) / sigma_2) ** 2))
    r = -angle_degrees * math.pi / 180.0
    x = idx[None, :] - c  # column offset
    y = idx[:, None] - c  # row offset
    col = c + math.cos(r) * x + math.sin(r) * y
    row = c - math.sin(r) * x + math.cos(r) * y
    r0, c0 = np.floor(row), np.floor(col)
    wr, wc = row - r0, col - c0
    out = np.zeros((size, size))
    for dr in (0, 1):
        for dc in (0, 1):
            ri, ci = (r0 + dr).astype(int), (c0 + dc).astype(int)
            inside = (ri >= 0) & (ri < size) & (ci >= 0) & (ci < size)
            weight = (wr if dr else 1 - wr) * (wc if dc else 1 - wc)
            out += np.where(inside, weight * base[np.clip(ri, 0, size - 1), np.clip(ci, 0, size - 1)], 0.0)
    return out / out.sum()


def transfer_functions(psfs, h, w):
    """K_i: the rfft2 of each PSF centred at pixel (0, 0) of an h x w array (blur::FftBlur), O x h x (w/2+1)."""
    out = []
    for psf in psfs:
        k = psf.shape[0]
        if k > min(h, w):
            raise ValueError(f'PSF of side {k} larger than the image {h} x {w}')
        padded = np.zeros((h, w))
        padded[:k, :k] = psf
        padded = np.roll(padded, (-(k // 2), -(k // 2)), axis=(0, 1))
        out.append(np.fft.rfft2(padded))
    return torch.from_numpy(np.stack(out)).to(torch.complex64)


def benchmark_psfs(size):
    """The PSFs of highres_deblur at larger side `size`: standard deviations (0.01, 0.005) size, angles
    linspace(0, 180, 8)."""
    return [gaussian_psf(0.01 * size, 0.005 * size, 180.0 * i / (OPERATORS - 1)) for i in range(OPERATORS)]


def blur(kernels, x):
    """A_i x for every blur: O x N x C x h x w (circular)."""
    spectrum = torch.fft.rfft2(x)
    return torch.fft.irfft2(kernels[:, None, None] * spectrum[None], s=x.shape[-2:])


def log_normal_density(t):
    """log of the standard normal density at t."""
    return -0.5 * t * t - 0.5 * math.log(2.0 * math.pi)


def conditional_means(mean, y, noise, lower=0.0, upper=1.0):
    """The measurements with the samples at a bound replaced by E[mean + n | clipped], n ~ N(0, noise^2)
    (physics/clipped_gaussian.hpp)."""
    alpha = (upper - mean) / noise
    beta = (lower - mean) / noise
    above = mean + noise * torch.exp(log_normal_density(alpha) - torch.special.log_ndtr(-alpha))
    below = mean - noise * torch.exp(log_normal_density(beta) - torch.special.log_ndtr(beta))
    return torch.where(y >= upper, above, torch.where(y <= lower, below, y))


def unrolled_hqs(net, kernels, y, noise, bf16=False, iterations=ITERATIONS):
    """The benchmark's PnP-HQS from zeros (see the file comment); y: O x N x C x h x w clamped measurements."""
    s = (kernels.abs() ** 2).sum(0)[None, None]  # sum |K_i|^2
    x = torch.zeros(y.shape[1:])
    for k in range(1, iterations + 1):
        t = (k - 1) / (ITERATIONS - 1) if k <= ITERATIONS else 1.0
        sigma = math.exp((1 - t) * math.log(SIGMA_START) + t * math.log(SIGMA_END))
        weight = DATA_WEIGHT * (noise / sigma) ** 2
        imputed = conditional_means(blur(kernels, x), y, noise)
        b = (kernels.conj()[:, None, None] * torch.fft.rfft2(imputed)).sum(0)
        v = torch.fft.irfft2((b + weight * torch.fft.rfft2(x)) / (s + weight), s=x.shape[-2:])
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            denoised = net(v, sigma)
        x = denoised.float().clamp(0.0, 1.0)
    return x


def resized_crop(image, rng, crop, larger_side):
    """A crop x crop patch of `image` (uint8 C x H x W) as it would be after resizing the image so that its
    larger side is `larger_side` (bicubic, antialiased), in [0, 1]."""
    from PIL import Image
    scale = larger_side / max(image.shape[1:])
    source = min(int(round(crop / scale)), min(image.shape[1:]))
    y0 = rng.integers(image.shape[1] - source + 1)
    x0 = rng.integers(image.shape[2] - source + 1)
    patch = Image.fromarray(np.ascontiguousarray(image[:, y0:y0 + source, x0:x0 + source].transpose(1, 2, 0)))
    patch = np.asarray(patch.resize((crop, crop), Image.BICUBIC), dtype=np.float32) / 255.0
    return np.clip(patch.transpose(2, 0, 1), 0.0, 1.0)


def make_problem(train, seed, step, crop, batch):
    """(clean N x 3 x crop x crop, kernels, measurements O x N x 3 x crop x crop, noise) of step `step`."""
    rng = np.random.default_rng([seed, step])
    weights = np.array([im.shape[1] * im.shape[2] for _, im in train], dtype=np.float64)
    weights /= weights.sum()
    clean = np.empty((batch, 3, crop, crop), dtype=np.float32)
    for b in range(batch):
        _, im = train[rng.choice(len(train), p=weights)]
        patch = resized_crop(im, rng, crop, BENCHMARK_SIZE * rng.uniform(0.8, 1.25))
        patch = np.rot90(patch, k=int(rng.integers(4)), axes=(1, 2))
        clean[b] = patch[:, :, ::-1] if rng.integers(2) else patch
    kernels = transfer_functions(benchmark_psfs(BENCHMARK_SIZE * rng.uniform(0.85, 1.15)), crop, crop)
    noise = float(rng.uniform(0.08, 0.12))
    clean_t = torch.from_numpy(clean)
    blurred = blur(kernels, clean_t)
    measured = (blurred + noise * torch.from_numpy(rng.standard_normal(blurred.shape).astype(np.float32))).clamp(0, 1)
    return clean_t, kernels, measured, noise


def load_net(path):
    state = read_safetensors(path)
    net = new_network(3, widths_of(state))
    net.load_state_dict(state)
    return net


def train(args):
    torch.set_num_threads(args.threads)
    train_set, _ = prepare(args.work, 3)
    checkpoint = os.path.join(args.work, 'unrolled.pt')
    state = torch.load(checkpoint) if os.path.exists(checkpoint) else None
    net = load_net(args.weights)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    step = 0
    if state is not None:
        net.load_state_dict(state['model'])
        optimizer.load_state_dict(state['optimizer'])
        step = state['step']
        print(f'resumed from {checkpoint} at step {step}', flush=True)
    else:
        digest = hashlib.sha256(open(args.weights, 'rb').read()).hexdigest()[:16]
        print(f'fine-tuning {args.weights} (sha256 {digest}) through {ITERATIONS} HQS iterations; '
              f'{len(train_set)} training photographs', flush=True)
    net.train()
    start, loss_sum = time.time(), 0.0
    stop = args.steps if args.stop_at is None else min(args.stop_at, args.steps)
    while step < stop:
        for group in optimizer.param_groups:
            group['lr'] = learning_rate(step, args.steps, args.lr, args.lr * 0.01)
        clean, kernels, measured, noise = make_problem(train_set, args.seed, step, args.crop, args.batch)
        output = unrolled_hqs(net, kernels, measured, noise, args.bf16)
        loss = torch.nn.functional.mse_loss(output, clean)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), args.clip_grad)
        optimizer.step()
        loss_sum += float(loss.detach())
        step += 1
        if step % args.log_every == 0:
            print(f'step {step} psnr {-10 * math.log10(loss_sum / args.log_every):.3f} dB '
                  f'lr {learning_rate(step, args.steps, args.lr, args.lr * 0.01):.2e} {time.time() - start:.0f} s',
                  flush=True)
            loss_sum = 0.0
        if step % args.checkpoint_every == 0 or step == stop:
            torch.save({'model': net.state_dict(), 'optimizer': optimizer.state_dict(), 'step': step},
                       checkpoint + '.tmp')
            os.replace(checkpoint + '.tmp', checkpoint)
            print(f'step {step} checkpoint', flush=True)


def export(args):
    state = torch.load(os.path.join(args.work, 'unrolled.pt'))
    net = new_network(3, widths_of(state['model']))
    net.load_state_dict(state['model'])
    tensors, parameters = write_safetensors(args.out, net.state_dict(), args.dtype)
    print(f'step {state["step"]}: {tensors} tensors, {parameters} parameters -> {args.out}', flush=True)


def validate(args):
    """PSNR of the replica on the validation photographs at the benchmark's size (fixed noise seed)."""
    from PIL import Image
    torch.set_num_threads(args.threads)
    _, validation = prepare(args.work, 3)
    net = load_net(args.weights).eval()
    kernels = None
    values = []
    for name, im in validation:
        h, w = im.shape[1:]
        scale = BENCHMARK_SIZE / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = Image.fromarray(np.ascontiguousarray(im.transpose(1, 2, 0))).resize(size, Image.BICUBIC)
        clean = torch.from_numpy(np.clip(np.asarray(image, dtype=np.float32) / 255.0, 0, 1).transpose(2, 0, 1)[None])
        kernels = transfer_functions(benchmark_psfs(BENCHMARK_SIZE), clean.shape[2], clean.shape[3])
        blurred = blur(kernels, clean)
        gen = torch.Generator().manual_seed(args.seed)
        measured = (blurred + NOISE * torch.randn(blurred.shape, generator=gen)).clamp(0, 1)
        with torch.no_grad():
            x = unrolled_hqs(net, kernels, measured, NOISE)
        psnr = -10 * math.log10(float(torch.mean((x - clean) ** 2)))
        values.append(psnr)
        print(f'{name}: {psnr:.2f} dB', flush=True)
    print(f'mean {np.mean(values):.3f} dB', flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=['train', 'export', 'validate'])
    parser.add_argument('--work', default='drunet_training', help='data cache (tools/train_drunet.py) and checkpoint')
    parser.add_argument('--weights', help='train: the colour network to start from; validate: the network')
    parser.add_argument('--out', help='export: the safetensors file to write')
    parser.add_argument('--dtype', choices=['F32', 'F16'], default='F32',
                        help='export: the stored type (F16 halves the file; results must be measured with it)')
    parser.add_argument('--steps', type=int, default=3000)
    parser.add_argument('--stop-at', type=int, help='stop after this many of the --steps steps')
    parser.add_argument('--lr', type=float, default=1e-4, help='initial learning rate (cosine decay to 1%%)')
    parser.add_argument('--clip-grad', type=float, default=1.0)
    parser.add_argument('--crop', type=int, default=128, help='crop side in pixels (multiple of 8, >= 48)')
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--bf16', action='store_true', help='bfloat16 convolutions (CPUs with AMX or AVX-512 BF16)')
    parser.add_argument('--seed', type=int, default=20261206)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--log-every', type=int, default=25)
    parser.add_argument('--checkpoint-every', type=int, default=100)
    args = parser.parse_args()
    if args.command in ('train', 'validate') and not args.weights:
        parser.error(f'{args.command} needs --weights')
    if args.command == 'export' and not args.out:
        parser.error('export needs --out')
    if args.crop % 8 or args.crop < 48:
        parser.error(f'--crop {args.crop}: a multiple of 8, at least 48')
    {'train': train, 'export': export, 'validate': validate}[args.command](args)


if __name__ == '__main__':
    main()
