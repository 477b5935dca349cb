"""pnpdist.mpi: distributed Plug-and-Play over MPI, for pnpdist built with its MPI component.

Run a script on N processes with ``mpirun -np N python script.py``; a plain ``python`` is a job of one process.
Importing this module initializes MPI (the library's mpi::Environment, MPI_THREAD_FUNNELED) unless something
else already has (mpi4py, for one), and MPI is finalized at interpreter exit only if this module initialized it.
MPI calls must come from the thread that initialized MPI when it was initialized below MPI_THREAD_SERIALIZED.

- world(): the Communicator of every process (rank, size, barrier(), broadcast(array, root), split(color, key)).
- Communicator.split(color, key): sub-communicators (MPI_Comm_split), usable wherever world() is.
- DistributedProjector2D(geometry, blocks, communicator): the views of a 2D geometry split into `blocks`
  contiguous blocks dealt round robin to the ranks; each rank holds the projectors of its blocks and only its
  rows of the sinogram (local_rows() cuts them out of a whole one). forward() gives this rank's rows,
  adjoint(), gradient() and data_fidelity() are collective and give the whole operator's values on every rank.
- pnpdist.pnp(DistributedProjector2D, y_rows, denoiser, algorithm, ...) runs the library's distributed solve:
  every rank calls it with its own rows and the same other arguments and gets the same x. The denoiser runs
  whole on every rank.

Collectives must be called by every rank in the same order. A Python exception on one rank between two
collectives would leave the others waiting in the next one: on more than one process, importing this module
therefore makes an uncaught exception end the whole job (the traceback is printed by the previous
sys.excepthook, then world().abort(1)). An exception caught by the script (or by pytest) does not abort.
"""

import sys

from ._pnpdist import Communicator, DistributedProjector2D

try:
    from ._pnpdist_mpi import initialized_here, world
except ImportError as error:  # the MPI component was not built
    raise ImportError(
        "pnpdist.mpi needs pnpdist built with its MPI component (an MPI library such as OpenMPI found at build "
        f"time): {error}"
    ) from error



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

__all__ = ["Communicator", "DistributedProjector2D", "initialized_here", "world"]
