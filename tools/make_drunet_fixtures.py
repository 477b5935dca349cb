#!/usr/bin/env python3
"""Writes the DRUNet test fixtures of tests/fixtures/nn: small DRUNets with random weights built in
PyTorch with the official module layout (so the state_dict keys are the official ones), their weights as
safetensors files, an input and PyTorch's output for it (.npy).

    /usr/bin/python3 tools/make_drunet_fixtures.py [output folder]

Each fixture <name> gives <name>.safetensors, <name>_input.npy, <name>_output.npy and <name>_sigma.npy.
The network pads every spatial size to a multiple of 8 by replicating the last row/column/slice, appends
a channel holding sigma, and crops the result back.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_torch import DRUNet, write_safetensors  # noqa: E402


FIXTURES = [
    # name, image channels, widths, blocks, dim, bias, input shape, sigma
    ('drunet2d_color', 3, (4, 8, 12, 16), 1, 2, False, (2, 3, 20, 27), 0.1),
    ('drunet2d_gray_bias', 1, (4, 6, 8, 10), 2, 2, True, (1, 1, 17, 24), 0.05),
    ('drunet3d_gray', 1, (3, 4, 5, 6), 1, 3, False, (1, 1, 10, 13, 9), 0.2),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures', 'nn')
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(20240611)
    for name, channels, widths, blocks, dim, bias, shape, sigma in FIXTURES:
        net = DRUNet(channels, widths, blocks, dim, bias).eval()
        with torch.no_grad():
            for p in net.parameters():  # weights large enough that every layer matters
                p.mul_(1.5)
            x = torch.rand(shape, dtype=torch.float32)
            y = net(x, sigma)
        write_safetensors(os.path.join(out, name + '.safetensors'), net.state_dict())
        np.save(os.path.join(out, name + '_input.npy'), x.numpy())
        np.save(os.path.join(out, name + '_output.npy'), y.numpy())
        np.save(os.path.join(out, name + '_sigma.npy'), np.array([sigma], dtype=np.float32))
        print(name, tuple(y.shape), 'parameters', sum(p.numel() for p in net.parameters()))


if __name__ == '__main__':
    main()
