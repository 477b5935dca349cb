"""pnpdist.mpi: distributed Plug-and-Play over MPI, for pnpdist built with its MPI component.

Run a script on N processes with ``mpirun -np N python script.py``; a plain ``python`` is a job of one process.
Importing this module initializes MPI (the library's mpi::Environment, MPI_THREAD_FUNNELED) unless something
else already has, and MPI is finalized at interpreter exit only if this module initialized it
(``initialized_here``). When mpi4py is imported first, mpi4py initializes MPI (at the thread level of its
``mpi4py.rc``, MPI_THREAD_MULTIPLE by default) and finalizes it at exit; when this module is imported first,
mpi4py finds MPI initialized (MPI_THREAD_FUNNELED) and leaves finalizing it to this module. MPI calls must
come from the thread that initialized MPI when it was initialized below MPI_THREAD_SERIALIZED. mpi4py is
optional: only from_mpi4py() imports it.

- world(): the Communicator of every process (rank, size, barrier(), broadcast(array, root), split(color, key)).
- Communicator.split(color, key): sub-communicators (MPI_Comm_split), usable wherever world() is.
- from_mpi4py(comm): a Communicator over a duplicate (MPI_Comm_dup) of an mpi4py intracommunicator, so that
  pnpdist's collectives never share a communicator with the caller's own messages.
- DistributedProjector2D(geometry, blocks, communicator): the views of a 2D geometry split into `blocks`
  contiguous blocks dealt round robin to the ranks; each rank holds the projectors of its blocks and only its
  rows of the sinogram (local_rows() cuts them out of a whole one). forward() gives this rank's rows,
  adjoint(), gradient() and data_fidelity() are collective and give the whole operator's values on every rank.
- DistributedProjector3D(geometry, blocks, communicator): the same for the projections of a 3D geometry
  (pnpdist.Geometry3D: cone or parallel beam, circular or from vectors); a row is one projection
  (detector_rows, detector_cols).
- DistributedOperator(local, communicator): any operator distributed by rows: each rank passes its own share of
  the rows, `local` (any float32 pnpdist.LinearOperator of domain (H, W) or (D, H, W), e.g. a StackedOperator of
  its blurs), all of one domain (checked on construction; a mismatch raises ValueError on every rank). forward()
  is local's (this rank's rows, not collective); adjoint(), gradient() and data_fidelity() are collective and give
  the whole operator's values on every rank.
- DistributedDenoiser(drunet, communicator, tile, overlap): the DRUNet of `drunet` run tile by tile with its tiles
  dealt to the ranks and the image reassembled on every rank (the library's DistributedDenoiser): the tiled
  DRUNet's output bit for bit. A DRUNet, so pnpdist.pnp takes it; its denoise is collective.
- pnpdist.pnp(DistributedProjector2D, DistributedProjector3D or DistributedOperator, y_rows, denoiser, algorithm,
  ...) runs the library's distributed solve: every rank calls it with its own rows and the same other arguments
  and gets the same x. A DRUNet denoiser runs whole on every rank, a DistributedDenoiser on its share of the
  tiles.

Collectives must be called by every rank in the same order. A Python exception on one rank between two
collectives would leave the others waiting in the next one: on more than one process, importing this module
therefore makes an uncaught exception end the whole job (the traceback is printed by the previous
sys.excepthook, then world().abort(1)). An exception caught by the script (or by pytest) does not abort.
"""

import sys

from ._pnpdist import (Communicator, DistributedDenoiser, DistributedOperator, DistributedProjector2D,
                       DistributedProjector3D, MpiError)

try:
    from ._pnpdist_mpi import _duplicate, _world_handle, initialized_here, library_version, world
except ImportError as error:  # the MPI component was not built
    raise ImportError(
        "pnpdist.mpi needs pnpdist built with its MPI component (an MPI library such as OpenMPI found at build "
        f"time): {error}"
    ) from error


def from_mpi4py(comm) -> Communicator:
    """A Communicator over a duplicate of the mpi4py intracommunicator `comm` (MPI_Comm_dup: collective, every
    rank of `comm` calls it), usable wherever world() is. pnpdist's collectives then run on their own
    communicator, never matching the caller's messages on `comm`; the duplicate is freed when the last
    reference to the result goes, and `comm` may be freed before. mpi4py must use the MPI library this module
    is linked with, in this process (its MPI_COMM_WORLD handle is pnpdist's): otherwise MpiError names both
    libraries. TypeError when `comm` is not an mpi4py.MPI.Comm, ValueError for MPI.COMM_NULL or an
    intercommunicator, ImportError when mpi4py is not installed."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            "pnpdist.mpi.from_mpi4py needs mpi4py (pip install mpi4py, or Debian's python3-mpi4py), built "
            f"against the MPI library pnpdist uses: {error}"
        ) from error
    return _from_mpi4py(MPI, comm)


def _handle(MPI, comm):
    """The MPI_Comm handle of an mpi4py communicator as an int (mpi4py's documented MPI._handleof)."""
    return MPI._handleof(comm)


def _from_mpi4py(MPI, comm):
    """from_mpi4py with the mpi4py.MPI module given (the tests pass stand-ins of other MPI libraries)."""
    if not isinstance(comm, MPI.Comm):
        raise TypeError(f"from_mpi4py: comm must be an mpi4py.MPI.Comm, got {type(comm).__module__}."
                        f"{type(comm).__qualname__}")
    if comm == MPI.COMM_NULL:
        raise ValueError("from_mpi4py: comm is MPI.COMM_NULL")
    if comm.Is_inter():
        raise ValueError("from_mpi4py: comm is an intercommunicator; pnpdist's collectives need an "
                         "intracommunicator (e.g. comm.Merge())")
    if _handle(MPI, MPI.COMM_WORLD) != _world_handle():
        theirs = MPI.Get_library_version().splitlines()[0].strip()
        ours = library_version().splitlines()[0].strip()
        raise MpiError(f"from_mpi4py: mpi4py uses another MPI library than pnpdist (mpi4py: {theirs}; pnpdist: "
                       f"{ours}), or another copy of it: its MPI_COMM_WORLD is not pnpdist's. Install mpi4py "
                       "built against pnpdist's MPI (pip install --no-binary mpi4py mpi4py, or Debian's "
                       "python3-mpi4py)")
    return _duplicate(_handle(MPI, comm))


def _abort_job_on_uncaught_exception(previous):
    def hook(kind, value, traceback):
        previous(kind, value, traceback)
        job = world()
        if job.size > 1:
            sys.stdout.flush()
            sys.stderr.flush()
            job.abort(1)

    return hook


sys.excepthook = _abort_job_on_uncaught_exception(sys.excepthook)

__all__ = ["Communicator", "DistributedDenoiser", "DistributedOperator", "DistributedProjector2D",
           "DistributedProjector3D", "from_mpi4py", "initialized_here", "library_version", "world"]
