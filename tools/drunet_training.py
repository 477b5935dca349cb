#!/usr/bin/env python3
"""What the DRUNet training tools share (tools/train_drunet.py, tools/drunet_stabilize.py,
tools/train_unrolled_deblur.py): the data (photographs of Debian's wallpaper packages, a held-out split by a hash
of the file name, the scikit-image test images, seeded training batches), the architecture of the shipped weights
with its identity initialization, the cosine learning-rate schedule and the validation PSNR. docs/model_card.md
describes the data and the settings.
"""
import argparse
import glob
import hashlib
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_torch import DRUNet, architecture_of, read_safetensors  # noqa: E402
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


def load_network(channels, path):
    """The network of new_network's architecture (widths read from the file) with the weights of the
    safetensors file `path`."""
    state = read_safetensors(path)
    net = new_network(channels, widths_of(state))
    net.load_state_dict(state)
    return net
