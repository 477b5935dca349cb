#!/usr/bin/env python3
"""Writes <out>/summary.csv and <out>/dashboard.html from the run directories under <out>/runs (what
pnpdist_run.py leaves there; use it after Slurm jobs have finished, or to redraw). See docs/runner.md."""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pnpdist_runner.dashboard import DashboardError, write_dashboard  # noqa: E402
from pnpdist_runner.results import collect, write_summary  # noqa: E402


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="pnpdist_dashboard.py", description=__doc__)
    p.add_argument("out", help="the runner's output directory (holding runs/run_XXX/)")
    p.add_argument("--title", help="page title (default: pnpdist: <config stem>)")
    args = p.parse_args(argv)
    runs = collect(args.out)
    if not runs:
        print(f"error: no run directories under {os.path.join(args.out, 'runs')}", file=sys.stderr)
        return 2
    print(write_summary(args.out, runs))
    try:
        print(write_dashboard(args.out, runs, args.title))
    except DashboardError as e:
        print(f"error: no dashboard: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
