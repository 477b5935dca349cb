"""DRUNet (Zhang et al. 2021) in PyTorch with the official module layout, so that its state_dict keys are
those of the official checkpoints and of pnpdist's nn::load_drunet_weights, plus a safetensors writer.
Shared by the tools of this folder (convert_drunet.py, make_drunet_fixtures.py, train_drunet.py,
make_trained_drunet_fixtures.py).

The network pads every spatial size to a multiple of 8 by replicating the last row/column/slice, appends
a channel holding sigma (the noise level map), and crops the result back, as pnpdist's DRUNet does.
"""
import json
import struct

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
    """DRUNet with `channels` image channels, four scales of `widths` channels, `blocks` residual blocks per
    scale, 2D or 3D (`dim`), with or without biases."""

    def __init__(self, channels, widths, blocks, dim=2, bias=False):
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
        """x: N x C x spatial; sigma: a number, or a tensor of N noise levels (one per image)."""
        spatial = x.shape[2:]
        pad = []
        for s in reversed(spatial):  # F.pad takes the last dimension first
            pad += [0, (-s) % 8]
        x = torch.nn.functional.pad(x, pad, mode='replicate')
        map_shape = (x.shape[0], 1) + tuple(x.shape[2:])
        if torch.is_tensor(sigma):
            noise = sigma.to(x.dtype).reshape((-1, 1) + (1,) * len(spatial)).expand(map_shape)
        else:
            noise = torch.full(map_shape, sigma, dtype=x.dtype)
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


def architecture_of(state):
    """(channels, widths, blocks, dim, bias) of a DRUNet state dict, read from the tensor shapes: the image
    channels from m_head's input, the four widths from m_head's output and the down-sampling convolutions,
    the residual blocks per scale from m_down1's entries."""
    head = state['m_head.weight']
    blocks = 0
    while f'm_down1.{blocks}.res.0.weight' in state:
        blocks += 1
    widths = tuple([head.shape[0]] + [state[f'm_down{s}.{blocks}.weight'].shape[0] for s in (1, 2, 3)])
    return head.shape[1] - 1, widths, blocks, head.dim() - 2, 'm_head.bias' in state


def network_of(state):
    """The DRUNet (evaluation mode) whose state dict `state` is."""
    channels, widths, blocks, dim, bias = architecture_of(state)
    net = DRUNet(channels, widths, blocks, dim=dim, bias=bias)
    net.load_state_dict(state)
    return net.eval()


SAFETENSORS_DTYPES = {'F32': '<f4', 'F16': '<f2'}  # safetensors dtype -> numpy little-endian type


def write_safetensors(path, state_dict, dtype='F32'):
    """Writes the .weight/.bias tensors of a state_dict as a safetensors file (little-endian, the names as
    they are, in the state_dict's order) in `dtype`: 'F32', or 'F16' (half the size; the library converts to
    its floating type on reading). Returns the number of tensors and of parameters."""
    header, blobs, offset = {}, [], 0
    for name, tensor in state_dict.items():
        if not name.endswith(('.weight', '.bias')):
            continue
        array = tensor.detach().to(torch.float32).contiguous().numpy()
        if dtype == 'F16' and np.abs(array).max(initial=0.0) > np.finfo(np.float16).max:
            raise ValueError(f'{name}: values beyond the float16 range; write it as F32')
        data = array.astype(SAFETENSORS_DTYPES[dtype]).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(',', ':'))
    text += ' ' * ((-len(text)) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text.encode('ascii'))
        for blob in blobs:
            f.write(blob)
    return len(header), sum(int(np.prod(e['shape'])) for e in header.values())


def read_safetensors(path):
    """Reads an F32 or F16 safetensors file into an ordered dict of float32 tensors (file order)."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    header.pop('__metadata__', None)
    items = sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0])
    state = {}
    for name, e in items:
        if e['dtype'] not in SAFETENSORS_DTYPES:
            raise ValueError(f'{path}: tensor {name} has dtype {e["dtype"]}, expected F32 or F16')
        begin, end = e['data_offsets']
        array = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype=SAFETENSORS_DTYPES[e['dtype']])
        state[name] = torch.from_numpy(array.reshape(e['shape']).astype(np.float32))
    return state
