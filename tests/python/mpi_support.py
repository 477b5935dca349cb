"""What the pnpdist.mpi tests share (test_mpi.py, test_mpi_denoiser.py, test_mpi_operator.py): the world, the
float32 round-off unit and the two PnP algorithms the distributed solves are compared with (on conftest's
ct_problem).
"""

import pnpdist
import pnpdist.mpi as mpi

EPS32 = 2.0 ** -24
COMM = mpi.world()

ALGORITHMS = {
    "pgd": lambda: pnpdist.ProximalGradient(sigma=0.02),
    # Well-conditioned data steps solved to a tight tolerance, as in the C++ test: on P ranks CG then solves
    # them to round-off as on one (a loose tolerance may stop CG an iteration earlier).
    "hqs": lambda: pnpdist.HalfQuadraticSplitting(sigma_start=0.05, sigma_end=0.02, schedule_iterations=4,
                                                  noise_level=1.0, data_weight=1.0, cg_iterations=60,
                                                  cg_tolerance=1e-6),
}

