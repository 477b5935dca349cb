#!/usr/bin/env python3
"""NaN or Inf in the measured data of tomography_3d (--projections-file): the run stops with exit 1 and an error
naming the rank and what is not finite (the measured data, the initial iterate, or the iteration and phase whose
output overflowed), instead of running to the end with a NaN result.

The geometry comes from the example itself (the geometry.txt of a simulated run: 6 views of 12 x 12 pixels),
the projections are written here (a smooth positive pattern), and one of their elements is set to NaN or +Inf.

  test_non_finite_data.py <tomography_3d> <work directory>
"""

import math
import os
import shutil
import struct
import subprocess
import sys
import unittest

EXAMPLE = ""
WORK = ""
COMMON = ["--size", "8", "--iterations", "2", "--threads", "2", "--quiet", "--denoiser", "tv", "--baselines", "0",
          "--patch-size", "0", "--overlap", "0"]


def run(name: str, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    out = os.path.join(WORK, name)
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run([EXAMPLE, *COMMON, *args, "--output-dir", out], capture_output=True, text=True, timeout=300)
    return done, out


VIEWS, ROWS, COLS = 6, 12, 12  # --projections 6, --size 8: a detector of (3 * 8 + 1) / 2 pixels a side


def write_projections(path: str, bad_index: int = -1, bad_value: float = 0.0) -> None:
    """A float32 .npy of VIEWS x ROWS x COLS projections, element `bad_index` (if any) set to `bad_value`."""
    values = [0.5 + 0.25 * math.sin(0.3 * i) for i in range(VIEWS * ROWS * COLS)]
    if bad_index >= 0:
        values[bad_index] = bad_value
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, %d), }" % (VIEWS, ROWS, COLS)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack(f"<{len(values)}f", *values))


class NonFiniteData(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        done, out = run("simulated", "--projections", str(VIEWS))
        assert done.returncode == 0, done.stderr
        cls.vectors = os.path.join(out, "geometry.txt")
        cls.projections = os.path.join(WORK, "clean.npy")
        write_projections(cls.projections)

    def reconstruct(self, name: str, projections: str, *args: str) -> subprocess.CompletedProcess:
        done, _ = run(name, "--projections-file", projections, "--vectors-file", self.vectors, *args)
        return done

    def test_clean_data_runs(self):
        done = self.reconstruct("clean", self.projections, "--init", "zeros")
        self.assertEqual(done.returncode, 0, done.stderr)

    def expect_error(self, name: str, index: int, value: float, message: str, *args: str):
        """The projections with element `index` set to `value` end the run with exit 1 and `message`."""
        path = os.path.join(WORK, name + ".npy")
        write_projections(path, index, value)
        done = self.reconstruct(name, path, *args)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        self.assertIn(message, done.stderr)

    def test_nan_or_inf_in_the_data_stops_the_run(self):
        self.expect_error("nan", 100, float("nan"), "PnPSolver (rank 0 of 1): the data fidelity at the initial "
                          "iterate is nan: the measured data holds NaN or Inf", "--init", "zeros")
        self.expect_error("inf", 7, float("inf"), "PnPSolver (rank 0 of 1): the data fidelity at the initial "
                          "iterate is inf: the measured data holds NaN or Inf", "--init", "zeros")

    def test_nan_through_the_default_initialization(self):
        # The default initial iterate (the pseudo-inverse, FDK) carries the NaN into x_0: the error says so.
        self.expect_error("nan_init", 100, float("nan"), "PnPSolver (rank 0 of 1): the data fidelity at the initial "
                          "iterate is nan: the initial iterate holds NaN or Inf")

    def test_overflow_names_the_iteration_and_the_phase(self):
        # A finite but huge value: f(x_0) is finite (accumulated in double), the float iterate overflows.
        self.expect_error("huge_hqs", 100, 3e38, "PnPSolver (rank 0 of 1): iteration 1: the data proximal step "
                          "produced NaN or Inf", "--init", "zeros", "--algorithm", "hqs")
        self.expect_error("huge_pgd", 100, 3e38, "PnPSolver (rank 0 of 1): iteration 1: the denoiser step produced "
                          "NaN or Inf", "--init", "zeros", "--algorithm", "pgd")

if __name__ == "__main__":
    EXAMPLE, WORK = sys.argv[1], sys.argv[2]
    os.makedirs(WORK, exist_ok=True)
    unittest.main(argv=sys.argv[:1], verbosity=2)
