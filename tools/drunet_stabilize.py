#!/usr/bin/env python3
"""The stability fine-tuning of DRUNet weights and its measurement: the `stabilize`, `stabilize-pnp` and
`lipschitz` commands of tools/train_drunet.py, which documents their use. A penalty on the Jacobian's spectral
norm at PnP-like inputs, so that PnP proximal-gradient iterations with a fixed small sigma converge (the shipped
weights/drunet_gray_stable.safetensors; docs/model_card.md), and the empirical Lipschitz constants of the
denoiser and of its residual on the held-out images.
"""
import hashlib
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_torch import write_safetensors  # noqa: E402
from drunet_training import (learning_rate, load_network, make_batch, prepare, skimage_test_images,  # noqa: E402
                             validation_psnr)



def spectral_norm_estimate(net, x, sigma, rng, iterations=4, eps=1e-3):
    """Per sample, ||D(x + eps v) - D(x)|| / eps for the direction v found by `iterations` steps of the power
    method on the Jacobian of D at x (finite differences, no gradient); the last evaluation carries the
    gradient, so the estimate can be penalized."""
    def normalized(v):
        return v / v.flatten(1).norm(dim=1)[:, None, None, None]
    v = torch.from_numpy(rng.standard_normal(x.shape, dtype=np.float32))
    with torch.no_grad():
        base = net(x, sigma)
        for _ in range(iterations):
            v = (net(x + eps * normalized(v), sigma) - base) / eps
    v = normalized(v).detach()
    return ((net(x + eps * v, sigma) - net(x, sigma)) / eps).flatten(1).norm(dim=1)


def stabilize(args):
    """Fine-tunes --weights for --steps steps (learning rate 1e-4) with the L1 loss plus --penalty times the
    squared excess of the Jacobian's spectral norm over 0.98 (spectral_norm_estimate on two clean patches plus
    noise of sigma up to 0.05, the regime of PnP iterates), and writes --out. An experiment towards weights
    that stay stable in long PnP runs (docs/examples.md, "PnP stability"); the shipped weights are not
    fine-tuned."""
    torch.set_num_threads(args.threads)
    train_set, validation = prepare(args.work, args.channels)
    net = load_network(args.channels, args.weights)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    start = time.time()
    for step in range(args.steps or 400):
        clean, noisy, sigma = make_batch(train_set, args.channels, args.seed + 1, step)
        loss = torch.nn.functional.l1_loss(net(noisy, sigma), clean)
        rng = np.random.default_rng([args.seed + 2, step])
        small = torch.from_numpy(rng.uniform(0.0, 0.05, size=2).astype(np.float32))
        x = clean[:2] + small[:, None, None, None] * torch.from_numpy(
            rng.standard_normal(clean[:2].shape, dtype=np.float32))
        norm = spectral_norm_estimate(net, x, small, rng)
        total = loss + (0.1 if args.penalty is None else args.penalty) * torch.relu(norm - 0.98).pow(2).mean()
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        if step % args.log_every == 0:
            print(f'step {step} loss {float(loss):.5f} spectral norm estimates {norm.detach().numpy().round(3)} '
                  f'{time.time() - start:.0f} s', flush=True)
    net.eval()
    print(f'validation PSNR at sigma 25: {validation_psnr(net, validation, 25, args.seed):.2f} dB', flush=True)
    write_safetensors(args.out, net.state_dict())


# Fine-tuning for PnP stability (`stabilize-pnp`): the settings of the shipped grayscale weights.
PNP_PATCHES = 4                  # penalty patches per step
PNP_PATCH = 64                   # their size
PNP_POWER_ITERATIONS = 4         # power iterations on M^T M per step (M = J, 2J - I or I - J)
PNP_FD_RMS = 1e-3                # finite-difference step: RMS per pixel of the perturbation
STABILIZE_DEFAULTS = dict(steps=400, learning_rate=3e-5, final_learning_rate=1e-6, penalty=0.3, target=0.99,
                          operator='2D-I', sigma_min=0.005, sigma_max=0.02, anchor=1.0, phantoms=2, seed=20251205)
# The weights weights/drunet_gray_stable.safetensors was fine-tuned from: weights/drunet_gray.safetensors
# (the 3000-step network fine-tuned with synthetic images).
STABILIZE_SOURCE_SHA256 = {1: 'e353be18dd3c47ddc02dac5f133f565558230e190f9a51449b4962765c220d7f'}


def checkerboard(shape):
    """(-1)^(i+j) on the last two axes, broadcast to `shape`."""
    h, w = shape[-2:]
    return torch.from_numpy(((np.add.outer(np.arange(h), np.arange(w)) % 2) * -2.0 + 1.0).astype(np.float32))


def apply_operator(operator, jv, v):
    """M v from J v: M = J ('D'), 2J - I ('2D-I', firm nonexpansiveness) or I - J ('R', the residual)."""
    if operator == 'D':
        return jv
    if operator == '2D-I':
        return 2 * jv - v
    if operator == 'R':
        return v - jv
    raise ValueError(operator)


def jacobian_norm(net, x, sigma, operator, v, iterations, create_graph=False):
    """Per sample, an estimate of the spectral norm of M (apply_operator) at x, M built from the Jacobian J of
    x -> net(x, sigma): `iterations` steps of the power method on M^T M from v (J v by finite differences,
    exact for this piecewise-linear network up to ReLU switches; J^T u by autograd), then ||M v|| for the
    final unit v. With create_graph the returned norms carry the gradient with respect to the parameters.
    Returns (norms, v)."""
    def unit(t):
        return t / t.flatten(1).norm(dim=1).clamp_min(1e-30)[:, None, None, None]
    pixels = x[0].numel()
    eps = PNP_FD_RMS * math.sqrt(pixels)  # v has unit norm: eps v has RMS PNP_FD_RMS per pixel
    xg = x.detach().requires_grad_(True)
    y = net(xg, sigma)
    v = unit(v)
    for _ in range(iterations):
        with torch.no_grad():
            jv = (net(x + eps * v, sigma) - y.detach()) / eps
        mv = apply_operator(operator, jv, v)
        (jtu,) = torch.autograd.grad(y, xg, mv if operator == 'D' else (2 * mv if operator == '2D-I' else -mv),
                                     retain_graph=True)
        # M^T M v: for 2J - I, (2J^T - I) mv; for I - J, mv - J^T mv
        mtmv = jtu if operator == 'D' else (jtu - mv if operator == '2D-I' else mv + jtu)
        v = unit(mtmv.detach())
    if create_graph:
        jv = (net(x + eps * v, sigma) - y) / eps
    else:
        with torch.no_grad():
            jv = (net(x + eps * v, sigma) - y.detach()) / eps
    return apply_operator(operator, jv, v).flatten(1).norm(dim=1), v


def random_phantom(rng, size, channels):
    """A piecewise-constant image like the CT phantoms: 3 to 8 ellipses of random size, orientation and
    intensity (added, clipped to [0, 1]) on a zero background, blurred by a 3 x 3 box with probability 1/2."""
    yy, xx = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5, indexing='ij')
    image = np.zeros((size, size))
    for _ in range(int(rng.integers(3, 9))):
        cy, cx = rng.uniform(0, size, size=2)
        ay, ax = rng.uniform(3, 0.6 * size, size=2)
        angle = rng.uniform(0, np.pi)
        u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
        w = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
        image += rng.uniform(-0.4, 0.8) * ((u / ax) ** 2 + (w / ay) ** 2 <= 1)
    image = np.clip(image, 0, 1)
    if rng.integers(2):
        padded = np.pad(image, 1, mode='edge')
        image = sum(padded[i:i + size, j:j + size] for i in range(3) for j in range(3)) / 9
    return np.repeat(image[None].astype(np.float32), channels, axis=0)


def pnp_like_batch(train, channels, seed, step, sigma_range, phantoms=0):
    """The penalty inputs of step `step` (a function of (seed, step) only): PNP_PATCHES clean patches of
    PNP_PATCH pixels (the last `phantoms` of them random_phantom images instead of training patches) plus a
    perturbation like a PnP iterate's (white noise of a level up to 1.5 times the
    network's sigma, and for half of the patches a checkerboard of amplitude up to 0.05 under a smooth random
    envelope), the network's sigma log-uniform in sigma_range, and the power method's start (white noise
    plus a checkerboard)."""
    rng = np.random.default_rng([seed, step, 7])
    weights = np.array([im.shape[1] * im.shape[2] for _, im in train], dtype=np.float64)
    weights /= weights.sum()
    n, size = PNP_PATCHES, PNP_PATCH
    clean = np.empty((n, channels, size, size), dtype=np.float32)
    for b in range(n):
        if b >= n - phantoms:
            clean[b] = random_phantom(rng, size, channels)
            continue
        _, im = train[rng.choice(len(train), p=weights)]
        y = rng.integers(im.shape[1] - size + 1)
        x = rng.integers(im.shape[2] - size + 1)
        patch = im[:, y:y + size, x:x + size].astype(np.float32) / 255.0
        patch = np.rot90(patch, k=int(rng.integers(4)), axes=(1, 2))
        clean[b] = patch[:, :, ::-1] if rng.integers(2) else patch
    lo, hi = np.log(sigma_range[0]), np.log(sigma_range[1])
    sigma = np.exp(rng.uniform(lo, hi, size=n)).astype(np.float32)
    level = (sigma * rng.uniform(0.0, 1.5, size=n)).astype(np.float32)
    x = clean + level[:, None, None, None] * rng.standard_normal(clean.shape, dtype=np.float32)
    board = checkerboard(clean.shape).numpy()
    yy, xx = np.meshgrid(np.linspace(0, 1, size), np.linspace(0, 1, size), indexing='ij')
    for b in range(n):
        if rng.integers(2):
            fy, fx, py, px = rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0), rng.uniform(0, 6.3), rng.uniform(0, 6.3)
            envelope = 0.5 + 0.5 * np.sin(2 * np.pi * fy * yy + py) * np.cos(2 * np.pi * fx * xx + px)
            x[b] += (rng.uniform(0.0, 0.05) * envelope * board).astype(np.float32)
    start = rng.standard_normal(clean.shape, dtype=np.float32) + board * rng.uniform(0.0, 2.0, size=(n, 1, 1, 1))
    return torch.from_numpy(x), torch.from_numpy(sigma), torch.from_numpy(start.astype(np.float32))


def stabilize_pnp(args):
    """Fine-tunes --weights (for weights/drunet_gray_stable.safetensors: weights/drunet_gray.safetensors; a
    note is printed for another file) towards PnP stability, and writes --out. Each step:
    the L1 denoising loss of `train` (batch of make_batch(seed, step), sigma uniform in [0, 50]/255), plus
    --anchor times the L1 distance to the starting network's output on that batch, plus
    --penalty times the mean squared excess over --target of the spectral norm of M (--operator: D, the
    denoiser's Jacobian J; 2D-I: 2J - I, firm nonexpansiveness; R: I - J, the residual) at PnP-like points
    (pnp_like_batch: training patches plus noise and checkerboards, network sigma in [0.005, 0.05]),
    estimated by PNP_POWER_ITERATIONS power iterations (jacobian_norm). Adam, learning rate --lr decayed
    by a cosine to --final-lr over --steps. Seeded (every draw is a function of (--seed, step)); a
    checkpoint (DIR/stabilize_<channels>.pt) every --checkpoint-every steps, resumed from when it exists
    with the same settings; --stop-at K stops (and exports) after K steps."""
    torch.set_num_threads(args.threads)
    d = STABILIZE_DEFAULTS
    steps = args.steps or d['steps']
    lr0 = args.lr if args.lr is not None else d['learning_rate']
    lr1 = args.final_lr if args.final_lr is not None else d['final_learning_rate']
    penalty = args.penalty if args.penalty is not None else d['penalty']
    target = args.target if args.target is not None else d['target']
    operator = args.operator or d['operator']
    seed = args.stabilize_seed if args.stabilize_seed is not None else d['seed']
    sigma_range = (args.sigma_min if args.sigma_min is not None else d['sigma_min'],
                   args.sigma_max if args.sigma_max is not None else d['sigma_max'])
    anchor = args.anchor if args.anchor is not None else d['anchor']
    phantoms = args.phantoms if args.phantoms is not None else d['phantoms']
    settings = dict(steps=steps, lr=lr0, final_lr=lr1, penalty=penalty, target=target, operator=operator, seed=seed,
                    sigma_range=sigma_range, anchor=anchor, phantoms=phantoms, patches=(PNP_PATCHES, PNP_PATCH),
                    power_iterations=PNP_POWER_ITERATIONS, fd_rms=PNP_FD_RMS,
                    weights=hashlib.sha256(open(args.weights, 'rb').read()).hexdigest())
    if settings['weights'] != STABILIZE_SOURCE_SHA256.get(args.channels):
        print(f'note: {args.weights} is not the network the shipped stable weights were fine-tuned from', flush=True)
    print('stabilize-pnp ' + ' '.join(f'{k}={v}' for k, v in settings.items()), flush=True)
    train_set, validation = prepare(args.work, args.channels)
    net = load_network(args.channels, args.weights)
    teacher = load_network(args.channels, args.weights).eval() if anchor > 0 else None
    optimizer = torch.optim.Adam(net.parameters(), lr=lr0)
    checkpoint = os.path.join(args.work, f'stabilize_{args.channels}.pt')
    step = 0
    if os.path.exists(checkpoint):
        state = torch.load(checkpoint)
        if state['settings'] != settings:
            sys.exit(f'{checkpoint} was written with other settings ({state["settings"]}); remove it to start over')
        net.load_state_dict(state['model'])
        optimizer.load_state_dict(state['optimizer'])
        step = state['step']
        print(f'resumed from {checkpoint} at step {step}', flush=True)

    stop = steps if args.stop_at is None else min(args.stop_at, steps)
    start, sums, count = time.time(), np.zeros(4), 0
    net.train()
    while step < stop:
        for group in optimizer.param_groups:
            group['lr'] = learning_rate(step, steps, lr0, lr1)
        clean, noisy, sigma = make_batch(train_set, args.channels, seed, step)
        out = net(noisy, sigma)
        loss = torch.nn.functional.l1_loss(out, clean)
        if teacher is not None:  # anchor to the starting network's output on the same batch
            with torch.no_grad():
                reference = teacher(noisy, sigma)
            loss = loss + anchor * torch.nn.functional.l1_loss(out, reference)
        x, small, v0 = pnp_like_batch(train_set, args.channels, seed, step, sigma_range, phantoms)
        norms, _ = jacobian_norm(net, x, small, operator, v0, PNP_POWER_ITERATIONS, create_graph=True)
        excess = torch.relu(norms - target).pow(2).mean()
        total = loss + penalty * excess
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        step += 1
        n = norms.detach().numpy()
        sums += [float(loss), float(excess), n.mean(), n.max()]
        count += 1
        if step % args.log_every == 0 or step == stop:
            m = sums / count
            print(f'step {step} loss {m[0]:.5f} excess {m[1]:.2e} norm mean {m[2]:.3f} max {m[3]:.3f} '
                  f'lr {learning_rate(step, steps, lr0, lr1):.2e} {time.time() - start:.0f} s', flush=True)
            sums, count = np.zeros(4), 0
        if step % args.checkpoint_every == 0 or step == stop:
            torch.save({'model': net.state_dict(), 'optimizer': optimizer.state_dict(), 'step': step,
                        'settings': settings}, checkpoint + '.tmp')
            os.replace(checkpoint + '.tmp', checkpoint)
            net.eval()
            print(f'step {step} checkpoint; validation PSNR at sigma 25 (256 px centre crops): '
                  f'{validation_psnr(net, validation, 25, args.seed):.2f} dB', flush=True)
            net.train()
    net.eval()
    tensors, parameters = write_safetensors(args.out, net.state_dict())
    print(f'step {step}: {tensors} tensors, {parameters} parameters -> {args.out}', flush=True)


LIPSCHITZ_SIGMAS = (0.01, 0.02, 0.05)


def lipschitz(args):
    """Empirical Lipschitz constants of the denoiser D = net(., sigma) and of its residual R = I - D (and of
    2D - I) on the held-out images (validation split and skimage test images, centre --crop crops): for every
    image and sigma in LIPSCHITZ_SIGMAS, the spectral norm of the Jacobian at clean + sigma * noise (seeded),
    by --power-iterations steps of the power method on M^T M (jacobian_norm; a lower bound that the
    iterations raise towards the norm). Prints the maximum (and the median) over the images per sigma."""
    torch.set_num_threads(args.threads)
    net = load_network(args.channels, args.weights)
    net.eval()
    _, validation = prepare(args.work, args.channels)
    images = [('validation/' + n, im) for n, im in validation]
    images += [('skimage/' + n.split('/')[-1], im) for n, im in skimage_test_images(args.channels)]
    crops = []
    for _, im in images:
        h, w = im.shape[1:]
        c = min(args.crop, h, w)
        y, x = (h - c) // 2, (w - c) // 2
        crops.append(im[:, y:y + c, x:x + c].astype(np.float32) / 255.0)
    operators = args.operators.split(',')
    print(f'{args.weights}: {len(crops)} held-out images, centre {args.crop} px crops, '
          f'{args.power_iterations} power iterations', flush=True)
    start = time.time()
    for sigma in LIPSCHITZ_SIGMAS:
        results = {op: [] for op in operators}
        for i, clean in enumerate(crops):
            rng = np.random.default_rng([args.seed, i, int(round(sigma * 1e4))])
            x = torch.from_numpy(clean + sigma * rng.standard_normal(clean.shape, dtype=np.float32))[None]
            v0 = torch.from_numpy(rng.standard_normal(x.shape, dtype=np.float32)) + checkerboard(x.shape)
            for op in operators:
                norm, _ = jacobian_norm(net, x, sigma, op, v0, args.power_iterations)
                results[op].append(float(norm[0]))
        parts = []
        for op in operators:
            values = np.array(results[op])
            name = {'D': 'D', 'R': 'R = I - D', '2D-I': '2D - I'}[op]
            parts.append(f'{name}: max {values.max():.4f} ({images[int(values.argmax())][0]}) '
                         f'median {np.median(values):.4f}')
        print(f'sigma {sigma}: ' + '; '.join(parts) + f'  [{time.time() - start:.0f} s]', flush=True)
