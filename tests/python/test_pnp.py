"""pnpdist.pnp: the library's PnP solver with DRUNet on bound operators, its records, observer and errors."""

import math

import numpy as np
import pytest

import pnpdist
from conftest import WEIGHTS, shepp_logan_ct

GRAY = str(WEIGHTS / "drunet_gray.safetensors")


@pytest.fixture(scope="module")
def ct_problem():
    x, g, A, y = shepp_logan_ct(n=64, views=60, cols=96)
    return x, g, A, y, 0.02 * float(np.abs(A(x)).max())


def test_hqs_improves_on_fbp(ct_problem):
    x, g, A, y, noise = ct_problem
    fbp = pnpdist.fbp(g, y)
    seen = []
    algorithm = pnpdist.HalfQuadraticSplitting(noise_level=noise, sigma_end=0.02, data_weight=0.1)
    result = pnpdist.pnp(A, y, pnpdist.DRUNet(GRAY), algorithm, iterations=8, x0=fbp, clip=(0, 1), truth=x,
                         observer=lambda record, it: seen.append((record, it)))
    assert result["x"].shape == (64, 64) and result["x"].dtype == np.float32
    assert result["iterations"] == 8 and result["stop"] == "max_iterations"
    assert [r["iteration"] for r in result["records"]] == list(range(1, 9))
    assert pnpdist.psnr(result["x"], x) > pnpdist.psnr(fbp, x) + 4.0  # measured 25.0 -> 31.8 dB
    assert result["records"][-1]["psnr"] == pytest.approx(pnpdist.psnr(result["x"], x), abs=1e-9)
    assert all(math.isfinite(r["ssim"]) and r["data_step_iterations"] >= 1 for r in result["records"])
    # The observer sees every iteration with a copy of its iterate.
    assert [record["iteration"] for record, _ in seen] == list(range(1, 9))
    assert np.array_equal(seen[-1][1], result["x"])
    seen[-1][1][:] = 0
    assert result["x"].any()


@pytest.mark.parametrize("algorithm", [pnpdist.ProximalGradient(sigma=0.02), pnpdist.ADMM(sigma=0.02)])
def test_pgd_and_admm_on_a_color_blur(algorithm):
    rng = np.random.default_rng(1)
    clean = rng.random((3, 32, 32)).astype(np.float32)
    B = pnpdist.Blur(pnpdist.gaussian_psf(1.0), clean.shape)
    y = (B(clean) + 0.01 * rng.standard_normal(clean.shape)).astype(np.float32)
    net = pnpdist.DRUNet(str(WEIGHTS / "drunet_color.safetensors"))
    result = pnpdist.pnp(B, y, net, algorithm, iterations=3, x0=y, clip=(0, 1))
    assert result["x"].shape == (3, 32, 32) and len(result["records"]) == 3
    assert all(math.isfinite(r["data_fidelity"]) for r in result["records"])
    if isinstance(algorithm, pnpdist.ProximalGradient):
        assert result["step"] > 0 and result["squared_norm"] > 0  # the step from the power method


def test_stagnation_stop_and_3d(ct_problem):
    x, g, A, y, noise = ct_problem
    result = pnpdist.pnp(A, y, pnpdist.DRUNet(GRAY), pnpdist.ProximalGradient(sigma=0.02), iterations=20,
                         stagnation_tolerance=10.0)
    assert result["stop"] == "stagnation" and result["iterations"] == 2  # the change from x0 = 0 is infinite
    cone = pnpdist.cone_beam(np.linspace(0, 2 * math.pi, 12, endpoint=False), (24, 24), 64.0, 32.0, (16, 16, 16))
    A3 = pnpdist.JosephProjector3D(cone)
    y3 = A3(pnpdist.shepp_logan((16, 16, 16)))
    result = pnpdist.pnp(A3, y3, pnpdist.DRUNet(GRAY, dim=3), pnpdist.HalfQuadraticSplitting(), iterations=2)
    assert result["x"].shape == (16, 16, 16) and len(result["records"]) == 2
    with pytest.raises(ValueError, match=r"a 2D network of 1 channel\(s\) takes a domain \(1, H, W\).*"
                                         r"domain \(16, 16, 16\) is a volume: use a 3D network"):
        pnpdist.pnp(A3, y3, pnpdist.DRUNet(GRAY), pnpdist.HalfQuadraticSplitting(), iterations=2)


def test_errors(ct_problem):
    x, g, A, y, noise = ct_problem
    net = pnpdist.DRUNet(GRAY)
    with pytest.raises(TypeError, match="algorithm must be"):
        pnpdist.pnp(A, y, net, "hqs")
    with pytest.raises(TypeError, match="float32 operator"):
        pnpdist.pnp(pnpdist.JosephProjector2D(g, dtype="float64"), y.astype(np.float64), net,
                    pnpdist.HalfQuadraticSplitting())
    with pytest.raises(ValueError, match="3D network"):
        pnpdist.pnp(A, y, pnpdist.DRUNet(GRAY, dim=3), pnpdist.HalfQuadraticSplitting())
    with pytest.raises(ValueError, match=r"y must have shape \(60, 96\)"):
        pnpdist.pnp(A, y[:, :95].copy(), net, pnpdist.HalfQuadraticSplitting())
    with pytest.raises(pnpdist.InvalidArgument, match="sigma_start"):
        pnpdist.pnp(A, y, net, pnpdist.HalfQuadraticSplitting(sigma_start=-1.0))

    def stop(record, it):
        raise KeyError("observer stopped the run")

    with pytest.raises(KeyError, match="observer stopped the run"):
        pnpdist.pnp(A, y, net, pnpdist.HalfQuadraticSplitting(), iterations=3, observer=stop)
