"""Checkpoints of distributed PnP solves (pnpdist.mpi): each rank writes its own file (`checkpoint` itself on one
process, `checkpoint.rank<r>` on more), the ranks agree on the iteration to resume from, and a run interrupted on
every rank and called again ends with the uninterrupted run's iterate and records bit for bit: on a
DistributedProjector2D, a DistributedOperator (blurs dealt round robin) and the whole projector with a
DistributedDenoiser, for PnP-PGD (its step restored) and PnP-HQS. A checkpoint path refused on one rank is refused
on every rank, and a rank whose checkpoint belongs to another problem makes every rank refuse. Run as a plain
process (python_test_mpi_checkpoint) and under mpirun -np 2 and 3 (_np2, _np3); each rank passes a path in its
own temporary folder, as on nodes without a shared file system."""

import math

import numpy as np
import pytest

import pnpdist
import pnpdist.mpi as mpi
from conftest import WEIGHTS, shepp_logan_ct

COMM = mpi.world()
GRAY = str(WEIGHTS / "drunet_gray.safetensors")
ITERATIONS, EVERY, INTERRUPT_AT = 6, 2, 5  # the checkpoint of iteration 4 is the one resumed from
FIELDS = ["iteration", "data_fidelity", "psnr", "relative_change", "denoiser_sigma", "data_step_iterations"]
ALGORITHMS = {
    "pgd": lambda: pnpdist.ProximalGradient(sigma=0.02),
    "hqs": lambda: pnpdist.HalfQuadraticSplitting(sigma_start=0.05, sigma_end=0.02, schedule_iterations=4,
                                                  noise_level=1.0, data_weight=1.0, cg_iterations=60,
                                                  cg_tolerance=1e-6),
}


class Stop(Exception):
    pass


@pytest.fixture(scope="module")
def net():
    return pnpdist.DRUNet(GRAY)


def ct_case(net, distributed_denoiser):
    truth, g, A, y = shepp_logan_ct()
    if distributed_denoiser:  # the whole projector on every rank, the tiles dealt to the ranks
        return A, y, mpi.DistributedDenoiser(net, COMM, tile=16, overlap=8), truth, pnpdist.fbp(g, y)
    op = mpi.DistributedProjector2D(g, 2 * COMM.size, COMM)
    return op, op.local_rows(y), net, truth, pnpdist.fbp(g, y)


def blur_case(net):
    blurs = [pnpdist.Blur(pnpdist.gaussian_psf(s), (32, 32)) for s in (0.8, 1.2, 1.6, 2.0, 2.4)]
    mine = list(range(COMM.rank, len(blurs), COMM.size))
    op = mpi.DistributedOperator(pnpdist.StackedOperator([blurs[i] for i in mine], layout="stack"), COMM)
    truth = pnpdist.shepp_logan((32, 32))
    clean = np.stack([b(truth) for b in blurs])
    y = (clean + 0.03 * np.random.default_rng(8).standard_normal(clean.shape)).astype(np.float32)
    return op, y[mine], net, truth, np.ascontiguousarray(y.mean(axis=0))


CASES = {"projector": lambda net: ct_case(net, False), "denoiser": lambda net: ct_case(net, True),
         "operator": blur_case}


def this_ranks_file(path):
    return path if COMM.size == 1 else path.with_name(path.name + f".rank{COMM.rank}")


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_interrupted_distributed_solve_resumes_to_the_uninterrupted_result(net, tmp_path, case, algorithm):
    op, y, prior, truth, x0 = CASES[case](net)
    run = dict(iterations=ITERATIONS, x0=x0, clip=(0, 1), truth=truth)
    reference = pnpdist.pnp(op, y, prior, ALGORITHMS[algorithm](), **run)  # collective
    path = tmp_path / "solve.ckpt"

    def interrupt(record, iterate):  # on every rank at the same iteration: no rank is left in a collective
        if record["iteration"] == INTERRUPT_AT:
            raise Stop("interrupted")

    with pytest.raises(Stop, match="interrupted"):
        pnpdist.pnp(op, y, prior, ALGORITHMS[algorithm](), observer=interrupt, checkpoint=path,
                    checkpoint_every=EVERY, **run)
    assert this_ranks_file(path).is_file()
    assert COMM.size == 1 or not path.exists()  # several ranks never write the bare path
    seen = []
    result = pnpdist.pnp(op, y, prior, ALGORITHMS[algorithm](), observer=lambda record, x: seen.append(record["iteration"]),
                         checkpoint=path, checkpoint_every=EVERY, **run)
    resumed_at = (INTERRUPT_AT - 1) // EVERY * EVERY
    assert result["resumed_from"] == resumed_at and seen == list(range(resumed_at + 1, ITERATIONS + 1))
    assert np.array_equal(result["x"], reference["x"])
    assert result["step"] == reference["step"] or math.isnan(result["step"]) and math.isnan(reference["step"])
    assert len(result["records"]) == len(reference["records"]) == ITERATIONS
    for got, want in zip(result["records"], reference["records"]):
        for field in FIELDS:
            assert got[field] == want[field] or math.isnan(got[field]) and math.isnan(want[field]), (field, got, want)
    assert np.abs(result["x"] - x0).max() > 0.05  # the iterations moved away from the start


def test_a_checkpoint_path_refused_on_one_rank_is_refused_on_every_rank(net, tmp_path):
    op, y, prior, truth, x0 = CASES["projector"](net)
    path = tmp_path / ("missing" if COMM.rank == 0 else ".") / "solve.ckpt"
    expected = ((pnpdist.IoError, "its folder .*missing does not exist") if COMM.rank == 0
                else (ValueError, r"pnpdist.pnp checkpoint: 1 other rank\(s\) refused their arguments"))
    with pytest.raises(expected[0], match=expected[1]):
        pnpdist.pnp(op, y, prior, pnpdist.ProximalGradient(), iterations=2, checkpoint=path, checkpoint_every=1)
    with pytest.raises(ValueError, match="checkpoint_every must be >= 0, got -1"):  # the same on every rank
        pnpdist.pnp(op, y, prior, pnpdist.ProximalGradient(), iterations=2, checkpoint=tmp_path / "a.ckpt",
                    checkpoint_every=-1)
    assert pnpdist.pnp(op, y, prior, pnpdist.ProximalGradient(), iterations=1)["iterations"] == 1  # nothing pending


def test_a_checkpoint_of_another_problem_on_one_rank_is_refused_on_every_rank(net, tmp_path):
    op, y, prior, truth, x0 = CASES["operator"](net)
    path = tmp_path / "solve.ckpt"
    pnpdist.pnp(op, y, prior, pnpdist.ProximalGradient(sigma=0.02), iterations=2, x0=x0, checkpoint=path,
                checkpoint_every=1)
    other = y.copy()
    if COMM.rank == COMM.size - 1:
        other[0, 0, 0] += 1  # the last rank's rows differ from those its checkpoint was written for
    expected = ((pnpdist.InvalidArgument, "does not match this solve: .*for another problem")
                if COMM.rank == COMM.size - 1 else
                (pnpdist.InvalidArgument, "the checkpoint of another rank cannot be resumed from"))
    with pytest.raises(expected[0], match=expected[1]):
        pnpdist.pnp(op, other, prior, pnpdist.ProximalGradient(sigma=0.02), iterations=3, x0=x0, checkpoint=path,
                    checkpoint_every=1)
    resumed = pnpdist.pnp(op, y, prior, pnpdist.ProximalGradient(sigma=0.02), iterations=3, x0=x0, checkpoint=path,
                          checkpoint_every=1)
    assert resumed["resumed_from"] == 2 and resumed["iterations"] == 3


@pytest.mark.skipif(COMM.size == 1, reason="needs two groups of processes")
def test_a_distributed_operator_and_denoiser_on_different_groups_are_refused_on_every_rank(net):
    """The denoiser's group has the world's ranks in reverse order: every rank whose two ranks differ raises naming
    them, the others (the middle rank of an odd world) raise that other ranks refused."""
    op, y, _, truth, x0 = CASES["projector"](net)
    reversed_world = COMM.split(0, COMM.size - 1 - COMM.rank)
    dist = mpi.DistributedDenoiser(net, reversed_world, tile=16, overlap=8)
    mine = COMM.size - 1 - COMM.rank
    expected = (f"the operator runs on rank {COMM.rank} of {COMM.size} but the DistributedDenoiser on rank {mine} of "
                f"{COMM.size}; both must use the same group" if mine != COMM.rank else
                r"pnpdist.pnp: 2 other rank\(s\) refused their arguments")
    with pytest.raises(ValueError, match=expected):
        pnpdist.pnp(op, y, dist, pnpdist.ProximalGradient(), iterations=1)
    assert pnpdist.pnp(op, y, net, pnpdist.ProximalGradient(), iterations=1)["iterations"] == 1  # nothing pending
