#!/usr/bin/env python3
"""Converts an official DRUNet PyTorch checkpoint (drunet_color.pth / drunet_gray.pth, a state_dict) into
the safetensors file pnpdist loads (nn::load_drunet_weights): same tensor names, float32, little-endian.

    /usr/bin/python3 tools/convert_drunet.py drunet_color.pth drunet_color.safetensors
"""
import json
import struct
import sys

import torch


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    state = torch.load(sys.argv[1], map_location='cpu')
    if 'state_dict' in state and isinstance(state['state_dict'], dict):
        state = state['state_dict']
    header, blobs, offset = {}, [], 0
    for name, tensor in state.items():
        if not name.endswith(('.weight', '.bias')):
            continue
        data = tensor.detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(',', ':'))
    text += ' ' * ((-len(text)) % 8)
    with open(sys.argv[2], 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text.encode('ascii'))
        for blob in blobs:
            f.write(blob)
    print(f'{len(header)} tensors, {offset // 4} parameters -> {sys.argv[2]}')


if __name__ == '__main__':
    main()
