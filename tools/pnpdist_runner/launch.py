"""Command lines, Slurm scripts and local execution of the runs.

Every run directory <out>/runs/run_XXX/ holds:
  run.json     what was run (config row, init method, ranks, threads, command), written before it starts
  status.json  how it ended: {"exit_code": N, "timed_out": bool, "wall_seconds": s, ...}, written after it
  stdout.log, stderr.log, and what the example writes (result.json, PNG images).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from .config import Config, Run


# <prefix>/bin/pnpdist-<example> seen from an installed runner, <prefix>/share/pnpdist/tools/pnpdist_runner/.
_INSTALLED_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "bin")


def example_path(build_dir: str | None, example: str) -> str:
    """The example program: <build_dir>/examples/<example>; without a build directory, the installed
    bin/pnpdist-<example> when this runner is installed beside it, else build/release/examples/<example>."""
    if build_dir is None:
        installed = os.path.normpath(os.path.join(_INSTALLED_BIN, "pnpdist-" + example))
        if os.path.isfile(installed):
            return installed
        build_dir = "build/release"
    return os.path.abspath(os.path.join(build_dir, "examples", example))


def run_dir(out_dir: str, run: Run) -> str:
    return os.path.join(os.path.abspath(out_dir), "runs", run.name)


def threads_per_rank(cores: int, ranks: int) -> int:
    """OpenMP threads for each of `ranks` ranks sharing `cores` cores (at least 1)."""
    return max(1, cores // ranks)


def example_arguments(run: Run, directory: str, threads: str) -> list[str]:
    """The example's arguments for `run` writing into `directory` with `threads` threads per rank."""
    args = list(run.flags) + ["--threads", threads, "--output-dir", directory]
    every = run.solver.get("checkpoint_every", 0)
    if every:
        args += ["--checkpoint", os.path.join(directory, "checkpoint.bin"), "--checkpoint-every", str(every)]
    return args


def local_environment(threads: int, is_root: bool | None = None) -> dict[str, str]:
    """The variables added to the environment of a local run (`is_root`: default, whether we run as root)."""
    env = {"OMP_NUM_THREADS": str(threads)}
    if (os.geteuid() == 0) if is_root is None else is_root:
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    # Containers often lack the ptrace rights OpenMPI's single-copy transport needs (a value set by the
    # user is kept).
    if "OMPI_MCA_btl_vader_single_copy_mechanism" not in os.environ:
        env["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
    return env


def local_command(run: Run, exe: str, directory: str, cores: int, mpirun: str = "mpirun") -> tuple[list[str], int]:
    """(argv, threads per rank) of a local run: the example directly for 1 rank, else
    `mpirun -np N --oversubscribe --bind-to none <example> ...` (no binding: each rank runs `threads` OpenMP
    threads, which OpenMPI's default core binding would squeeze onto one core)."""
    ranks = run.row.ranks
    threads = threads_per_rank(cores, ranks)
    argv = [exe] + example_arguments(run, directory, str(threads))
    if ranks > 1:
        argv = [mpirun, "-np", str(ranks), "--oversubscribe", "--bind-to", "none"] + argv
    return argv, threads


def format_command(argv: list[str], env: dict[str, str] | None = None) -> str:
    prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    return (prefix + " " if prefix else "") + shlex.join(argv)


def slurm_cpus_per_task(config: Config, run: Run, cores: int) -> int:
    return config.slurm.get("slurm_cpus_per_task") or threads_per_rank(cores, run.row.ntasks_per_node)


# Stands for the CPUs Slurm gives each task in the argument lists of a Slurm script: a word no config value
# can hold (the config rejects control characters), written to the script as "${SLURM_CPUS_PER_TASK}".
_SLURM_CPUS = "\x00SLURM_CPUS_PER_TASK\x00"
_SLURM_CPUS_SHELL = '"${SLURM_CPUS_PER_TASK}"'


def _shell_word(word: str) -> str:
    """`word` quoted for bash (shlex.quote), with _SLURM_CPUS expanded to the quoted Slurm variable: nothing
    else in a script is ever expanded by the shell."""
    return _SLURM_CPUS_SHELL.join(shlex.quote(part) if part else "" for part in word.split(_SLURM_CPUS))


def _comment(text: str) -> str:
    """`text` made safe for a one-line # comment (control characters become '?')."""
    return "".join("?" if ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u2028\u2029" else c for c in text)


def slurm_script(config: Config, runs: list[Run], exe: str, out_dir: str, cores: int) -> str:
    """The sbatch script of one grid row: its runs one after the other, each through srun, each leaving
    status.json with srun's exit code (a failed run does not stop the next). Every value from the config or
    the command line is quoted with shlex.quote; the only shell expansion is "${SLURM_CPUS_PER_TASK}"."""
    row = runs[0].row
    out = os.path.abspath(out_dir)
    cpus = slurm_cpus_per_task(config, runs[0], cores)

    def directive(option: str, value: Any) -> str:
        return f"#SBATCH --{option}={shlex.quote(str(value))}"

    lines = [
        "#!/bin/bash",
        directive("job-name", f"pnpdist-{config.stem}-row{row.number:02d}"),
        directive("nodes", row.nodes),
        directive("ntasks-per-node", row.ntasks_per_node),
    ]
    if row.gres is not None:
        lines.append(directive("gres", row.gres))
    lines += [
        directive("cpus-per-task", cpus),
        directive("time", config.slurm.get("slurm_time", "01:00:00")),
        directive("output", os.path.join(out, "slurm", f"row_{row.number:02d}_%j.out")),
    ]
    if "slurm_partition" in config.slurm:
        lines.append(directive("partition", config.slurm["slurm_partition"]))
    if "slurm_account" in config.slurm:
        lines.append(directive("account", config.slurm["slurm_account"]))
    lines += [
        _comment(f"# {config.path}: execution grid row {row.number}: "
                 + ", ".join(f"{k}={_text(v)}" for k, v in row.columns.items())),
        "set -u",
        f"export OMP_NUM_THREADS={_SLURM_CPUS_SHELL}",
        "status=0",
    ]
    for run in runs:
        directory = run_dir(out, run)
        argv = ["srun", f"--cpus-per-task={_SLURM_CPUS}", exe] + example_arguments(run, directory, _SLURM_CPUS)
        command = " ".join(_shell_word(a) for a in argv)
        d = shlex.quote(directory)
        lines += [
            "",
            _comment(f"# {run.name}: init {run.init_method}"),
            f"mkdir -p {d}",
            "start=$(date +%s.%N)",
            f"{command} > {d}/stdout.log 2> {d}/stderr.log",
            "rc=$?",
            "end=$(date +%s.%N)",
            f"printf '{{\"exit_code\": %d, \"timed_out\": false, \"wall_seconds\": %s, \"slurm_job_id\": \"%s\"}}\\n' "
            f"\"$rc\" \"$(awk \"BEGIN {{ print $end - $start }}\")\" \"${{SLURM_JOB_ID:-}}\" > {d}/status.json",
            "[ \"$rc\" -eq 0 ] || status=1",
        ]
    lines += ["", "exit $status", ""]
    return "\n".join(lines)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def run_metadata(config: Config, run: Run, mode: str, command: list[str], threads: int | str) -> dict[str, Any]:
    return {
        "schema": "pnpdist.runner-run/1",
        "run": run.name,
        "index": run.index,
        "row": run.row.number,
        "init_method": run.init_method,
        "config": os.path.abspath(config.path),
        "config_stem": config.stem,
        "dataset_name": config.dataset_name,
        "example": config.example,
        "dataset": config.dataset,
        "solver": {k: v for k, v in run.solver.items() if k != "init_method"},
        "columns": run.row.columns,
        "grid_columns": ["slurm_nodes"] * ("slurm_nodes" not in config.grid_columns) + config.grid_columns,
        "ranks": run.row.ranks,
        "threads_per_rank": threads,
        "mode": mode,
        "command": command,
    }


def write_json(path: str, data: Any) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def prepare_run_dir(out_dir: str, run: Run) -> str:
    """Creates the run's directory and removes what a previous attempt left that would be mistaken for this
    one's: status.json and result.json always; the checkpoint only when that attempt ended well (an
    interrupted run resumes from its checkpoint, a finished one starts over)."""
    directory = run_dir(out_dir, run)
    os.makedirs(directory, exist_ok=True)
    status = os.path.join(directory, "status.json")
    try:
        with open(status, encoding="utf-8") as f:
            finished = json.load(f).get("exit_code") == 0
    except (OSError, ValueError, AttributeError):
        finished = False
    if finished:
        for name in os.listdir(directory):
            if name.startswith("checkpoint.bin"):
                os.remove(os.path.join(directory, name))
    for stale in ("status.json", "result.json"):
        if os.path.exists(os.path.join(directory, stale)):
            os.remove(os.path.join(directory, stale))
    return directory


class LogFollower:
    """Echoes the lines appended to files (the run's stdout.log and stderr.log) to the runner's stderr as they
    are written, each prefixed with `label`: a long run shows its progress lines (observe::progress prints one
    every few seconds in a log) while it runs. A partial last line waits for its newline."""

    def __init__(self, paths: list[str], label: str):
        self._paths = paths
        self._label = label
        self._offsets = {path: 0 for path in paths}
        self._partial = {path: b"" for path in paths}

    def poll(self, final: bool = False) -> None:
        for path in self._paths:
            try:
                with open(path, "rb") as f:
                    f.seek(self._offsets[path])
                    data = f.read()
            except OSError:
                continue
            self._offsets[path] += len(data)
            lines = (self._partial[path] + data).split(b"\n")
            self._partial[path] = b"" if final else lines.pop()
            for line in lines:
                if line.strip():
                    print(f"{self._label} {line.decode(errors='replace')}", file=sys.stderr, flush=True)


def execute_local(config: Config, run: Run, exe: str, out_dir: str, cores: int, mpirun: str,
                  timeout: float | None, label: str | None = None) -> dict[str, Any]:
    """Runs `run` to completion (or until `timeout` seconds, then ends its process group) and writes run.json
    and status.json; returns the status. With `label`, the run's output lines are echoed to stderr as they
    come, prefixed with it (LogFollower)."""
    directory = prepare_run_dir(out_dir, run)
    argv, threads = local_command(run, exe, directory, cores, mpirun)
    added = local_environment(threads)
    write_json(os.path.join(directory, "run.json"), run_metadata(config, run, "local", argv, threads))
    env = dict(os.environ)
    env.update(added)
    start = time.monotonic()
    follower = LogFollower([os.path.join(directory, "stdout.log"), os.path.join(directory, "stderr.log")],
                           label) if label else None
    with open(os.path.join(directory, "stdout.log"), "wb") as out, \
            open(os.path.join(directory, "stderr.log"), "wb") as err:
        try:
            with _interrupt_deferred() as interrupted:  # an interrupt inside Popen would lose the child's pid
                proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                        start_new_session=True)
        except OSError as e:
            err.write(f"cannot start {argv[0]}: {e}\n".encode())
            status = {"exit_code": 127, "timed_out": False, "wall_seconds": 0.0}
            write_json(os.path.join(directory, "status.json"), status)
            if interrupted:
                raise KeyboardInterrupt from None
            return status
        try:
            if interrupted:
                raise KeyboardInterrupt
            timed_out, max_rss = _wait(proc, start, timeout, follower)
        except KeyboardInterrupt:
            # The run has its own session (so that a timeout can end its whole process tree): pass the
            # interrupt on, or it would outlive the runner.
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
            write_json(os.path.join(directory, "status.json"),
                       {"exit_code": proc.returncode, "timed_out": False, "interrupted": True,
                        "wall_seconds": round(time.monotonic() - start, 3)})
            raise
    code = proc.returncode
    status = {
        "exit_code": code,
        "timed_out": timed_out,
        "wall_seconds": round(time.monotonic() - start, 3),
        "max_rss_bytes": max_rss,
    }
    if code < 0:
        status["signal"] = signal.Signals(-code).name if -code in signal.valid_signals() else -code
    write_json(os.path.join(directory, "status.json"), status)
    return status


@contextlib.contextmanager
def _interrupt_deferred():
    """Within the block SIGINT only records itself in the yielded list (main thread only; elsewhere Python
    delivers no signals anyway); the caller raises KeyboardInterrupt after the block when it is not empty."""
    interrupted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(signum))
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def _wait(proc: subprocess.Popen, start: float, timeout: float | None,
          follower: LogFollower | None = None) -> tuple[bool, int]:
    """Waits for `proc` (setting its returncode), ending its process group after `timeout` seconds (SIGTERM,
    SIGKILL 5 s later), polling `follower` meanwhile. Returns (timed out, peak RSS in bytes of the process and
    its waited-for descendants, mpirun's ranks included, as wait4 reports it)."""
    timed_out = False
    kill_at = None
    polled = 0.0
    while True:
        pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
        if follower is not None and (pid == proc.pid or time.monotonic() - polled > 0.5):
            polled = time.monotonic()
            follower.poll(final=pid == proc.pid)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(wait_status)
            return timed_out, usage.ru_maxrss * 1024
        now = time.monotonic()
        if timeout is not None and now - start > timeout and not timed_out:
            timed_out = True
            kill_at = now + 5
            _signal_group(proc.pid, signal.SIGTERM)
        elif kill_at is not None and now > kill_at:
            kill_at = None
            _signal_group(proc.pid, signal.SIGKILL)
        time.sleep(0.05)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def submit(script_path: str, sbatch: str = "sbatch") -> tuple[int, str]:
    """Submits a script with sbatch; returns (exit code, sbatch's output)."""
    try:
        done = subprocess.run([sbatch, script_path], capture_output=True, text=True, check=False)
    except OSError as e:
        return 127, f"cannot start {sbatch}: {e}"
    return done.returncode, (done.stdout + done.stderr).strip()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
