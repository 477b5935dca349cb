"""Reading run directories back and writing summary.csv.

A run's status: "ok" (exit code 0 and a valid result.json), "failed" (non-zero exit code or no valid
result.json), "timeout", "interrupted" (the runner was interrupted during the run), or "pending" (no
status.json yet: a submitted Slurm job that has not finished).
Times are rank 0's (the ranks run in lock step); memory is the maximum over ranks and iterations.
"""

from __future__ import annotations

import csv
import json
import math
import os
from typing import Any

SCHEMA = "pnpdist.run/1"
STDERR_TAIL_LINES = 15


class RunData:
    """One run directory: the runner's metadata, the example's result and the derived numbers."""

    def __init__(self, directory: str):
        self.directory = directory
        self.name = os.path.basename(directory)
        self.meta: dict[str, Any] = _read_json(os.path.join(directory, "run.json")) or {}
        self.status_file: dict[str, Any] | None = _read_json(os.path.join(directory, "status.json"))
        self.result: dict[str, Any] | None = None
        self.result_error = ""
        path = os.path.join(directory, "result.json")
        if os.path.exists(path):
            try:
                with open(path, encoding="utf-8") as f:
                    self.result = json.load(f)
                self.result_error = _check_result(self.result)
            except (OSError, ValueError) as e:
                self.result_error = f"result.json unreadable: {e}"
            if self.result_error:
                self.result = None
        else:
            self.result_error = "no result.json"

    # -- status ---------------------------------------------------------------------------------------------
    @property
    def exit_code(self) -> int | None:
        return self.status_file.get("exit_code") if self.status_file else None

    @property
    def status(self) -> str:
        if self.status_file is None:
            return "pending"
        if self.status_file.get("timed_out"):
            return "timeout"
        if self.status_file.get("interrupted"):
            return "interrupted"
        if self.exit_code != 0 or self.result is None:
            return "failed"
        return "ok"

    @property
    def error(self) -> str:
        """Why the run failed: the problem and the tail of its stderr."""
        status = self.status
        if status in ("ok", "pending"):
            return ""
        parts = []
        if status == "timeout":
            parts.append("timed out")
        elif status == "interrupted":
            parts.append("interrupted (Ctrl-C)")
        elif self.exit_code != 0:
            parts.append(f"exit code {self.exit_code}" + (f" ({self.status_file['signal']})"
                                                          if self.status_file and "signal" in self.status_file else ""))
        elif self.result_error:
            parts.append(self.result_error)
        tail = self.stderr_tail()
        if tail:
            parts.append(tail)
        return "\n".join(parts)

    def stderr_tail(self, lines: int = STDERR_TAIL_LINES) -> str:
        try:
            with open(os.path.join(self.directory, "stderr.log"), encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])

    # -- records --------------------------------------------------------------------------------------------
    def records(self, rank: int = 0) -> list[dict[str, Any]]:
        if not self.result:
            return []
        ranks = self.result.get("records") or []
        return ranks[rank] if rank < len(ranks) else []

    def all_records(self) -> list[dict[str, Any]]:
        if not self.result:
            return []
        return [r for rank in self.result.get("records") or [] for r in rank]

    def metric_curve(self, metric: str, x_key: str) -> list[tuple[float, float]]:
        """(x, value) points of rank 0, metric = 'psnr' or 'ssim', x = 'iteration' or 'wall_seconds'; the initial
        iterate at x = 0."""
        points = []
        init = (self.result or {}).get("init") or {}
        if _finite(init.get(metric)):
            points.append((0.0, float(init[metric])))
        for r in self.records():
            if _finite(r.get(x_key)) and _finite(r.get(metric)):
                points.append((float(r[x_key]), float(r[metric])))
        return points

    def mean(self, key: str) -> float | None:
        values = [float(r[key]) for r in self.records() if _finite(r.get(key))]
        return sum(values) / len(values) if values else None

    def peak(self, key: str) -> int | None:
        values = [int(r[key]) for r in self.all_records() if _finite(r.get(key))]
        return max(values) if values else None

    def final(self, key: str) -> Any:
        value = ((self.result or {}).get("final") or {}).get(key)
        return value if _finite(value) else None

    def image_path(self, kind: str) -> str | None:
        images = (self.result or {}).get("images") or {}
        name = images.get(kind)
        if not isinstance(name, str) or not name:
            return None
        path = os.path.join(self.directory, name)
        return path if os.path.isfile(path) else None

    # -- baselines ------------------------------------------------------------------------------------------
    def baselines(self) -> list[dict[str, Any]]:
        """result.json's "baselines" entries (name, psnr, ssim, seconds, parameters, image) that have a name."""
        entries = (self.result or {}).get("baselines")
        if not isinstance(entries, list):
            return []
        return [b for b in entries if isinstance(b, dict) and isinstance(b.get("name"), str) and b["name"]]

    def best_baseline(self) -> dict[str, Any] | None:
        """The baseline of the highest finite PSNR, or None."""
        scored = [b for b in self.baselines() if _finite(b.get("psnr"))]
        return max(scored, key=lambda b: float(b["psnr"])) if scored else None

    def baseline_image_path(self, baseline: dict[str, Any]) -> str | None:
        name = baseline.get("image")
        if not isinstance(name, str) or not name:
            return None
        path = os.path.join(self.directory, name)
        return path if os.path.isfile(path) else None

    # -- summary --------------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        meta = self.meta
        row: dict[str, Any] = {
            "run": self.name,
            "row": meta.get("row"),
            "init_method": meta.get("init_method"),
            "ranks": meta.get("ranks"),
            "threads_per_rank": meta.get("threads_per_rank"),
        }
        for column in meta.get("grid_columns") or []:
            row[column] = _cell(meta.get("columns", {}).get(column))
        row.update({
            "status": self.status,
            "exit_code": self.exit_code,
            "final_psnr": self.final("psnr"),
            "final_ssim": self.final("ssim"),
            "init_psnr": _finite_or_none(((self.result or {}).get("init") or {}).get("psnr")),
            "best_baseline": (self.best_baseline() or {}).get("name"),
            "best_baseline_psnr": _finite_or_none((self.best_baseline() or {}).get("psnr")),
            "iterations": self.final("iterations"),
            "setup_seconds": _finite_or_none((self.result or {}).get("setup_seconds")),
            "total_seconds": self.final("total_seconds"),
            "mean_iteration_seconds": self.mean("iteration_seconds"),
            "mean_gradient_seconds": self.mean("gradient_seconds"),
            "mean_denoiser_seconds": self.mean("denoiser_seconds"),
            "peak_rss_bytes": self.final("peak_rss_bytes"),
            "peak_rss_gradient_bytes": self.peak("peak_rss_gradient_bytes"),
            "peak_rss_denoiser_bytes": self.peak("peak_rss_denoiser_bytes"),
            "peak_tracked_gradient_bytes": self.peak("peak_tracked_gradient_bytes"),
            "peak_tracked_denoiser_bytes": self.peak("peak_tracked_denoiser_bytes"),
            "wall_seconds": (self.status_file or {}).get("wall_seconds"),
            "process_peak_rss_bytes": (self.status_file or {}).get("max_rss_bytes"),
            "error": self.error,
        })
        return row


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _check_result(result: Any) -> str:
    """'' for a result.json of the expected shape, else what is wrong with it."""
    if not isinstance(result, dict):
        return "result.json: not a JSON object"
    if result.get("schema") != SCHEMA:
        return f"result.json: schema {result.get('schema')!r}, expected {SCHEMA!r}"
    records = result.get("records")
    if not isinstance(records, list) or not all(
            isinstance(rank, list) and all(isinstance(r, dict) for r in rank) for rank in records):
        return "result.json: records: expected a list (one per rank) of lists of objects"
    if not isinstance(result.get("final"), dict):
        return "result.json: final: expected an object"
    return ""


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _finite_or_none(value: Any) -> Any:
    return value if _finite(value) else None


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def collect(out_dir: str) -> list[RunData]:
    """Every run directory under <out_dir>/runs, in run order."""
    root = os.path.join(out_dir, "runs")
    if not os.path.isdir(root):
        return []
    names = sorted(n for n in os.listdir(root) if n.startswith("run_") and os.path.isdir(os.path.join(root, n)))
    return [RunData(os.path.join(root, n)) for n in names]


def write_summary(out_dir: str, runs: list[RunData]) -> str:
    """Writes <out_dir>/summary.csv (one row per run; columns: the union over runs, in first-seen order)."""
    rows = [run.summary() for run in runs]
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    if not fields:
        fields = ["run", "status"]
    # Keep the measured columns after every configuration column, whatever order the runs were seen in.
    measured = [f for f in fields if f in _MEASURED]
    fields = [f for f in fields if f not in _MEASURED] + sorted(measured, key=_MEASURED.index)
    path = os.path.join(out_dir, "summary.csv")
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv(v) for k, v in row.items()})
    return path


_MEASURED = ["status", "exit_code", "final_psnr", "final_ssim", "init_psnr", "best_baseline", "best_baseline_psnr",
             "iterations", "setup_seconds",
             "total_seconds", "mean_iteration_seconds", "mean_gradient_seconds", "mean_denoiser_seconds",
             "peak_rss_bytes", "peak_rss_gradient_bytes", "peak_rss_denoiser_bytes", "peak_tracked_gradient_bytes",
             "peak_tracked_denoiser_bytes", "wall_seconds", "process_peak_rss_bytes", "error"]


def _csv(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value
