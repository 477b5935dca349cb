#!/usr/bin/env python3
"""A stand-in for a pnpdist example program in the runner's tests: takes the examples' flags, and rank 0
writes a result.json of schema pnpdist.run/1 (records for every rank, made-up but consistent numbers) and
four small PNG images into --output-dir, and (unless --baselines 0) two classical baselines with their images
(baseline_<name>.png) as the real examples do. It records what it was given (argv, world size, threads, the
environment variables the runner sets) under "fake" so that tests can check the launch.

--seed 666 makes it fail (exit code 3, a message on stderr) without writing result.json. (--options-json is
answered by the real example, runner_support.write_example.)"""

import json
import math
import os
import struct
import sys
import zlib


def png(width: int, height: int, value) -> bytes:
    """An 8-bit greyscale PNG whose pixel (x, y) is value(x, y)."""
    raw = b"".join(b"\x00" + bytes(value(x, y) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main() -> int:
    args = sys.argv[1:]
    options = {}
    i = 0
    while i < len(args):
        if not args[i].startswith("--") or i + 1 >= len(args):
            print(f"fake_example: bad argument {args[i]!r}", file=sys.stderr)
            return 2
        options[args[i][2:].replace("-", "_")] = args[i + 1]
        i += 2
    rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("PMI_RANK", "0")))
    size = int(os.environ.get("OMPI_COMM_WORLD_SIZE", os.environ.get("PMI_SIZE", "1")))
    if options.get("seed") == "666":
        print(f"fake_example: rank {rank}: simulated failure\nsecond line of the error", file=sys.stderr)
        return 3
    if rank != 0:
        return 0
    out = options["output_dir"]
    os.makedirs(out, exist_ok=True)
    iterations = int(options.get("iterations", "5"))
    for it in range(1, iterations + 1):  # progress lines, as observe::progress writes them to a log
        print(f"iteration {it}/{iterations}  PSNR {12 + it:.2f} dB", file=sys.stderr, flush=True)
    records = []
    for r in range(size):
        rank_records = []
        wall = 0.0
        for it in range(1, iterations + 1):
            gradient, denoiser = 0.01 * (1 + r), 0.05 / size
            wall += gradient + denoiser + 0.002
            rank_records.append({
                "iteration": it, "wall_seconds": wall, "iteration_seconds": gradient + denoiser + 0.002,
                "gradient_seconds": gradient, "denoiser_seconds": denoiser, "data_fidelity": 1.0 / it,
                "psnr": 12 + 18 * (1 - math.exp(-it / 4)), "ssim": 0.3 + 0.5 * (1 - math.exp(-it / 4)),
                "relative_change": 1.0 / it,
                "peak_rss_gradient_bytes": (100 + 10 * r) * 2 ** 20, "peak_rss_denoiser_bytes": (300 + it) * 2 ** 20,
                "peak_tracked_gradient_bytes": 40 * 2 ** 20, "peak_tracked_denoiser_bytes": (200 // size) * 2 ** 20,
            })
        records.append(rank_records)
    images = {}
    for k, name in enumerate(("truth", "measurement", "initial", "reconstruction")):
        with open(os.path.join(out, name + ".png"), "wb") as f:
            f.write(png(24, 16, lambda x, y, k=k: (x * 10 + y * 5 + 40 * k) % 256))
        images[name] = name + ".png"
    baselines = []
    if options.get("baselines", "1") != "0":
        for k, (name, psnr) in enumerate((("fbp_hann", 14.5), ("sirt", 17.25))):
            with open(os.path.join(out, f"baseline_{name}.png"), "wb") as f:
                f.write(png(24, 16, lambda x, y, k=k: (x * 7 + y * 9 + 60 * k) % 256))
            baselines.append({"name": name, "psnr": psnr, "ssim": 0.4, "seconds": 0.05,
                              "parameters": {"iterations": 3}, "image": f"baseline_{name}.png"})
    last = records[0][-1]
    result = {
        "schema": "pnpdist.run/1", "example": os.path.basename(sys.argv[0]), "options": options,
        "ranks": size, "threads_per_rank": int(options.get("threads", "0")), "setup_seconds": 0.5,
        "init": {"psnr": 10.0, "ssim": None},
        "records": records,
        "final": {"psnr": last["psnr"], "ssim": last["ssim"], "iterations": iterations,
                  "total_seconds": last["wall_seconds"], "peak_rss_bytes": 400 * 2 ** 20},
        "images": images,
        **({"baselines": baselines} if baselines else {}),
        "fake": {"argv": sys.argv[1:], "world_size": size,
                 "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMPI_ALLOW_RUN_AS_ROOT",
                                                         "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM")}},
    }
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
