#!/usr/bin/env python3
"""Converts an official DRUNet PyTorch checkpoint (drunet_color.pth / drunet_gray.pth, a state_dict) into
the safetensors file pnpdist loads (nn::load_drunet_weights): same tensor names, float32, little-endian.

    /usr/bin/python3 tools/convert_drunet.py drunet_color.pth drunet_color.safetensors
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drunet_torch import write_safetensors  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    state = torch.load(sys.argv[1], map_location='cpu')
    if 'state_dict' in state and isinstance(state['state_dict'], dict):
        state = state['state_dict']
    tensors, parameters = write_safetensors(sys.argv[2], state)
    print(f'{tensors} tensors, {parameters} parameters -> {sys.argv[2]}')


if __name__ == '__main__':
    main()
