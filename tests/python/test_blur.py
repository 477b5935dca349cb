"""Blur from Python: the Gaussian PSF, adjointness for every boundary, a delta PSF, shapes."""

import numpy as np
import pytest

import pnpdist
from conftest import adjoint_mismatch


def test_gaussian_psf():
    psf = pnpdist.gaussian_psf(2.0)
    assert psf.shape == (2 * int(2.0 / 0.3 + 1) + 1,) * 2 and psf.dtype == np.float32
    assert abs(float(psf.sum()) - 1) < 1e-6
    assert np.allclose(psf, psf.T, atol=1e-7) and psf.argmax() == psf.size // 2
    wide = pnpdist.gaussian_psf(1.0, 3.0, dtype="float64")
    assert wide.dtype == np.float64 and wide[:, wide.shape[1] // 2].max() > wide[wide.shape[0] // 2, :].min()


@pytest.mark.parametrize("boundary", ["circular", "same", "valid"])
@pytest.mark.parametrize("dtype,tolerance", [("float32", 1e-5), ("float64", 1e-12)])
def test_blur_adjoint(boundary, dtype, tolerance):
    psf = pnpdist.gaussian_psf(1.5, 0.8, 30.0, dtype=dtype)
    op = pnpdist.Blur(psf, (2, 3, 24, 20), boundary=boundary)
    assert op.dtype == np.dtype(dtype) and op.boundary == boundary
    assert adjoint_mismatch(op) < tolerance


def test_shapes_and_delta():
    psf = pnpdist.gaussian_psf(1.0)
    k = psf.shape[0]
    assert pnpdist.Blur(psf, (20, 30)).range_shape == (20, 30)
    assert pnpdist.Blur(psf, (3, 20, 30), boundary="valid").range_shape == (3, 20 - k + 1, 30 - k + 1)
    delta = np.zeros((5, 5), np.float64)
    delta[2, 2] = 1
    x = np.random.default_rng(0).standard_normal((3, 16, 16))
    assert np.array_equal(pnpdist.Blur(delta, x.shape).forward(x), x)
    shift = np.zeros((3, 3))
    shift[1, 0] = 1  # a true convolution: output (i, j) reads x(i, j + 1)
    assert np.array_equal(pnpdist.Blur(shift, (16, 16)).forward(x[0]), np.roll(x[0], -1, axis=1))
    with pytest.raises(ValueError, match="shape must be"):
        pnpdist.Blur(psf, (20,))
    with pytest.raises(pnpdist.InvalidArgument, match="odd"):
        pnpdist.Blur(np.ones((4, 4), np.float32), (16, 16))
    with pytest.raises(ValueError, match="boundary must be"):
        pnpdist.Blur(psf, (20, 20), boundary="reflect")


def test_cgls_deblurs():
    # The solvers take any bound operator: CGLS on a blurred phantom beats the blurred image.
    clean = pnpdist.shepp_logan((48, 48), dtype="float64")
    op = pnpdist.Blur(pnpdist.gaussian_psf(1.2, dtype="float64"), clean.shape)
    blurred = op.forward(clean)
    result = pnpdist.cgls(op, blurred, iterations=30)
    assert result["x"].shape == clean.shape
    assert pnpdist.psnr(result["x"], clean) > pnpdist.psnr(blurred, clean) + 3.0


def test_fft_blur():
    psf = pnpdist.gaussian_psf(2.0, 1.0, 30.0)
    shape = (2, 3, 32, 40)
    fft = pnpdist.Blur(psf, shape, method="fft")
    assert fft.method == "fft" and fft.boundary == "circular" and fft.dtype == np.float32
    direct = pnpdist.Blur(psf, shape)
    assert direct.method == "direct"
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    assert np.abs(fft.forward(x) - direct.forward(x)).max() < 1e-5
    assert np.abs(fft.adjoint(x) - direct.adjoint(x)).max() < 1e-5
    assert adjoint_mismatch(fft) < 1e-5
    with pytest.raises(ValueError, match="needs boundary='circular'"):
        pnpdist.Blur(psf, shape, boundary="same", method="fft")
    with pytest.raises(TypeError, match="float32"):
        pnpdist.Blur(psf.astype(np.float64), shape, method="fft")
    with pytest.raises(ValueError, match="method must be"):
        pnpdist.Blur(psf, shape, method="spectral")


@pytest.mark.parametrize("method,boundary,dtype,tolerance", [
    ("fft", "circular", "float32", 1e-6), ("direct", "circular", "float32", 1e-6),
    ("direct", "valid", "float64", 1e-13)])
def test_normal_equals_adjoint_of_forward(method, boundary, dtype, tolerance):
    rng = np.random.default_rng(7)
    psf = rng.random((5, 3)).astype(dtype)  # no symmetry: A^T A differs from A A
    blur = pnpdist.Blur(psf, (2, 12, 11), boundary=boundary, method=method)
    x = rng.standard_normal((2, 12, 11)).astype(dtype)
    expected = blur.adjoint(blur.forward(x))
    got = blur.normal(x)
    assert got.dtype == np.dtype(dtype) and got.shape == x.shape
    assert np.abs(got - expected).max() <= tolerance * np.abs(expected).max()
    if boundary == "circular":
        assert np.abs(blur.forward(blur.forward(x)) - expected).max() > 1e-2 * np.abs(expected).max()
    out = np.empty_like(x)
    assert blur.normal(x, out=out) is out and np.array_equal(out, got)
    in_place = x.copy()
    blur.normal(in_place, out=in_place)
    assert np.abs(in_place - expected).max() <= tolerance * np.abs(expected).max()
    with pytest.raises(ValueError, match="x"):
        blur.normal(x[:1])
    with pytest.raises(TypeError):
        blur.normal(x.astype(np.float64 if dtype == "float32" else np.float32))
