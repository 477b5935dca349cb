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


def test_pnp_on_the_fused_data_term():
    # pnp runs a CircularBlurStack as its fused data term (closed-form data steps: no CG iteration) and follows
    # pnp through a StackedOperator of the same blurs (forward and adjoint, CG data steps). Measured max
    # differences after 4 iterations: PGD 1.2e-7, HQS 2.4e-4 (50 CG steps against the closed form), ADMM 1.4e-6.
    kernels = psfs()[:2]
    stack = pnpdist.CircularBlurStack(kernels, (32, 32))
    same = pnpdist.StackedOperator([pnpdist.Blur(p, (32, 32), method="fft") for p in kernels], layout="stack")
    x = pnpdist.shepp_logan((32, 32))
    y = stack.forward(x) + 0.01 * np.random.default_rng(0).standard_normal(stack.range_shape).astype(np.float32)
    assert np.array_equal(stack.forward(x), same.forward(x))
    net = pnpdist.DRUNet(str(WEIGHTS / "drunet_gray.safetensors"))
    cases = [(pnpdist.ProximalGradient(step=0.5, sigma=0.02), 1e-5),
             (pnpdist.HalfQuadraticSplitting(noise_level=0.02, sigma_end=0.02, data_weight=0.2, cg_iterations=50,
                                             cg_tolerance=1e-7), 2e-3),
             (pnpdist.ADMM(sigma=0.02, penalty=1.0, cg_iterations=50, cg_tolerance=1e-7), 1e-4)]
    for algorithm, tolerance in cases:
        a, b = (pnpdist.pnp(op, y, net, algorithm, iterations=4, truth=x) for op in (stack, same))
        assert np.abs(a["x"] - b["x"]).max() < tolerance, type(algorithm).__name__
        assert a["records"][-1]["psnr"] > a["initial"]["psnr"] + 5  # from x0 = 0
        if not isinstance(algorithm, pnpdist.ProximalGradient):
            assert a["records"][-1]["data_step_iterations"] == 0 < b["records"][-1]["data_step_iterations"]
    # The stack keeps y as its measurements.
    residual = stack.forward(x).astype(np.float64) - y
    assert stack.data_fidelity(x) == pytest.approx(0.5 * float(np.sum(residual ** 2)), rel=1e-5)


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
    net3d = pnpdist.DRUNet(str(WEIGHTS / "drunet_gray.safetensors"), dim=3)
    with pytest.raises(ValueError, match="needs a 2D network"):
        pnpdist.pnp(stack, np.zeros(stack.range_shape, np.float32), net3d, pnpdist.ADMM())
    with pytest.raises(pnpdist.DimensionMismatch):
        pnpdist.CircularBlurStack([np.ones((31, 31), np.float32) / 961], (20, 24))  # PSF larger than the image
