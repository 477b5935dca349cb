"""Synthetic training images for the DRUNet denoisers (tools/train_drunet.py --synthetic): a "dead leaves"
model of overlapping random shapes, the kind of image photographs lack and tomography is full of: flat or
smoothly varying regions with sharp boundaries, on a zero, constant or smooth background.

    synthetic_image(rng, size, channels) -> float32 array (channels, size, size), values in [0, 1]

Each image: a background (zero, a constant or a smooth texture), then 2 to 24 shapes (ellipses or rotated
rectangles, log-uniform sizes from 2 pixels to 0.6 of the side), each either painted over what is below
(occlusion) or added to it (as attenuation adds up in a phantom), filled with a constant, a linear ramp or a
smooth texture (low-pass filtered Gaussian noise of a random correlation length); boundaries are sharp
(pixel-centre sampling) or anti-aliased (2 x 2 supersampling), and a quarter of the images get a 3 x 3 box
blur. Colour images take a random colour or a gray level per region. The images depend only on the
generator's state: the training batches stay a function of (seed, step).
"""
import numpy as np


def smooth_texture(rng, size):
    """Gaussian noise low-pass filtered at a random correlation length (2 to 32 pixels), scaled to [0, 1]."""
    length = np.exp(rng.uniform(np.log(2.0), np.log(32.0)))
    noise = rng.standard_normal((size, size))
    f = np.fft.fftfreq(size)
    gain = np.exp(-0.5 * (2 * np.pi * length) ** 2 * (f[:, None] ** 2 + f[None, :] ** 2))
    field = np.real(np.fft.ifft2(np.fft.fft2(noise) * gain))
    low, high = field.min(), field.max()
    return (field - low) / (high - low) if high > low else np.zeros((size, size))


def _fill(rng, size, channels):
    """A channels x size x size fill: constant, linear ramp or smooth texture, values in [0, 1]."""
    colour = rng.uniform(0, 1, size=channels) if channels > 1 and rng.uniform() < 0.7 else \
        np.full(channels, rng.uniform(0, 1))
    kind = rng.uniform()
    if kind < 0.5:
        pattern = np.ones((size, size))
        return colour[:, None, None] * pattern
    if kind < 0.7:
        yy, xx = np.meshgrid(np.linspace(-1, 1, size), np.linspace(-1, 1, size), indexing='ij')
        angle = rng.uniform(0, 2 * np.pi)
        ramp = 0.5 + 0.5 * (np.cos(angle) * xx + np.sin(angle) * yy) / np.sqrt(2)
        pattern = 1 + rng.uniform(-0.6, 0.6) * (ramp - 0.5)
    else:
        pattern = 1 + rng.uniform(0.1, 0.8) * (smooth_texture(rng, size) - 0.5)
    return np.clip(colour[:, None, None] * pattern, 0, 1)


def _mask(rng, size, side):
    """A random ellipse or rotated rectangle on a size x size grid of pixel centres (in units of the side)."""
    scale = size / side
    yy, xx = np.meshgrid((np.arange(size) + 0.5) / scale, (np.arange(size) + 0.5) / scale, indexing='ij')
    cy, cx = rng.uniform(-0.1, 1.1, size=2) * side
    radius = np.exp(rng.uniform(np.log(2.0), np.log(0.6 * side)))
    ry, rx = radius, radius * np.exp(rng.uniform(np.log(0.3), np.log(1.0)))
    angle = rng.uniform(0, np.pi)
    u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    v = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
    if rng.uniform() < 0.7:
        return (u / rx) ** 2 + (v / ry) ** 2 <= 1
    return (np.abs(u) <= rx) & (np.abs(v) <= ry)


def synthetic_image(rng, size, channels):
    """One dead-leaves image (see the module comment): float32, channels x size x size, values in [0, 1]."""
    supersample = 2 if rng.uniform() < 0.5 else 1
    grid = size * supersample
    background = rng.uniform()
    if background < 0.35:
        image = np.zeros((channels, grid, grid))
    elif background < 0.6:
        image = np.ones((channels, grid, grid)) * _fill(rng, 1, channels)
    else:
        image = _fill(rng, grid, channels) * (1 if rng.uniform() < 0.5 else 0.5)
    additive = rng.uniform() < 0.3
    for _ in range(int(rng.integers(2, 25))):
        mask = _mask(rng, grid, size)
        fill = _fill(rng, grid, channels)
        if additive:
            image = image + np.where(mask, rng.uniform(-0.5, 0.6) * fill, 0.0)
        else:
            image = np.where(mask, fill, image)
    if supersample > 1:
        image = image.reshape(channels, size, supersample, size, supersample).mean(axis=(2, 4))
    image = np.clip(image, 0, 1)
    if rng.uniform() < 0.25:
        padded = np.pad(image, ((0, 0), (1, 1), (1, 1)), mode='edge')
        image = sum(padded[:, i:i + size, j:j + size] for i in range(3) for j in range(3)) / 9
    return image.astype(np.float32)
