"""pnpdist.mpi.DistributedOperator against the whole stack and pnpdist.pnp computed on every rank. Run as a plain
process (a singleton of size 1) and under mpirun -np 2 and 3, like test_mpi.py, whose rules it follows: every rank
runs the same tests in the same order, the collectives of a test before its assertions.

DistributedOperator is asserted on 5 Gaussian blurs dealt round robin (blur i on rank i mod size, each rank's
stacked): its rows are the whole stack's bit for bit; its adjoint and gradient sum the same 5 per-blur terms t_i
(each computed as on one process) in another grouping, asserted within 2 (5 - 1) 2^-24 sum |t_i| per pixel of
their float64 sum (measured: at most 29% of it on 1 to 3 ranks); f(x) in double within relative 1e-12 (measured:
1.6e-16); PnP as for the projectors (1e-5 max |x_1|, measured: 4.2e-7 at most; bit for bit on one process). A DistributedOperator of this rank's blocks of a projector (a StackedOperator of their Joseph
projectors) sums the same terms in the same order as DistributedProjector2D: the same gradient bit for bit.
"""

import numpy as np
import pytest

import pnpdist
import pnpdist.mpi as mpi
from conftest import parallel_geometry
from mpi_support import ALGORITHMS, COMM, EPS32

PSF_SIGMAS = (0.8, 1.2, 1.6, 2.0, 2.6)


def _blur_problem(shape=(32, 32), seed=8):
    """The 5 Gaussian blurs of `shape`, this rank's indices i = rank, rank + size, ..., their DistributedOperator,
    and a truth with its noisy measurements (5, *shape), the same on every rank."""
    blurs = [pnpdist.Blur(pnpdist.gaussian_psf(s), shape) for s in PSF_SIGMAS]
    mine = list(range(COMM.rank, len(blurs), COMM.size))
    op = mpi.DistributedOperator(pnpdist.StackedOperator([blurs[i] for i in mine], layout="stack"), COMM)
    truth = np.ascontiguousarray(np.broadcast_to(pnpdist.shepp_logan(shape[-2:]), shape), dtype=np.float32)
    clean = np.stack([b(truth) for b in blurs])
    y = (clean + 0.03 * np.random.default_rng(seed).standard_normal(clean.shape)).astype(np.float32)
    return blurs, mine, op, truth, y


def _float32_sum_bound(terms):
    """2 (n - 1) 2^-24 sum |t_i|: the round-off of a float32 sum of the n terms in any grouping."""
    return 2 * (len(terms) - 1) * EPS32 * np.abs(np.stack(terms).astype(np.float64)).sum(0) + 1e-30


def test_distributed_operator_forward_is_its_rows_of_the_whole_stack():
    blurs, mine, op, truth, _ = _blur_problem()
    whole = pnpdist.StackedOperator(blurs, layout="stack")
    rows = op(truth)  # not collective
    assert isinstance(op, pnpdist.LinearOperator) and op.communicator.size == COMM.size
    assert op.domain_shape == (32, 32) and op.range_shape == (len(mine), 32, 32) == op.local.range_shape
    assert [m.domain_shape for m in op.local.operators] == [(32, 32)] * len(mine)
    assert np.array_equal(rows, whole(truth)[mine])


@pytest.mark.parametrize("shape", [(32, 32), (3, 24, 24)])
def test_distributed_operator_adjoint_gradient_and_data_fidelity_equal_the_whole_stack(shape):
    blurs, mine, op, _, y = _blur_problem(shape)
    x = np.random.default_rng(9).random(shape, dtype=np.float32)
    gradient = op.gradient(x, y[mine])  # collective
    fidelity = op.data_fidelity(x, y[mine])  # collective
    adjoint = op.adjoint(y[mine])  # collective
    normal = op.normal(x)  # collective: A^T A x
    whole = pnpdist.StackedOperator(blurs, layout="stack")
    residual = whole(x) - y
    terms = [b.adjoint(r) for b, r in zip(whole.operators, residual)]  # each as on the rank that owns it
    assert np.all(np.abs(gradient - np.sum(terms, axis=0, dtype=np.float64)) <= _float32_sum_bound(terms))
    assert fidelity == pytest.approx(0.5 * float(np.sum(residual.astype(np.float64) ** 2)), rel=1e-12)
    terms = [b.adjoint(r) for b, r in zip(whole.operators, y)]
    assert np.all(np.abs(adjoint - np.sum(terms, axis=0, dtype=np.float64)) <= _float32_sum_bound(terms))
    terms = [b.adjoint(b(x)) for b in whole.operators]
    assert np.all(np.abs(normal - np.sum(terms, axis=0, dtype=np.float64)) <= _float32_sum_bound(terms))
    if COMM.size == 1:  # one rank holds the whole stack
        assert np.array_equal(gradient, whole.adjoint(residual)) and np.array_equal(adjoint, whole.adjoint(y))


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_pnp_on_a_distributed_operator_equals_the_one_process_solve(ct_problem, algorithm):
    net = ct_problem[4]
    blurs, mine, op, truth, y = _blur_problem()
    x0 = np.ascontiguousarray(y.mean(axis=0))
    result = pnpdist.pnp(op, y[mine], net, ALGORITHMS[algorithm](), iterations=4, x0=x0, clip=(0, 1), truth=truth)
    root_x = result["x"].copy()
    COMM.broadcast(root_x)  # rank 0's iterate on every rank
    whole = pnpdist.StackedOperator(blurs, layout="stack")
    reference = pnpdist.pnp(whole, y, net, ALGORITHMS[algorithm](), iterations=4, x0=x0, clip=(0, 1), truth=truth)
    assert np.array_equal(result["x"], root_x)  # every rank holds the same x
    assert np.abs(result["x"] - reference["x"]).max() <= 1e-5 * np.abs(reference["x"]).max()
    for mine_record, theirs in zip(result["records"], reference["records"]):
        assert mine_record["data_fidelity"] == pytest.approx(theirs["data_fidelity"], rel=1e-4)
        assert mine_record["psnr"] == pytest.approx(theirs["psnr"], abs=1e-3)
    assert result["iterations"] == 4 and np.abs(result["x"] - x0).max() > 0.05  # the iterations moved
    if COMM.size == 1:  # one process: the single-process solve itself
        assert np.array_equal(result["x"], reference["x"])


def test_distributed_operator_of_projector_blocks_is_the_distributed_projector():
    g = parallel_geometry(n=32, views=30)
    k = 2 * COMM.size + 1
    blocks = pnpdist.split_views(g, k)
    local = pnpdist.StackedOperator([pnpdist.JosephProjector2D(blocks[b]) for b in range(COMM.rank, k, COMM.size)])
    op = mpi.DistributedOperator(local, COMM)
    reference = mpi.DistributedProjector2D(g, k, COMM)
    rng = np.random.default_rng(11)
    x = rng.random((32, 32), dtype=np.float32)
    A = pnpdist.JosephProjector2D(g)
    y = (A(pnpdist.shepp_logan((32, 32))) + 0.1 * rng.standard_normal(A.range_shape)).astype(np.float32)
    rows = reference.local_rows(y)
    gradients = op.gradient(x, rows), reference.gradient(x, rows)  # collective
    fidelities = op.data_fidelity(x, rows), reference.data_fidelity(x, rows)  # collective
    adjoints = op.adjoint(rows), reference.adjoint(rows)  # collective
    assert op.range_shape == reference.range_shape and np.array_equal(op(x), reference(x))
    assert np.array_equal(*gradients) and np.array_equal(*adjoints)
    assert fidelities[0] == pytest.approx(fidelities[1], rel=1e-12)


def test_distributed_operator_refuses_bad_arguments_on_every_rank(ct_problem):
    net = ct_problem[4]
    blurs, mine, op, truth, y = _blur_problem()
    psf = pnpdist.gaussian_psf(1.0)
    if COMM.size > 1:  # rank 1's local has another domain: every rank raises naming the shapes
        shape = (32, 31) if COMM.rank == 1 else (32, 32)
        with pytest.raises(ValueError, match=r"every rank's local must have the same domain: rank 0's is \(32, 32\), "
                                             r"rank 1's \(32, 31\)$"):
            mpi.DistributedOperator(pnpdist.Blur(psf, shape), COMM)
    # Only rank 0's local is refused: rank 0 raises naming it, the others ValueError, none waits.
    cases = [(pnpdist.Blur(pnpdist.gaussian_psf(1.0, dtype="float64"), (32, 32)), TypeError,
              r"local must be a float32 operator \(the solvers' type\), got float64 .*Blur on rank 0"),
             ("blur", TypeError, "local must be a pnpdist.LinearOperator, got str on rank 0"),
             (op, TypeError, "local must be this rank's own operator, got a distributed .*DistributedOperator"),
             (pnpdist.Blur(psf, (1, 1, 32, 32)), ValueError,
              r"local's domain must be 2D or 3D, got \(1, 1, 32, 32\) on rank 0")]
    for bad, error, message in cases:
        expected = (error, message) if COMM.rank == 0 else (ValueError, r"DistributedOperator: 1 other rank\(s\) "
                                                                        r"refused their arguments")
        with pytest.raises(expected[0], match=expected[1]):
            mpi.DistributedOperator(bad if COMM.rank == 0 else blurs[0], COMM)
    with pytest.raises(TypeError):
        mpi.DistributedOperator(blurs[0], None)
    wrong = np.zeros((len(mine) + 1, 32, 32), np.float32)
    expected = r"y must have shape \(%d, 32, 32\) \(this rank's rows: local's range\)" % len(mine)
    with pytest.raises(ValueError, match=expected):
        op.gradient(truth, wrong)
    with pytest.raises(ValueError, match=expected):
        op.data_fidelity(truth, wrong)
    with pytest.raises(ValueError, match=expected):
        pnpdist.pnp(op, wrong, net, pnpdist.ProximalGradient())
    with pytest.raises(ValueError, match=r"a 2D network of 1 channel\(s\) takes a domain \(1, H, W\)"):
        pnpdist.pnp(_blur_problem((3, 24, 24))[2], np.zeros((len(mine), 3, 24, 24), np.float32), net,
                    pnpdist.ProximalGradient())
    assert op.data_fidelity(truth, y[mine]) >= 0  # still usable: nothing was left pending
