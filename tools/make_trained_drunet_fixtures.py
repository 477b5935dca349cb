#!/usr/bin/env python3
"""Writes the fixtures of the shipped DRUNet weights (tests/fixtures/nn/trained_drunet_{gray,color,gray_stable}_*.npy):
PyTorch's output of the network with weights/drunet_{gray,color,gray_stable}.safetensors for a small seeded input.
Run it again whenever the weights change:

    /usr/bin/python3 tools/make_trained_drunet_fixtures.py [weights folder] [output folder]

Each fixture <name> gives <name>_input.npy (1 x C x H x W, a smooth image plus Gaussian noise),
<name>_output.npy and <name>_sigma.npy (the noise level given to the network). The spatial sizes are not
multiples of 8, so the padding is exercised too.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_torch import network_of, read_safetensors  # noqa: E402

FIXTURES = [
    # name, weights file, shape, sigma
    ('trained_drunet_gray', 'drunet_gray.safetensors', (1, 1, 21, 30), 25.0 / 255.0),
    ('trained_drunet_color', 'drunet_color.safetensors', (1, 3, 19, 26), 15.0 / 255.0),
    ('trained_drunet_gray_stable', 'drunet_gray_stable.safetensors', (1, 1, 21, 30), 10.0 / 255.0),
]


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    weights = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, 'weights')
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, 'tests', 'fixtures', 'nn')
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20251122)
    for name, file, shape, sigma in FIXTURES:
        net = network_of(read_safetensors(os.path.join(weights, file)))
        n, c, h, w = shape
        yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing='ij')
        clean = np.stack([0.5 + 0.3 * np.sin(4 * xx + 3 * yy + k) * np.cos(5 * yy - k) for k in range(c)])[None]
        clean = np.where(xx > 0.6, clean, 0.8 * clean)  # an edge
        noisy = (clean + sigma * rng.standard_normal(shape)).astype(np.float32)
        with torch.no_grad():
            y = net(torch.from_numpy(noisy), sigma).numpy()
        np.save(os.path.join(out, name + '_input.npy'), noisy)
        np.save(os.path.join(out, name + '_output.npy'), y.astype(np.float32))
        np.save(os.path.join(out, name + '_sigma.npy'), np.array([sigma], dtype=np.float32))
        print(name, shape, 'PSNR noisy', round(float(-10 * np.log10(np.mean((noisy - clean) ** 2))), 2),
              'denoised', round(float(-10 * np.log10(np.mean((y - clean) ** 2))), 2))


if __name__ == '__main__':
    main()
