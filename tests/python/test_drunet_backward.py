"""DRUNet's backward pass from Python (pnpdist.DRUNetBackward, pnpdist.torch.DRUNet): on a tiny network with random
weights (widths 4, 8, 16, 32, one residual block, written by the PyTorch replica of tools/drunet_torch.py), the
forward pass and the gradients in x, sigma and every parameter against PyTorch autograd through the replica in
float64, torch.autograd.gradcheck through pnpdist.torch.DRUNet, float32 against the inference network, and the
refusals."""

import sys

import numpy as np
import pytest

import pnpdist
from conftest import ROOT

torch = pytest.importorskip("torch")
import pnpdist.torch as pt  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
from drunet_torch import DRUNet as TorchDRUNet, write_safetensors  # noqa: E402

WIDTHS = (4, 8, 16, 32)


def tiny_network(path, channels=1, bias=False, seed=0):
    """A PyTorch DRUNet with random weights, written to `path`; returned in float64."""
    torch.manual_seed(seed)
    net = TorchDRUNet(channels, WIDTHS, 1, bias=bias)
    with torch.no_grad():
        for p in net.parameters():
            if p.dim() == 1:
                p.uniform_(-0.1, 0.1)  # non-zero biases
    write_safetensors(str(path), net.state_dict())
    # The file holds float32 values: the float64 replica takes exactly those.
    return net.to(torch.float32).to(torch.float64)


@pytest.fixture(scope="module")
def gray(tmp_path_factory):
    path = tmp_path_factory.mktemp("drunet") / "tiny_gray.safetensors"
    return path, tiny_network(path)


@pytest.fixture(scope="module")
def color_bias(tmp_path_factory):
    path = tmp_path_factory.mktemp("drunet") / "tiny_color_bias.safetensors"
    return path, tiny_network(path, channels=3, bias=True, seed=1)


@pytest.mark.parametrize("which", ["gray", "color_bias"])
def test_gradients_match_pytorch_autograd(which, request):
    path, reference = request.getfixturevalue(which)
    channels = 1 if which == "gray" else 3
    rng = np.random.default_rng(0)
    x = rng.random((2, channels, 13, 11))  # not multiples of 8: the replicate padding is differentiated too
    c = rng.standard_normal(x.shape)
    sigma = 0.1
    net = pnpdist.DRUNetBackward(str(path), dtype="float64")
    assert net.dtype == "float64" and net.config["widths"] == WIDTHS
    y, tape = net.forward(x, sigma)
    assert tape.bytes > 0
    grad_x, grad_sigma = net.backward(tape, c, parameters=True)

    xt = torch.from_numpy(x).requires_grad_()
    st = torch.tensor(sigma, dtype=torch.float64, requires_grad=True)
    reference.zero_grad()
    yt = reference(xt, st)
    (yt * torch.from_numpy(c)).sum().backward()
    scale = np.abs(yt.detach().numpy()).max()
    assert np.abs(y - yt.detach().numpy()).max() < 1e-12 * scale
    assert np.abs(grad_x - xt.grad.numpy()).max() < 1e-12 * np.abs(xt.grad.numpy()).max()
    assert abs(grad_sigma - float(st.grad)) < 1e-12 * abs(float(st.grad))
    ours = net.parameter_gradients()
    theirs = {name: p.grad.numpy() for name, p in reference.named_parameters()}
    assert set(ours) == set(theirs)
    for name, g in theirs.items():
        assert ours[name].shape == g.shape, name
        assert np.abs(ours[name] - g).max() <= 1e-12 * max(np.abs(g).max(), 1e-300), name
    net.zero_gradients()
    assert all(not g.any() for g in net.parameter_gradients().values())


def test_gradcheck_through_the_torch_module(gray):
    path, _ = gray
    module = pt.DRUNet(str(path))
    x = torch.rand(1, 1, 16, 16, dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor(0.05, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, s: module(a, s), (x, sigma), eps=1e-6, atol=1e-7, rtol=1e-6)
    # (H, W) and (C, H, W) inputs, and float64 without a gradient.
    with torch.no_grad():
        full = module(x, 0.05)
        assert torch.equal(module(x[0, 0], 0.05), full[0, 0]) and torch.equal(module(x[0], 0.05), full[0])


def test_float32_module_gradient_and_inference_output(gray):
    path, _ = gray
    module = pt.DRUNet(str(path))
    x = torch.rand(1, 1, 24, 20, requires_grad=True)
    y = module(x, 0.1)
    assert y.dtype == torch.float32 and y.requires_grad
    inference = module(x.detach(), 0.1)  # no gradient needed: the inference network
    assert not inference.requires_grad
    assert (y.detach() - inference).abs().max() <= 1e-5 * inference.abs().max()
    y.square().sum().backward()
    x64 = x.detach().double().requires_grad_()
    module(x64, 0.1).square().sum().backward()
    assert (x.grad.double() - x64.grad).abs().max() <= 1e-4 * x64.grad.abs().max()


def test_refusals(gray, color_bias):
    path, _ = gray
    net = pnpdist.DRUNetBackward(str(path), dtype="float64")
    with pytest.raises(TypeError, match="float64"):
        net.forward(np.zeros((1, 1, 8, 8), np.float32), 0.1)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        net.forward(np.zeros((1, 2, 8, 8)), 0.1)
    _, tape = net.forward(np.zeros((1, 1, 8, 8)), 0.1)
    with pytest.raises(ValueError, match="grad_y must have shape"):
        net.backward(tape, np.zeros((1, 1, 8, 9)))
    other = pnpdist.DRUNetBackward(str(path), dtype="float64")
    with pytest.raises(ValueError, match="another DRUNetBackward"):
        other.backward(tape, np.zeros((1, 1, 8, 8)))
    x = torch.rand(1, 1, 1, 8, 8, requires_grad=True)
    with pytest.raises(NotImplementedError, match="untiled 2D"):
        pt.DRUNet(str(path), dim=3)(x, 0.1)
