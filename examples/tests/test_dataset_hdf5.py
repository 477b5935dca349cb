#!/usr/bin/env python3
"""tomography_3d --dataset FILE on one simulation written by simulate_scan as a TIFF directory, a NeXus file and a
Data Exchange file (docs/scanner_data.md): the three runs succeed, report the same estimated centre of rotation,
and write the same reconstruction.npy (byte-identical, else equal to float round-off: 1e-6 of the largest value).
The NeXus and Data Exchange files have no vectors file beside them: their geometry comes from their metadata; a
detector offset given to simulate_scan is recorded in a NeXus file as its beam centre and read back.

  test_dataset_hdf5.py <simulate_scan> <tomography_3d> <work directory>
"""

import json
import os
import re
import shutil
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_dataset import read_npy_f32, run  # noqa: E402  (the .npy reader and runner of the TIFF-directory test)

PROGRAMS: dict[str, str] = {}
WORK = ""
SIZE, SHIFT = 24, 3.25
SIMULATION = ["--size", str(SIZE), "--projections", "60", "--shift", str(SHIFT), "--zingers", "1", "--drift", "-0.05",
              "--threads", "2"]


class DatasetFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        cls.scans = {"tiff": os.path.join(WORK, "tiff"), "nexus": os.path.join(WORK, "nexus", "scan.nxs"),
                     "exchange": os.path.join(WORK, "exchange", "scan.h5")}
        for fmt, path in cls.scans.items():
            done = run(PROGRAMS["simulate"], *SIMULATION, "--format", fmt, "--output", path)
            assert done.returncode == 0, done.stderr
            assert f"({fmt}," in done.stdout, done.stdout
        assert not os.path.exists(os.path.join(WORK, "nexus", "scan_geom.geom"))
        assert not os.path.exists(os.path.join(WORK, "exchange", "scan_geom.geom"))
        # A detector offset (2 columns, -1 row) recorded in the geometry: the vectors file, the NeXus beam centre.
        cls.offset_scans = {"tiff": os.path.join(WORK, "offset_tiff"),
                            "nexus": os.path.join(WORK, "offset_nexus", "scan.nxs")}
        for fmt, path in cls.offset_scans.items():
            done = run(PROGRAMS["simulate"], *SIMULATION, "--offset-u", "2", "--offset-v", "-1", "--format", fmt,
                       "--output", path)
            assert done.returncode == 0, done.stderr
        cls.results = {fmt: cls.reconstruct(path, "out_" + fmt) for fmt, path in cls.scans.items()}
        cls.offset_results = {fmt: cls.reconstruct(path, "out_offset_" + fmt) for fmt, path in cls.offset_scans.items()}

    @staticmethod
    def reconstruct(path: str, name: str) -> tuple[float, tuple]:
        out = os.path.join(WORK, name)
        done = run(PROGRAMS["tomography_3d"], "--dataset", path, "--size", str(SIZE), "--iterations", "1",
                   "--denoiser", "tv", "--baselines", "0", "--zinger-threshold", "3000", "--threads", "2",
                   "--quiet", "--output-dir", out)
        assert done.returncode == 0, f"{name}: {done.stderr}"
        with open(os.path.join(out, "result.json")) as f:
            description = json.load(f)["problem"]["description"]
        centre = float(re.search(r"centre of rotation estimated: (-?[0-9.]+) columns", description).group(1))
        return centre, read_npy_f32(os.path.join(out, "reconstruction.npy"))

    def test_detector_offset_recorded(self) -> None:
        # The NeXus file's beam centre gives the geometry of the TIFF directory's vectors file: the same centre of
        # rotation (the data's shift, relative to the offset detector) and the same volume.
        centre, volume = self.offset_results["tiff"]
        self.assertLess(abs(centre - SHIFT), 0.25)
        self.assertEqual(self.offset_results["nexus"][0], centre)
        self.assertEqual(self.offset_results["nexus"][1], volume)

    def test_same_centre_of_rotation(self) -> None:
        centre = self.results["tiff"][0]
        self.assertLess(abs(centre - SHIFT), 0.25)
        for fmt in ("nexus", "exchange"):
            self.assertEqual(self.results[fmt][0], centre, fmt)

    def test_same_volume(self) -> None:
        shape, expected = self.results["tiff"][1]
        self.assertEqual(shape, (SIZE, SIZE, SIZE))
        reference = struct.unpack(f"<{SIZE ** 3}f", expected)
        scale = max(abs(v) for v in reference)
        for fmt in ("nexus", "exchange"):
            got_shape, got = self.results[fmt][1]
            self.assertEqual(got_shape, shape, fmt)
            if got == expected:
                continue
            largest = max(abs(a - b) for a, b in zip(struct.unpack(f"<{SIZE ** 3}f", got), reference))
            self.assertLessEqual(largest, 1e-6 * scale, fmt)


if __name__ == "__main__":
    PROGRAMS["simulate"], PROGRAMS["tomography_3d"], WORK = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    unittest.main(argv=sys.argv[:1])
