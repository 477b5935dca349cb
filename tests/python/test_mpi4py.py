"""pnpdist.mpi.from_mpi4py: a pnpdist Communicator over a duplicate of an mpi4py communicator. mpi4py is imported
before pnpdist.mpi here, so mpi4py initializes MPI (the order the docs describe); test_mpi.py covers the other
order. Run as a plain process (CTest python_test_mpi4py) and under mpirun -np 2 and 3 (python_test_mpi4py_np2,
_np3); skipped as a whole, with the reason, when mpi4py is not installed. Every rank runs the same tests in the
same order, collectives before assertions (see test_mpi.py)."""

import os
import subprocess
import sys

import pytest

MPI = pytest.importorskip("mpi4py.MPI", reason="mpi4py is not installed (pip install mpi4py, or Debian's "
                                                "python3-mpi4py)")

import numpy as np  # noqa: E402

import pnpdist  # noqa: E402
import pnpdist.mpi as mpi  # noqa: E402
from conftest import STARTED_BY_MPIRUN, parallel_geometry  # noqa: E402

WORLD = MPI.COMM_WORLD


def test_mpi4py_initialized_mpi_and_pnpdist_uses_it():
    assert MPI.Is_initialized() and not mpi.initialized_here
    assert MPI.Query_thread() >= MPI.THREAD_FUNNELED
    assert mpi.world().size == WORLD.Get_size() and mpi.world().rank == WORLD.Get_rank()
    assert mpi.library_version() == MPI.Get_library_version()


def test_from_mpi4py_gives_the_same_group_and_results_as_world():
    comm = mpi.from_mpi4py(WORLD)
    a = np.full(4, WORLD.Get_rank() + 1.0, dtype=np.float32)
    comm.broadcast(a, root=comm.size - 1)
    g = parallel_geometry(n=32, views=24)
    x = pnpdist.shepp_logan((32, 32))
    y = pnpdist.JosephProjector2D(g)(np.flipud(x).copy())
    ours = mpi.DistributedProjector2D(g, 5, comm)
    theirs = mpi.DistributedProjector2D(g, 5, mpi.world())
    gradient = ours.gradient(x, ours.local_rows(y))  # collective on the duplicate
    reference = theirs.gradient(x, theirs.local_rows(y))  # the same sums on MPI_COMM_WORLD
    assert (comm.rank, comm.size) == (WORLD.Get_rank(), WORLD.Get_size())
    assert np.array_equal(a, np.full(4, WORLD.Get_size(), dtype=np.float32))
    assert np.array_equal(gradient, reference)


def test_the_duplicate_outlives_the_callers_communicator():
    """A split mpi4py communicator, duplicated, then freed by the caller: pnpdist's copy still works."""
    color = WORLD.Get_rank() % 2
    theirs = WORLD.Split(color, WORLD.Get_rank())
    comm = mpi.from_mpi4py(theirs)
    size = theirs.Get_size()
    theirs.Free()
    a = np.full(2, float(WORLD.Get_rank()), dtype=np.float64)
    comm.broadcast(a)
    comm.barrier()
    assert comm.size == size == len(range(color, WORLD.Get_size(), 2))
    assert np.array_equal(a, np.full(2, float(color)))  # the group's rank 0 is world rank `color`


def test_the_callers_messages_are_not_seen_by_pnpdist_collectives():
    """Rank 0 sends every other rank a message on mpi4py's COMM_WORLD before pnpdist's collectives on the duplicate;
    the message arrives intact afterwards, and the collectives give their own results."""
    comm = mpi.from_mpi4py(WORLD)
    rank = WORLD.Get_rank()
    requests = [WORLD.isend(("hello", r), dest=r, tag=7) for r in range(1, WORLD.Get_size())] if rank == 0 else []
    a = np.full(3, rank + 10.0, dtype=np.float64)
    comm.broadcast(a)
    comm.barrier()
    message = WORLD.recv(source=0, tag=MPI.ANY_TAG) if rank > 0 else ("hello", 0)
    for request in requests:
        request.wait()
    assert np.array_equal(a, np.full(3, 10.0)) and message == ("hello", rank)


def test_from_mpi4py_refuses_what_is_not_an_mpi4py_intracommunicator():
    with pytest.raises(TypeError, match=r"comm must be an mpi4py.MPI.Comm, got pnpdist._pnpdist.Communicator"):
        mpi.from_mpi4py(mpi.world())
    with pytest.raises(TypeError, match="comm must be an mpi4py.MPI.Comm, got builtins.NoneType"):
        mpi.from_mpi4py(None)
    with pytest.raises(ValueError, match="comm is MPI.COMM_NULL"):
        mpi.from_mpi4py(MPI.COMM_NULL)
    if WORLD.Get_size() > 1:  # the two halves of the job joined by an intercommunicator
        color = WORLD.Get_rank() % 2
        half = WORLD.Split(color, WORLD.Get_rank())
        inter = half.Create_intercomm(0, WORLD, 1 - color, tag=3)
        with pytest.raises(ValueError, match="comm is an intercommunicator"):
            mpi.from_mpi4py(inter)
        inter.Free()
        half.Free()


def test_from_mpi4py_refuses_another_mpi_library():
    """An mpi4py built against another MPI library (or another copy of it) has another MPI_COMM_WORLD handle."""

    class OtherLibrary:  # what such an mpi4py.MPI answers
        Comm, COMM_NULL, COMM_WORLD = MPI.Comm, MPI.COMM_NULL, MPI.COMM_WORLD

        @staticmethod
        def _handleof(comm):
            return 0x44000000  # MPICH's MPI_COMM_WORLD

        @staticmethod
        def Get_library_version():
            return "MPICH Version:\t4.1.2\nMPICH Release date: ..."

    with pytest.raises(pnpdist.MpiError, match=r"mpi4py uses another MPI library than pnpdist \(mpi4py: MPICH "
                                               r"Version:\s+4.1.2; pnpdist: "):
        mpi._from_mpi4py(OtherLibrary, WORLD)


def test_import_orders_and_exit():
    """pnpdist.mpi imported before mpi4py: pnpdist initializes MPI and finalizes it at exit, mpi4py uses it; the
    process exits cleanly either way. Run by the one-process run only: a child of a process that mpirun started
    (even with -np 1) inherits the job's environment and cannot initialize MPI on its own."""
    if STARTED_BY_MPIRUN:
        pytest.skip("checked by the one-process run without mpirun (python_test_mpi4py)")
    pnpdist_first = ("import pnpdist.mpi as m\nfrom mpi4py import MPI\nc = m.from_mpi4py(MPI.COMM_WORLD)\n"
                     "c.barrier()\nprint(m.initialized_here, MPI.Query_thread() == MPI.THREAD_FUNNELED, c.size)\n")
    mpi4py_first = ("from mpi4py import MPI\nimport pnpdist.mpi as m\nc = m.from_mpi4py(MPI.COMM_WORLD)\n"
                    "c.barrier()\nprint(m.initialized_here, MPI.Is_initialized(), c.size)\n")
    for code, expected in [(pnpdist_first, "True True 1"), (mpi4py_first, "False True 1")]:
        run = subprocess.run([sys.executable, "-c", code], env=os.environ.copy(), capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0 and run.stdout.split("\n")[-2] == expected, run.stderr
