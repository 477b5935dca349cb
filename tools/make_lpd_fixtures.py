#!/usr/bin/env python3
"""Writes the learned primal-dual fixtures of tests/fixtures/learned: a tiny LPD built in PyTorch with the
layout of include/pnpdist/learned/lpd.hpp (the same parameter names), random weights (float32 values), an
explicit random matrix as the operator, a batch of data and PyTorch's output and parameter gradients.

    /usr/bin/python3 tools/make_lpd_fixtures.py [output folder]

Network: 2 steps, primal and dual memories 2, width 3, the dual step projecting primal channel 1; images
6 x 7, sinograms 5 x 9, batch 2; computed in float64. Files: lpd_tiny.safetensors (weights, F32),
lpd_tiny_matrix.npy (45 x 42, the operator with its scale), lpd_tiny_data.npy (2, 5, 9),
lpd_tiny_output.npy (2, 6, 7), lpd_tiny_cotangent.npy (2, 6, 7) and lpd_tiny_gradient.npy: the gradient
of sum(cotangent * output), flat, in the order of lpd.hpp's ParameterStore (step by step, dual block then
primal block; conv1, prelu1, conv2, prelu2, conv3).
"""
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_torch import write_safetensors  # noqa: E402

STEPS, PRIMAL, DUAL, WIDTH, PROJECTED = 2, 2, 2, 3, 1
IMAGE, SINOGRAM, BATCH = (6, 7), (5, 9), 2


class Block(nn.Module):
    """conv 3x3 -> PReLU -> conv 3x3 -> PReLU -> conv 3x3, with biases."""

    def __init__(self, cin, width, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, padding=1)
        self.prelu1 = nn.PReLU(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.prelu2 = nn.PReLU(width)
        self.conv3 = nn.Conv2d(width, cout, 3, padding=1)

    def forward(self, x):
        return self.conv3(self.prelu2(self.conv2(self.prelu1(self.conv1(x)))))


class LearnedPrimalDual(nn.Module):
    def __init__(self, matrix):
        super().__init__()
        self.matrix = matrix
        self.dual = nn.ModuleList([Block(DUAL + 2, WIDTH, DUAL) for _ in range(STEPS)])
        self.primal = nn.ModuleList([Block(PRIMAL + 1, WIDTH, PRIMAL) for _ in range(STEPS)])

    def forward(self, g):
        n = g.shape[0]
        f = torch.zeros(n, PRIMAL, *IMAGE, dtype=g.dtype)
        h = torch.zeros(n, DUAL, *SINOGRAM, dtype=g.dtype)
        for i in range(STEPS):
            projected = (f[:, PROJECTED].reshape(n, -1) @ self.matrix.T).reshape(n, 1, *SINOGRAM)
            h = h + self.dual[i](torch.cat([h, projected, g[:, None]], 1))
            back = (h[:, 0].reshape(n, -1) @ self.matrix).reshape(n, 1, *IMAGE)
            f = f + self.primal[i](torch.cat([f, back], 1))
        return f[:, 0]


def store_order():
    names = []
    for i in range(STEPS):
        for block in ('dual', 'primal'):
            for layer in ('conv1.weight', 'conv1.bias', 'prelu1.weight', 'conv2.weight', 'conv2.bias',
                          'prelu2.weight', 'conv3.weight', 'conv3.bias'):
                names.append(f'{block}.{i}.{layer}')
    return names


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures',
                                                             'learned')
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(17)
    matrix = rng.standard_normal((SINOGRAM[0] * SINOGRAM[1], IMAGE[0] * IMAGE[1])) / 8.0
    net = LearnedPrimalDual(torch.from_numpy(matrix))
    with torch.no_grad():
        for name, p in net.named_parameters():
            scale = 0.5 if 'prelu' not in name else 0.3
            p.copy_(torch.from_numpy(rng.uniform(-scale, scale, p.shape).astype(np.float32)))
    net = net.double()
    data = rng.standard_normal((BATCH, *SINOGRAM))
    cotangent = rng.standard_normal((BATCH, *IMAGE))
    output = net(torch.from_numpy(data))
    (output * torch.from_numpy(cotangent)).sum().backward()
    params = dict(net.named_parameters())
    gradient = np.concatenate([params[name].grad.numpy().ravel() for name in store_order()])
    write_safetensors(os.path.join(out, 'lpd_tiny.safetensors'), {k: params[k] for k in store_order()})
    np.save(os.path.join(out, 'lpd_tiny_matrix.npy'), matrix)
    np.save(os.path.join(out, 'lpd_tiny_data.npy'), data)
    np.save(os.path.join(out, 'lpd_tiny_output.npy'), output.detach().numpy())
    np.save(os.path.join(out, 'lpd_tiny_cotangent.npy'), cotangent)
    np.save(os.path.join(out, 'lpd_tiny_gradient.npy'), gradient)
    print(f'wrote the LPD fixtures to {out}: {gradient.size} parameters')


if __name__ == '__main__':
    main()
