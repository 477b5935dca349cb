#!/usr/bin/env python3
"""Writes the fixtures of DRUNet's backward pass (tests/nn/train/test_drunet_backward.cpp) into tests/fixtures/nn:
for the 2D fixtures of make_drunet_fixtures.py (their weights and inputs), a cotangent c and the gradients of
<c, DRUNet(x, sigma)> by PyTorch autograd through the replica of drunet_torch.py in float64.

    /usr/bin/python3 tools/make_drunet_backward_fixtures.py [fixture folder]

For each fixture <name>: <name>_cotangent.npy (float64, seeded), <name>_grad_input.npy (float64),
<name>_grad_sigma.npy (float64, one value) and <name>_grad_parameters.safetensors (F32, the parameter
gradients under the state_dict names).
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_torch import network_of, read_safetensors, write_safetensors  # noqa: E402

NAMES = ['drunet2d_color', 'drunet2d_gray_bias']


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures',
                                                                 'nn')
    for seed, name in enumerate(NAMES):
        net = network_of(read_safetensors(os.path.join(folder, name + '.safetensors'))).to(torch.float64)
        x = torch.from_numpy(np.load(os.path.join(folder, name + '_input.npy')).astype(np.float64))
        sigma = torch.tensor(float(np.load(os.path.join(folder, name + '_sigma.npy'))[0]), dtype=torch.float64)
        c = np.random.default_rng(seed).standard_normal(tuple(x.shape))
        x.requires_grad_()
        sigma.requires_grad_()
        (net(x, sigma) * torch.from_numpy(c)).sum().backward()
        np.save(os.path.join(folder, name + '_cotangent.npy'), c)
        np.save(os.path.join(folder, name + '_grad_input.npy'), x.grad.numpy())
        np.save(os.path.join(folder, name + '_grad_sigma.npy'), np.array([float(sigma.grad)]))
        write_safetensors(os.path.join(folder, name + '_grad_parameters.safetensors'),
                          {n: p.grad for n, p in net.named_parameters()})
        print(name, tuple(x.shape), 'grad_sigma', float(sigma.grad))


if __name__ == '__main__':
    main()
