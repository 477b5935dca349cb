"""pnpdist.torch: gradcheck of the projectors and blurs in double precision, batches, tensors passed to the
bindings directly, a training step through a projector."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import pnpdist  # noqa: E402
import pnpdist.torch as pt  # noqa: E402
from conftest import WEIGHTS, fan_geometry, parallel_geometry  # noqa: E402


def operators():
    return {
        "parallel": pnpdist.JosephProjector2D(parallel_geometry(8, 5, 12), dtype="float64"),
        "fan": pnpdist.JosephProjector2D(fan_geometry(8, 6, 14), dtype="float64"),
        "cone": pnpdist.JosephProjector3D(pnpdist.cone_beam(
            [0.0, 2.0, 4.0], (8, 8), 24.0, 12.0, (6, 6, 6), detector_pixel_size=(1.5, 1.5)), dtype="float64"),
        "blur_circular": pnpdist.Blur(pnpdist.gaussian_psf(0.8, dtype="float64"), (2, 9, 8)),
        "blur_valid": pnpdist.Blur(pnpdist.gaussian_psf(0.6, 1.0, 20.0, dtype="float64"), (12, 14), boundary="valid"),
    }


@pytest.mark.parametrize("name", list(operators()))
def test_gradcheck(name):
    op = operators()[name]
    x = torch.randn(op.domain_shape, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: pt.apply(op, t), (x,))
    # The backward is differentiable as well (its backward is A).
    assert torch.autograd.gradgradcheck(lambda t: pt.apply(op, t), (x,))


def test_batches_and_modules():
    op = operators()["parallel"]
    module = pt.Operator(op)
    x = torch.randn((3, 2) + op.domain_shape, dtype=torch.float64)
    y = module(x)
    assert y.shape == (3, 2) + op.range_shape
    assert torch.allclose(y[1, 0], torch.from_numpy(op.forward(x[1, 0].numpy())))
    back = module.T(y)
    assert back.shape == x.shape
    with pytest.raises(ValueError, match="does not end with"):
        module(torch.zeros(4, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match="float64"):
        module(torch.zeros(op.domain_shape, dtype=torch.float32))


def test_tensors_pass_to_the_bindings_without_copy():
    op = pnpdist.JosephProjector2D(parallel_geometry(8, 5, 12))
    x = torch.rand(op.domain_shape)
    out = torch.zeros(op.range_shape)
    op.forward(x, out=out)  # a CPU tensor is used in place
    assert torch.equal(out, torch.from_numpy(op.forward(x.numpy())))


def test_training_step_through_the_projector():
    # Fit an image to a sinogram by gradient descent through the projector: the loss must fall.
    op = pnpdist.JosephProjector2D(parallel_geometry(16, 12, 24), dtype="float64")
    target = torch.from_numpy(op.forward(pnpdist.shepp_logan((16, 16), dtype="float64")))
    x = torch.zeros(op.domain_shape, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([x], lr=0.05)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = torch.sum((pt.apply(op, x) - target) ** 2)
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    assert losses[-1] < 0.1 * losses[0]


def test_drunet_module():
    net = pt.DRUNet(str(WEIGHTS / "drunet_gray.safetensors"))
    x = torch.rand(1, 1, 16, 16)
    y = net(x, 0.1)
    assert y.shape == x.shape and y.dtype == torch.float32 and not y.requires_grad
    assert np.array_equal(y.numpy(), net.net.denoise(x.numpy(), 0.1))
