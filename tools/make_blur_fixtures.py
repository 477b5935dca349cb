#!/usr/bin/env python3
"""Reference fixtures for the blur, image and resize tests (tests/fixtures/blur/), computed with PyTorch.

    /usr/bin/python3 tools/make_blur_fixtures.py [output_dir]

Uses Debian's python3-torch (1.13), python3-numpy and python3-pil. Everything is seeded, so the files are
reproducible. Independent of the C++ code paths it checks:
  - PSFs: DeepInv's gaussian_blur rule; the rotation is done as torchvision's rotate does it (an affine
    sampling grid and bilinear grid_sample with zero padding, align_corners=False), through torch's own
    affine_grid / grid_sample.
  - Blurs: circular through torch.fft (the PSF zero-padded and rolled so that its centre is at (0, 0));
    valid and same (zero) boundaries through torch.nn.functional.conv2d with the flipped PSF (conv2d
    correlates).
  - Resize: torch.nn.functional.interpolate(mode="bicubic", antialias=True, align_corners=False).
  - Images: PNG (8 and 16 bit, gray and RGB) and JPEG files written by PIL, with the decoded values.
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def gaussian_psf(sigma, angle):
    s = max(sigma)
    c = int(s / 0.3 + 1)
    k = 2 * c + 1
    delta = torch.arange(k, dtype=torch.float64)
    x, y = torch.meshgrid(delta, delta, indexing="ij")
    x = x - c
    y = y - c
    filt = torch.exp(-((x / sigma[0]) ** 2 + (y / sigma[1]) ** 2) / 2.0)
    r = math.radians(-angle)
    theta = torch.tensor([[math.cos(r), math.sin(r), 0.0], [-math.sin(r), math.cos(r), 0.0]], dtype=torch.float64)
    grid = F.affine_grid(theta[None], [1, 1, k, k], align_corners=False)
    rotated = F.grid_sample(filt[None, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0, 0]
    return (rotated / rotated.sum()).to(torch.float32)


def circular_blur(x, psf):
    n, c, h, w = x.shape
    kh, kw = psf.shape
    padded = torch.zeros(h, w, dtype=torch.float64)
    padded[:kh, :kw] = psf.double()
    padded = torch.roll(padded, shifts=(-(kh // 2), -(kw // 2)), dims=(0, 1))
    spectrum = torch.fft.rfft2(padded)
    return torch.fft.irfft2(torch.fft.rfft2(x.double()) * spectrum, s=(h, w)).float()


def conv_blur(x, psf, padding):
    n, c, h, w = x.shape
    weight = torch.flip(psf.double(), dims=(0, 1))[None, None].repeat(c, 1, 1, 1)
    return F.conv2d(x.double(), weight, padding=padding, groups=c).float()


def save(directory, name, array):
    np.save(os.path.join(directory, name), np.ascontiguousarray(array))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures",
                                                             "blur")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    rng = np.random.RandomState(1234)

    # PSFs: (sigma_1, sigma_2, angle degrees).
    psfs = {"psf_2_1_30": ((2.0, 1.0), 30.0), "psf_3_1.5_100": ((3.0, 1.5), 100.0), "psf_1.2_1.2_0": ((1.2, 1.2), 0.0),
            "psf_20.48_10.24_77.14": ((20.48, 10.24), 180.0 * 3 / 7)}
    for name, (sigma, angle) in psfs.items():
        save(out, name + ".npy", gaussian_psf(sigma, angle).numpy().astype(np.float32))

    # Blurred outputs of a random 2 x 3 x 20 x 24 image by the 15 x 15 PSF (and a non-square 5 x 3 one).
    x = torch.from_numpy(rng.uniform(0, 1, size=(2, 3, 20, 24)).astype(np.float32))
    save(out, "image_2x3x20x24.npy", x.numpy())
    psf = gaussian_psf((2.0, 1.0), 30.0)
    save(out, "blur_circular.npy", circular_blur(x, psf).numpy())
    save(out, "blur_same.npy", conv_blur(x, psf, psf.shape[0] // 2).numpy())
    save(out, "blur_valid.npy", conv_blur(x, psf, 0).numpy())
    small = torch.from_numpy(rng.uniform(0, 1, size=(5, 3)).astype(np.float32))
    save(out, "psf_5x3.npy", small.numpy())
    save(out, "blur_valid_5x3.npy", conv_blur(x, small, 0).numpy())
    save(out, "blur_circular_5x3.npy", circular_blur(x, small).numpy())

    # Bicubic resizing (antialiased) down and up.
    image = torch.from_numpy(rng.uniform(0, 1, size=(3, 17, 23)).astype(np.float32))
    save(out, "resize_input.npy", image.numpy())
    for h, w in ((9, 12), (30, 41)):
        resized = F.interpolate(image[None].double(), size=(h, w), mode="bicubic", antialias=True,
                                align_corners=False)[0].float()
        save(out, f"resize_{h}x{w}.npy", resized.numpy())

    # Image files written by PIL, with their decoded values in [0, 1] (C x H x W float32).
    rgb8 = rng.randint(0, 256, size=(7, 5, 3)).astype(np.uint8)
    Image.fromarray(rgb8, "RGB").save(os.path.join(out, "rgb8.png"))
    save(out, "rgb8.npy", (rgb8.transpose(2, 0, 1) / 255.0).astype(np.float32))
    gray16 = rng.randint(0, 65536, size=(6, 4)).astype(np.uint16)
    Image.fromarray(gray16.astype(np.int32), "I").convert("I;16").save(os.path.join(out, "gray16.png"))
    save(out, "gray16.npy", (gray16[None] / 65535.0).astype(np.float32))
    smooth = (np.linspace(0, 255, 16 * 16 * 3).reshape(16, 16, 3)).astype(np.uint8)
    Image.fromarray(smooth, "RGB").save(os.path.join(out, "rgb.jpg"), quality=95)
    decoded = np.asarray(Image.open(os.path.join(out, "rgb.jpg")).convert("RGB"))
    save(out, "rgb_jpg.npy", (decoded.transpose(2, 0, 1) / 255.0).astype(np.float32))

    # A numpy-written .npy of known values for the .npy reader.
    save(out, "npy_arange_2x3x4.npy", np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.5 - 3.0)


if __name__ == "__main__":
    main()
