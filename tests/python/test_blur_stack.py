"""pnpdist.CircularBlurStack: the stacked FFT blurs against the blurs one by one (forward, adjoint dot test),
the fused data term (fidelity, gradient, closed-form proximal step) against sums over the single blurs, the
autograd function of pnpdist.torch against the adjoint, and the refusals."""

import numpy as np
import pytest

import pnpdist
from conftest import WEIGHTS, adjoint_mismatch

SHAPE = (3, 20, 24)


def psfs():
    return [pnpdist.gaussian_psf(0.7), pnpdist.gaussian_psf(1.2, 2.0, 30.0), pnpdist.gaussian_psf(2.0)]


def problem(seed=0):
    stack = pnpdist.CircularBlurStack(psfs(), SHAPE)
    blurs = [pnpdist.Blur(p, SHAPE, method="fft") for p in psfs()]
    rng = np.random.default_rng(seed)
    x = rng.random(SHAPE, dtype=np.float32)
    y = rng.random((3,) + SHAPE, dtype=np.float32)
    return stack, blurs, x, y


def rel(a, b):
    return np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b)


def test_operator_is_the_blurs_one_by_one():
    stack, blurs, x, y = problem()
    assert stack.domain_shape == SHAPE and stack.range_shape == (3,) + SHAPE and len(stack) == 3
    assert np.array_equal(stack.forward(x), np.stack([b.forward(x) for b in blurs]))
    expected = sum(b.adjoint(y[i]).astype(np.float64) for i, b in enumerate(blurs))
    assert rel(stack.adjoint(y), expected) < 1e-6
    assert adjoint_mismatch(stack) < 1e-5
    # (H, W) images: one channel.
    single = pnpdist.CircularBlurStack(psfs()[:2], (20, 24))
    assert single.range_shape == (2, 20, 24) and adjoint_mismatch(single) < 1e-5


def test_fused_data_term():
    stack, blurs, x, y = problem(1)
    stack.set_measurements(y)
    residual = [b.forward(x).astype(np.float64) - y[i] for i, b in enumerate(blurs)]
    fidelity = 0.5 * sum(float(np.sum(r * r)) for r in residual)
    assert stack.data_fidelity(x) == pytest.approx(fidelity, rel=1e-5)
    gradient = sum(b.adjoint(r.astype(np.float32)).astype(np.float64) for b, r in zip(blurs, residual))
    assert rel(stack.gradient(x), gradient) < 1e-5
    # The proximal step p of weight w satisfies grad f(p) + w (p - z) = 0.
    w = 0.3
    p = stack.proximal(x, w)
    optimality = stack.gradient(p).astype(np.float64) + w * (p - x)
    assert np.linalg.norm(optimality) < 1e-4 * np.linalg.norm(w * x)
    z = x.copy()
    assert stack.proximal(z, w, out=z) is z and np.allclose(z, p, rtol=0, atol=1e-6)
    # Measurements given at construction equal those set later; zero measurements by default.
    assert pnpdist.CircularBlurStack(psfs(), SHAPE, y).data_fidelity(x) == pytest.approx(fidelity, rel=1e-5)
    blurred = 0.5 * sum(float(np.sum(b.forward(x).astype(np.float64) ** 2)) for b in blurs)
    assert pnpdist.CircularBlurStack(psfs(), SHAPE).data_fidelity(x) == pytest.approx(blurred, rel=1e-5)


def test_pnp_runs_on_the_stack():
    # PnP runs the stack as an operator: the same iterates as through a StackedOperator of the same blurs.
    kernels = psfs()[:2]
    stack = pnpdist.CircularBlurStack(kernels, (32, 32))
    same = pnpdist.StackedOperator([pnpdist.Blur(p, (32, 32), method="fft") for p in kernels], layout="stack")
    x = pnpdist.shepp_logan((32, 32))
    y = stack.forward(x)
    assert np.array_equal(y, same.forward(x))
    net = pnpdist.DRUNet(str(WEIGHTS / "drunet_gray.safetensors"))
    algorithm = pnpdist.HalfQuadraticSplitting(noise_level=0.02, sigma_end=0.02, data_weight=0.2)
    a, b = (pnpdist.pnp(op, y, net, algorithm, iterations=2, truth=x) for op in (stack, same))
    assert np.array_equal(a["x"], b["x"])
    assert a["records"][-1]["psnr"] > a["initial"]["psnr"] + 5  # from x0 = 0: measured 13.6 -> 23.6 dB


def test_torch_backward_is_the_adjoint():
    torch = pytest.importorskip("torch")
    import pnpdist.torch as pt

    stack, _, x, y = problem(2)
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    (pt.apply(stack, t) * torch.from_numpy(y)).sum().backward()
    assert rel(t.grad.numpy(), stack.adjoint(y).astype(np.float64)) < 1e-6
    # A float32 operator: the directional derivative by finite differences (exact for a linear map up to
    # rounding) instead of gradcheck, which needs float64.
    d = np.random.default_rng(3).standard_normal(SHAPE).astype(np.float32)
    h = np.float32(0.5)
    difference = (np.vdot(stack.forward(x + h * d), y) - np.vdot(stack.forward(x), y)) / h
    assert difference == pytest.approx(float(np.vdot(d, t.grad.numpy())), rel=1e-3)


def test_refusals():
    with pytest.raises(ValueError, match="at least one PSF"):
        pnpdist.CircularBlurStack([], SHAPE)
    with pytest.raises(TypeError, match=r"psfs\[1\]"):
        pnpdist.CircularBlurStack([psfs()[0], pnpdist.gaussian_psf(1.0, dtype="float64")], SHAPE)
    with pytest.raises(ValueError, match=r"measurements must have shape \(3, 3, 20, 24\)"):
        pnpdist.CircularBlurStack(psfs(), SHAPE, np.zeros((2,) + SHAPE, np.float32))
    stack = pnpdist.CircularBlurStack(psfs(), SHAPE)
    with pytest.raises(ValueError, match=r"x must have shape \(3, 20, 24\)"):
        stack.gradient(np.zeros((20, 24), np.float32))
    with pytest.raises(pnpdist.InvalidArgument, match="weight must be positive"):
        stack.proximal(np.zeros(SHAPE, np.float32), 0.0)
    with pytest.raises(pnpdist.DimensionMismatch):
        pnpdist.CircularBlurStack([np.ones((31, 31), np.float32) / 961], (20, 24))  # PSF larger than the image
