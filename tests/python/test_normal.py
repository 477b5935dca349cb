"""LinearOperator.normal(x, out=None): A^T A x in one call for the CT projectors (2D parallel and fan, 3D parallel
and cone) and their stacks, against adjoint(forward(x)) and the explicit matrix; out= and in place; the documented
refusals; autograd through pnpdist.torch.Normal."""

import math
import re

import numpy as np
import pytest

import pnpdist
from conftest import fan_geometry, parallel_geometry


def cone(n=10, views=7, det=16):
    angles = np.linspace(0, 2 * math.pi, views, endpoint=False)
    return pnpdist.cone_beam(angles, (det, det), 4.0 * n, 2.0 * n, (n, n, n), detector_pixel_size=(1.5, 1.5))


def parallel_3d(n=10, views=7, det=16):
    return pnpdist.parallel_beam_3d(np.linspace(0, math.pi, views, endpoint=False), (det, det), (n, n, n))


def operators(dtype):
    return {
        "parallel": pnpdist.JosephProjector2D(parallel_geometry(16, 12), dtype=dtype),
        "fan": pnpdist.JosephProjector2D(fan_geometry(16, 14), dtype=dtype),
        "parallel_3d": pnpdist.JosephProjector3D(parallel_3d(), dtype=dtype),
        "cone": pnpdist.JosephProjector3D(cone(), dtype=dtype),
        "split": pnpdist.StackedOperator([pnpdist.JosephProjector2D(g, dtype=dtype)
                                          for g in pnpdist.split_views(fan_geometry(16, 14), 3)]),
        "split_cone": pnpdist.StackedOperator([pnpdist.JosephProjector3D(g, dtype=dtype)
                                               for g in pnpdist.split_views(cone(), 2)]),
    }


CASES = [(name, dtype) for dtype in ("float32", "float64") for name in operators("float32")]


@pytest.mark.parametrize("name,dtype", CASES)
def test_normal_is_adjoint_of_forward(name, dtype):
    op = operators(dtype)[name]
    x = np.random.default_rng(1).standard_normal(op.domain_shape).astype(dtype)
    expected = op.adjoint(op.forward(x))
    got = op.normal(x)
    assert got.dtype == np.dtype(dtype) and got.shape == x.shape
    assert np.abs(expected).max() > 0
    # The same computation (forward into the buffer, adjoint out of it) of deterministic projectors: equal bits.
    assert np.array_equal(got, expected)
    # The buffer is kept: a second call, on another input, is right too.
    x2 = np.random.default_rng(2).standard_normal(op.domain_shape).astype(dtype)
    assert np.array_equal(op.normal(x2), op.adjoint(op.forward(x2)))
    out = np.full_like(x, np.nan)
    assert op.normal(x, out=out) is out and np.array_equal(out, expected)
    in_place = x.copy()
    assert op.normal(in_place, out=in_place) is in_place and np.array_equal(in_place, expected)


@pytest.mark.parametrize("name", ["parallel", "fan", "cone"])
def test_normal_equals_the_explicit_matrix(name):
    op = operators("float64")[name]
    n = int(np.prod(op.domain_shape))
    a = np.stack([op.forward(e.reshape(op.domain_shape)).ravel() for e in np.eye(n)], axis=1)
    x = np.random.default_rng(3).standard_normal(op.domain_shape)
    expected = (a.T @ (a @ x.ravel())).reshape(x.shape)
    assert np.abs(op.normal(x) - expected).max() <= 1e-12 * np.abs(expected).max()


def test_normal_of_a_blur_stack():
    psfs = [pnpdist.gaussian_psf(s) for s in (0.7, 1.5)]
    stack = pnpdist.CircularBlurStack(psfs, (24, 20))
    x = np.random.default_rng(4).standard_normal((24, 20)).astype(np.float32)
    expected = stack.adjoint(stack.forward(x))
    assert np.abs(stack.normal(x) - expected).max() <= 1e-6 * np.abs(expected).max()


@pytest.mark.parametrize("name", ["parallel", "cone", "split"])
def test_normal_refuses_bad_arguments(name):
    op = operators("float32")[name]
    shape = tuple(op.domain_shape)
    shape_text = "(" + ", ".join(map(str, shape)) + ")"
    x = np.ones(shape, np.float32)
    wrong = shape[:-1] + (shape[-1] + 1,)
    with pytest.raises(ValueError, match=rf"x must have shape {re.escape(shape_text)} \(the operator's domain\)"):
        op.normal(np.ones(wrong, np.float32))
    with pytest.raises(TypeError, match="x must have dtype float32, got float64"):
        op.normal(x.astype(np.float64))
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        op.normal(np.ones(shape[::-1], np.float32).T)
    with pytest.raises(ValueError, match=rf"out must have shape {re.escape(shape_text)} \(the operator's domain\)"):
        op.normal(x, out=np.ones(wrong, np.float32))
    with pytest.raises(TypeError, match="out must have dtype float32"):
        op.normal(x, out=np.ones(shape, np.float64))
    read_only = np.ones(shape, np.float32)
    read_only.setflags(write=False)
    with pytest.raises(ValueError, match="out is read-only"):
        op.normal(x, out=read_only)
    flat = np.ones(2 * x.size, np.float32)
    with pytest.raises(ValueError, match="out must be x or not overlap it"):
        op.normal(flat[:x.size].reshape(shape), out=flat[1:x.size + 1].reshape(shape))


@pytest.mark.parametrize("name", ["fan", "cone", "split"])
def test_gradcheck_through_torch_normal(name):
    torch = pytest.importorskip("torch")
    import pnpdist.torch as pt
    op = operators("float64")[name]
    x = torch.randn((2,) + tuple(op.domain_shape), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: pt.apply(pt.Normal(op), t), (x,))
    expected = pt.apply(pt.Adjoint(op), pt.apply(op, x))
    assert torch.equal(pt.apply(pt.Normal(op), x), expected)
