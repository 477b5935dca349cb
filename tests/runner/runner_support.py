"""Shared support code of the runner's tests: paths, configs written to temporary directories, a build directory
whose examples are the fake example, synthetic run directories."""

import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)
sys.path.insert(0, HERE)

import fake_example  # noqa: E402
from pnpdist_runner import options  # noqa: E402

PYTHON = sys.executable or "/usr/bin/python3"
# The real example programs, whose --options-json the runner checks configs against (CTest sets the variable
# to this build's examples).
EXAMPLES = os.path.abspath(os.environ.get("PNPDIST_EXAMPLES_DIR") or os.path.join(ROOT, "build", "release", "examples"))


def schema_of(example: str) -> dict:
    """The options of the real example `example` (load_config's schema_of)."""
    if example not in _SCHEMAS:
        exe = os.path.join(EXAMPLES, example)
        if not os.path.isfile(exe):
            raise AssertionError(f"{exe} is missing: build the examples or set PNPDIST_EXAMPLES_DIR")
        _SCHEMAS[example] = options.load_schema(exe)
    return _SCHEMAS[example]


_SCHEMAS: dict = {}


def load_config(path: str):
    """pnpdist_runner.config.load_config with the real examples' options."""
    from pnpdist_runner.config import load_config as load
    return load(path, schema_of)
RUN = os.path.join(TOOLS, "pnpdist_run.py")
DASHBOARD = os.path.join(TOOLS, "pnpdist_dashboard.py")
CHECK = os.path.join(TOOLS, "check_dashboard.py")

GRID_KEY = ("slurm_gres, slurm_ntasks_per_node, slurm_nodes, distribute_physics, distribute_denoiser, patch_size, "
            "overlap, max_batch_size")

TOMOGRAPHY_2D = textwrap.dedent(f"""\
    dataset:
      - tomography_2d:
          img_size: 64
          num_operators: 8
          num_angles: 100
          noise_level: 0.01
    solver:
      - PnP:
          algorithm: pgd
          denoiser: tv
          denoiser_sigma: 0.01
          step_size: auto
          denoiser_lambda_relaxation: 0
          init_method: ["zeros"]
          max_iter: 6
    {GRID_KEY}: [
      ["cpu", 1, 1, false, false, 0, 0, 0],
      ["cpu", 2, 1, true, true, 32, 8, 0] ]
    max-runs: 10
    """)


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="pnpdist-runner-test-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def fake_build(self, examples=("tomography_2d", "tomography_3d", "highres_deblur")) -> str:
        """A build directory whose examples/<name> run fake_example.py."""
        build = os.path.join(self.tmp, "build")
        os.makedirs(os.path.join(build, "examples"), exist_ok=True)
        for name in examples:
            path = os.path.join(build, "examples", name)
            self.write_example(build, name, f'exec {PYTHON} {os.path.join(HERE, "fake_example.py")} "$@"')
        return build

    def write_example(self, build: str, name: str, body: str) -> None:
        """<build>/examples/<name>: a shell script running `body`, except that --options-json is answered by the
        real example (the runner checks configs against it)."""
        path = os.path.join(build, "examples", name)
        with open(path, "w") as f:
            f.write(f'#!/bin/sh\nif [ "$1" = --options-json ]; then exec {os.path.join(EXAMPLES, name)} --options-json; '
                    f'fi\n{body}\n')
        os.chmod(path, 0o755)

    def run_tool(self, script: str, *args: str, env: dict | None = None, timeout: float = 120):
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run([PYTHON, script, *args], capture_output=True, text=True, cwd=self.tmp, env=full_env,
                              timeout=timeout)


def synthetic_run(out: str, name: str, row: int, ranks: int, columns: dict, psnr_final: float, iterations: int = 5,
                  exit_code: int = 0, with_result: bool = True, init_method: str = "zeros",
                  baselines: dict[str, float] | None = None, init_zeros: bool = False) -> dict:
    """A run directory as the runner and an example leave it; returns the result written (or {}).
    baselines: {name: PSNR} written to result.json's "baselines" with an image each (baseline_<name>.png);
    init_zeros: the initial iterate is zeros (init.method "zeros")."""
    directory = os.path.join(out, "runs", name)
    os.makedirs(directory, exist_ok=True)
    meta = {"schema": "pnpdist.runner-run/1", "run": name, "index": int(name[-3:]), "row": row,
            "init_method": init_method, "config": "/configs/synthetic.yaml", "config_stem": "synthetic",
            "dataset_name": "tomography_2d", "example": "tomography_2d", "dataset": {"img_size": 32},
            "solver": {"denoiser": "tv"}, "columns": columns, "grid_columns": list(columns), "ranks": ranks,
            "threads_per_rank": 1, "mode": "local", "command": ["x"]}
    with open(os.path.join(directory, "run.json"), "w") as f:
        json.dump(meta, f)
    with open(os.path.join(directory, "status.json"), "w") as f:
        json.dump({"exit_code": exit_code, "timed_out": False, "wall_seconds": 1.5}, f)
    if exit_code != 0:
        with open(os.path.join(directory, "stderr.log"), "w") as f:
            f.write("line 1\nout of memory in the denoiser\n")
    if not with_result:
        return {}
    records = []
    for rank in range(ranks):
        rows = []
        for it in range(1, iterations + 1):
            psnr = psnr_final - (iterations - it) * 1.5
            rows.append({"iteration": it, "wall_seconds": 0.2 * it + 0.01 * rank, "iteration_seconds": 0.2,
                         "gradient_seconds": 0.05 + 0.01 * it, "denoiser_seconds": 0.1 + 0.001 * rank,
                         "data_fidelity": 1.0, "psnr": psnr if rank == 0 else None, "ssim": None,
                         "relative_change": 0.1,
                         "peak_rss_gradient_bytes": (50 + 7 * rank + it) * 2 ** 20,
                         "peak_rss_denoiser_bytes": (80 + rank) * 2 ** 20,
                         "peak_tracked_gradient_bytes": 10 * 2 ** 20, "peak_tracked_denoiser_bytes": 20 * 2 ** 20})
        records.append(rows)
    images = {}
    for k, kind in enumerate(("truth", "measurement", "initial", "reconstruction")):
        with open(os.path.join(directory, kind + ".png"), "wb") as f:
            f.write(fake_example.png(8, 6, lambda x, y, k=k: (x * 30 + y * 20 + k * 50) % 256))
        images[kind] = kind + ".png"
    init = {"psnr": 9.5, "ssim": 0.1}
    if init_zeros:
        init["method"] = "zeros"
    result = {"schema": "pnpdist.run/1", "example": "tomography_2d", "options": {}, "ranks": ranks,
              "threads_per_rank": 1, "setup_seconds": 0.3, "init": init, "records": records,
              "final": {"psnr": psnr_final, "ssim": 0.8, "iterations": iterations,
                        "total_seconds": 0.2 * iterations, "peak_rss_bytes": 123 * 2 ** 20},
              "images": images}
    if baselines is not None:
        result["baselines"] = []
        for k, (baseline, psnr) in enumerate(baselines.items()):
            with open(os.path.join(directory, f"baseline_{baseline}.png"), "wb") as f:
                f.write(fake_example.png(8, 6, lambda x, y, k=k: (x * 20 + y * 10 + k * 70) % 256))
            result["baselines"].append({"name": baseline, "psnr": psnr, "ssim": 0.5, "seconds": 0.1 * (k + 1),
                                        "parameters": {"iterations": 7 + k}, "image": f"baseline_{baseline}.png"})
    with open(os.path.join(directory, "result.json"), "w") as f:
        json.dump(result, f)
    return result


def mean(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    return sum(values) / len(values)
