"""Shared helpers of the Python tests: repository paths, small geometries, the dot-product adjoint test, whether
mpirun started this process, the deepinv fixture (the DeepInv module, seeded; tests that use it are skipped
without DeepInv or torch)."""

import math
import os
import pathlib

import numpy as np
import pytest

import pnpdist

ROOT = pathlib.Path(__file__).resolve().parents[2]
WEIGHTS = ROOT / "weights"
NN_FIXTURES = ROOT / "tests" / "fixtures" / "nn"

# A process that mpirun started (even with -np 1): its children inherit the job's environment and cannot
# initialize MPI on their own, so the checks that start fresh interpreters run only without mpirun.
STARTED_BY_MPIRUN = any(name in os.environ for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"))


def parallel_geometry(n=32, views=24, cols=None):
    angles = np.linspace(0, math.pi, views, endpoint=False)
    return pnpdist.parallel_beam_2d(angles, cols or int(1.5 * n), (n, n))


def fan_geometry(n=32, views=30, cols=None):
    angles = np.linspace(0, 2 * math.pi, views, endpoint=False)
    return pnpdist.fan_beam_2d(angles, cols or 2 * n, 4.0 * n, 2.0 * n, (n, n))


def with_noise(y, level, seed):
    """y plus Gaussian noise of standard deviation level x max |y| (numpy's generator of `seed`), float32."""
    return (y + level * float(np.abs(y).max()) * np.random.default_rng(seed).standard_normal(y.shape)).astype(
        np.float32)


def shepp_logan_ct(n=32, views=30, cols=48, seed=0):
    """The n x n Shepp-Logan phantom, a parallel geometry of `views` views over [0, pi) and `cols` bins, its
    projector and the sinogram with 2% noise (with_noise): (truth, geometry, projector, y)."""
    truth = pnpdist.shepp_logan((n, n))
    g = pnpdist.parallel_beam_2d(np.linspace(0, math.pi, views, endpoint=False), cols, (n, n))
    A = pnpdist.JosephProjector2D(g)
    return truth, g, A, with_noise(A(truth), 0.02, seed)


GRAY_WEIGHTS = str(WEIGHTS / "drunet_gray.safetensors")


@pytest.fixture(scope="module")
def ct_problem():
    """(truth, geometry, projector, y, DRUNet): shepp_logan_ct with the shipped gray DRUNet."""
    return (*shepp_logan_ct(), pnpdist.DRUNet(GRAY_WEIGHTS))


def adjoint_mismatch(op, seed=0):
    """|<A x, y> - <x, A^T y>| / (|A x| |y|) for random x, y of the operator's dtype."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(op.domain_shape).astype(op.dtype)
    y = rng.standard_normal(op.range_shape).astype(op.dtype)
    ax, aty = op.forward(x), op.adjoint(y)
    lhs = float(np.dot(ax.ravel().astype(np.float64), y.ravel().astype(np.float64)))
    rhs = float(np.dot(x.ravel().astype(np.float64), aty.ravel().astype(np.float64)))
    return abs(lhs - rhs) / (np.linalg.norm(ax) * np.linalg.norm(y))


@pytest.fixture(params=["parallel", "fan"])
def geometry(request):
    return parallel_geometry() if request.param == "parallel" else fan_geometry()


@pytest.fixture(scope="module")
def dinv():
    torch = pytest.importorskip("torch")
    deepinv = pytest.importorskip("deepinv")
    torch.manual_seed(0)
    return deepinv
