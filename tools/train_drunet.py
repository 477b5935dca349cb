#!/usr/bin/env python3
"""Trains the DRUNet weights shipped in weights/ (drunet_gray.safetensors, drunet_color.safetensors): the
official DRUNet layout (tools/drunet_torch.py) at reduced width, on photographs from Debian's wallpaper
packages, on the CPU. See docs/model_card.md for the data, the settings and the results.

    /usr/bin/python3 tools/train_drunet.py setup                # installs the image packages (apt-get, root)
    /usr/bin/python3 tools/train_drunet.py all --work DIR --threads 1   # both networks at once -> weights/
    /usr/bin/python3 tools/train_drunet.py all --work DIR --threads 1 --stop-at K   # the same, stopped after K steps
    /usr/bin/python3 tools/train_drunet.py train --channels 1 --work DIR --out weights/drunet_gray.safetensors
    /usr/bin/python3 tools/train_drunet.py train --channels 3 --work DIR --out weights/drunet_color.safetensors
    /usr/bin/python3 tools/train_drunet.py export --channels 1 --work DIR --out FILE   # from the checkpoint
    /usr/bin/python3 tools/train_drunet.py heldout --work DIR    # writes the held-out images as .npy (C x H x W)
    /usr/bin/python3 tools/train_drunet.py evaluate --channels 1 --weights FILE --work DIR
    /usr/bin/python3 tools/train_drunet.py stabilize --channels 1 --weights FILE --work DIR --out FILE --penalty 0.1
    /usr/bin/python3 tools/train_drunet.py stabilize-pnp --weights FILE --work DIR --out FILE --threads 1
    /usr/bin/python3 tools/train_drunet.py lipschitz --weights FILE --work DIR --threads 1

`stabilize-pnp` fine-tunes a network (the shipped weights/drunet_gray_stable.safetensors: the shipped
weights/drunet_gray.safetensors with the default settings) with a penalty on its Jacobian's spectral norm at
PnP-like inputs, so that PnP proximal-gradient iterations with a fixed small sigma converge
(docs/model_card.md); it is seeded and resumable (DIR/stabilize_<channels>.pt). `lipschitz` prints the empirical Lipschitz constants of
the denoiser D and of its residual I - D on the held-out images at sigma 0.01, 0.02 and 0.05.

`train` prepares the data once (DIR/data_<channels>.npz), then trains for a fixed number of steps with a
seeded sampler: the patches, flips, noise levels and noise of step s depend only on (seed, s), so a run
resumed from DIR/checkpoint_<channels>.pt (written every --checkpoint-every steps) sees the same data as an
uninterrupted one. Threads: --threads (default 2). Everything is deterministic up to the floating-point
summation order of PyTorch's CPU kernels.
"""
import argparse
import glob
import hashlib
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_torch import DRUNet, architecture_of, read_safetensors, write_safetensors  # noqa: E402
from synthetic_images import synthetic_image  # noqa: E402

PACKAGES = ['lomiri-wallpapers-16.04', 'plasma-workspace-wallpapers', 'mate-backgrounds', 'lxqt-themes', 'python3-skimage']

# Architecture and training settings of the shipped weights.
WIDTHS = (16, 32, 64, 128)
BLOCKS = 2
PATCHES = ((64, 8), (96, 4), (128, 2))  # (patch size, batch size): about 33,000 pixels per step
SIGMA_MAX = 50.0 / 255.0
LEARNING_RATE = 1e-3
FINAL_LEARNING_RATE = 1e-5
VALIDATION_MODULUS = 5  # an image is held out when sha256(name) % 5 == 0
EVAL_SIGMAS = (15, 25, 50)
SKIMAGE_TEST = ('astronaut', 'camera', 'chelsea', 'coffee', 'rocket', 'motorcycle_left', 'brick', 'grass', 'gravel',
                'moon', 'coins', 'page', 'text')


# The photographs among the packages' wallpapers (the others are rendered artwork, gradients and logos).
PLASMA_PHOTOGRAPHS = ('BytheWater', 'ColdRipple', 'DarkestHour', 'EveningGlow', 'FallenLeaf', 'Kite', 'MilkyWay',
                      'OneStandsOut', 'Path', 'summer_1am')
LXQT_PHOTOGRAPHS = ('Butterfly-Kenneth-Wimer.jpg', 'Valendas.png', 'after-the-rain.jpg', 'appleflower.png', 'beam.png',
                    'butterfly.png', 'cloud.png', 'drop.png', 'flowers.png', 'fog.jpg', 'this-is-not-windows.jpg')
LOMIRI_ARTWORK = ('umang_by_Abhishek_Mudgal.jpg',)


def package_images():
    """(name, path) of the training/validation photographs: one file per wallpaper (the largest resolution)."""
    images = []

    def add(package, path):
        images.append((package + '/' + os.path.relpath(path, '/usr/share'), path))

    for path in sorted(glob.glob('/usr/share/backgrounds/*.jpg')):  # lomiri-wallpapers-16.04
        if os.path.basename(path) not in LOMIRI_ARTWORK:
            add('lomiri-wallpapers-16.04', path)
    for wallpaper in PLASMA_PHOTOGRAPHS:  # plasma-workspace-wallpapers
        files = glob.glob(f'/usr/share/wallpapers/{wallpaper}/contents/images/*')

        def pixels(f):
            w, h = (int(v) for v in os.path.splitext(os.path.basename(f))[0].split('x'))
            return w * h

        add('plasma-workspace-wallpapers', max(files, key=pixels))
    for path in sorted(glob.glob('/usr/share/backgrounds/mate/nature/*.jpg')):  # mate-backgrounds
        add('mate-backgrounds', path)
    for name in LXQT_PHOTOGRAPHS:  # lxqt-themes
        add('lxqt-themes', '/usr/share/lxqt/wallpapers/' + name)
    missing = [path for _, path in images if not os.path.exists(path)]
    if missing or len(images) == 0:
        sys.exit('missing training images (run: train_drunet.py setup): ' + ', '.join(missing))
    return images


def is_validation(name):
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % VALIDATION_MODULUS == 0


def load_image(path, channels, downscale=None):
    """The image as float32 C x H x W in [0, 1], downscaled (box filter, antialiased) by an integer factor:
    `downscale`, or for the package images 2 to 4 so that the longer side is about 1024 pixels."""
    from PIL import Image
    with Image.open(path) as im:
        im = im.convert('RGB')
        if downscale is None:
            downscale = min(4, max(2, round(max(im.size) / 1024)))
        if downscale > 1:
            im = im.reduce(downscale)
        if channels == 1:
            im = im.convert('L')  # ITU-R 601-2 luma
        a = np.asarray(im, dtype=np.uint8)
    if a.ndim == 2:
        a = a[None]
    else:
        a = a.transpose(2, 0, 1)
    return np.ascontiguousarray(a)


def prepare(work, channels):
    """Decodes and downscales the package images once; returns (train, validation) lists of (name, uint8 CxHxW)."""
    os.makedirs(work, exist_ok=True)
    cache = os.path.join(work, f'data_{channels}.npz')
    expected = [name for name, _ in package_images()]
    if os.path.exists(cache) and [str(n) for n in np.load(cache)['names']] != expected:
        os.remove(cache)  # made from another list of images
    if not os.path.exists(cache):
        arrays, names = {}, []
        for i, (name, path) in enumerate(package_images()):
            arrays[f'img{i}'] = load_image(path, channels)
            names.append(name)
        np.savez(cache + '.tmp.npz', names=np.array(names), **arrays)
        os.replace(cache + '.tmp.npz', cache)
    data = np.load(cache)
    names = [str(n) for n in data['names']]
    images = [(n, data[f'img{i}']) for i, n in enumerate(names)]
    train = [x for x in images if not is_validation(x[0])]
    validation = [x for x in images if is_validation(x[0])]
    return train, validation


def skimage_test_images(channels):
    import skimage
    folder = os.path.join(os.path.dirname(skimage.__file__), 'data')
    out = []
    for name in SKIMAGE_TEST:
        path = os.path.join(folder, name + '.png')
        if not os.path.exists(path):
            path = os.path.join(folder, name + '.jpg')
        from PIL import Image
        with Image.open(path) as im:
            if channels == 3 and im.mode not in ('RGB', 'RGBA', 'P'):
                continue  # a gray image is no colour test image
        out.append(('python3-skimage/' + os.path.basename(path), load_image(path, channels, downscale=1)))
    return out


def make_batch(train, channels, seed, step, synthetic=0.0):
    """The batch of step `step`: (clean, noisy, sigma) tensors, a function of (seed, step) only. With
    `synthetic` > 0 each patch is replaced with that probability by a synthetic image (tools/synthetic_images.py)
    drawn from a separate stream, so the photographs' patches and the noise are those of synthetic = 0."""
    rng = np.random.default_rng([seed, step])
    synthetic_rng = np.random.default_rng([seed, step, 13])
    size, batch = PATCHES[rng.integers(len(PATCHES))]
    weights = np.array([im.shape[1] * im.shape[2] for _, im in train], dtype=np.float64)
    weights /= weights.sum()
    clean = np.empty((batch, channels, size, size), dtype=np.float32)
    for b in range(batch):
        _, im = train[rng.choice(len(train), p=weights)]
        y = rng.integers(im.shape[1] - size + 1)
        x = rng.integers(im.shape[2] - size + 1)
        patch = im[:, y:y + size, x:x + size].astype(np.float32) / 255.0
        patch = np.rot90(patch, k=int(rng.integers(4)), axes=(1, 2))
        if rng.integers(2):
            patch = patch[:, :, ::-1]
        clean[b] = patch
        if synthetic > 0 and synthetic_rng.uniform() < synthetic:
            clean[b] = synthetic_image(synthetic_rng, size, channels)
    sigma = rng.uniform(0.0, SIGMA_MAX, size=batch).astype(np.float32)
    noisy = clean + sigma[:, None, None, None] * rng.standard_normal(clean.shape, dtype=np.float32)
    return torch.from_numpy(clean), torch.from_numpy(noisy), torch.from_numpy(sigma)


# Steps of the shipped networks: the grayscale one needs more to pull clearly ahead of TV.
DEFAULT_STEPS = {1: 3000, 3: 1000}


def learning_rate(step, steps, initial=LEARNING_RATE, final=FINAL_LEARNING_RATE):
    """Cosine decay from `initial` to `final` over `steps`."""
    t = min(step / max(steps, 1), 1.0)
    return final + 0.5 * (initial - final) * (1 + math.cos(math.pi * t))


def psnr(x, ref):
    mse = float(np.mean((np.clip(x, 0, 1).astype(np.float64) - ref.astype(np.float64)) ** 2))
    return 10 * math.log10(1.0 / mse)


def noisy_image(image, sigma255, seed):
    clean = image.astype(np.float32) / 255.0
    rng = np.random.default_rng([seed, int(sigma255)])
    return clean, clean + (sigma255 / 255.0) * rng.standard_normal(clean.shape, dtype=np.float32)


def denoise(net, noisy, sigma, tile=512):
    """Runs the network on a C x H x W image (whole, or in overlapping tiles for large images)."""
    with torch.no_grad():
        x = torch.from_numpy(noisy)[None]
        return net(x, float(sigma))[0].numpy()


def validation_psnr(net, validation, sigma255, seed, crop=256):
    values = []
    for name, im in validation:
        h, w = im.shape[1:]
        y, x = (h - crop) // 2, (w - crop) // 2
        clean, noisy = noisy_image(im[:, y:y + crop, x:x + crop], sigma255, seed)
        values.append(psnr(denoise(net, noisy, sigma255 / 255.0), clean))
    return float(np.mean(values))


def widths_of(state):
    """The four widths of a DRUNet state dict."""
    return architecture_of(state)[1]


def parse_widths(text):
    """--widths 'a,b,c,d': four positive integers."""
    try:
        widths = tuple(int(v) for v in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not four comma-separated integers")
    if len(widths) != 4 or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not four positive comma-separated integers")
    return widths


def new_network(channels, widths=WIDTHS):
    """The network to train (`widths`: the four level widths), initialized as the identity: PyTorch's default initialization, except that the
    head copies the image channels into its first features, the tail reads them back, and the first up
    convolution (m_up1.0) is zero, so the decoder adds nothing at first. The head-to-tail path has no
    nonlinearity, so the network starts as x -> x and learns the correction (residual learning, within the
    official layout)."""
    net = DRUNet(channels, widths, BLOCKS, dim=2, bias=False)
    with torch.no_grad():
        net.m_head.weight[:channels].zero_()
        net.m_tail.weight.zero_()
        for c in range(channels):
            net.m_head.weight[c, c, 1, 1] = 1.0
            net.m_tail.weight[c, c, 1, 1] = 1.0
        net.m_up1[0].weight.zero_()
    return net


def train(args):
    torch.set_num_threads(args.threads)
    args.steps = args.steps or DEFAULT_STEPS[args.channels]
    train_set, validation = prepare(args.work, args.channels)
    print(f'{len(train_set)} training and {len(validation)} validation images '
          f'({sum(im.shape[1] * im.shape[2] for _, im in train_set)} training pixels)', flush=True)
    torch.manual_seed(args.seed)
    checkpoint = os.path.join(args.work, f'checkpoint_{args.channels}.pt')
    state = torch.load(checkpoint) if os.path.exists(checkpoint) else None
    widths = args.widths or WIDTHS
    if state is not None:
        if args.widths and tuple(args.widths) != widths_of(state['model']):
            raise SystemExit(f'--widths {args.widths} differs from the checkpoint {checkpoint}: '
                             f'{widths_of(state["model"])}')
        widths = widths_of(state['model'])
    elif args.weights:
        given = widths_of(read_safetensors(args.weights))
        if args.widths and tuple(args.widths) != given:
            raise SystemExit(f'--widths {args.widths} differs from --weights {args.weights}: {given}')
        widths = given
    net = new_network(args.channels, widths)
    initial_lr = args.lr if args.lr is not None else LEARNING_RATE
    final_lr = args.final_lr if args.final_lr is not None else FINAL_LEARNING_RATE
    optimizer = torch.optim.Adam(net.parameters(), lr=initial_lr)
    step = 0
    if args.weights and state is None:
        net.load_state_dict(read_safetensors(args.weights))
        print(f'fine-tuning {args.weights} (sha256 {hashlib.sha256(open(args.weights, "rb").read()).hexdigest()[:16]})',
              flush=True)
    if state is not None:
        net.load_state_dict(state['model'])
        optimizer.load_state_dict(state['optimizer'])
        step = state['step']
        print(f'resumed from {checkpoint} at step {step}', flush=True)
    print(f'DRUNet widths {widths}, blocks {BLOCKS}: {sum(p.numel() for p in net.parameters())} parameters', flush=True)
    net.train()
    start, loss_sum = time.time(), 0.0
    stop = args.steps if args.stop_at is None else min(args.stop_at, args.steps)
    while step < stop:
        for group in optimizer.param_groups:
            group['lr'] = learning_rate(step, args.steps, initial_lr, final_lr)
        clean, noisy, sigma = make_batch(train_set, args.channels, args.seed, step, args.synthetic)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=args.bf16):
            output = net(noisy, sigma)
        loss = torch.nn.functional.l1_loss(output.float(), clean)
        optimizer.zero_grad()
        loss.backward()
        if args.clip_grad:
            torch.nn.utils.clip_grad_norm_(net.parameters(), args.clip_grad)
        optimizer.step()
        loss_sum += float(loss.detach())
        step += 1
        if step % args.log_every == 0:
            elapsed = time.time() - start
            print(f'step {step} loss {loss_sum / args.log_every:.5f} '
                  f'lr {learning_rate(step, args.steps, initial_lr, final_lr):.2e} '
                  f'{elapsed:.0f} s', flush=True)
            loss_sum = 0.0
        if step % args.checkpoint_every == 0 or step == stop:
            torch.save({'model': net.state_dict(), 'optimizer': optimizer.state_dict(), 'step': step},
                       checkpoint + '.tmp')
            os.replace(checkpoint + '.tmp', checkpoint)
            net.eval()
            print(f'step {step} checkpoint; validation PSNR at sigma 25 (256 px centre crops): '
                  f'{validation_psnr(net, validation, 25, args.seed):.2f} dB', flush=True)
            net.train()
    export(args)


def export(args):
    checkpoint = os.path.join(args.work, f'checkpoint_{args.channels}.pt')
    state = torch.load(checkpoint)
    net = new_network(args.channels, widths_of(state['model']))
    net.load_state_dict(state['model'])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tensors, parameters = write_safetensors(args.out, net.state_dict())
    print(f'step {state["step"]}: {tensors} tensors, {parameters} parameters -> {args.out}', flush=True)


def load_network(channels, path):
    """The network of new_network's architecture (widths read from the file) with the weights of the
    safetensors file `path`."""
    state = read_safetensors(path)
    net = new_network(channels, widths_of(state))
    net.load_state_dict(state)
    return net


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

    def rate(s):
        t = min(s / max(steps, 1), 1.0)
        return lr1 + 0.5 * (lr0 - lr1) * (1 + math.cos(math.pi * t))

    stop = steps if args.stop_at is None else min(args.stop_at, steps)
    start, sums, count = time.time(), np.zeros(4), 0
    net.train()
    while step < stop:
        for group in optimizer.param_groups:
            group['lr'] = rate(step)
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
                  f'lr {rate(step):.2e} {time.time() - start:.0f} s', flush=True)
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


def heldout(args):
    """Writes the held-out images (validation split and skimage test images), gray and colour, as float32
    C x H x W .npy files in [0, 1] for the native evaluation (tools/denoiser_psnr_table.cpp)."""
    for channels in (1, 3):
        _, validation = prepare(args.work, channels)
        folder = os.path.join(args.work, 'heldout', 'gray' if channels == 1 else 'color')
        os.makedirs(folder, exist_ok=True)
        sets = [('validation', validation), ('skimage', skimage_test_images(channels))]
        for set_name, images in sets:
            for name, im in images:
                stem = set_name + '__' + os.path.splitext(name.replace('/', '_'))[0]
                np.save(os.path.join(folder, stem + '.npy'), im.astype(np.float32) / 255.0)
        print(folder, ', '.join(f'{s}: {len(i)}' for s, i in sets))


def evaluate(args):
    torch.set_num_threads(args.threads)
    net = load_network(args.channels, args.weights)
    net.eval()
    _, validation = prepare(args.work, args.channels)
    for set_name, images in (('validation', validation), ('skimage', skimage_test_images(args.channels))):
        row = []
        for s in EVAL_SIGMAS:
            values = []
            for _, im in images:
                clean, noisy = noisy_image(im, s, args.seed)
                values.append(psnr(denoise(net, noisy, s / 255.0), clean))
            row.append(f'sigma {s}: {np.mean(values):.2f} dB')
        print(f'{set_name} ({len(images)} images): ' + ', '.join(row), flush=True)


def train_all(args):
    """Trains the gray and the colour network at the same time (one process and --threads threads each) and
    writes weights/drunet_gray.safetensors and weights/drunet_color.safetensors; each process logs to
    <work>/train_<channels>.log."""
    os.makedirs(args.work, exist_ok=True)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    children = []
    for channels, name in ((1, 'gray'), (3, 'color')):
        command = [sys.executable, os.path.abspath(__file__), 'train', '--channels', str(channels), '--work', args.work,
                   '--out', os.path.join(root, 'weights', f'drunet_{name}.safetensors'),
                   '--steps', str(args.steps or DEFAULT_STEPS[channels]),
                   '--seed', str(args.seed), '--threads', str(args.threads), '--log-every', str(args.log_every),
                   '--checkpoint-every', str(args.checkpoint_every)]
        if args.stop_at is not None:
            command += ['--stop-at', str(args.stop_at)]
        log = open(os.path.join(args.work, f'train_{channels}.log'), 'a')
        children.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), log))
    failed = 0
    for child, log in children:
        failed += child.wait() != 0
        log.close()
    sys.exit(failed)


def setup(_):
    subprocess.run(['apt-get', 'install', '-y', '--no-install-recommends'] + PACKAGES, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=['setup', 'all', 'train', 'export', 'heldout', 'evaluate', 'stabilize',
                                            'stabilize-pnp', 'lipschitz'])
    parser.add_argument('--channels', type=int, choices=[1, 3], default=1)
    parser.add_argument('--work', default='drunet_training', help='data cache and checkpoints')
    parser.add_argument('--out', help='safetensors file written by train, export and stabilize')
    parser.add_argument('--weights', help='safetensors file read by evaluate and stabilize; train: the network to '
                                          'fine-tune (instead of the identity initialization)')
    parser.add_argument('--penalty', type=float,
                        help='stabilize: weight of the spectral norm penalty (default 0.1); stabilize-pnp: '
                             f'weight of the penalty (default {STABILIZE_DEFAULTS["penalty"]})')
    parser.add_argument('--target', type=float,
                        help=f'stabilize-pnp: spectral norm above which the penalty acts '
                             f'(default {STABILIZE_DEFAULTS["target"]})')
    parser.add_argument('--operator', choices=['D', '2D-I', 'R'],
                        help='stabilize-pnp: the Jacobian penalized: D (J), 2D-I (2J - I) or R (I - J) '
                             f'(default {STABILIZE_DEFAULTS["operator"]})')
    parser.add_argument('--lr', type=float,
                        help=f'train: initial learning rate (default {LEARNING_RATE}); stabilize-pnp: '
                             f'(default {STABILIZE_DEFAULTS["learning_rate"]})')
    parser.add_argument('--final-lr', type=float,
                        help=f'train: final learning rate (default {FINAL_LEARNING_RATE}); stabilize-pnp: '
                             f'(default {STABILIZE_DEFAULTS["final_learning_rate"]})')
    parser.add_argument('--widths', type=parse_widths,
                        help=f'train: the four level widths of a new network, e.g. 32,64,128,256 (default '
                             f'{",".join(map(str, WIDTHS))}; a checkpoint or --weights fixes them)')
    parser.add_argument('--clip-grad', type=float, default=0.0,
                        help='train: clip the gradient to this global norm (default 0: no clipping)')
    parser.add_argument('--bf16', action='store_true',
                        help='train: compute the forward and backward convolutions in bfloat16 (torch.autocast; '
                             'weights, optimizer state and loss stay float32). Several times faster on CPUs with '
                             'AMX or AVX512-BF16 and a recent PyTorch; the exported weights are float32')
    parser.add_argument('--synthetic', type=float, default=0.0,
                        help='train: probability that a patch is a synthetic dead-leaves image '
                             '(tools/synthetic_images.py) instead of a photograph (default 0)')
    parser.add_argument('--stabilize-seed', type=int,
                        help=f'stabilize-pnp: seed of the batches and penalty points (default '
                             f'{STABILIZE_DEFAULTS["seed"]})')
    parser.add_argument('--anchor', type=float,
                        help='stabilize-pnp: weight of an L1 term between the output and the starting network\'s '
                             f'output on the denoising batch (default {STABILIZE_DEFAULTS["anchor"]})')
    parser.add_argument('--phantoms', type=int,
                        help=f'stabilize-pnp: how many of the {PNP_PATCHES} penalty patches are random ellipse '
                             f'phantoms (default {STABILIZE_DEFAULTS["phantoms"]})')
    parser.add_argument('--sigma-min', type=float,
                        help=f'stabilize-pnp: smallest network sigma of the penalty points (default '
                             f'{STABILIZE_DEFAULTS["sigma_min"]})')
    parser.add_argument('--sigma-max', type=float,
                        help=f'stabilize-pnp: largest network sigma of the penalty points (default '
                             f'{STABILIZE_DEFAULTS["sigma_max"]})')
    parser.add_argument('--crop', type=int, default=128, help='lipschitz: centre crop of the held-out images')
    parser.add_argument('--power-iterations', type=int, default=20, help='lipschitz: power iterations')
    parser.add_argument('--operators', default='D,R', help='lipschitz: D, R (I - D), 2D-I, comma-separated')
    parser.add_argument('--steps', type=int,
                        help=f'train: steps (default: {DEFAULT_STEPS[1]} for gray, {DEFAULT_STEPS[3]} for colour); '
                             'stabilize: fine-tuning steps (default: 400); stabilize-pnp: fine-tuning steps '
                             f'(default: {STABILIZE_DEFAULTS["steps"]})')
    parser.add_argument('--stop-at', type=int, help='stop (and export) after this many of the --steps steps')
    parser.add_argument('--seed', type=int, default=20251122)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--log-every', type=int, default=50)
    parser.add_argument('--checkpoint-every', type=int, default=100)
    args = parser.parse_args()
    {'setup': setup, 'all': train_all, 'train': train, 'export': export, 'heldout': heldout, 'evaluate': evaluate,
     'stabilize': stabilize, 'stabilize-pnp': stabilize_pnp, 'lipschitz': lipschitz}[args.command](args)


if __name__ == '__main__':
    main()
