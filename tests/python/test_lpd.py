"""pnpdist.LearnedPrimalDual, ellipse_geometry and ellipse_phantom: the network's output against a numpy
implementation of learned primal-dual written here from the paper's update rules (the tiny PyTorch fixture's
weights, tools/make_lpd_fixtures.py, on a small geometry; the shipped weights on a test phantom), the scale against
the largest singular value of the projector's explicit matrix, the shipped weights' quality on held-out test
phantoms, the self-ensemble against numpy's symmetries of the square, batches, and the refusals."""

import json
import math
import struct

import numpy as np
import pytest

import pnpdist
from conftest import ROOT, WEIGHTS

SHIPPED = WEIGHTS / "lpd_ellipses_fbp.safetensors"
TINY = ROOT / "tests" / "fixtures" / "learned" / "lpd_tiny.safetensors"


def read_safetensors(path):
    """name -> float64 array of a safetensors file of F32 tensors."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32"
        begin, end = entry["data_offsets"]
        raw = np.frombuffer(data[8 + length + begin:8 + length + end], dtype="<f4")
        tensors[name] = raw.reshape(entry["shape"]).astype(np.float64)
    return tensors


def conv3(x, weight, bias):
    """3x3 cross-correlation with zero padding 1 of x (C, H, W), weight (O, C, 3, 3), as torch.nn.Conv2d."""
    h, w = x.shape[1:]
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    out = np.zeros((weight.shape[0], h, w))
    for dy in range(3):
        for dx in range(3):
            out += np.tensordot(weight[:, :, dy, dx], padded[:, dy:dy + h, dx:dx + w], axes=(1, 0))
    return out + bias[:, None, None]


def block(t, prefix, x):
    """conv -> PReLU -> conv -> PReLU -> conv (the LPD's Gamma_i and Lambda_i)."""
    def prelu(v, slope):
        return np.where(v > 0, v, slope[:, None, None] * v)
    x = prelu(conv3(x, t[prefix + ".conv1.weight"], t[prefix + ".conv1.bias"]), t[prefix + ".prelu1.weight"])
    x = prelu(conv3(x, t[prefix + ".conv2.weight"], t[prefix + ".conv2.bias"]), t[prefix + ".prelu2.weight"])
    return conv3(x, t[prefix + ".conv3.weight"], t[prefix + ".conv3.bias"])


def reference_lpd(t, A, s, y, f0=None):
    """Learned primal-dual (Adler & Oktem 2018, Algorithm 3) in float64: with g = s y and the scaled operator s A,
    h_i = h + Gamma_i([h, s A f^(1), g]), f_i = f + Lambda_i([f, s A^T h^(0)]); returns f^(0). f starts at f0 in
    every channel (the FBP start) or at zero, h at zero."""
    steps = sum(1 for name in t if name.endswith(".conv1.weight") and name.startswith("dual."))
    primal, dual = t["primal.0.conv3.weight"].shape[0], t["dual.0.conv3.weight"].shape[0]
    g = s * y.astype(np.float64)
    f = np.zeros((primal, *A.domain_shape)) if f0 is None else np.repeat(f0[None].astype(np.float64), primal, 0)
    h = np.zeros((dual, *A.range_shape))
    for i in range(steps):
        projected = s * A(f[1].astype(np.float32)).astype(np.float64)
        h = h + block(t, f"dual.{i}", np.concatenate([h, projected[None], g[None]]))
        back = s * A.adjoint(h[0].astype(np.float32)).astype(np.float64)
        f = f + block(t, f"primal.{i}", np.concatenate([f, back[None]]))
    return f[0]


def tiny_geometry():
    """A 6 x 7 image and 5 views of 9 bins: the tiny fixture network's shapes."""
    return pnpdist.parallel_beam_2d(np.linspace(0, math.pi, 5, endpoint=False), 9, (6, 7))


def noisy_sinogram(A, x, seed, noise=0.05):
    y = A(x)
    return (y + noise * float(np.abs(y).mean()) * np.random.default_rng(seed).standard_normal(y.shape)).astype(
        np.float32)


def test_tiny_network_equals_the_numpy_reference_and_its_scale_is_one_over_the_norm():
    g = tiny_geometry()
    with pytest.warns(UserWarning, match=r"accept_geometry_mismatch=True: the weights .*lpd_tiny.safetensors were "
                                         r"trained for .*no geometry in the file"):
        lpd = pnpdist.LearnedPrimalDual(TINY, g, accept_geometry_mismatch=True)
    assert (lpd.iterations, lpd.primal_memory, lpd.dual_memory, lpd.width) == (2, 2, 2, 3)
    assert lpd.initial_primal == "zero" and not lpd.geometry_matches and lpd.parameters > 0
    A = pnpdist.JosephProjector2D(g)
    matrix = np.stack([A(np.eye(42, dtype=np.float32)[k].reshape(6, 7)).ravel() for k in range(42)], axis=1)
    assert lpd.scale * np.linalg.norm(matrix.astype(np.float64), 2) == pytest.approx(1, rel=1e-6)  # measured 3e-8
    y = noisy_sinogram(A, np.random.default_rng(1).random((6, 7), dtype=np.float32), seed=2)
    x = lpd(y)
    expected = reference_lpd(read_safetensors(TINY), A, lpd.scale, y)
    assert x.shape == (6, 7) and x.dtype == np.float32
    assert np.abs(x - expected).max() <= 1e-5 * np.abs(expected).max()  # float32 against float64: measured 3e-7


@pytest.fixture(scope="module")
def shipped():
    g = pnpdist.ellipse_geometry(128, 30)
    return g, pnpdist.JosephProjector2D(g), pnpdist.LearnedPrimalDual(SHIPPED, g)


def test_shipped_network_equals_the_numpy_reference(shipped):
    g, A, lpd = shipped
    assert lpd.geometry_matches and lpd.initial_primal == "fbp" and lpd.parameters == 253220
    assert (lpd.iterations, lpd.primal_memory, lpd.dual_memory, lpd.width) == (10, 5, 5, 32)
    assert lpd.training_noise == 0.05 and lpd.training_geometry.sinogram_shape == (30, 183)
    truth = pnpdist.ellipse_phantom(0, split="test")
    y = noisy_sinogram(A, truth, seed=0)
    x = lpd(y)
    expected = reference_lpd(read_safetensors(SHIPPED), A, lpd.scale, y, f0=pnpdist.fbp(g, y))
    assert np.abs(x - expected).max() <= 1e-5 * np.abs(expected).max()  # measured 4.8e-7


def test_shipped_network_beats_fbp_on_test_phantoms(shipped):
    """Test phantoms 0-3 (never trained or tuned on), 5% noise as in training: LPD is 11.5-12.8 dB above the
    Ram-Lak FBP and at 36.2-40.2 dB (measured); asserted >= 10 dB above it on each, and LPD >= 35 dB."""
    g, A, lpd = shipped
    for index in range(4):
        truth = pnpdist.ellipse_phantom(index, split="test")
        y = noisy_sinogram(A, truth, seed=index)
        data_range = float(truth.max() - truth.min())
        lpd_psnr = pnpdist.psnr(lpd(y), truth, data_range=data_range)
        fbp_psnr = pnpdist.psnr(pnpdist.fbp(g, y), truth, data_range=data_range)
        assert lpd_psnr >= fbp_psnr + 10 and lpd_psnr >= 35, (index, lpd_psnr, fbp_psnr)


def dihedral_group(x):
    """The 8 symmetries of the square applied to x, each with its inverse: [(T x, T^-1)], numpy's own."""
    turns = [(np.rot90(x, k), lambda v, k=k: np.rot90(v, -k)) for k in range(4)]
    flips = [(x.T, np.transpose), (np.flipud(x), np.flipud), (np.fliplr(x), np.fliplr),
             (np.rot90(x, 2).T, lambda v: np.rot90(v.T, -2))]
    return turns + flips


def test_self_ensemble_is_the_mean_over_the_symmetries_and_improves_on_validation_phantoms(shipped):
    """On noiseless data y = A x, S_T y is A (T x): the ensemble equals the mean over numpy's 8 symmetries of
    T^-1 LPD(A T x) to float round-off. On validation phantoms 0-3 with 5% noise the ensemble's mean PSNR is
    0.24 dB above the network's (measured: +0.07 to +0.44 dB per phantom; asserted: mean > 0.1 dB)."""
    g, A, lpd = shipped
    truth = pnpdist.ellipse_phantom(5, split="validation")
    expected = np.mean([inverse(lpd(A(np.ascontiguousarray(tx)))) for tx, inverse in dihedral_group(truth)], axis=0)
    ensembled = lpd(A(truth), self_ensemble=True)
    assert np.abs(ensembled - expected).max() <= 1e-4 * np.abs(expected).max()  # measured 5.3e-6
    gains = []
    for index in range(4):
        truth = pnpdist.ellipse_phantom(index, split="validation")
        y = noisy_sinogram(A, truth, seed=index)
        data_range = float(np.ptp(truth))
        gains.append(pnpdist.psnr(lpd(y, self_ensemble=True), truth, data_range=data_range) -
                     pnpdist.psnr(lpd(y), truth, data_range=data_range))
    assert np.mean(gains) > 0.1, gains


def test_self_ensemble_is_refused_without_the_symmetries(tmp_path):
    with pytest.warns(UserWarning):
        tiny = pnpdist.LearnedPrimalDual(TINY, tiny_geometry(), accept_geometry_mismatch=True)
    with pytest.raises(pnpdist.InvalidArgument, match="self-ensemble: the image must be square.*got 6 x 7"):
        tiny(np.zeros((5, 9), np.float32), self_ensemble=True)
    fan = pnpdist.ellipse_geometry(32, 10, beam="fan")
    with pytest.warns(UserWarning):
        lpd = pnpdist.LearnedPrimalDual(SHIPPED, fan, accept_geometry_mismatch=True)
    with pytest.raises(pnpdist.InvalidArgument, match="not symmetric under rotate90 of the image"):
        lpd(np.zeros(fan.sinogram_shape, np.float32), self_ensemble=True)


def test_a_batch_is_its_images(shipped):
    g, A, lpd = shipped
    ys = np.stack([noisy_sinogram(A, pnpdist.ellipse_phantom(k, split="validation"), seed=k) for k in range(2)])
    out = np.empty((2, 128, 128), np.float32)
    assert lpd(ys, out=out) is out
    for k in range(2):
        single = lpd(ys[k])
        assert np.abs(out[k] - single).max() <= 1e-5 * np.abs(single).max()  # measured: equal


def test_ellipse_phantoms_are_reproducible_and_the_splits_differ():
    a = pnpdist.ellipse_phantom(3, split="test")
    assert a.shape == (128, 128) and a.dtype == np.float32 and np.array_equal(a, pnpdist.ellipse_phantom(3))
    assert np.ptp(a) > 0
    for other in (pnpdist.ellipse_phantom(4), pnpdist.ellipse_phantom(3, split="train"),
                  pnpdist.ellipse_phantom(3, split="validation"), pnpdist.ellipse_phantom(3, seed=1)):
        assert not np.array_equal(a, other)
    assert pnpdist.ellipse_phantom(0, size=32).shape == (32, 32)
    fan = pnpdist.ellipse_geometry(64, 12, beam="fan")
    assert fan.beam == "fan" and fan.image_shape == (64, 64) and fan.views == 12


def test_bad_input_raises_naming_the_problem(shipped, tmp_path):
    g, A, lpd = shipped
    with pytest.raises(pnpdist.InvalidArgument, match=r"the weights .*lpd_ellipses_fbp.safetensors were trained for "
                                                      r".*; this geometry is .*accept_geometry_mismatch=True"):
        pnpdist.LearnedPrimalDual(SHIPPED, pnpdist.ellipse_geometry(64, 30))
    with pytest.raises(pnpdist.IoError, match="no tensor 'dual.0.conv1.weight' of 4 axes: not learned primal-dual"):
        pnpdist.LearnedPrimalDual(WEIGHTS / "drunet_gray.safetensors", g)
    with pytest.raises(pnpdist.IoError):
        pnpdist.LearnedPrimalDual(tmp_path / "missing.safetensors", g)
    with pytest.raises(ValueError, match=r"y must have shape \(30, 183\) or \(N, 30, 183\) \(the geometry's sinogram\), "
                                         r"got \(30, 182\)"):
        lpd(np.zeros((30, 182), np.float32))
    with pytest.raises(TypeError, match="y"):
        lpd(np.zeros((30, 183), np.float64))
    with pytest.raises(ValueError, match="y holds no sinogram"):
        lpd(np.zeros((0, 30, 183), np.float32))
    with pytest.raises(ValueError, match="out"):
        lpd(np.zeros((30, 183), np.float32), out=np.zeros((128, 127), np.float32))
    with pytest.raises(ValueError, match="split must be 'train', 'validation' or 'test', got 'dev'"):
        pnpdist.ellipse_phantom(0, split="dev")
    with pytest.raises(ValueError, match="size must be >= 2, got 1"):
        pnpdist.ellipse_phantom(0, size=1)
