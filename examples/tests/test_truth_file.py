#!/usr/bin/env python3
"""--truth PATH of tomography_2d and tomography_3d (examples/truth_file.hpp), run on small arrays written here:

  - a 2-D .npy and a gray PNG are reconstructed (result.json: shape and --size from the file, the truth's PSNR
    range, a finite PSNR; the truth.png the example writes back matches the PNG it was given);
  - a 3-D .npy likewise for tomography_3d;
  - errors exit with 1 and name the problem: a missing file, a wrong rank, a non-square / non-cubic array, a
    NaN, a --size that differs from the file's, --truth with --projections-file.

  test_truth_file.py <tomography_2d> <tomography_3d> <work directory>
"""

import json
import math
import os
import shutil
import struct
import subprocess
import sys
import unittest
import zlib

EXAMPLES: dict[str, str] = {}
WORK = ""


def write_npy(path: str, shape: tuple[int, ...], values: list[float]) -> None:
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack(f"<{len(values)}f", *values))


def write_png(path: str, width: int, height: int, value) -> None:
    raw = b"".join(b"\x00" + bytes(value(x, y) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def read_gray_png(path: str) -> list[list[int]]:
    """The pixels of an 8-bit gray PNG (every filter type), rows of ints."""
    with open(path, "rb") as f:
        data = f.read()
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour == 0, (depth, colour)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, rows, previous = zlib.decompress(idat), [], [0] * width
    for y in range(height):
        kind, line = raw[y * (width + 1)], list(raw[y * (width + 1) + 1:(y + 1) * (width + 1)])
        for x in range(width):
            a, b, c = (line[x - 1] if x else 0), previous[x], (previous[x - 1] if x else 0)
            p = a + b - c
            predictor = [0, a, b, (a + b) // 2,
                         a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else (b if abs(p - b) <= abs(p - c) else c)]
            line[x] = (line[x] + predictor[kind]) % 256
        rows.append(line)
        previous = line
    return rows


def disc(n: int, value: float = 0.8) -> list[float]:
    """A centred disc of `value` with a brighter square inside, n x n."""
    out = []
    for y in range(n):
        for x in range(n):
            r = math.hypot(x + 0.5 - n / 2, y + 0.5 - n / 2)
            out.append(1.0 if abs(x - n / 3) < n / 8 and abs(y - n / 2) < n / 8 else (value if r < 0.4 * n else 0.0))
    return out


class TruthFile(unittest.TestCase):
    def run_example(self, example: str, name: str, *args: str) -> tuple[subprocess.CompletedProcess, str]:
        out = os.path.join(WORK, name)
        shutil.rmtree(out, ignore_errors=True)
        done = subprocess.run([EXAMPLES[example], *args, "--output-dir", out, "--quiet", "--threads", "2",
                               "--denoiser", "tv", "--baselines", "0"],
                              capture_output=True, text=True, timeout=300)
        return done, out

    def result(self, out: str) -> dict:
        with open(os.path.join(out, "result.json"), encoding="utf-8") as f:
            return json.load(f)

    def test_2d_npy(self):
        path = os.path.join(WORK, "disc24.npy")
        write_npy(path, (24, 24), [2 * v for v in disc(24)])  # values as given: range [0, 2]
        done, out = self.run_example("tomography_2d", "npy2d", "--truth", path, "--iterations", "3", "--angles", "30")
        self.assertEqual(done.returncode, 0, done.stderr)
        r = self.result(out)
        self.assertEqual(r["options"]["size"], 24)
        self.assertEqual(r["problem"]["shape"], [24, 24])
        self.assertEqual(r["problem"]["data_range"], 2)
        self.assertIn("truth " + path, r["problem"]["description"])
        self.assertTrue(math.isfinite(r["final"]["psnr"]))
        self.assertGreater(r["final"]["psnr"], r["init"]["psnr"])

    def test_2d_png_with_matching_size(self):
        path = os.path.join(WORK, "ramp.png")
        write_png(path, 20, 20, lambda x, y: (x * 12 + y * 3) % 256)
        done, out = self.run_example("tomography_2d", "png2d", "--truth", path, "--size", "20", "--iterations", "2")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(self.result(out)["problem"]["shape"], [20, 20])
        # the values were used as given: the truth written back (range [0, its maximum]) is the input
        given = read_gray_png(path)
        self.assertEqual(given[3][:5], [9, 21, 33, 45, 57])
        self.assertEqual(read_gray_png(os.path.join(out, "truth.png")), given)

    def test_3d_npy(self):
        path = os.path.join(WORK, "cube12.npy")
        plane = disc(12)
        write_npy(path, (12, 12, 12), [v * (0.5 + z / 24) for z in range(12) for v in plane])
        done, out = self.run_example("tomography_3d", "npy3d", "--truth", path, "--projections", "12",
                                     "--iterations", "2", "--init", "zeros", "--patch-size", "0", "--overlap", "0")
        self.assertEqual(done.returncode, 0, done.stderr)
        r = self.result(out)
        self.assertEqual(r["problem"]["shape"], [12, 12, 12])
        self.assertEqual(r["options"]["size"], 12)
        self.assertTrue(math.isfinite(r["final"]["psnr"]))

    def expect_error(self, example: str, message: str, *args: str):
        done, _ = self.run_example(example, "error", *args)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        self.assertIn(message, done.stderr)

    def test_errors(self):
        square = os.path.join(WORK, "square16.npy")
        write_npy(square, (16, 16), disc(16))
        self.expect_error("tomography_2d", "--truth: '/nonexistent.npy' does not exist", "--truth", "/nonexistent.npy")
        self.expect_error("tomography_2d", "--truth " + square + " is 16 pixels on a side, --size 32 differs",
                          "--truth", square, "--size", "32")
        flat = os.path.join(WORK, "flat.npy")
        write_npy(flat, (256,), disc(16))
        self.expect_error("tomography_2d", "expected a 2-D array", "--truth", flat)
        wide = os.path.join(WORK, "wide.npy")
        write_npy(wide, (8, 32), disc(16))
        self.expect_error("tomography_2d", "is not square", "--truth", wide)
        nan = os.path.join(WORK, "nan.npy")
        values = disc(16)
        values[37] = float("nan")
        write_npy(nan, (16, 16), values)
        self.expect_error("tomography_2d", "element 37 is nan (NaN or infinite)", "--truth", nan)
        self.expect_error("tomography_3d", "expected a 3-D array", "--truth", square)
        box = os.path.join(WORK, "box.npy")
        write_npy(box, (8, 16, 16), disc(16) * 8)
        self.expect_error("tomography_3d", "is not cubic", "--truth", box)
        self.expect_error("tomography_3d", "--truth and --projections-file exclude each other", "--truth", box,
                          "--projections-file", square, "--vectors-file", square)


if __name__ == "__main__":
    EXAMPLES["tomography_2d"], EXAMPLES["tomography_3d"], WORK = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(WORK, exist_ok=True)
    unittest.main(argv=sys.argv[:1], verbosity=2)
