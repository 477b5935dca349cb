"""2D CT from Python: adjointness, forward projection against the exact line integrals, FBP / SIRT / CGLS."""

import math

import numpy as np
import pytest

import pnpdist
from conftest import adjoint_mismatch, fan_geometry, parallel_geometry


@pytest.mark.parametrize("dtype,tolerance", [("float32", 1e-5), ("float64", 1e-13)])
def test_projector_adjoint(geometry, dtype, tolerance):
    assert adjoint_mismatch(pnpdist.JosephProjector2D(geometry, dtype=dtype)) < tolerance


def test_projector_matrices_are_transposes():
    # On unit vectors (exact in float32) the forward and back projections are exact transposes.
    op = pnpdist.JosephProjector2D(fan_geometry(8, 6, 14), dtype="float64")
    n, m = 64, 6 * 14
    a = np.stack([op.forward(e.reshape(8, 8)).ravel() for e in np.eye(n)], axis=1)
    at = np.stack([op.adjoint(e.reshape(6, 14)).ravel() for e in np.eye(m)], axis=1)
    assert np.count_nonzero(a) > 0.1 * a.size and np.array_equal(a, at.T)


def test_geometry_properties():
    g = fan_geometry(32, 30, 64)
    assert g.beam == "fan" and g.views == 30 and g.detector_cols == 64
    assert g.image_shape == (32, 32) and g.sinogram_shape == (30, 64)
    assert g.vectors.shape == (30, 6) and g.vectors.dtype == np.float64
    same = pnpdist.Geometry2D.from_vectors("fan", g.vectors, 64, (32, 32))
    x = pnpdist.shepp_logan((32, 32))
    assert np.array_equal(pnpdist.JosephProjector2D(g).forward(x), pnpdist.JosephProjector2D(same).forward(x))
    with pytest.raises(ValueError, match=r"vectors must have shape \(views, 6\)"):
        pnpdist.Geometry2D.from_vectors("fan", np.zeros((3, 5)), 64, (32, 32))


@pytest.mark.parametrize("make", [parallel_geometry, fan_geometry])
def test_forward_projection_matches_line_integrals(make):
    # The Shepp-Logan phantom on a fine grid: its Joseph projection approaches the exact line integrals.
    g = make(128, 16, 192)
    sinogram = pnpdist.JosephProjector2D(g, dtype="float64").forward(
        pnpdist.shepp_logan((128, 128), dtype="float64", supersampling=8))
    exact = pnpdist.shepp_logan_sinogram(g)
    assert exact.shape == sinogram.shape
    assert np.linalg.norm(sinogram - exact) / np.linalg.norm(exact) < 0.035  # measured 0.023 (parallel), 0.025 (fan)


def test_projection_of_a_disc():
    # A disc of radius r has the chord length 2 sqrt(r^2 - s^2) at every angle (pixel size 1).
    n, r = 96, 30.0
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    sub = 8  # supersampled disc indicator
    o = (np.arange(sub) + 0.5) / sub - 0.5
    disc = np.zeros((n, n))
    for dy in o:
        for dx in o:
            disc += ((yy + dy) ** 2 + (xx + dx) ** 2 <= r * r)
    disc /= sub * sub
    g = pnpdist.parallel_beam_2d(np.linspace(0, math.pi, 7, endpoint=False), n, (n, n))
    sinogram = pnpdist.JosephProjector2D(g, dtype="float64").forward(disc)
    s = np.arange(n) - (n - 1) / 2
    chord = 2 * np.sqrt(np.clip(r * r - s * s, 0, None))
    error = sinogram - chord[None, :]
    assert np.sqrt(np.mean(error ** 2)) / np.sqrt(np.mean(chord ** 2)) < 0.01
    assert np.abs(error).max() < 1.5  # at the rim, where the chord's slope is unbounded
    assert np.abs(sinogram.sum(axis=1) - disc.sum()).max() < 2e-4 * disc.sum()  # mass per view: 1e-4 measured


@pytest.mark.parametrize("make,views", [(parallel_geometry, 180), (fan_geometry, 360)])
def test_fbp_of_shepp_logan(make, views):
    n = 128
    g = make(n, views, 2 * n)
    phantom = pnpdist.shepp_logan((n, n))
    sinogram = pnpdist.JosephProjector2D(g).forward(phantom)
    image = pnpdist.fbp(g, sinogram, filter="hann")
    assert image.shape == (n, n) and image.dtype == np.float32
    assert pnpdist.psnr(image, phantom) > 24.0
    out = np.empty((n, n), np.float32)
    assert pnpdist.fbp(g, sinogram, filter="hann", out=out) is out
    assert np.array_equal(out, image)
    with pytest.raises(ValueError, match="filter must be"):
        pnpdist.fbp(g, sinogram, filter="ramp")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sirt_and_cgls_reduce_the_residual(dtype):
    n = 48
    g = parallel_geometry(n, 60, 72)
    A = pnpdist.JosephProjector2D(g, dtype=dtype)
    phantom = pnpdist.shepp_logan((n, n), dtype=dtype)
    y = A.forward(phantom)
    sirt = pnpdist.sirt(A, y, iterations=50)
    cgls = pnpdist.cgls(A, y, iterations=20)
    for result in (sirt, cgls):
        assert result["x"].shape == (n, n) and result["x"].dtype == np.dtype(dtype)
        norms = result["residual_norms"]
        assert norms[-1] < 0.2 * norms[0]
        assert pnpdist.psnr(result["x"], phantom) > 20.0
    assert sirt["iterations"] == 50 and len(sirt["residual_norms"]) == 51
    stopped = pnpdist.cgls(A, y, iterations=100, stop_residual=0.5 * np.linalg.norm(y))
    assert stopped["reached_stop_residual"] and stopped["iterations"] < 100
    with pytest.raises(pnpdist.InvalidArgument, match="relaxation"):
        pnpdist.sirt(A, y, relaxation=2.5)
