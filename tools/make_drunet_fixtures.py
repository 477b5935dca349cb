#!/usr/bin/env python3
"""Writes the DRUNet test fixtures of tests/fixtures/nn: small DRUNets with random weights built in
PyTorch with the official module layout (so the state_dict keys are the official ones), their weights as
safetensors files, an input and PyTorch's output for it (.npy).

    /usr/bin/python3 tools/make_drunet_fixtures.py [output folder]

Each fixture <name> gives <name>.safetensors, <name>_input.npy, <name>_output.npy and <name>_sigma.npy.
The network pads every spatial size to a multiple of 8 by replicating the last row/column/slice, appends
a channel holding sigma, and crops the result back.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn


class ResBlock(nn.Module):
    def __init__(self, width, conv, bias):
        super().__init__()
        self.res = nn.Sequential(conv(width, width, 3, padding=1, bias=bias), nn.ReLU(),
                                 conv(width, width, 3, padding=1, bias=bias))

    def forward(self, x):
        return x + self.res(x)


class DRUNet(nn.Module):
    def __init__(self, channels, widths, blocks, dim, bias):
        super().__init__()
        conv = nn.Conv2d if dim == 2 else nn.Conv3d
        up = nn.ConvTranspose2d if dim == 2 else nn.ConvTranspose3d
        w = widths

        def res(width):
            return [ResBlock(width, conv, bias) for _ in range(blocks)]

        self.m_head = conv(channels + 1, w[0], 3, padding=1, bias=bias)
        self.m_down1 = nn.Sequential(*res(w[0]), conv(w[0], w[1], 2, stride=2, bias=bias))
        self.m_down2 = nn.Sequential(*res(w[1]), conv(w[1], w[2], 2, stride=2, bias=bias))
        self.m_down3 = nn.Sequential(*res(w[2]), conv(w[2], w[3], 2, stride=2, bias=bias))
        self.m_body = nn.Sequential(*res(w[3]))
        self.m_up3 = nn.Sequential(up(w[3], w[2], 2, stride=2, bias=bias), *res(w[2]))
        self.m_up2 = nn.Sequential(up(w[2], w[1], 2, stride=2, bias=bias), *res(w[1]))
        self.m_up1 = nn.Sequential(up(w[1], w[0], 2, stride=2, bias=bias), *res(w[0]))
        self.m_tail = conv(w[0], channels, 3, padding=1, bias=bias)
        self.dim = dim

    def forward(self, x, sigma):
        spatial = x.shape[2:]
        pad = []
        for s in reversed(spatial):  # F.pad takes the last dimension first
            pad += [0, (-s) % 8]
        mode = 'replicate'
        x = torch.nn.functional.pad(x, pad, mode=mode)
        noise = torch.full((x.shape[0], 1) + tuple(x.shape[2:]), sigma, dtype=x.dtype)
        x = torch.cat([x, noise], dim=1)
        x1 = self.m_head(x)
        x2 = self.m_down1(x1)
        x3 = self.m_down2(x2)
        x4 = self.m_down3(x3)
        x = self.m_body(x4)
        x = self.m_up3(x + x4)
        x = self.m_up2(x + x3)
        x = self.m_up1(x + x2)
        x = self.m_tail(x + x1)
        index = (slice(None), slice(None)) + tuple(slice(0, s) for s in spatial)
        return x[index]


def write_safetensors(path, state_dict):
    header = {}
    offset = 0
    blobs = []
    for name, tensor in state_dict.items():
        data = tensor.detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(',', ':'))
    text += ' ' * ((-len(text)) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text.encode('ascii'))
        for blob in blobs:
            f.write(blob)


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
