#!/usr/bin/env python3
"""Runs a pnpdist benchmark config: validates the YAML, expands the execution grid (rows x init_method,
capped by max-runs), runs each configuration locally (mpirun) or submits one Slurm script per grid row, then
writes <out>/summary.csv and <out>/dashboard.html. See docs/runner.md.

Exit status: 0 when every run succeeded (or, with --slurm, every script was submitted), 1 when a run failed,
2 for a bad config or bad options.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pnpdist_runner import launch, options  # noqa: E402
from pnpdist_runner.config import ConfigError, load_config  # noqa: E402
from pnpdist_runner.dashboard import DashboardError, check_requirements, write_dashboard  # noqa: E402
from pnpdist_runner.results import RunData, collect, write_summary  # noqa: E402


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pnpdist_run.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", help="YAML config (see configs/ and docs/runner.md)")
    p.add_argument("--build-dir",
                   help="build directory holding examples/<example> (default: the installed bin/pnpdist-<example> "
                        "when this runner is installed, else build/release)")
    p.add_argument("--out", help="output directory (default: out/<config stem>)")
    p.add_argument("--cores", type=_positive, default=len(os.sched_getaffinity(0)),
                   help="cores shared by the ranks of a local run, threads per rank = cores / ranks; on Slurm "
                        "the cores of a node, --cpus-per-task = cores / tasks per node unless the config sets "
                        "slurm_cpus_per_task (default: the cores available here, %(default)s)")
    p.add_argument("--dry-run", action="store_true", help="print the commands (or Slurm scripts), run nothing")
    p.add_argument("--slurm", action="store_true", help="write one sbatch script per grid row and submit it")
    p.add_argument("--max-runs", type=_positive, help="run at most this many runs (overrides the config's max-runs)")
    p.add_argument("--only", type=_positive, metavar="ROW", help="run only this grid row (1-based)")
    p.add_argument("--timeout", type=_seconds, help="seconds after which a local run is ended (default: none)")
    p.add_argument("--mpirun", default="mpirun", help="the MPI launcher of local runs (default: %(default)s)")
    p.add_argument("--sbatch", default="sbatch", help="the Slurm submission command (default: %(default)s)")
    p.add_argument("--no-dashboard", action="store_true", help="write summary.csv only")
    return p.parse_args(argv)


def _schema_of(build_dir: str | None):
    """schema_of(example) for load_config: the options the example program declares (--options-json)."""
    cache: dict[str, dict] = {}

    def schema_of(example: str) -> dict:
        if example not in cache:
            exe = launch.example_path(build_dir, example)
            if not os.path.isfile(exe):
                raise options.SchemaError(f"example program not found: {exe} (build it: cmake --build "
                                          f"{build_dir or 'build/release'} --target {example}, or pass --build-dir)")
            cache[example] = options.load_schema(exe)
        return cache[example]

    return schema_of


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        config = load_config(args.config, _schema_of(args.build_dir))
        runs, total = config.expand(args.max_runs, args.only)
    except ConfigError as e:
        for message in e.messages:
            print(f"error: {message}", file=sys.stderr)
        return 2
    out = os.path.abspath(args.out or os.path.join("out", config.stem))
    exe = launch.example_path(args.build_dir, config.example)
    if len(runs) < total:
        launch.log(f"max-runs {args.max_runs or config.max_runs}: running the first {len(runs)} of the {total} "
                   "runs of the grid")
    if not runs:
        launch.log("nothing to run")
        return 0
    if not args.dry_run and not args.no_dashboard:
        try:  # before any run: a missing plotly.js should not be found out after hours of runs
            check_requirements()
        except DashboardError as e:
            print(f"error: {e} (or pass --no-dashboard)", file=sys.stderr)
            return 2
    if args.slurm:
        return _slurm(config, runs, exe, out, args)
    return _local(config, runs, exe, out, args)


def _local(config, runs, exe: str, out: str, args: argparse.Namespace) -> int:
    if args.dry_run:
        for run in runs:
            argv, threads = launch.local_command(run, exe, launch.run_dir(out, run), args.cores, args.mpirun)
            print(f"# {run.name}: execution grid row {run.row.number}, init {run.init_method}, "
                  f"{run.row.ranks} rank(s) x {threads} thread(s)")
            print(launch.format_command(argv, launch.local_environment(threads)))
        return 0
    os.makedirs(out, exist_ok=True)
    failed = 0
    try:
        failed = _run_all(config, runs, exe, out, args)
    except KeyboardInterrupt:
        launch.log("interrupted: the current run was ended")
        _report(out, args)
        return 130
    _report(out, args)
    launch.log(f"{len(runs) - failed} of {len(runs)} runs succeeded")
    return 1 if failed else 0


def _run_all(config, runs, exe: str, out: str, args: argparse.Namespace) -> int:
    """Runs every run, one after the other; returns how many did not succeed."""
    failed = 0
    for i, run in enumerate(runs, start=1):
        threads = launch.threads_per_rank(args.cores, run.row.ranks)
        launch.log(f"[{i}/{len(runs)}] {run.name}: row {run.row.number}, init {run.init_method}, "
                   f"{run.row.ranks} rank(s) x {threads} thread(s) ...")
        status = launch.execute_local(config, run, exe, out, args.cores, args.mpirun, args.timeout,
                                      label=f"    [{i}/{len(runs)} {run.name}]")
        data = RunData(launch.run_dir(out, run))
        if data.status == "ok":
            psnr = data.final("psnr")
            launch.log(f"    ok in {status['wall_seconds']:.1f} s"
                       + (f", PSNR {psnr:.2f} dB" if psnr is not None else ""))
        else:
            failed += 1
            launch.log(f"    {data.status}: " + data.error.replace("\n", "\n    "))
    return failed


def _slurm(config, runs, exe: str, out: str, args: argparse.Namespace) -> int:
    by_row: dict[int, list] = {}
    for run in runs:
        by_row.setdefault(run.row.number, []).append(run)
    failed = 0
    for number, row_runs in by_row.items():
        script = launch.slurm_script(config, row_runs, exe, out, args.cores)
        path = os.path.join(out, "slurm", f"row_{number:02d}.sbatch")
        if args.dry_run:
            print(f"# {path}")
            print(script)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(script)
        for run in row_runs:
            directory = launch.prepare_run_dir(out, run)
            cpus = launch.slurm_cpus_per_task(config, run, args.cores)
            command = ["srun", exe] + launch.example_arguments(run, directory, str(cpus))
            launch.write_json(os.path.join(directory, "run.json"),
                              launch.run_metadata(config, run, "slurm", command, cpus))
        code, output = launch.submit(path, args.sbatch)
        if code != 0:
            failed += 1
            launch.log(f"row {number}: sbatch failed (exit code {code}): {output}")
        else:
            launch.log(f"row {number}: {output} ({path})")
    if args.dry_run:
        return 0
    _report(out, args)
    launch.log(f"when the jobs are done: python3 {os.path.join(os.path.dirname(__file__), 'pnpdist_dashboard.py')} "
               f"{out}")
    return 1 if failed else 0


def _report(out: str, args: argparse.Namespace) -> None:
    runs = collect(out)
    launch.log(f"{'run':8} {'row':>3} {'ranks':>5} {'init':14} {'status':11} {'PSNR (dB)':>9} {'s/iteration':>11}")
    for run in runs:
        s = run.summary()
        psnr = f"{s['final_psnr']:.2f}" if s["final_psnr"] is not None else "-"
        per_iteration = f"{s['mean_iteration_seconds']:.4g}" if s["mean_iteration_seconds"] is not None else "-"
        launch.log(f"{run.name:8} {s['row'] or '-':>3} {s['ranks'] or '-':>5} {s['init_method'] or '-':14} "
                   f"{s['status']:11} {psnr:>9} {per_iteration:>11}")
    launch.log(f"summary: {write_summary(out, runs)}")
    if not args.no_dashboard:
        launch.log(f"dashboard: {write_dashboard(out, runs)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
