"""pnpdist.mpi: the world communicator and its splits, DistributedProjector2D / 3D and the distributed PnP solve, against the single-process operator, the tiled DRUNet and pnpdist.pnp computed on every
rank. Run as a plain process (a singleton of size 1, CTest python_test_mpi) and under mpirun -np 2 and 3
(python_test_mpi_np2/np3). Every rank runs the same tests in the same order; the collectives of a test come before
its assertions, so a failed assertion on one rank never leaves the others waiting.

Tolerances. The distributed gradient sums the same per-view terms as the whole projector's adjoint (each view's
projection and back projection are computed identically by the block's projector), only grouped differently
(block sums, then the allreduce over ranks). Two float32 sums of the same V terms in any order differ by at most
2 (V - 1) 2^-24 sum |terms| per pixel, and sum |terms| = (A^T |r|) since Joseph's weights are non-negative; the
gradient is asserted within that bound (measured: at most 9% of it). f(x) sums the same per-view squared
residuals (the rows are projected bit for bit as by the whole projector) in double, grouped differently: relative
1e-12 (measured: 2e-16). PnP iterates go through DRUNet, which amplifies these differences (the C++
distributed PnP test allows 1e-4 after 10 iterations): after 4 iterations max |x_P - x_1| <= 1e-5 max |x_1|
(measured: at most 4.4e-7 on 1 to 3 ranks). On one process with one block the distributed solve is the
single-process solve and is asserted bit for bit. DistributedProjector3D is asserted as the 2D operator, with
the same bounds (V = 12 views of a 16^3 volume). DistributedDenoiser: test_mpi_denoiser.py; DistributedOperator:
test_mpi_operator.py.

"""

import ast
import math
import os
import pathlib

import numpy as np
import pytest

import pnpdist
import pnpdist.mpi as mpi
from conftest import GRAY_WEIGHTS as GRAY
from conftest import STARTED_BY_MPIRUN, fan_geometry, parallel_geometry, with_noise
from mpi_support import ALGORITHMS, COMM, EPS32



def test_world_is_the_job():
    expected = int(os.environ.get("OMPI_COMM_WORLD_SIZE", os.environ.get("PMI_SIZE", "1")))
    assert COMM.size == expected and 0 <= COMM.rank < COMM.size
    assert repr(COMM) == f"pnpdist.mpi.Communicator(rank={COMM.rank}, size={COMM.size})"
    COMM.barrier()
    a = np.full(5, COMM.rank + 1, dtype=np.float32)
    b = np.full((2, 3), -COMM.rank, dtype=np.float64)
    COMM.broadcast(a, root=COMM.size - 1)
    COMM.broadcast(b)
    assert np.array_equal(a, np.full(5, COMM.size, dtype=np.float32)) and not b.any()


def test_broadcast_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"root must be a rank in \[0, "):
        COMM.broadcast(np.zeros(3, np.float32), root=COMM.size)
    with pytest.raises(ValueError, match="read-only|writable"):
        COMM.broadcast(_read_only())
    if COMM.size > 1:  # rank 0 holds 3 elements, the others 4: every rank raises
        with pytest.raises(ValueError, match="rank\\(s\\) hold an array of another size than root's"):
            COMM.broadcast(np.zeros(3 if COMM.rank == 0 else 4, np.float32))


def _read_only():
    a = np.zeros(3, np.float32)
    a.flags.writeable = False
    return a


def _check_dealing_and_rows(op, whole_operator, k):
    """The blocks of `op` (k of them) dealt round robin, contiguous, covering the views, and its rows (forward and
    local_rows) equal to the whole operator's rows of this rank's views, bit for bit."""
    g = op.geometry
    views = [v for b in op.local_blocks for v in range(*op.block_views[b])]
    assert op.blocks == k and op.local_blocks == [b for b in range(k) if b % COMM.size == COMM.rank]
    assert op.block_views[0][0] == 0 and op.block_views[-1][1] == g.views
    assert all(op.block_views[i][1] == op.block_views[i + 1][0] for i in range(k - 1))
    assert op.range_shape == (len(views), *whole_operator.range_shape[1:])
    assert op.domain_shape == whole_operator.domain_shape and op.communicator.rank == COMM.rank
    x = pnpdist.shepp_logan(op.domain_shape)
    whole = whole_operator(x)
    assert np.abs(whole[views]).max() > 0
    assert np.array_equal(op.local_rows(whole), whole[views])
    assert np.array_equal(op(x), whole[views])  # each view projected as by the whole projector


def _check_against_the_whole_operator(op, A, seed):
    """gradient, data_fidelity and adjoint (collective) against the whole operator A, within the bounds of the
    module docstring (V = the geometry's views)."""
    v = op.geometry.views
    rng = np.random.default_rng(seed)
    x = rng.random(op.domain_shape, dtype=np.float32)
    y = (A(pnpdist.shepp_logan(op.domain_shape)) + 0.1 * rng.standard_normal(A.range_shape)).astype(np.float32)
    rows = op.local_rows(y)
    gradient = op.gradient(x, rows)  # collective
    fidelity = op.data_fidelity(x, rows)  # collective
    adjoint = op.adjoint(rows)  # collective
    residual = A(x) - y
    reference = A.adjoint(residual)
    bound = 2 * v * EPS32 * A.adjoint(np.abs(residual)).astype(np.float64) + 1e-30
    assert np.all(np.abs(gradient.astype(np.float64) - reference) <= bound)
    assert np.abs(gradient - reference).max() > 0 or COMM.size == 1  # the bound is not vacuous: sums regroup
    assert fidelity == pytest.approx(0.5 * float(np.sum(residual.astype(np.float64) ** 2)), rel=1e-12)
    assert np.all(np.abs(adjoint.astype(np.float64) - A.adjoint(y)) <=
                  2 * v * EPS32 * A.adjoint(np.abs(y)).astype(np.float64) + 1e-30)


@pytest.mark.parametrize("blocks", [None, 5])
def test_blocks_are_dealt_round_robin_and_project_the_rows(blocks):
    g = parallel_geometry(n=32, views=24)
    op = mpi.DistributedProjector2D(g, blocks or COMM.size, COMM)
    assert op.range_shape[1:] == (g.detector_cols,) and op.domain_shape == (32, 32) and op.geometry.views == 24
    _check_dealing_and_rows(op, pnpdist.JosephProjector2D(g), blocks or COMM.size)


@pytest.mark.parametrize("beam", ["parallel", "fan"])
@pytest.mark.parametrize("blocks", [None, 7])
def test_gradient_and_data_fidelity_equal_the_whole_operator(beam, blocks):
    g = parallel_geometry(n=32, views=30) if beam == "parallel" else fan_geometry(n=32, views=30)
    _check_against_the_whole_operator(mpi.DistributedProjector2D(g, blocks or COMM.size, COMM),
                                      pnpdist.JosephProjector2D(g), seed=3)


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@pytest.mark.parametrize("blocks", [None, 4])
def test_pnp_equals_the_single_process_solve_on_every_rank(ct_problem, algorithm, blocks):
    truth, g, A, y, net = ct_problem
    x0 = pnpdist.fbp(g, y)
    op = mpi.DistributedProjector2D(g, blocks or COMM.size, COMM)
    seen = []
    result = pnpdist.pnp(op, op.local_rows(y), net, ALGORITHMS[algorithm](), iterations=4, x0=x0, clip=(0, 1),
                         truth=truth, observer=lambda record, x: seen.append(record["iteration"]))
    root_x = result["x"].copy()
    COMM.broadcast(root_x)  # rank 0's iterate on every rank
    reference = pnpdist.pnp(A, y, net, ALGORITHMS[algorithm](), iterations=4, x0=x0, clip=(0, 1), truth=truth)
    assert np.array_equal(result["x"], root_x)  # every rank holds the same x
    scale = np.abs(reference["x"]).max()
    assert np.abs(result["x"] - reference["x"]).max() <= 1e-5 * scale
    assert seen == [1, 2, 3, 4] and result["iterations"] == 4
    for mine, theirs in zip(result["records"], reference["records"]):
        assert mine["data_fidelity"] == pytest.approx(theirs["data_fidelity"], rel=1e-4)
        assert mine["psnr"] == pytest.approx(theirs["psnr"], abs=1e-3)
    assert np.abs(result["x"] - x0).max() > 0.05  # the iterations moved away from the start
    if COMM.size == 1 and op.blocks == 1:  # one process, one block: the single-process solve itself
        assert np.array_equal(result["x"], reference["x"])
        assert result["step"] == reference["step"] or math.isnan(result["step"]) and math.isnan(reference["step"])


def test_bad_input_raises_naming_the_problem(ct_problem):
    truth, g, A, y, net = ct_problem
    with pytest.raises(pnpdist.InvalidArgument, match=f"blocks={COMM.size - 1} is fewer than the {COMM.size} ranks"):
        mpi.DistributedProjector2D(g, COMM.size - 1, COMM)
    with pytest.raises(pnpdist.InvalidArgument, match="blocks=31 is more than the geometry's 30 views"):
        mpi.DistributedProjector2D(g, 31, COMM)
    with pytest.raises(TypeError):
        mpi.DistributedProjector2D(g, 2, "world")
    op = mpi.DistributedProjector2D(g, 3 * COMM.size, COMM)
    views = op.range_shape[0]
    wrong = np.zeros((views + 1, 48), np.float32)
    with pytest.raises(ValueError, match=r"y must have shape \(%d, 48\) \(this rank's rows" % views):
        op.gradient(truth, wrong)
    with pytest.raises(ValueError, match=r"y must have shape \(%d, 48\) \(this rank's rows" % views):
        pnpdist.pnp(op, wrong, net, pnpdist.ProximalGradient())
    with pytest.raises(ValueError, match=r"sinogram must have shape \(30, 48\)"):
        op.local_rows(np.zeros((30, 47), np.float32))
    with pytest.raises(TypeError, match="y"):
        op.data_fidelity(truth, op.local_rows(y).astype(np.float64))
    with pytest.raises(ValueError, match=r"x must have shape \(32, 32\)"):
        op.gradient(np.zeros((32, 31), np.float32), op.local_rows(y))


def _cone(kind="cone", n=16, views=12, det=24):
    """A 16^3 volume, 12 projections of 24 x 24: circular cone beam, the same as vectors, or parallel beam."""
    angles = np.linspace(0, 2 * math.pi if kind != "parallel" else math.pi, views, endpoint=False)
    if kind == "parallel":
        return pnpdist.parallel_beam_3d(angles, (det, det), (n, n, n))
    g = pnpdist.cone_beam(angles, (det, det), 4.0 * n, 2.0 * n, (n, n, n), detector_pixel_size=(1.5, 1.5))
    return g if kind == "cone" else pnpdist.Geometry3D.from_vectors("cone", g.vectors, (det, det), (n, n, n))


@pytest.mark.parametrize("kind", ["cone", "vectors", "parallel"])
@pytest.mark.parametrize("blocks", [None, 5])
def test_3d_blocks_are_dealt_round_robin_and_project_the_rows(kind, blocks):
    g = _cone(kind)
    op = mpi.DistributedProjector3D(g, blocks or COMM.size, COMM)
    assert op.range_shape[1:] == (24, 24) and op.domain_shape == (16, 16, 16) and op.geometry.views == 12
    assert op.geometry.beam == g.beam
    _check_dealing_and_rows(op, pnpdist.JosephProjector3D(g), blocks or COMM.size)


@pytest.mark.parametrize("kind", ["cone", "parallel"])
@pytest.mark.parametrize("blocks", [None, 7])
def test_3d_gradient_and_data_fidelity_equal_the_whole_operator(kind, blocks):
    g = _cone(kind)
    _check_against_the_whole_operator(mpi.DistributedProjector3D(g, blocks or COMM.size, COMM),
                                      pnpdist.JosephProjector3D(g), seed=4)


@pytest.fixture(scope="module")
def cone_problem():
    g = _cone()
    truth = pnpdist.shepp_logan((16, 16, 16))
    A = pnpdist.JosephProjector3D(g)
    return truth, g, A, with_noise(A(truth), 0.02, seed=1), pnpdist.DRUNet(GRAY, dim=3)


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@pytest.mark.parametrize("blocks", [None, 4])
def test_3d_pnp_equals_the_single_process_solve_on_every_rank(cone_problem, algorithm, blocks):
    """The 3D DRUNet, 3 iterations on the 16^3 volume."""
    truth, g, A, y, net = cone_problem
    x0 = np.clip(pnpdist.fdk(g, y), 0, 1)
    op = mpi.DistributedProjector3D(g, blocks or COMM.size, COMM)
    result = pnpdist.pnp(op, op.local_rows(y), net, ALGORITHMS[algorithm](), iterations=3, x0=x0, clip=(0, 1),
                         truth=truth)
    root_x = result["x"].copy()
    COMM.broadcast(root_x)  # rank 0's iterate on every rank
    reference = pnpdist.pnp(A, y, net, ALGORITHMS[algorithm](), iterations=3, x0=x0, clip=(0, 1), truth=truth)
    assert np.array_equal(result["x"], root_x)  # every rank holds the same x
    assert result["x"].shape == (16, 16, 16) and result["iterations"] == 3
    assert np.abs(result["x"] - reference["x"]).max() <= 1e-5 * np.abs(reference["x"]).max()
    for mine, theirs in zip(result["records"], reference["records"]):
        assert mine["data_fidelity"] == pytest.approx(theirs["data_fidelity"], rel=1e-4)
    assert np.abs(result["x"] - x0).max() > 0.05  # the iterations moved away from the start
    if COMM.size == 1 and op.blocks == 1:  # one process, one block: the single-process solve itself
        assert np.array_equal(result["x"], reference["x"])


def test_3d_bad_input_raises_naming_the_problem(cone_problem):
    truth, g, A, y, net = cone_problem
    with pytest.raises(pnpdist.InvalidArgument, match=f"blocks=0 is fewer than the {COMM.size} ranks"):
        mpi.DistributedProjector3D(g, 0, COMM)
    with pytest.raises(pnpdist.InvalidArgument, match=f"blocks=-1 is fewer than the {COMM.size} ranks"):
        mpi.DistributedProjector3D(g, -1, COMM)
    with pytest.raises(pnpdist.InvalidArgument, match="blocks=13 is more than the geometry's 12 views"):
        mpi.DistributedProjector3D(g, 13, COMM)
    with pytest.raises(TypeError):
        mpi.DistributedProjector3D(parallel_geometry(), 2, COMM)  # a 2D geometry
    with pytest.raises(TypeError):
        mpi.DistributedProjector2D(g, 2, COMM)  # a 3D geometry
    with pytest.raises(TypeError, match="communicator: pnpdist._pnpdist.Communicator"):
        mpi.DistributedProjector3D(g, 2, None)
    op = mpi.DistributedProjector3D(g, 3 * COMM.size, COMM)
    views = op.range_shape[0]
    wrong = np.zeros((views, 24, 23), np.float32)
    with pytest.raises(ValueError, match=r"y must have shape \(%d, 24, 24\) \(this rank's rows \(local views, "
                                         r"detector_rows, detector_cols\)" % views):
        op.gradient(truth, wrong)
    with pytest.raises(ValueError, match=r"y must have shape \(%d, 24, 24\) \(this rank's rows" % views):
        op.data_fidelity(truth, wrong)
    with pytest.raises(ValueError, match=r"y must have shape \(%d, 24, 24\) \(this rank's rows" % views):
        pnpdist.pnp(op, wrong, net, pnpdist.ProximalGradient())
    with pytest.raises(ValueError, match=r"projections must have shape \(12, 24, 24\) \(the whole projections"):
        op.local_rows(np.zeros((12, 24), np.float32))
    with pytest.raises(TypeError, match="projections"):
        op.local_rows(y.astype(np.float64))
    with pytest.raises(ValueError, match=r"x must have shape \(16, 16, 16\)"):
        op.gradient(np.zeros((16, 16), np.float32), op.local_rows(y))
    assert op.data_fidelity(truth, op.local_rows(y)) > 0  # still usable: nothing was left pending


def _groups(size, parts):
    """colour = rank % parts: the world ranks of each colour, in rank order."""
    return {c: [r for r in range(size) if r % parts == c] for c in range(min(parts, size))}


@pytest.mark.parametrize("key_order", ["rank", "reversed"])
def test_split_makes_groups_ranked_by_key(key_order):
    color = COMM.rank % 2
    members = _groups(COMM.size, 2)[color]
    if key_order == "rank":
        sub = COMM.split(color)  # key defaults to the rank here
        expected_rank = members.index(COMM.rank)
    else:
        sub = COMM.split(color, key=-COMM.rank)  # the highest world rank first
        expected_rank = members[::-1].index(COMM.rank)
    a = np.full(3, COMM.rank, dtype=np.float64)
    sub.broadcast(a, root=0)  # the group's rank 0: its first member in key order
    sub.barrier()
    assert (sub.size, sub.rank) == (len(members), expected_rank)
    assert repr(sub) == f"pnpdist.mpi.Communicator(rank={expected_rank}, size={len(members)})"
    root = members[0] if key_order == "rank" else members[-1]
    assert np.array_equal(a, np.full(3, root, dtype=np.float64))
    # A split of a split: the group of one's own rank alone.
    alone = sub.split(sub.rank, key=0)
    b = np.full(2, COMM.rank, dtype=np.float32)
    alone.broadcast(b)
    assert (alone.size, alone.rank) == (1, 0) and np.array_equal(b, np.full(2, COMM.rank, dtype=np.float32))


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_groups_solve_their_own_problems_as_one_process_would(ct_problem, algorithm):
    """Colour c = rank % 2 (on 3 ranks, groups {0, 2} and {1}): each group solves the problem with noise seed c on
    its own communicator, and gets the one-process solve of that problem (the tolerances of the world solve)."""
    truth, g, A, _, net = ct_problem
    color = COMM.rank % 2
    sub = COMM.split(color)
    y = with_noise(A(truth), 0.02, seed=10 + color)
    x0 = pnpdist.fbp(g, y)
    op = mpi.DistributedProjector2D(g, sub.size, sub)
    gradient = op.gradient(x0, op.local_rows(y))  # collective over the group only
    result = pnpdist.pnp(op, op.local_rows(y), net, ALGORITHMS[algorithm](), iterations=4, x0=x0, clip=(0, 1))
    group_x = result["x"].copy()
    sub.broadcast(group_x)  # the group's rank 0's iterate
    reference = pnpdist.pnp(A, y, net, ALGORITHMS[algorithm](), iterations=4, x0=x0, clip=(0, 1))
    residual = A(x0) - y
    bound = 2 * 30 * EPS32 * A.adjoint(np.abs(residual)).astype(np.float64) + 1e-30
    assert np.all(np.abs(gradient.astype(np.float64) - A.adjoint(residual)) <= bound)
    assert op.communicator.size == sub.size and op.local_blocks == [sub.rank]
    assert np.array_equal(result["x"], group_x)
    assert np.abs(result["x"] - reference["x"]).max() <= 1e-5 * np.abs(reference["x"]).max()
    if sub.size == 1:  # a group of one, one block: the single-process solve itself
        assert np.array_equal(result["x"], reference["x"])


def test_split_refuses_bad_colors_and_keys_on_every_rank():
    """Only rank 0 passes a bad argument; every rank raises (rank 0 naming its value), none waits in MPI_Comm_split."""
    cases = [({"color": -1}, ValueError, r"split: color must be in \[0, 2147483647\], got -1 on rank 0"),
             ({"color": 0, "key": 2 ** 31}, ValueError, r"split: key must be in \[-2147483648, 2147483647\], got "
                                                       r"2147483648 on rank 0"),
             ({"color": 1.5}, TypeError, "split: color must be an int, got float on rank 0"),
             ({"color": True}, TypeError, "split: color must be an int, got bool on rank 0"),
             ({"color": 0, "key": "a"}, TypeError, "split: key must be an int, got str on rank 0")]
    for bad, error, message in cases:
        arguments = bad if COMM.rank == 0 else {"color": 0}
        expected = (error, message) if COMM.rank == 0 else (ValueError, r"split: 1 other rank\(s\) refused their "
                                                                        r"arguments")
        with pytest.raises(expected[0], match=expected[1]):
            COMM.split(**arguments)
    with pytest.raises(TypeError):
        COMM.split()  # color is required
    assert COMM.split(0).size == COMM.size  # nothing was left pending: the next split matches on every rank


def test_stubs_declare_the_mpi_module():
    """The MPI extension's stub (beside it in the package) types world() with the main stub's Communicator, which
    declares the distributed operator with array arguments typed ArrayLike."""
    package = pathlib.Path(pnpdist.__file__).resolve().parent
    tree = ast.parse((package / "_pnpdist_mpi.pyi").read_text())
    imports = [ast.unparse(node) for node in tree.body if isinstance(node, ast.ImportFrom)]
    assert imports == ["from ._pnpdist import Communicator"]
    assert not [node for node in tree.body if isinstance(node, ast.Import)]  # no top-level _pnpdist in the package
    world = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "world")
    assert ast.unparse(world.returns) == "Communicator" and not world.args.args
    main = ast.parse((package / "_pnpdist.pyi").read_text())
    classes = {node.name: node for node in main.body if isinstance(node, ast.ClassDef)}
    assert [ast.unparse(b) for b in classes["DistributedProjector2D"].bases] == ["LinearOperator"]
    methods = {node.name: node for node in classes["DistributedProjector2D"].body if isinstance(node, ast.FunctionDef)}
    gradient = {a.arg: ast.unparse(a.annotation) for a in methods["gradient"].args.args if a.annotation is not None}
    assert gradient == {"x": "ArrayLike", "y": "ArrayLike", "out": "ArrayLike | None"}
    assert ast.unparse(methods["gradient"].returns) == "numpy.ndarray"
    init = {a.arg: ast.unparse(a.annotation) for a in methods["__init__"].args.args if a.annotation is not None}
    assert init["communicator"] == "Communicator" and init["geometry"] == "Geometry2D"
    assert [ast.unparse(b) for b in classes["DistributedProjector3D"].bases] == ["LinearOperator"]
    methods3 = {node.name: node for node in classes["DistributedProjector3D"].body if isinstance(node, ast.FunctionDef)}
    init = {a.arg: ast.unparse(a.annotation) for a in methods3["__init__"].args.args if a.annotation is not None}
    assert init["communicator"] == "Communicator" and init["geometry"] == "Geometry3D"
    local_rows = [(a.arg, ast.unparse(a.annotation)) for a in methods3["local_rows"].args.args[1:]]
    assert local_rows == [("projections", "ArrayLike")] and ast.unparse(methods3["gradient"].args) == ast.unparse(
        methods["gradient"].args)
    general = classes["DistributedOperator"]
    assert [ast.unparse(b) for b in general.bases] == ["LinearOperator"]
    members = {node.name: node for node in general.body if isinstance(node, ast.FunctionDef)}
    assert ast.unparse(members["__init__"].args) == "self, local: LinearOperator, communicator: Communicator"
    assert ast.unparse(members["gradient"].args) == ast.unparse(methods["gradient"].args)
    assert ast.unparse(members["data_fidelity"].args) == ast.unparse(methods["data_fidelity"].args)
    assert ast.unparse(members["local"].returns) == "LinearOperator"
    denoiser = classes["DistributedDenoiser"]
    assert [ast.unparse(b) for b in denoiser.bases] == ["DRUNet"]
    init = next(node for node in denoiser.body if isinstance(node, ast.FunctionDef) and node.name == "__init__")
    assert [(a.arg, ast.unparse(a.annotation)) for a in init.args.args[1:]] == [
        ("drunet", "DRUNet"), ("communicator", "Communicator"), ("tile", "int"), ("overlap", "int"),
        ("tile_batch", "int"), ("executor", "Executor | None")]
    split = next(node for node in classes["Communicator"].body if isinstance(node, ast.FunctionDef) and
                 node.name == "split")
    assert ast.unparse(split.args) == "self, color: int, key: int | None=None"
    assert ast.unparse(split.returns) == "Communicator"


def test_import_pnpdist_does_not_load_libmpi():
    """Only pnpdist.mpi loads MPI: a process importing pnpdist alone has no libmpi mapped (Linux). Run by the
    one-process run without mpirun only (STARTED_BY_MPIRUN)."""
    import subprocess
    import sys
    if STARTED_BY_MPIRUN:
        pytest.skip("checked by the one-process run without mpirun (python_test_mpi)")
    code = ("import pnpdist, sys; maps = open('/proc/self/maps').read(); "
            "sys.exit(1 if 'libmpi' in maps else 0)")
    assert subprocess.run([sys.executable, "-c", code], env=os.environ.copy()).returncode == 0
    code = "import pnpdist.mpi, sys; sys.exit(0 if 'libmpi' in open('/proc/self/maps').read() else 1)"
    assert subprocess.run([sys.executable, "-c", code], env=os.environ.copy()).returncode == 0


def test_pnpdist_mpi_does_not_need_mpi4py():
    """Without mpi4py, pnpdist.mpi imports and works; only from_mpi4py raises ImportError, saying what to install.
    Run by the one-process run without mpirun only (STARTED_BY_MPIRUN)."""
    import subprocess
    import sys
    if STARTED_BY_MPIRUN:
        pytest.skip("checked by the one-process run without mpirun (python_test_mpi)")
    code = ("import sys; sys.modules['mpi4py'] = None\n"  # makes `import mpi4py` fail as if it were absent
            "import pnpdist.mpi as m\nm.world().barrier()\n"
            "try:\n    m.from_mpi4py(None)\nexcept ImportError as e:\n    print(e)\n")
    run = subprocess.run([sys.executable, "-c", code], env=os.environ.copy(), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("pnpdist.mpi.from_mpi4py needs mpi4py (pip install mpi4py, or Debian's "
                                 "python3-mpi4py)")
