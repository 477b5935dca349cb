"""pnpdist.deepinv: DeepInv physics on pnpdist's operators. Without DeepInv: the import stays optional, the
error names the pip package, the shape mapping. With DeepInv (skipped where it cannot be imported): adjoint dot
tests through the physics, least squares against an explicit matrix, gradcheck, noise, the relation to
DeepInv's own Tomography, and DeepInv's PnP on pnpdist's physics against DeepInv's PnP on an explicit matrix of
the same projector."""

import math
import subprocess
import sys

import numpy as np
import pytest

import pnpdist
import pnpdist.deepinv as pdi
from conftest import fan_geometry, parallel_geometry


# ---- Without DeepInv ------------------------------------------------------------------------------------

def run_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_import_does_not_import_deepinv():
    r = run_python("import sys, pnpdist, pnpdist.deepinv; assert 'deepinv' not in sys.modules, 'imported'; "
                   "assert 'torch' not in sys.modules, 'torch imported'")
    assert r.returncode == 0, r.stderr


def test_missing_deepinv_names_the_pip_package():
    # sys.modules[name] = None makes `import deepinv` fail as if it were not installed.
    r = run_python("import sys; sys.modules['deepinv'] = None\n"
                   "import pnpdist.deepinv as pdi\n"
                   "try:\n    pdi.Tomography\nexcept ImportError as e:\n    print('ERR', e.name, e)\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ERR deepinv ") and "pip install deepinv" in r.stdout
    with pytest.raises(AttributeError):
        pdi.NoSuchClass


def test_tensor_shapes():
    assert pdi.tensor_shapes((8, 9), (5, 12)) == ((None, None, 8, 9), (None, None, 5, 12))
    assert pdi.tensor_shapes((4, 8, 9), (5, 6, 7)) == ((None, None, 4, 8, 9), (None, None, 5, 6, 7))
    assert pdi.tensor_shapes((3, 8, 9), (3, 6, 7), channels=True) == ((None, 3, 8, 9), (None, 3, 6, 7))
    assert pdi.tensor_shapes((2, 3, 8, 9), (2, 3, 8, 9), channels=True) == ((2, 3, 8, 9), (2, 3, 8, 9))
    assert pdi.tensor_shapes((8, 9), (4, 8, 9), stacked=4) == ((None, None, 8, 9), (None, 4, None, 8, 9))
    assert pdi.tensor_shapes((3, 8, 9), (4, 3, 8, 9), stacked=4) == ((None, 3, 8, 9), (None, 4, 3, 8, 9))
    with pytest.raises(ValueError, match="range"):
        pdi.tensor_shapes((8, 9), (3, 8, 9), stacked=4)
    with pytest.raises(ValueError, match="no \\(B, C, ...\\) layout"):
        pdi.tensor_shapes((2, 3, 8, 9), (2, 3, 8, 9))
    pdi.check_shape((2, 1, 8, 9), (None, None, 8, 9))
    with pytest.raises(ValueError, match=r"x must have shape \(B, C, 8, 9\), got \(1, 8, 9\)"):
        pdi.check_shape((1, 8, 9), (None, None, 8, 9))
    with pytest.raises(ValueError, match=r"y must have shape \(B, 3, 6, 7\), got \(1, 2, 6, 7\)"):
        pdi.check_shape((1, 2, 6, 7), (None, 3, 6, 7), "y")


def test_deepinv_sinogram_layout_and_geometry():
    y = np.arange(6.0).reshape(1, 2, 3)
    assert pdi.to_deepinv_sinogram(y).shape == (1, 3, 2)
    assert np.array_equal(pdi.from_deepinv_sinogram(pdi.to_deepinv_sinogram(y)), y)
    # DeepInv's image row 0 is at +y: a pixel in row 0 projects at angle 0 (rays along y, detector along x)
    # to the same bin as in pnpdist's last row; at 90 degrees to the mirrored bin of pnpdist's row 0.
    # P - width is odd for both (9 - 6, 10 - 7): DeepInv pads one pixel more after the image for 6, before it
    # for 7, so its rotation centre is half a pixel towards the last row and column for 6, the first for 7.
    for width, shift in ((6, 0.5), (7, -0.5)):
        g = pdi.deepinv_parallel_geometry([0.0, 90.0], width)
        assert g.sinogram_shape == (2, math.ceil(math.sqrt(2) * width))
        a = pnpdist.JosephProjector2D(g, dtype="float64")
        ref = pnpdist.JosephProjector2D(pnpdist.parallel_beam_2d([0.0, math.pi / 2], g.detector_cols,
                                                                 (width, width)), dtype="float64")
        x = np.zeros((width, width))
        x[0, 1] = 1.0
        mirrored = x[::-1].copy()
        # View 0: the detector moved by shift (cos 0 - sin 0) bins; view 1 by -shift.
        for view, s in ((0, shift), (1, -shift)):
            got, want = a.forward(x)[view], ref.forward(mirrored)[view]
            centre = lambda p: float(np.sum(p * np.arange(p.size)) / np.sum(p))  # noqa: E731
            assert abs(got.sum() - want.sum()) < 1e-12
            assert abs(centre(got) - (centre(want) - s)) < 1e-9


# ---- With DeepInv ---------------------------------------------------------------------------------------


def physics_cases():
    cone = pnpdist.cone_beam([0.0, 2.0, 4.0], (8, 8), 24.0, 12.0, (6, 6, 6), detector_pixel_size=(1.5, 1.5))
    psfs = [pnpdist.gaussian_psf(s) for s in (0.7, 1.2, 2.0)]
    return {
        "parallel": lambda: pdi.Tomography(parallel_geometry(8, 5, 12), dtype="float64"),
        "fan": lambda: pdi.Tomography(fan_geometry(8, 6, 14), dtype="float64"),
        "cone": lambda: pdi.Tomography(cone, dtype="float64"),
        "split": lambda: pdi.Tomography(pnpdist.StackedOperator(
            [pnpdist.JosephProjector2D(g, dtype="float64") for g in pnpdist.split_views(parallel_geometry(8, 5, 12), 2)])),
        "blur": lambda: pdi.Blur(pnpdist.Blur(pnpdist.gaussian_psf(0.8, dtype="float64"), (9, 8))),
        "blur_colour": lambda: pdi.Blur(pnpdist.Blur(pnpdist.gaussian_psf(0.8, dtype="float64"), (3, 9, 8),
                                                     boundary="valid")),
        "blur_stack": lambda: pdi.BlurStack(pnpdist.CircularBlurStack(psfs, (24, 20))),
        "blur_stack_colour": lambda: pdi.BlurStack(pnpdist.CircularBlurStack(psfs, (3, 24, 20))),
    }


def x_shape(physics, b=2, c=2):
    return tuple(b if i == 0 and s is None else c if s is None else s for i, s in enumerate(physics.x_pattern))


@pytest.mark.parametrize("name", list(physics_cases()))
def test_adjoint_dot_product(dinv, name):
    import torch
    physics = physics_cases()[name]()
    dtype = getattr(torch, str(np.dtype(physics.op.dtype)))
    x = torch.randn(x_shape(physics), dtype=dtype)
    y = physics.A(x)
    assert y.shape == x_shape(physics)[:1] + tuple(
        x.shape[1] if s is None else s for s in physics.y_pattern[1:])
    r = torch.randn_like(y)
    lhs, rhs = float((y.double() * r.double()).sum()), float((x.double() * physics.A_adjoint(r).double()).sum())
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    assert abs(lhs - rhs) <= tol * float(y.norm() * r.norm())
    # DeepInv's own adjointness test agrees.
    assert abs(float(physics.adjointness_test(x))) < (1e-10 if dtype == torch.float64 else 1e-4)
    # Every (batch, channel) image is the operator applied alone.
    if name in ("parallel", "fan", "blur"):
        assert torch.equal(y[1, 0], torch.from_numpy(physics.op.forward(x[1, 0].numpy())))


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_blur_a_adjoint_a_is_the_normal_operator(dinv, method):
    import torch
    psf = np.random.default_rng(3).random((5, 3)).astype(np.float32)  # no symmetry
    physics = pdi.Blur(pnpdist.Blur(psf, (12, 11), method=method))
    x = torch.randn(2, 3, 12, 11)
    expected = physics.A_adjoint(physics.A(x))
    got = physics.A_adjoint_A(x)
    assert got.shape == x.shape and got.dtype == torch.float32
    assert float((got - expected).abs().max()) <= 1e-6 * float(expected.abs().max())
    assert float((physics.A(physics.A(x)) - expected).abs().max()) > 1e-2 * float(expected.abs().max())
    # DeepInv's L2 gradient uses it; normalize=True divides by the squared norm.
    y = torch.randn_like(x)
    grad = dinv.optim.L2().grad(x, y, physics)
    assert torch.allclose(grad, physics.A_adjoint(physics.A(x) - y), atol=1e-5)
    scaled = pdi.Blur(pnpdist.Blur(psf, (12, 11), method=method), normalize=True)
    reference = scaled.A_adjoint(scaled.A(x))
    assert float((scaled.A_adjoint_A(x) - reference).abs().max()) <= 1e-6 * float(reference.abs().max())


@pytest.mark.parametrize("name", ["parallel", "fan", "cone", "split"])
@pytest.mark.parametrize("normalize", [False, True])
def test_tomography_a_adjoint_a_is_the_normal_operator(dinv, name, normalize, monkeypatch):
    import torch
    import pnpdist.torch as pt
    calls = []

    class Spy(pt.Normal):
        def __init__(self, op):
            calls.append(op)
            super().__init__(op)

    monkeypatch.setattr(pt, "Normal", Spy)
    physics = physics_cases()[name]()
    if normalize:
        physics = pdi.Tomography(physics.op, normalize=True)
    x = torch.randn(x_shape(physics), dtype=getattr(torch, str(np.dtype(physics.op.dtype))))
    expected = physics.A_adjoint(physics.A(x))
    got = physics.A_adjoint_A(x)
    assert calls == [physics.op]  # one call of the projector's normal()
    assert got.shape == x.shape and got.dtype == x.dtype
    assert float((got - expected).abs().max()) <= 1e-12 * float(expected.abs().max())
    y = torch.randn_like(physics.A(x))
    assert torch.allclose(dinv.optim.L2().grad(x, y, physics), physics.A_adjoint(physics.A(x) - y), atol=1e-10)


def test_tomography_a_adjoint_a_gradcheck(dinv):
    import torch
    physics = physics_cases()["fan"]()
    x = torch.randn(1, 2, 8, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(physics.A_adjoint_A, (x,))


def test_blur_a_adjoint_a_gradcheck(dinv):
    import torch
    physics = pdi.Blur(pnpdist.Blur(np.random.default_rng(4).random((3, 5)), (7, 6)))
    x = torch.randn(1, 2, 7, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(physics.A_adjoint_A, (x,))


@pytest.mark.parametrize("name", ["parallel", "fan", "cone", "blur_colour"])
def test_gradcheck_through_the_physics(dinv, name):
    import torch
    physics = physics_cases()[name]()
    x = torch.randn(x_shape(physics, 1, 1 if name != "blur_colour" else 3), dtype=torch.float64,
                    requires_grad=True)
    assert torch.autograd.gradcheck(physics.A, (x,))
    y = physics.A(x).detach().requires_grad_(True)
    assert torch.autograd.gradcheck(physics.A_adjoint, (y,))


def test_shapes_devices_and_dtypes_are_refused(dinv):
    import torch
    physics = physics_cases()["parallel"]()
    with pytest.raises(ValueError, match=r"x must have shape \(B, C, 8, 8\), got \(8, 8\)"):
        physics.A(torch.zeros(8, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"y must have shape \(B, C, 5, 12\)"):
        physics.A_adjoint(torch.zeros(1, 1, 12, 5, dtype=torch.float64))
    with pytest.raises(TypeError, match="float64"):
        physics.A(torch.zeros(1, 1, 8, 8))
    with pytest.raises(TypeError, match="CUDA"):
        physics.A(torch.zeros(1, 1, 8, 8, dtype=torch.float64, device="meta"))
    with pytest.raises(ValueError, match=r"x must have shape \(B, 3, 24, 20\)"):
        physics_cases()["blur_stack_colour"]().A(torch.zeros(1, 1, 24, 20))
    with pytest.raises(TypeError, match="Geometry2D"):
        pdi.Tomography(pnpdist.Blur(pnpdist.gaussian_psf(0.8), (8, 8)))


def explicit_matrix(op):
    """The operator's matrix, column by column (float64)."""
    n = int(np.prod(op.domain_shape))
    cols = []
    for j in range(n):
        e = np.zeros(n, dtype=op.dtype)
        e[j] = 1
        cols.append(op.forward(e.reshape(op.domain_shape)).ravel().astype(np.float64))
    return np.stack(cols, axis=1)


def test_least_squares_and_noise(dinv):
    import torch
    geometry = parallel_geometry(8, 20, 12)
    physics = pdi.Tomography(geometry, dtype="float64", max_iter=200, tol=1e-10, solver="CG",
                                 implicit_backward_solver=False)
    m = explicit_matrix(physics.op)
    x = torch.from_numpy(pnpdist.shepp_logan((8, 8), dtype="float64"))[None, None]
    y = physics.A(x) + 0.01 * torch.randn(1, 1, 20, 12, dtype=torch.float64)
    got = physics.A_dagger(y)[0, 0].numpy()
    # DeepInv's solver on the explicit matrix (float64) takes the same steps; both near the exact solution (DeepInv's
    # CG stops at its own criterion: 0.4% from numpy's lstsq here).
    own = MatrixPhysics.make(dinv, m, (8, 8), (20, 12), dtype=np.float64, max_iter=200, tol=1e-10, solver="CG",
                             implicit_backward_solver=False)
    same = own.A_dagger(y)[0, 0].numpy()
    assert np.linalg.norm(got - same) <= 1e-5 * np.linalg.norm(same)  # measured 5e-7: round-off over 200 steps
    ref = np.linalg.lstsq(m, y.numpy().ravel(), rcond=None)[0].reshape(8, 8)
    assert np.linalg.norm(got - ref) <= 2e-2 * np.linalg.norm(ref)
    # DeepInv's noise model: physics(x) = A x + n.
    noisy = pdi.Tomography(parallel_geometry(32, 60, 48), noise_model=dinv.physics.GaussianNoise(0.05))
    x = torch.from_numpy(pnpdist.shepp_logan((32, 32)))[None, None]
    residual = noisy(x) - noisy.A(x)
    assert abs(float(residual.std()) - 0.05) < 0.003


def test_normalize_and_the_relation_to_deepinv_tomography(dinv):
    import torch
    angles = np.linspace(0, 180, 30, endpoint=False)
    for width in (62, 63, 64):  # P - width even, odd with an odd width, odd with an even width
        own = dinv.physics.Tomography(angles=torch.tensor(angles, dtype=torch.float32), img_width=width,
                                      circle=False, normalize=False)
        ours = pdi.Tomography(pdi.deepinv_parallel_geometry(angles, width))
        x = pnpdist.Blur(pnpdist.gaussian_psf(1.0), (width, width)).forward(pnpdist.shepp_logan((width, width)))
        x = torch.from_numpy(x)[None, None]
        a, b = pdi.to_deepinv_sinogram(ours.A(x)), own.A(x)
        assert a.shape == b.shape
        assert float((a - b).norm() / b.norm()) < 5e-3  # measured 2.1e-3: bilinear rotation vs Joseph
    normalized = pdi.Tomography(parallel_geometry(16, 20, 24), normalize=True)
    assert abs(float(normalized.compute_sqnorm(torch.randn(1, 1, 16, 16), verbose=False)) - 1.0) < 1e-3
    x = torch.randn(1, 1, 16, 16)
    assert torch.allclose(normalized.A(x) * normalized.operator_norm,
                          pdi.Tomography(parallel_geometry(16, 20, 24)).A(x), rtol=1e-5, atol=1e-5)


def test_fbp(dinv):
    import torch
    geometry = parallel_geometry(32, 90, 48)
    physics = pdi.Tomography(geometry)
    x = torch.from_numpy(pnpdist.shepp_logan((32, 32)))[None, None].repeat(2, 1, 1, 1)
    got = physics.fbp(physics.A(x))
    assert got.shape == x.shape
    assert np.array_equal(got[1, 0].numpy(), pnpdist.fbp(geometry, physics.op.forward(x[0, 0].numpy())))


def test_blur_stack_closed_form_prox_equals_deepinv_cg(dinv):
    import torch
    stack = pnpdist.CircularBlurStack([pnpdist.gaussian_psf(s) for s in (0.7, 1.5)], (24, 20))
    physics = pdi.BlurStack(stack)
    generic = dinv.physics.LinearPhysics(A=physics.A, A_adjoint=physics.A_adjoint, max_iter=500, tol=1e-7,
                                         solver="CG", implicit_backward_solver=False)
    x, z = torch.rand(2, 3, 24, 20), torch.rand(2, 3, 24, 20)
    y = physics.A(x) + 0.05 * torch.randn(2, 2, 3, 24, 20)
    for gamma in (0.3, 4.0):
        a, b = physics.prox_l2(z, y, gamma), generic.prox_l2(z, y, gamma)
        assert float((a - b).norm() / b.norm()) < 1e-5


class MatrixPhysics:
    """DeepInv's LinearPhysics of an explicit matrix (the 'own' operator of the comparison)."""

    @staticmethod
    def make(dinv, m, image, sinogram, dtype=np.float32, **kwargs):
        import torch
        mt = torch.from_numpy(m.astype(dtype))

        def forward(x, **_):
            return (x.reshape(x.shape[0], -1) @ mt.T).reshape(x.shape[0], 1, *sinogram)

        def adjoint(y, **_):
            return (y.reshape(y.shape[0], -1) @ mt).reshape(y.shape[0], 1, *image)

        return dinv.physics.LinearPhysics(A=forward, A_adjoint=adjoint, **kwargs)


@pytest.mark.parametrize("algorithm,denoiser", [("PGD", "drunet"), ("DPIR", "drunet"), ("PGD", "tv"), ("DPIR", "tv")])
def test_deepinv_pnp_equals_pnp_on_the_explicit_matrix(dinv, algorithm, denoiser):
    # DeepInv's Tomography is a bilinear rotate-and-sum, not Joseph's projector: the matched 'own' operator is
    # the explicit matrix of pnpdist's projector (16 x 16 image, 24 parallel views) as a DeepInv physics.
    import torch
    from deepinv.optim import DPIR, optim_builder
    from deepinv.optim.data_fidelity import L2
    from deepinv.optim.prior import PnP
    geometry = parallel_geometry(16, 24, 24)
    # CG runs all its 10 iterations (a tolerance it never reaches): no stopping decision that round-off could flip.
    settings = dict(max_iter=10, tol=1e-12, solver="CG", implicit_backward_solver=False)
    ours = pdi.Tomography(geometry, **settings)
    own = MatrixPhysics.make(dinv, explicit_matrix(ours.op), (16, 16), (24, 24), **settings)
    torch.manual_seed(1)
    # A tiny DRUNet with random weights (no weights can be downloaded: it tests agreement, not quality) and
    # DeepInv's TV denoiser (which reconstructs).
    # A fresh TV denoiser per run (it keeps its dual variables between calls), with a fixed iteration count.
    drunet = dinv.models.DRUNet(1, 1, nc=[8, 8, 8, 8], nb=1, pretrained=None).eval()
    make_net = (lambda: drunet) if denoiser == "drunet" else (lambda: dinv.models.TVDenoiser(n_it_max=100, crit=0.0))  # noqa: E731
    truth = torch.from_numpy(pnpdist.shepp_logan((16, 16)))[None, None]
    y = own.A(truth) + 0.01 * torch.randn(1, 1, 24, 24)
    assert float((ours.A(truth) - own.A(truth)).abs().max()) < 1e-5 * float(own.A(truth).abs().max())
    if algorithm == "PGD":
        step = 0.99 / float(ours.compute_sqnorm(torch.rand(1, 1, 16, 16), verbose=False))
        g_param = 0.02 if denoiser == "drunet" else 0.003
        model = lambda: optim_builder(iteration="PGD", prior=PnP(denoiser=make_net()), data_fidelity=L2(),  # noqa: E731
                                      params_algo={"stepsize": step, "g_param": g_param, "lambda": 1.0},
                                      max_iter=20 if denoiser == "drunet" else 100, early_stop=False)
        init = torch.zeros_like(truth)
    else:
        model = lambda: DPIR(sigma=0.01, denoiser=make_net())  # noqa: E731
        init = None
    with torch.no_grad():
        a = model()(y, ours, init=init)
        b = model()(y, own, init=init)
    diff = float((a - b).norm() / b.norm())
    # Measured: PGD 1.1e-7 (DRUNet), 3.4e-6 (TV); DPIR 9.9e-6 (DRUNet), 2.6e-4 (TV: 100 TV iterations per step
    # amplify the float32 round-off by which the matrix product and the projector differ).
    assert diff < (1e-4 if algorithm == "PGD" or denoiser == "drunet" else 1e-3), diff
    if denoiser == "tv":  # it reconstructs: closer to the truth than A^T y scaled at its best
        aty = ours.A_adjoint(y)
        scaled = aty * float((aty * truth).sum() / (aty * aty).sum())
        assert float((a - truth).norm()) < 0.5 * float((scaled - truth).norm())
