"""The dashboard: one self-contained HTML file (inline CSS and SVG, images as base64 PNG data URIs, no
script, nothing fetched) with

  <svg data-plot="psnr-vs-iteration">   PSNR of rank 0's iterate per iteration, one line per run, and the
                                        classical baselines (result.json "baselines", of the first run that
                                        has them) as labelled horizontal dashed lines (g.reference)
  <svg data-plot="psnr-vs-time">        the same against the solve's wall time
  <svg data-plot="time-breakdown">      mean time per iteration: gradient, denoiser, other (stacked), per run
  <svg data-plot="memory-per-phase">    peak memory in the gradient and denoiser phases (host RSS and the
                                        allocation tracker's high-water mark; maximum over ranks), per run
  <table data-table="runs">             every run: configuration, status, final metrics, times, memory
  <section data-images="run_XXX">       truth, measurement, initial and reconstruction of each run, then its
                                        baselines' images (figure data-image="baseline_<name>"); a zero
                                        initial iterate is shown as a labelled placeholder, not a black square
"""

from __future__ import annotations

import base64
import datetime
import html
import os
from typing import Any

from . import svg
from .results import RunData

PLOTS = ("psnr-vs-iteration", "psnr-vs-time", "time-breakdown", "memory-per-phase")
IMAGE_KINDS = ("truth", "measurement", "initial", "reconstruction")

# Columns that tell the configurations apart, in display order.
_LABEL_KEYS = ("ranks", "slurm_gres", "distribute_physics", "distribute_denoiser", "patch_size", "overlap",
               "max_batch_size", "init_method")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _value(run: RunData, key: str) -> Any:
    meta = run.meta
    if key in ("ranks", "init_method", "row"):
        return meta.get(key)
    value = (meta.get("columns") or {}).get(key)
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    return value


def _label_keys(runs: list[RunData]) -> list[str]:
    """The configuration keys whose value differs between runs (extra grid columns included)."""
    keys = list(_LABEL_KEYS)
    for run in runs:
        for column in run.meta.get("grid_columns") or []:
            if column not in keys and column not in ("slurm_ntasks_per_node", "slurm_nodes"):
                keys.append(column)
    return [k for k in keys if len({repr(_value(r, k)) for r in runs}) > 1]


def _short(key: str, value: Any) -> str:
    if key == "ranks":
        return f"{value} rank" + ("s" if value != 1 else "")
    if isinstance(value, bool):
        return f"{key.replace('distribute_', 'dist. ')} {'on' if value else 'off'}"
    names = {"patch_size": "patch", "max_batch_size": "batch", "init_method": "init", "slurm_gres": "gres",
             "denoiser_sigma": "sigma", "denoiser_lambda_relaxation": "lambda"}
    return f"{names.get(key, key)} {value}"


def run_labels(runs: list[RunData]) -> dict[str, str]:
    """'run_001: 2 ranks, patch 128' style labels naming what differs between the runs."""
    keys = _label_keys(runs)
    labels = {}
    for run in runs:
        parts = [_short(k, _value(run, k)) for k in keys]
        labels[run.name] = run.name + (": " + ", ".join(parts) if parts else "")
    return labels


def _bytes_unit(values: list[int | None]) -> tuple[str, float]:
    top = max((v for v in values if v is not None), default=0)
    if top >= 2 ** 30:
        return "GiB", 2.0 ** 30
    return "MiB", 2.0 ** 20


# Colours of the baselines' reference lines: darker than the runs' palette, told apart by their labels.
BASELINE_COLOURS = ["#444444", "#7b4173", "#637939", "#843c39", "#3182bd", "#8c6d31", "#636363", "#393b79"]


def baseline_references(runs: list[RunData]) -> list[tuple[str, str, float, str]]:
    """(label, colour, PSNR, tooltip) of the baselines of the first run that has some (the runs of a config
    share their problem, so their baselines agree up to timing)."""
    source = next((r for r in runs if r.baselines()), None)
    if source is None:
        return []
    out = []
    for index, b in enumerate(source.baselines()):
        psnr = b.get("psnr")
        if not isinstance(psnr, (int, float)) or isinstance(psnr, bool):
            continue
        seconds = b.get("seconds")
        ssim = b.get("ssim")
        tooltip = (f"baseline {b['name']} ({source.name}): PSNR {psnr:.2f} dB"
                   + (f", SSIM {ssim:.3f}" if isinstance(ssim, (int, float)) else "")
                   + (f", {seconds:.3g} s" if isinstance(seconds, (int, float)) else "")
                   + (f", {_parameters_text(b.get('parameters'))}" if b.get("parameters") else ""))
        out.append((f"{b['name']} {psnr:.2f} dB", BASELINE_COLOURS[index % len(BASELINE_COLOURS)], float(psnr),
                    tooltip))
    return out


def _parameters_text(parameters: Any) -> str:
    if isinstance(parameters, dict):
        return ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in parameters.items())
    return str(parameters)


def plots(runs: list[RunData]) -> dict[str, str]:
    labels = run_labels(runs)
    colours = {run.name: svg.color(i) for i, run in enumerate(runs)}
    references = baseline_references(runs)
    out = {}
    out["psnr-vs-iteration"] = svg.line_chart(
        "psnr-vs-iteration", "PSNR vs iteration", "iteration", "PSNR (dB)",
        [(labels[r.name], colours[r.name], r.psnr_curve("iteration")) for r in runs],
        x_format=lambda v: f"{v:g}", y_format=lambda v: f"{v:.2f} dB", references=references)
    out["psnr-vs-time"] = svg.line_chart(
        "psnr-vs-time", "PSNR vs time", "wall time of the solve (s)", "PSNR (dB)",
        [(labels[r.name], colours[r.name], r.psnr_curve("wall_seconds")) for r in runs],
        x_format=lambda v: f"{v:.3g} s", y_format=lambda v: f"{v:.2f} dB", references=references)

    keys = _label_keys(runs)
    categories = [[r.name] + [_short(k, _value(r, k)) for k in keys] + ([r.status] if r.status != "ok" else [])
                  for r in runs]
    gradient = [r.mean("gradient_seconds") for r in runs]
    denoiser = [r.mean("denoiser_seconds") for r in runs]
    iteration = [r.mean("iteration_seconds") for r in runs]
    rest = [max(0.0, it - (g or 0) - (d or 0)) if it is not None else None
            for it, g, d in zip(iteration, gradient, denoiser)]
    out["time-breakdown"] = svg.bar_chart(
        "time-breakdown", "Time per iteration: gradient and denoiser (rank 0)", "mean time per iteration (s)",
        categories, [("gradient", "#1f77b4", gradient), ("denoiser", "#ff7f0e", denoiser),
                     ("other (update, metrics)", "#c7c7c7", rest)],
        stacked=True, value_format=lambda v: f"{v:.4g} s")

    memory = {
        "RSS, gradient": [r.peak("peak_rss_gradient_bytes") for r in runs],
        "RSS, denoiser": [r.peak("peak_rss_denoiser_bytes") for r in runs],
        "tracked, gradient": [r.peak("peak_tracked_gradient_bytes") for r in runs],
        "tracked, denoiser": [r.peak("peak_tracked_denoiser_bytes") for r in runs],
    }
    unit, scale = _bytes_unit([v for values in memory.values() for v in values])
    fills = ["#1f77b4", "#ff7f0e", "#aec7e8", "#ffbb78"]
    out["memory-per-phase"] = svg.bar_chart(
        "memory-per-phase", "Peak memory per phase (maximum over ranks)", f"peak memory ({unit})", categories,
        [(name, fill, [v / scale if v is not None else None for v in values])
         for (name, values), fill in zip(memory.items(), fills)],
        stacked=False, value_format=lambda v: f"{v:.4g} {unit}")
    return out


def _plain(value: Any) -> str:
    """A config value as the YAML spelled it (true/false, lists with commas, files by their name)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, str) and os.path.isabs(value):
        return os.path.basename(value)
    return str(value)


def _fmt(value: Any, kind: str = "") -> str:
    if value is None or value == "":
        return "–"
    if kind == "bytes":
        return f"{value / 2 ** 20:.1f} MiB"
    if kind == "s":
        return f"{value:.4g} s"
    if kind == "db":
        return f"{value:.2f} dB"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _table(runs: list[RunData], labels: dict[str, str]) -> str:
    config_columns: list[str] = []
    for run in runs:
        for column in run.meta.get("grid_columns") or []:
            if column not in config_columns:
                config_columns.append(column)
    head = (["run", "row", "init", "ranks", "threads/rank"] + config_columns
            + ["status", "final PSNR", "final SSIM", "best baseline", "iterations", "total time", "mean time/iteration",
               "mean gradient", "mean denoiser", "peak RSS", "error"])
    rows = []
    for run in runs:
        s = run.summary()
        cells = [run.name, s["row"], s["init_method"], s["ranks"], s["threads_per_rank"]]
        cells += [s.get(c) for c in config_columns]
        cells = [_fmt(c) for c in cells]
        best = (f"{s['best_baseline']} ({_fmt(s['best_baseline_psnr'], 'db')})" if s["best_baseline"] else None)
        cells += [s["status"], _fmt(s["final_psnr"], "db"), _fmt(s["final_ssim"]), _fmt(best), _fmt(s["iterations"]),
                  _fmt(s["total_seconds"], "s"), _fmt(s["mean_iteration_seconds"], "s"),
                  _fmt(s["mean_gradient_seconds"], "s"), _fmt(s["mean_denoiser_seconds"], "s"),
                  _fmt(s["peak_rss_bytes"], "bytes")]
        tds = "".join(f"<td>{_e(c)}</td>" for c in cells)
        error = s["error"]
        tds += (f"<td><details><summary>show</summary><pre>{_e(error)}</pre></details></td>" if error else "<td></td>")
        rows.append(f'<tr data-run="{_e(run.name)}" class="status-{_e(s["status"])}" '
                    f'title="{_e(labels[run.name])}">{tds}</tr>')
    return ('<div class="table-wrap"><table data-table="runs"><thead><tr>' + "".join(f"<th>{_e(h)}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def _data_uri(path: str) -> str:
    with open(path, "rb") as f:
        return "data:image/png;base64," + base64.b64encode(f.read()).decode("ascii")


def _images(runs: list[RunData], labels: dict[str, str]) -> str:
    parts = []
    captions = {"truth": "ground truth", "measurement": "measurement", "initial": "initial iterate",
                "reconstruction": "reconstruction"}
    for run in runs:
        figures = []
        init = ((run.result or {}).get("init") or {})
        for kind in IMAGE_KINDS:
            path = run.image_path(kind)
            caption = captions[kind]
            if kind == "reconstruction" and run.final("psnr") is not None:
                caption += f" ({run.final('psnr'):.2f} dB)"
            if kind == "initial" and isinstance(init.get("psnr"), (int, float)):
                caption += f" ({init['psnr']:.2f} dB)"
            if kind == "initial" and init.get("method") == "zeros":
                figures.append(f'<figure data-image="{kind}" class="zeros"><div class="placeholder">all zeros'
                               f'</div><figcaption>{_e(caption)}</figcaption></figure>')
            elif path is None:
                figures.append(f'<figure data-image="{kind}" class="missing"><div class="placeholder">no image'
                               f'</div><figcaption>{_e(caption)}</figcaption></figure>')
            else:
                figures.append(f'<figure data-image="{kind}"><img src="{_data_uri(path)}" alt="{_e(caption)}">'
                               f'<figcaption>{_e(caption)}</figcaption></figure>')
        for b in run.baselines():
            path = run.baseline_image_path(b)
            psnr = b.get("psnr")
            caption = f"baseline {b['name']}" + (f" ({psnr:.2f} dB)" if isinstance(psnr, (int, float)) else "")
            kind = "baseline_" + b["name"]
            if path is None:
                figures.append(f'<figure data-image="{_e(kind)}" class="missing"><div class="placeholder">no image'
                               f'</div><figcaption>{_e(caption)}</figcaption></figure>')
            else:
                figures.append(f'<figure data-image="{_e(kind)}"><img src="{_data_uri(path)}" alt="{_e(caption)}">'
                               f'<figcaption>{_e(caption)}</figcaption></figure>')
        parts.append(f'<section class="images" data-images="{_e(run.name)}"><h3>{_e(labels[run.name])} '
                     f'<span class="status-{_e(run.status)}">[{_e(run.status)}]</span></h3>'
                     f'<div class="figures">{"".join(figures)}</div></section>')
    return "".join(parts)


_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px; } h3 { font-size: 15px; }
.meta { color: #555; font-size: 13px; } .meta code { background: #f3f3f3; padding: 1px 4px; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
.plots svg { border: 1px solid #ddd; max-width: 100%; height: auto; background: #fff; }
table { border-collapse: collapse; font-size: 12px; } th, td { border: 1px solid #ccc; padding: 3px 6px; }
th { background: #f0f0f0; } td pre { white-space: pre-wrap; max-width: 60ch; margin: 0; font-size: 11px; }
.status-failed, .status-timeout { color: #b00020; } .status-pending { color: #8a6d00; }
tr.status-failed, tr.status-timeout { background: #fff0f0; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; text-align: center; font-size: 12px; }
figure img { width: 256px; height: auto; image-rendering: pixelated; border: 1px solid #ddd; }
.table-wrap { overflow-x: auto; }
.placeholder { width: 160px; height: 160px; line-height: 160px; border: 1px dashed #bbb; color: #999; }
"""


def render(runs: list[RunData], title: str) -> str:
    labels = run_labels(runs)
    charts = plots(runs)
    first = runs[0].meta if runs else {}
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    status_text = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no runs"
    meta_lines = [f"{len(runs)} runs: {status_text}"]
    if first:
        meta_lines.append(f"example <code>{_e(first.get('example'))}</code>, dataset "
                          f"<code>{_e(first.get('dataset_name'))}</code> "
                          + _e(", ".join(f"{k}={_plain(v)}" for k, v in (first.get("dataset") or {}).items())))
        solver = first.get("solver") or {}
        meta_lines.append("solver PnP: " + _e(", ".join(f"{k}={_plain(v)}" for k, v in solver.items())))
        meta_lines.append(f"config <code>{_e(os.path.basename(first.get('config', '')))}</code>")
    result = next((r.result for r in runs if r.result), None) or {}
    problem = result.get("problem")
    if isinstance(problem, dict) and problem.get("description"):
        meta_lines.append("problem: " + _e(problem["description"]))
    denoiser = result.get("denoiser")
    if isinstance(denoiser, dict):
        text = ", ".join(f"{k} {os.path.basename(str(v)) if k == 'weights' else v}" for k, v in denoiser.items()
                         if v not in ("", None))
        meta_lines.append("denoiser: " + _e(text))
        if denoiser.get("fallback"):
            meta_lines.append(f'<span class="status-failed">denoiser fallback: {_e(denoiser["fallback"])}</span>')
    meta_lines.append("generated " + datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>" + "".join(f'<p class="meta">{line}</p>' for line in meta_lines)
        + '<h2>Convergence, time and memory</h2><div class="plots">'
        + "".join(charts[p] for p in PLOTS) + "</div>"
        + "<h2>Runs</h2>" + _table(runs, labels)
        + "<h2>Images</h2>" + _images(runs, labels)
        + "</body></html>\n")


def write_dashboard(out_dir: str, runs: list[RunData], title: str | None = None) -> str:
    if title is None:
        stem = runs[0].meta.get("config_stem") if runs else None
        title = f"pnpdist: {stem or os.path.basename(os.path.abspath(out_dir))}"
    path = os.path.join(out_dir, "dashboard.html")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(render(runs, title))
    os.replace(tmp, path)
    return path
