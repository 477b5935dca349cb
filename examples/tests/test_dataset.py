#!/usr/bin/env python3
"""tomography_3d --dataset DIR on a raw scan written by simulate_scan (docs/scanner_data.md):

  - the run succeeds; result.json's description reports the estimated and refined centre of rotation within
    0.25 column of the simulated shift;
  - reconstruction.npy is a float32 size^3 volume, and reconstruction.tif (read here by a minimal
    independent TIFF parser) holds the same values, one float32 page per slice;
  - a scan with a missing projection exits with 1 and names the missing file.

  test_dataset.py <simulate_scan> <tomography_3d> <work directory>
"""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import unittest

PROGRAMS: dict[str, str] = {}
WORK = ""
SIZE, SHIFT = 24, 3.25


def read_npy_f32(path: str) -> tuple[tuple[int, ...], bytes]:
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    length = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + length].decode("latin1")
    assert "'<f4'" in header and "'fortran_order': False" in header, header
    shape = tuple(int(x) for x in re.search(r"'shape': \(([^)]*)\)", header).group(1).split(",") if x.strip())
    return shape, data[10 + length:]


def read_tiff_pages(path: str) -> list[tuple[dict[int, list[int]], bytes]]:
    """(tags, pixel bytes) of every page of a classic little-endian TIFF, strips concatenated."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"II*\x00", "expected a classic little-endian TIFF"
    sizes = {1: 1, 3: 2, 4: 4}
    formats = {1: "B", 3: "H", 4: "I"}
    pages = []
    offset = struct.unpack("<I", data[4:8])[0]
    while offset:
        count = struct.unpack("<H", data[offset:offset + 2])[0]
        tags: dict[int, list[int]] = {}
        for e in range(count):
            tag, kind, n, value = struct.unpack("<HHII", data[offset + 2 + 12 * e:offset + 14 + 12 * e])
            if kind not in sizes:  # ASCII, RATIONAL, ...: not needed here
                continue
            where = offset + 10 + 12 * e if sizes[kind] * n <= 4 else value
            tags[tag] = list(struct.unpack(f"<{n}{formats[kind]}", data[where:where + sizes[kind] * n]))
        pixels = b"".join(data[o:o + c] for o, c in zip(tags[273], tags[279]))
        pages.append((tags, pixels))
        offset = struct.unpack("<I", data[offset + 2 + 12 * count:offset + 6 + 12 * count])[0]
    return pages


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=600)


class Dataset(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        cls.scan = os.path.join(WORK, "scan")
        done = run(PROGRAMS["simulate"], "--size", str(SIZE), "--projections", "60", "--shift", str(SHIFT),
                   "--zingers", "1", "--drift", "-0.05", "--threads", "2", "--output", cls.scan)
        assert done.returncode == 0, done.stderr

    def test_reconstruction_with_the_centre_found(self) -> None:
        out = os.path.join(WORK, "out")
        done = run(PROGRAMS["tomography_3d"], "--dataset", self.scan, "--size", str(SIZE), "--iterations", "1",
                   "--denoiser", "tv", "--baselines", "0", "--zinger-threshold", "3000", "--threads", "2",
                   "--refine-centre", "1", "--quiet", "--output-dir", out)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(os.path.join(out, "result.json")) as f:
            description = json.load(f)["problem"]["description"]
        found = float(re.search(r"centre of rotation estimated, refined: (-?[0-9.]+) columns", description).group(1))
        self.assertLess(abs(found - SHIFT), 0.25, description)
        shape, values = read_npy_f32(os.path.join(out, "reconstruction.npy"))
        self.assertEqual(shape, (SIZE, SIZE, SIZE))
        pages = read_tiff_pages(os.path.join(out, "reconstruction.tif"))
        self.assertEqual(len(pages), SIZE)
        slice_bytes = 4 * SIZE * SIZE
        for z, (tags, pixels) in enumerate(pages):
            self.assertEqual((tags[256][0], tags[257][0], tags[258][0], tags[339][0]), (SIZE, SIZE, 32, 3))
            self.assertEqual(pixels, values[z * slice_bytes:(z + 1) * slice_bytes], f"slice {z}")

    def test_missing_projection_is_named(self) -> None:
        broken = os.path.join(WORK, "broken")
        shutil.copytree(self.scan, broken)
        os.remove(os.path.join(broken, "scan_000007.tif"))
        done = run(PROGRAMS["tomography_3d"], "--dataset", broken, "--size", str(SIZE), "--iterations", "1",
                   "--denoiser", "tv", "--baselines", "0", "--quiet", "--output-dir", os.path.join(WORK, "out2"))
        self.assertEqual(done.returncode, 1)
        self.assertIn("scan_000007.tif is missing", done.stderr + done.stdout)


if __name__ == "__main__":
    PROGRAMS["simulate"], PROGRAMS["tomography_3d"], WORK = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    unittest.main(argv=sys.argv[:1])
