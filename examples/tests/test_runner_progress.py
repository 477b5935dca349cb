#!/usr/bin/env python3
"""The runner's log of a 100-iteration row shows progress at least every 10 s (test example_runner_progress).

Usage: test_runner_progress.py <tools/pnpdist_run.py> <build dir> <work dir>

Runs the runner (its stderr read line by line as it comes) on one grid row of tomography_2d: 256 x 256, 100
iterations of PnP-HQS (the main job's algorithm, CG data steps) with the TV denoiser (no weights needed), 1
rank, no baselines: 15 s or more on one core of any machine it ran on (128 x 128 took under 5 s, one progress
interval, on a faster CPU, leaving no line between the first and the last). The program writes its output to files (not a terminal), so
observe::progress prints a line every 5 s of solve time, which the runner echoes as it is written, prefixed
with the row's label. Checks:

  - the runner exits with 0, and the row's label prefixes progress lines "iteration k/100 ... s/it" from
    iteration 1 to iteration 100, at least 3 of them;
  - in solve time (iteration k x the s/it the line reports), no two consecutive lines, nor the start and
    the first line, are more than 10 s apart: the program prints at its interval;
  - in the runner's log, no two consecutive progress lines arrive more than 10 s apart, and they arrive
    spread over the run (the span of their arrival at least half their span in solve time), not all at the
    end of the row: the runner streams them.

The 10 s bound is the acceptance figure; the program's interval is 5 s and the runner polls the run's log
every 0.5 s, so a machine would have to stall for seconds to miss it.
"""

import os
import re
import subprocess
import sys
import time

LIMIT = 10.0
ITERATIONS = 100
CONFIG = f"""dataset:
  - tomography_2d:
      img_size: 256
      num_operators: 8
      num_angles: 100
      noise_level: 0.01
solver:
  - PnP:
      algorithm: hqs
      denoiser: tv
      max_iter: {ITERATIONS}
      baselines: false
slurm_gres, slurm_ntasks_per_node, distribute_physics, distribute_denoiser, patch_size, overlap, max_batch_size: [
  ["cpu", 1, false, false, 0, 0, 0] ]
"""
PROGRESS = re.compile(r"^\s*\[1/1 run_001\] iteration (\d+)/(\d+) .* ([0-9.eE+-]+) s/it")


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    runner, build_dir, work = argv[1], argv[2], argv[3]
    os.makedirs(work, exist_ok=True)
    config = os.path.join(work, "progress.yaml")
    with open(config, "w") as f:
        f.write(CONFIG)
    out = os.path.join(work, "out")
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, runner, config, "--build-dir", build_dir, "--out", out, "--cores", "1",
                             "--no-dashboard"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1)
    arrivals: list[tuple[float, int, float]] = []  # (arrival after start, iteration, solve seconds)
    log = []
    assert proc.stderr is not None
    for line in proc.stderr:
        log.append(line.rstrip("\n"))
        match = PROGRESS.match(line)
        if match:
            iteration, total, per_iteration = int(match[1]), int(match[2]), float(match[3])
            if total != ITERATIONS:
                return fail(f"a progress line of {total} iterations, {ITERATIONS} expected", log)
            arrivals.append((time.monotonic() - start, iteration, iteration * per_iteration))
    code = proc.wait()
    if code != 0:
        return fail(f"the runner exited with {code}", log)
    iterations = [a[1] for a in arrivals]
    if len(arrivals) < 3 or iterations[0] != 1 or iterations[-1] != ITERATIONS:
        return fail(f"progress lines of iterations {iterations}: at least 3, from 1 to {ITERATIONS} expected", log)
    solve = [0.0] + [a[2] for a in arrivals]
    solve_gaps = [b - a for a, b in zip(solve, solve[1:])]
    if max(solve_gaps) > LIMIT:
        return fail(f"{max(solve_gaps):.1f} s of solve time between two progress lines (at most {LIMIT} s)", log)
    arrived = [a[0] for a in arrivals]
    arrival_gaps = [b - a for a, b in zip(arrived, arrived[1:])]
    if max(arrival_gaps) > LIMIT:
        return fail(f"{max(arrival_gaps):.1f} s between two progress lines in the runner's log (at most {LIMIT} s)",
                    log)
    solve_span, arrival_span = solve[-1] - solve[1], arrived[-1] - arrived[0]
    if arrival_span < 0.5 * solve_span:
        return fail(f"the progress lines of {solve_span:.1f} s of solving arrived within {arrival_span:.1f} s: "
                    "not streamed while the row ran", log)
    print(f"test_runner_progress: {len(arrivals)} progress lines over {solve[-1]:.1f} s of solving, at most "
          f"{max(solve_gaps):.1f} s of solve time and {max(arrival_gaps):.1f} s in the runner's log apart")
    return 0


def fail(message: str, log: list[str]) -> int:
    print(f"test_runner_progress: FAILED: {message}\nthe runner's log:\n" + "\n".join(log), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
