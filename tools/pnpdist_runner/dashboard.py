"""The dashboard: one self-contained HTML file, interactive and offline. plotly.js is inlined (found by
plotly_js.py in a package's installation), the figures are JSON in the page, the images base64 PNG data URIs;
nothing is fetched. Stable markers:

  <div data-plot="psnr-vs-iteration">   PSNR of rank 0's iterate per iteration (the initial iterate at 0), one
                                        line per run, and the classical baselines (result.json "baselines", of
                                        the first run that has them) as labelled horizontal dashed lines
  <div data-plot="psnr-vs-time">        the same against the solve's wall time
  <div data-plot="ssim-vs-iteration">   the same for SSIM
  <div data-plot="ssim-vs-time">
  <div data-plot="relative-change">     ||x_k - x_k-1|| / ||x_k|| per iteration, log scale
  <div data-plot="time-breakdown">      mean time per iteration: gradient, denoiser, other (stacked), per run
  <div data-plot="memory-per-phase">    peak memory in the gradient and denoiser phases (host RSS and the
                                        allocation tracker's high-water mark; maximum over ranks), per run
  <div data-plot="scaling">             speed-up and parallel efficiency against ranks x threads, when the runs
                                        differ only in ranks and threads; else <p data-note="scaling"> says why
  <table data-table="runs">             every run: configuration, status, final metrics, times, memory
  <section data-images="run_XXX">       truth, measurement, initial and reconstruction of each run, then its
                                        baselines' images (figure data-image="baseline_<name>"), the error map
                                        (data-image="error") and 4x centre crops (data-image="crop_<kind>"); a
                                        zero initial iterate is shown as a labelled placeholder

Each figure's JSON (plotly traces and layout) is in <script type="application/json" id="figures">, keyed by
the data-plot name; baseline traces carry meta.baseline.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
from typing import Any

from . import imaging, plotly_js
from .figures import escape, figures, finite, run_labels, shown_column, uses_slurm
from .results import RunData

PLOTS = ("psnr-vs-iteration", "psnr-vs-time", "ssim-vs-iteration", "ssim-vs-time", "relative-change",
         "time-breakdown", "memory-per-phase", "scaling")
NOTED_PLOTS = ("scaling",)  # may be replaced by a <p data-note="..."> saying why it does not apply
IMAGE_KINDS = ("truth", "measurement", "initial", "reconstruction")


class DashboardError(Exception):
    """What the dashboard needs is not installed (plotly.js, numpy, Pillow)."""


def check_requirements() -> None:
    """Raises DashboardError naming what to install, before any run is started."""
    try:
        plotly_js.find()
        imaging.check()
    except (plotly_js.PlotlyNotFound, imaging.ImagingUnavailable) as e:
        raise DashboardError(str(e)) from None


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
    slurm = uses_slurm(runs)
    config_columns: list[str] = []
    for run in runs:
        for column in run.meta.get("grid_columns") or []:
            if column not in config_columns and shown_column(column, slurm):
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
        tds = "".join(f"<td>{escape(c)}</td>" for c in cells)
        error = s["error"]
        tds += (f"<td><details><summary>show</summary><pre>{escape(error)}</pre></details></td>" if error else "<td></td>")
        rows.append(f'<tr data-run="{escape(run.name)}" class="status-{escape(s["status"])}" '
                    f'title="{escape(labels[run.name])}">{tds}</tr>')
    return ('<div class="table-wrap"><table data-table="runs"><thead><tr>' + "".join(f"<th>{escape(h)}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def _figure(kind: str, caption: str, png_uri: str | None = None, placeholder: str = "no image",
            css_class: str = "missing", extra: str = "") -> str:
    if png_uri is None:
        return (f'<figure data-image="{escape(kind)}" class="{css_class}"><div class="placeholder">{escape(placeholder)}'
                f'</div><figcaption>{escape(caption)}</figcaption></figure>')
    return (f'<figure data-image="{escape(kind)}"><img src="{png_uri}" alt="{escape(caption)}">{extra}'
            f'<figcaption>{escape(caption)}</figcaption></figure>')


def _file_uri(path: str | None) -> str | None:
    if path is None:
        return None
    with open(path, "rb") as f:
        return "data:image/png;base64," + base64.b64encode(f.read()).decode("ascii")


def _colour_scale(top: float) -> str:
    ticks = "".join(f"<span>{v:.3g}</span>" for v in (0.0, top / 2, top))
    return (f'<div class="colour-scale" data-scale-top="{top:.6g}"><div class="bar" style="background: '
            f'linear-gradient(to right, {", ".join(imaging.COLOUR_SCALE)})"></div><div class="ticks">{ticks}</div>'
            "</div>")


def _run_figures(run: RunData) -> list[str]:
    """Truth, measurement, initial, reconstruction, then the run's baselines."""
    captions = {"truth": "ground truth", "measurement": "measurement", "initial": "initial iterate",
                "reconstruction": "reconstruction"}
    init = ((run.result or {}).get("init") or {})
    figures = []
    for kind in IMAGE_KINDS:
        caption = captions[kind]
        if kind == "reconstruction" and run.final("psnr") is not None:
            caption += f" ({run.final('psnr'):.2f} dB)"
        if kind == "initial" and finite(init.get("psnr")):
            caption += f" ({init['psnr']:.2f} dB)"
        if kind == "initial" and init.get("method") == "zeros":
            figures.append(_figure(kind, caption, placeholder="all zeros", css_class="zeros"))
        else:
            figures.append(_figure(kind, caption, _file_uri(run.image_path(kind))))
    for b in run.baselines():
        psnr = b.get("psnr")
        caption = f"baseline {b['name']}" + (f" ({psnr:.2f} dB)" if finite(psnr) else "")
        figures.append(_figure("baseline_" + b["name"], caption, _file_uri(run.baseline_image_path(b))))
    return figures


def _derived_figures(run: RunData, error: Any, top: float) -> list[str]:
    """The error map with its colour scale and the 4x centre crops of truth, reconstruction, best baseline."""
    truth, reconstruction = run.image_path("truth"), run.image_path("reconstruction")
    if truth is None or reconstruction is None:
        return []
    figures = []
    if error is None:
        figures.append(_figure("error", "error map", placeholder="truth and reconstruction differ in size"))
    else:
        caption = (f"|reconstruction - truth| (max {float(error.max()):.3g}, mean {float(error.mean()):.3g} of the "
                   "data range)")
        figures.append(_figure("error", caption, imaging.data_uri(imaging.error_png(error, top)),
                               extra=_colour_scale(top)))
    crops = [("crop_truth", "ground truth", truth), ("crop_reconstruction", "reconstruction", reconstruction)]
    best = run.best_baseline()
    if best is not None and run.baseline_image_path(best):
        crops.append((f"crop_baseline_{best['name']}", f"best baseline {best['name']}", run.baseline_image_path(best)))
    for kind, name, path in crops:
        figures.append(_figure(kind, f"{name}, centre {imaging.ZOOM}x", imaging.data_uri(imaging.crop_png(path))))
    return figures


def _images(runs: list[RunData], labels: dict[str, str]) -> str:
    errors = {}
    for run in runs:
        truth, reconstruction = run.image_path("truth"), run.image_path("reconstruction")
        if truth is not None and reconstruction is not None:
            errors[run.name] = imaging.error_map(truth, reconstruction)
    top = imaging.scale_top(list(errors.values()))
    parts = [f'<p class="note" data-note="derived-images">The error maps (|reconstruction - truth|) and the '
             f"crops are computed from the 8-bit PNGs the examples write (no float images are saved): errors come "
             f"in steps of 1/255 of the data range, and values the PNGs clip are missed. One colour scale for all "
             f"runs, from 0 to {top:.3g} of the data range (the {imaging.ERROR_PERCENTILE:g}th percentile of all "
             f"errors; larger errors saturate). Crops: the centre, enlarged {imaging.ZOOM}x without "
             f"interpolation.</p>"]
    for run in runs:
        derived = _derived_figures(run, errors.get(run.name), top)
        parts.append(f'<section class="images" data-images="{escape(run.name)}"><h3>{escape(labels[run.name])} '
                     f'<span class="status-{escape(run.status)}">[{escape(run.status)}]</span></h3>'
                     f'<div class="figures">{"".join(_run_figures(run))}</div>'
                     + (f'<div class="figures derived">{"".join(derived)}</div>' if derived else "")
                     + "</section>")
    return "".join(parts)


_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px; } h3 { font-size: 15px; }
.meta, .note { color: #555; font-size: 13px; } .meta code { background: #f3f3f3; padding: 1px 4px; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
.plot { border: 1px solid #ddd; min-height: 440px; }
table { border-collapse: collapse; font-size: 12px; } th, td { border: 1px solid #ccc; padding: 3px 6px; }
th { background: #f0f0f0; } td pre { white-space: pre-wrap; max-width: 60ch; margin: 0; font-size: 11px; }
.status-failed, .status-timeout { color: #b00020; } .status-pending { color: #8a6d00; }
tr.status-failed, tr.status-timeout { background: #fff0f0; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 12px; }
figure { margin: 0; text-align: center; font-size: 12px; max-width: 258px; }
figure img { width: 256px; height: auto; image-rendering: pixelated; border: 1px solid #ddd; }
.table-wrap { overflow-x: auto; }
.placeholder { width: 160px; height: 160px; line-height: 160px; border: 1px dashed #bbb; color: #999; }
.colour-scale { width: 256px; margin: 2px auto; } .colour-scale .bar { height: 10px; border: 1px solid #ddd; }
.colour-scale .ticks { display: flex; justify-content: space-between; font-size: 11px; color: #555; }
"""

# Draws every <div data-plot> from the figures' JSON once plotly.js has loaded.
_DRAW = """
(function () {
  const figures = JSON.parse(document.getElementById('figures').textContent);
  for (const div of document.querySelectorAll('div[data-plot]')) {
    const figure = figures[div.getAttribute('data-plot')];
    Plotly.newPlot(div, figure.data, figure.layout, {responsive: true, displaylogo: false});
  }
})();
"""


def _json_script(value: Any) -> str:
    """JSON that cannot end its <script> element early."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


def _meta_lines(runs: list[RunData], plotly_version: str) -> list[str]:
    first = runs[0].meta if runs else {}
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    status_text = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no runs"
    meta_lines = [f"{len(runs)} runs: {status_text}"]
    if first:
        meta_lines.append(f"example <code>{escape(first.get('example'))}</code>, dataset "
                          f"<code>{escape(first.get('dataset_name'))}</code> "
                          + escape(", ".join(f"{k}={_plain(v)}" for k, v in (first.get("dataset") or {}).items())))
        solver = first.get("solver") or {}
        meta_lines.append("solver PnP: " + escape(", ".join(f"{k}={_plain(v)}" for k, v in solver.items())))
        meta_lines.append(f"config <code>{escape(os.path.basename(first.get('config', '')))}</code>")
    result = next((r.result for r in runs if r.result), None) or {}
    problem = result.get("problem")
    if isinstance(problem, dict) and problem.get("description"):
        meta_lines.append("problem: " + escape(problem["description"]))
    denoiser = result.get("denoiser")
    if isinstance(denoiser, dict):
        text = ", ".join(f"{k} {os.path.basename(str(v)) if k == 'weights' else v}" for k, v in denoiser.items()
                         if v not in ("", None))
        meta_lines.append("denoiser: " + escape(text))
        if denoiser.get("fallback"):
            meta_lines.append(f'<span class="status-failed">denoiser fallback: {escape(denoiser["fallback"])}</span>')
    meta_lines.append("generated " + datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                      + f"; plots by plotly.js {escape(plotly_version)}, inline: hover a point for its value, drag to "
                      "zoom (double-click resets), click a legend entry to hide or show it")
    return meta_lines


def render(runs: list[RunData], title: str) -> str:
    try:
        script = plotly_js.script()
        labels = run_labels(runs)
        plots, notes = figures(runs)
        images = _images(runs, labels)
    except (plotly_js.PlotlyNotFound, imaging.ImagingUnavailable) as e:
        raise DashboardError(str(e)) from None
    version = re.search(r"plotly\.js v([0-9][0-9.]*)", script[:2000])
    divs = "".join(f'<div class="plot" data-plot="{p}"></div>' if p in plots
                   else f'<p class="note" data-note="{p}">{escape(notes[p])}</p>' for p in PLOTS)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>" + "".join(f'<p class="meta">{line}</p>' for line in _meta_lines(
            runs, version.group(1) if version else "(version unknown)"))
        + f'<h2>Convergence, time and memory</h2><div class="plots">{divs}</div>'
        + "<h2>Runs</h2>" + _table(runs, labels)
        + "<h2>Images</h2>" + images
        + f'<script type="application/json" id="figures">{_json_script(plots)}</script>'
        + f"<script>{script}</script><script>{_DRAW}</script>"
        + "</body></html>\n")


def write_dashboard(out_dir: str, runs: list[RunData], title: str | None = None) -> str:
    """Writes <out_dir>/dashboard.html; DashboardError when plotly.js, numpy or Pillow is missing."""
    if title is None:
        stem = runs[0].meta.get("config_stem") if runs else None
        title = f"pnpdist: {stem or os.path.basename(os.path.abspath(out_dir))}"
    page = render(runs, title)
    path = os.path.join(out_dir, "dashboard.html")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, path)
    return path
