"""Metrics and phantoms from Python."""

import math

import numpy as np
import pytest

import pnpdist


def test_psnr():
    x = np.zeros((8, 8), np.float32)
    r = np.full((8, 8), 0.1, np.float32)
    assert pnpdist.psnr(x, r) == pytest.approx(20.0, abs=1e-4)
    assert pnpdist.psnr(np.zeros((8, 8)), np.full((8, 8), 0.1), data_range=2.0) == pytest.approx(
        20.0 + 20 * math.log10(2.0), abs=1e-9)
    assert math.isinf(pnpdist.psnr(r, r))
    with pytest.raises(TypeError, match="reference must have dtype float32"):
        pnpdist.psnr(x, r.astype(np.float64))
    with pytest.raises(ValueError, match="reference must have shape"):
        pnpdist.psnr(x, r[:4])


def test_ssim_against_skimage():
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(0)
    r = pnpdist.shepp_logan((48, 40), dtype="float64")
    x = r + 0.05 * rng.standard_normal(r.shape)
    expected = metrics.structural_similarity(r, x, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                             use_sample_covariance=False)
    assert pnpdist.ssim(x, r) == pytest.approx(expected, abs=1e-9)
    assert pnpdist.ssim(r, r) == pytest.approx(1.0)


def test_shepp_logan():
    p = pnpdist.shepp_logan((64, 48))
    assert p.shape == (64, 48) and p.dtype == np.float32
    assert p.min() > -1e-6 and p.max() < 1 + 1e-6 and p.max() > 0.9
    assert pnpdist.shepp_logan((16, 16), dtype=np.float64).dtype == np.float64
