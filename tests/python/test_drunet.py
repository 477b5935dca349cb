"""DRUNet from Python: the shipped weights against PyTorch's output (the C++ tests' fixture), and denoising of
a noisy phantom."""

import numpy as np
import pytest

import pnpdist
from conftest import NN_FIXTURES, WEIGHTS


def test_infer_config():
    gray = pnpdist.infer_drunet_config(str(WEIGHTS / "drunet_gray.safetensors"))
    color = pnpdist.infer_drunet_config(str(WEIGHTS / "drunet_color.safetensors"))
    assert gray["image_channels"] == 1 and color["image_channels"] == 3
    assert len(gray["widths"]) == 4 and gray["blocks"] >= 1


def test_gray_matches_pytorch_fixture():
    net = pnpdist.DRUNet(str(WEIGHTS / "drunet_gray.safetensors"))
    x = np.load(NN_FIXTURES / "trained_drunet_gray_input.npy")
    expected = np.load(NN_FIXTURES / "trained_drunet_gray_output.npy")
    sigma = float(np.load(NN_FIXTURES / "trained_drunet_gray_sigma.npy")[0])
    y = net.denoise(x, sigma)
    assert y.shape == x.shape and y.dtype == np.float32
    assert np.linalg.norm(y - expected) / np.linalg.norm(expected) < 1e-4
    # The same image as (H, W) and (C, H, W), and into `out`.
    assert np.array_equal(net.denoise(x[0, 0], sigma), y[0, 0])
    out = np.empty_like(x[0])
    assert net(x[0], sigma, out=out) is out and np.array_equal(out, y[0])


def test_color_matches_pytorch_fixture():
    net = pnpdist.DRUNet(str(WEIGHTS / "drunet_color.safetensors"), executor=pnpdist.Executor(1))
    assert net.config["image_channels"] == 3 and net.threads == 1
    x = np.load(NN_FIXTURES / "trained_drunet_color_input.npy")
    expected = np.load(NN_FIXTURES / "trained_drunet_color_output.npy")
    sigma = float(np.load(NN_FIXTURES / "trained_drunet_color_sigma.npy")[0])
    y = net.denoise(x, sigma)
    assert np.linalg.norm(y - expected) / np.linalg.norm(expected) < 1e-4
    with pytest.raises(ValueError, match="channel"):
        net.denoise(x[:, :1], sigma)
    with pytest.raises(ValueError, match="x must have 3 to 4 dimensions"):
        net.denoise(x[0, 0], sigma)


def test_denoising_improves_psnr():
    net = pnpdist.DRUNet(str(WEIGHTS / "drunet_gray.safetensors"))
    clean = pnpdist.shepp_logan((64, 64))
    sigma = 0.1
    noisy = (clean + sigma * np.random.default_rng(0).standard_normal(clean.shape)).astype(np.float32)
    denoised = net.denoise(noisy, sigma)
    assert pnpdist.psnr(denoised, clean) > pnpdist.psnr(noisy, clean) + 5.0
    with pytest.raises(TypeError, match="float32"):
        net.denoise(noisy.astype(np.float64), sigma)


def test_3d_network_on_a_volume_of_equal_slices():
    # The 2D weights inflated to 3D, on a volume whose slices all equal the fixture image, give PyTorch's 2D
    # output on every slice (as tests/nn/test_trained_drunet.cpp checks in C++).
    net = pnpdist.DRUNet(str(WEIGHTS / "drunet_gray.safetensors"), dim=3)
    assert net.dim == 3 and not net.tiled
    x = np.load(NN_FIXTURES / "trained_drunet_gray_input.npy")
    expected = np.load(NN_FIXTURES / "trained_drunet_gray_output.npy")[0, 0]
    sigma = float(np.load(NN_FIXTURES / "trained_drunet_gray_sigma.npy")[0])
    volume = np.repeat(x[0], 3, axis=0)  # (3, H, W)
    y = net.denoise(volume, sigma)
    assert y.shape == volume.shape
    for z in range(3):
        assert np.linalg.norm(y[z] - expected) / np.linalg.norm(expected) < 1e-4


def test_tiled_network():
    path = str(WEIGHTS / "drunet_gray.safetensors")
    x = (pnpdist.shepp_logan((80, 80)) + 0.05 * np.random.default_rng(0).standard_normal((80, 80))).astype(np.float32)
    whole = pnpdist.DRUNet(path).denoise(x, 0.05)
    tiled = pnpdist.DRUNet(path, tile=32, overlap=32, tile_batch=2)
    assert tiled.tiled
    y = tiled.denoise(x, 0.05)
    # Tiles see 32 samples of context, less than the network's receptive field: close, not equal.
    assert np.linalg.norm(y - whole) / np.linalg.norm(whole) < 0.02  # measured 0.010
    with pytest.raises(ValueError, match="dim must be 2 or 3"):
        pnpdist.DRUNet(path, dim=1)
