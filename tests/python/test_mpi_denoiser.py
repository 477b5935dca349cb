"""pnpdist.mpi.DistributedDenoiser against the tiled DRUNet and pnpdist.pnp computed on every rank. Run as a plain
process (a singleton of size 1) and under mpirun -np 2 and 3, like test_mpi.py, whose rules it follows: every rank
runs the same tests in the same order, the collectives of a test before its assertions.

The DistributedDenoiser reassembles disjoint tile cores with one sum over the ranks, each sample a sum of one value
and zeros, and each tile is denoised as on one process: its output is asserted equal to the tiled DRUNet's bit for
bit, whatever tile_batch. PnP with it: as for the distributed projectors (test_mpi.py).
"""

import numpy as np
import pytest

import pnpdist
import pnpdist.mpi as mpi
from conftest import GRAY_WEIGHTS as GRAY
from mpi_support import ALGORITHMS, COMM


def _noisy(shape, seed=5):
    """A phantom with noise, the same on every rank."""
    image = pnpdist.shepp_logan(shape[-2:])
    noisy = image + 0.05 * np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return np.ascontiguousarray(noisy, dtype=np.float32)


@pytest.mark.parametrize("tile_batch", [0, 1, 2])
def test_distributed_denoiser_equals_the_tiled_drunet_bit_for_bit(ct_problem, tile_batch):
    """40 x 48 with 16 x 16 tiles: 3 x 3 tiles per image, dealt in contiguous shares (5 + 4 on 2 ranks, 3 + 3 + 3 on
    3); the cores are disjoint, so the sum over the ranks reassembles the one-process result exactly."""
    net = ct_problem[4]
    dist = mpi.DistributedDenoiser(net, COMM, tile=16, overlap=8, tile_batch=tile_batch)
    x = _noisy((40, 48))
    batch = np.stack([x, x[::-1].copy()])[:, None]  # (2, 1, 40, 48): 18 tiles
    y = dist(x, 0.05)  # collective
    out = np.empty_like(batch)
    y_batch = dist.denoise(batch, 0.05, out=out)  # collective
    tiled = pnpdist.DRUNet(GRAY, tile=16, overlap=8, tile_batch=tile_batch)
    sizes = [9 // COMM.size + (r < 9 % COMM.size) for r in range(COMM.size)]
    assert dist.local_tiles(x.shape) == (sum(sizes[:COMM.rank]), sizes[COMM.rank])
    assert dist.local_tiles(batch.shape)[1] in (18 // COMM.size, 18 // COMM.size + 1)
    assert np.array_equal(y, tiled(x, 0.05))
    assert y_batch is out and np.array_equal(out, tiled(batch, 0.05))
    assert isinstance(dist, pnpdist.DRUNet) and dist.tiled and dist.dim == 2 and dist.communicator.size == COMM.size


def test_distributed_denoiser_on_a_sub_communicator_and_in_3d(ct_problem):
    net = ct_problem[4]
    sub = COMM.split(COMM.rank % 2)
    dist = mpi.DistributedDenoiser(net, sub, tile=16, overlap=8)
    x = _noisy((40, 48), seed=6 + COMM.rank % 2)  # each group its own image
    y = dist(x, 0.1)  # collective over the group
    volume = pnpdist.DRUNet(GRAY, dim=3)
    dist3 = mpi.DistributedDenoiser(volume, COMM, tile=8, overlap=2)
    v = _noisy((8, 16, 16), seed=7)
    y3 = dist3(v, 0.1)  # 1 x 2 x 2 tiles of 8^3 over the world
    assert np.array_equal(y, pnpdist.DRUNet(GRAY, tile=16, overlap=8)(x, 0.1))
    assert np.array_equal(y3, pnpdist.DRUNet(GRAY, dim=3, tile=8, overlap=2)(v, 0.1))
    assert dist3.dim == 3 and dist.communicator.size == sub.size


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_pnp_with_the_distributed_denoiser_equals_the_one_process_solve(ct_problem, algorithm):
    """The distributed denoiser with the whole projector on every rank is the tiled DRUNet's solve bit for bit (the
    data steps are the same computation on every rank); with the DistributedProjector2D too, it is within the
    projector's tolerance (the gradient's sums regroup)."""
    truth, g, A, y, net = ct_problem
    x0 = pnpdist.fbp(g, y)
    dist = mpi.DistributedDenoiser(net, COMM, tile=16, overlap=8)
    op = mpi.DistributedProjector2D(g, COMM.size, COMM)
    both = pnpdist.pnp(op, op.local_rows(y), dist, ALGORITHMS[algorithm](), iterations=4, x0=x0, clip=(0, 1))
    whole = pnpdist.pnp(A, y, dist, ALGORITHMS[algorithm](), iterations=4, x0=x0, clip=(0, 1))
    root_x = both["x"].copy()
    COMM.broadcast(root_x)
    reference = pnpdist.pnp(A, y, pnpdist.DRUNet(GRAY, tile=16, overlap=8), ALGORITHMS[algorithm](), iterations=4,
                            x0=x0, clip=(0, 1))
    assert np.array_equal(whole["x"], reference["x"])
    assert np.array_equal(both["x"], root_x)
    assert np.abs(both["x"] - reference["x"]).max() <= 1e-5 * np.abs(reference["x"]).max()
    if COMM.size == 1:
        assert np.array_equal(both["x"], reference["x"])
    assert np.abs(both["x"] - x0).max() > 0.05


def test_distributed_denoiser_refuses_bad_arguments(ct_problem):
    truth, g, A, y, net = ct_problem
    with pytest.raises(ValueError, match="tile=16 is smaller than overlap=32: the context on each side of a tile"):
        mpi.DistributedDenoiser(net, COMM, tile=16)  # overlap defaults to 32
    with pytest.raises(ValueError, match="tile must be > 0, got 0"):
        mpi.DistributedDenoiser(net, COMM, tile=0, overlap=0)
    with pytest.raises(ValueError, match="overlap must be >= 0, got -1"):
        mpi.DistributedDenoiser(net, COMM, tile=16, overlap=-1)
    with pytest.raises(ValueError, match="tile_batch must be >= 0"):
        mpi.DistributedDenoiser(net, COMM, tile=16, overlap=8, tile_batch=-1)
    with pytest.raises(TypeError, match="communicator: pnpdist._pnpdist.Communicator"):
        mpi.DistributedDenoiser(net, None, tile=16, overlap=8)
    with pytest.raises(TypeError):
        mpi.DistributedDenoiser("weights/drunet_gray.safetensors", COMM, tile=16, overlap=8)
    dist = mpi.DistributedDenoiser(net, COMM, tile=16, overlap=8)
    with pytest.raises(ValueError, match="x has 2 channel"):
        dist(np.zeros((2, 32, 32), np.float32), 0.1)
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        dist(np.zeros((32, 32), np.float32), -1.0)
    with pytest.raises(ValueError, match="shape must have 2 to 4 axes"):
        dist.local_tiles((32,))
    if COMM.size > 1:  # the other ranks pass another image (values, then shape) than rank 0: every rank raises
        others = COMM.size - 1
        x = np.zeros((32, 32), np.float32)
        x[0, 0] = COMM.rank
        with pytest.raises(ValueError, match=r"x differs from rank 0's \(shape or values\) on %d rank\(s\)" % others):
            dist(x, 0.1)
        with pytest.raises(ValueError, match=r"x differs from rank 0's \(shape or values\) on %d rank\(s\)" % others):
            dist(np.zeros((32, 32 + (COMM.rank > 0) * 8), np.float32), 0.1)
    z = dist(np.zeros((32, 32), np.float32), 0.1)  # still usable: nothing was left pending
    assert z.shape == (32, 32)


PSF_SIGMAS = (0.8, 1.2, 1.6, 2.0, 2.6)
