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
import html
import json
import math
import os
import re
from typing import Any

from . import imaging, plotly_js
from .results import RunData

PLOTS = ("psnr-vs-iteration", "psnr-vs-time", "ssim-vs-iteration", "ssim-vs-time", "relative-change",
         "time-breakdown", "memory-per-phase", "scaling")
NOTED_PLOTS = ("scaling",)  # may be replaced by a <p data-note="..."> saying why it does not apply
IMAGE_KINDS = ("truth", "measurement", "initial", "reconstruction")

# The runs' colours (the same run has the same colour in every plot) and the baselines' (darker).
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]
BASELINE_COLOURS = ["#444444", "#7b4173", "#637939", "#843c39", "#3182bd", "#8c6d31", "#636363", "#393b79"]


class DashboardError(Exception):
    """What the dashboard needs is not installed (plotly.js, numpy, Pillow)."""


def check_requirements() -> None:
    """Raises DashboardError naming what to install, before any run is started."""
    try:
        plotly_js.find()
        imaging.check()
    except (plotly_js.PlotlyNotFound, imaging.ImagingUnavailable) as e:
        raise DashboardError(str(e)) from None


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _uses_slurm(runs: list[RunData]) -> bool:
    return any(run.meta.get("mode") == "slurm" for run in runs)


def _shown_column(column: str, slurm: bool) -> bool:
    """The slurm_* columns only when a run went through Slurm."""
    return slurm or not column.startswith("slurm_")


def _value(run: RunData, key: str) -> Any:
    meta = run.meta
    if key in ("ranks", "init_method", "row"):
        return meta.get(key)
    value = (meta.get("columns") or {}).get(key)
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    return value


# Columns that tell the configurations apart, in display order.
_LABEL_KEYS = ("ranks", "slurm_gres", "distribute_physics", "distribute_denoiser", "patch_size", "overlap",
               "max_batch_size", "init_method")


def _label_keys(runs: list[RunData]) -> list[str]:
    """The configuration keys whose value differs between runs (extra grid columns included)."""
    slurm = _uses_slurm(runs)
    keys = [k for k in _LABEL_KEYS if _shown_column(k, slurm)]
    for run in runs:
        for column in run.meta.get("grid_columns") or []:
            if column not in keys and column not in ("slurm_ntasks_per_node", "slurm_nodes") \
                    and _shown_column(column, slurm):
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


def _parameters_text(parameters: Any) -> str:
    if isinstance(parameters, dict):
        return ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in parameters.items())
    return str(parameters)


# The metrics of the convergence plots: result.json key, axis title, label format (with unit), plotly format.
_METRICS = {"psnr": ("PSNR (dB)", "{:.2f} dB", "%{y:.2f} dB"), "ssim": ("SSIM", "SSIM {:.3f}", "%{y:.4f}")}


def baseline_references(runs: list[RunData], metric: str = "psnr") -> list[tuple[str, str, float, str]]:
    """(label, colour, value, hover text) of the baselines of the first run that has some (the runs of a config
    share their problem, so their baselines agree up to timing); metric: "psnr" or "ssim"."""
    source = next((r for r in runs if r.baselines()), None)
    if source is None:
        return []
    out = []
    for index, b in enumerate(source.baselines()):
        value = b.get(metric)
        if not _finite(value):
            continue
        psnr, ssim, seconds = b.get("psnr"), b.get("ssim"), b.get("seconds")
        hover = (f"baseline {b['name']} ({source.name})"
                 + (f"<br>PSNR {psnr:.2f} dB" if _finite(psnr) else "")
                 + (f"<br>SSIM {ssim:.3f}" if _finite(ssim) else "")
                 + (f"<br>{seconds:.3g} s" if _finite(seconds) else "")
                 + (f"<br>{_e(_parameters_text(b.get('parameters')))}" if b.get("parameters") else ""))
        label = f"{b['name']} " + _METRICS[metric][1].format(value).replace("SSIM ", "")
        out.append((label, BASELINE_COLOURS[index % len(BASELINE_COLOURS)], float(value), hover))
    return out


def _layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    layout = {"title": {"text": title}, "xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}},
              "height": 440, "margin": {"l": 70, "r": 30, "t": 50, "b": 60}, "hovermode": "closest",
              "legend": {"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top"}}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def _no_data(layout: dict[str, Any]) -> dict[str, Any]:
    layout["annotations"] = [{"text": "no data", "showarrow": False, "xref": "paper", "yref": "paper",
                              "x": 0.5, "y": 0.5, "font": {"size": 16, "color": "#888"}}]
    return layout


def _line_figure(runs: list[RunData], labels: dict[str, str], title: str, x_title: str, y_title: str,
                 curves: dict[str, list[tuple[float, float]]], x_hover: str, y_hover: str,
                 references: list[tuple[str, str, float, str]] = (), log_y: bool = False) -> dict[str, Any]:
    """One line per run with points, then the references as labelled dashed horizontal lines across the runs'
    x range (each a trace of its own: hover shows its values, a legend click hides it)."""
    data = []
    for index, run in enumerate(runs):
        points = curves.get(run.name) or []
        if not points:
            continue
        data.append({"type": "scatter", "mode": "lines+markers", "name": labels[run.name],
                     "x": [x for x, _ in points], "y": [y for _, y in points],
                     "line": {"color": PALETTE[index % len(PALETTE)], "width": 2}, "marker": {"size": 5},
                     "hovertemplate": f"{x_hover}<br>{y_hover}"})
    xs = [x for trace in data for x in trace["x"]]
    low, high = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if high <= low:
        high = low + 1.0
    for index, (label, colour, value, hover) in enumerate(references):
        # labels at the right end, every other one at the left: close values keep their labels apart
        data.append({"type": "scatter", "mode": "lines+text", "name": f"baseline {label}",
                     "x": [low, high], "y": [value, value], "text": ["", label] if index % 2 == 0 else [label, ""],
                     "textposition": "top left" if index % 2 == 0 else "top right",
                     "textfont": {"color": colour, "size": 11}, "line": {"color": colour, "dash": "dash", "width": 1.5},
                     "hovertemplate": hover + "<extra></extra>", "meta": {"baseline": label}})
    integer_x = xs and all(float(x).is_integer() for x in xs) and high - low <= 20  # iterations: a tick each
    layout = _layout(title, x_title, y_title, xaxis={"dtick": 1} if integer_x else {},
                     yaxis={"type": "log", "exponentformat": "power"} if log_y else {})
    return {"data": data, "layout": layout if xs else _no_data(layout)}


def _categories(runs: list[RunData]) -> list[str]:
    """A bar chart's category per run: its name, what differs, and a status other than ok, on separate lines."""
    keys = _label_keys(runs)
    return ["<br>".join([r.name] + [_short(k, _value(r, k)) for k in keys] + ([r.status] if r.status != "ok" else []))
            for r in runs]


def _bar_figure(runs: list[RunData], title: str, y_title: str, series: list[tuple[str, str, list[Any]]],
                unit: str, stacked: bool) -> dict[str, Any]:
    categories = _categories(runs)
    data = [{"type": "bar", "name": name, "x": categories, "y": values, "marker": {"color": colour},
             "hovertemplate": f"{name}: %{{y:.4g}} {unit}<extra></extra>"} for name, colour, values in series]
    layout = _layout(title, "", y_title, barmode="stack" if stacked else "group")
    drawn = any(v is not None for _, _, values in series for v in values)
    return {"data": data, "layout": layout if drawn else _no_data(layout)}


def _convergence_figures(runs: list[RunData], labels: dict[str, str]) -> dict[str, dict[str, Any]]:
    out = {}
    for metric, (y_title, _, y_hover) in _METRICS.items():
        references = baseline_references(runs, metric)
        for x_key, suffix, x_title, x_hover in (("iteration", "iteration", "iteration", "iteration %{x}"),
                                                ("wall_seconds", "time", "wall time of the solve (s)",
                                                 "%{x:.3g} s")):
            curves = {r.name: r.metric_curve(metric, x_key) for r in runs}
            out[f"{metric}-vs-{suffix}"] = _line_figure(
                runs, labels, f"{y_title.split(' ')[0]} vs {suffix}", x_title, y_title, curves, x_hover, y_hover,
                references)
    curves = {r.name: [(float(rec["iteration"]), float(rec["relative_change"])) for rec in r.records()
                       if _finite(rec.get("iteration")) and _finite(rec.get("relative_change"))
                       and rec["relative_change"] > 0] for r in runs}
    out["relative-change"] = _line_figure(
        runs, labels, "Relative change per iteration", "iteration", "||x_k - x_(k-1)|| / ||x_k||", curves,
        "iteration %{x}", "%{y:.3e}", log_y=True)
    return out


def _time_and_memory_figures(runs: list[RunData]) -> dict[str, dict[str, Any]]:
    gradient = [r.mean("gradient_seconds") for r in runs]
    denoiser = [r.mean("denoiser_seconds") for r in runs]
    iteration = [r.mean("iteration_seconds") for r in runs]
    rest = [max(0.0, it - (g or 0) - (d or 0)) if it is not None else None
            for it, g, d in zip(iteration, gradient, denoiser)]
    out = {"time-breakdown": _bar_figure(
        runs, "Time per iteration: gradient and denoiser (rank 0)", "mean time per iteration (s)",
        [("gradient", "#1f77b4", gradient), ("denoiser", "#ff7f0e", denoiser),
         ("other (update, metrics)", "#c7c7c7", rest)], "s", stacked=True)}
    memory = {
        "RSS, gradient": [r.peak("peak_rss_gradient_bytes") for r in runs],
        "RSS, denoiser": [r.peak("peak_rss_denoiser_bytes") for r in runs],
        "tracked, gradient": [r.peak("peak_tracked_gradient_bytes") for r in runs],
        "tracked, denoiser": [r.peak("peak_tracked_denoiser_bytes") for r in runs],
    }
    unit, scale = _bytes_unit([v for values in memory.values() for v in values])
    fills = ["#1f77b4", "#ff7f0e", "#aec7e8", "#ffbb78"]
    out["memory-per-phase"] = _bar_figure(
        runs, "Peak memory per phase (maximum over ranks)", f"peak memory ({unit})",
        [(name, fill, [v / scale if v is not None else None for v in values])
         for (name, values), fill in zip(memory.items(), fills)], unit, stacked=False)
    return out


# What may differ between the runs of a scaling study: the parallelism itself.
_PARALLEL_KEYS = ("ranks", "threads_per_rank", "slurm_ntasks_per_node", "slurm_nodes", "slurm_cpus_per_task")


def _configuration(run: RunData) -> dict[str, str]:
    """Everything that defines a run but its ranks and threads, as comparable text."""
    meta = run.meta
    out = {k: json.dumps(meta.get(k), sort_keys=True) for k in ("example", "dataset", "solver", "init_method")}
    for key, value in (meta.get("columns") or {}).items():
        if key not in _PARALLEL_KEYS:
            out[key] = json.dumps(value, sort_keys=True)
    return out


def _parallelism(run: RunData) -> tuple[int, int] | None:
    """(ranks, threads per rank) as the example reported them, else as the runner started it."""
    ranks = (run.result or {}).get("ranks", run.meta.get("ranks"))
    threads = (run.result or {}).get("threads_per_rank", run.meta.get("threads_per_rank"))
    if isinstance(ranks, int) and isinstance(threads, int) and ranks > 0 and threads > 0:
        return ranks, threads
    return None


def scaling(runs: list[RunData]) -> tuple[list[tuple[RunData, int, int, float]], str]:
    """([(run, ranks, threads, solve seconds)] of the successful runs by ranks x threads, ''), or ([], why there
    is no scaling plot): it needs runs that differ only in ranks and threads, with two or more counts."""
    configurations = [_configuration(r) for r in runs]
    differing = sorted({k for c in configurations for k in c
                        if len({repr(other.get(k)) for other in configurations}) > 1})
    if differing:
        return [], ("No speed-up plot: the runs differ in more than ranks and threads (" + ", ".join(differing)
                    + "); a scaling study varies only ranks (slurm_ntasks_per_node, slurm_nodes) or threads.")
    points = []
    for run in runs:
        parallel, seconds = _parallelism(run), run.final("total_seconds")
        if run.status == "ok" and parallel and seconds:
            points.append((run, parallel[0], parallel[1], float(seconds)))
    if len({ranks * threads for _, ranks, threads, _ in points}) < 2:
        return [], ("No speed-up plot: it needs successful runs with at least two different numbers of "
                    "ranks x threads.")
    return sorted(points, key=lambda p: (p[1] * p[2], p[3])), ""


def _scaling_figure(points: list[tuple[RunData, int, int, float]]) -> dict[str, Any]:
    """Speed-up T(base) / T over ranks x threads (base: the fastest run of the fewest), the ideal line, and the
    parallel efficiency speed-up x base workers / workers on the right axis."""
    _, base_ranks, base_threads, base_seconds = points[0]
    base = base_ranks * base_threads
    workers = [r * t for _, r, t, _ in points]
    speed_up = [base_seconds / s for *_, s in points]
    text = [f"{run.name}: {r} rank{'s' if r != 1 else ''} x {t} thread{'s' if t != 1 else ''}, {s:.4g} s"
            for run, r, t, s in points]
    data = [
        {"type": "scatter", "mode": "lines+markers", "name": "speed-up", "x": workers, "y": speed_up, "text": text,
         "line": {"color": "#1f77b4"}, "hovertemplate": "%{text}<br>speed-up %{y:.3g}<extra></extra>"},
        {"type": "scatter", "mode": "lines", "name": "ideal speed-up", "x": [workers[0], workers[-1]],
         "y": [1.0, workers[-1] / base], "line": {"color": "#999", "dash": "dot"}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines+markers", "name": "parallel efficiency (right axis)", "x": workers,
         "y": [s * base / w for s, w in zip(speed_up, workers)], "text": text, "yaxis": "y2",
         "line": {"color": "#ff7f0e", "dash": "dash"}, "hovertemplate": "%{text}<br>efficiency %{y:.0%}<extra></extra>"},
    ]
    layout = _layout(f"Speed-up and parallel efficiency (solve time, against {base} worker{'s' if base != 1 else ''})",
                     "ranks x threads per rank", "speed-up", xaxis={"type": "log", "tickvals": sorted(set(workers))},
                     yaxis2={"title": {"text": "parallel efficiency"}, "overlaying": "y", "side": "right",
                             "tickformat": ".0%", "rangemode": "tozero"})
    layout["margin"]["r"] = 70
    return {"data": data, "layout": layout}


def figures(runs: list[RunData]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """({plot name: plotly figure}, {plot name: why it is not drawn})."""
    labels = run_labels(runs)
    out = _convergence_figures(runs, labels)
    out.update(_time_and_memory_figures(runs))
    points, why = scaling(runs)
    notes = {}
    if points:
        out["scaling"] = _scaling_figure(points)
    else:
        notes["scaling"] = why
    return out, notes


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
    slurm = _uses_slurm(runs)
    config_columns: list[str] = []
    for run in runs:
        for column in run.meta.get("grid_columns") or []:
            if column not in config_columns and _shown_column(column, slurm):
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


def _figure(kind: str, caption: str, png_uri: str | None = None, placeholder: str = "no image",
            css_class: str = "missing", extra: str = "") -> str:
    if png_uri is None:
        return (f'<figure data-image="{_e(kind)}" class="{css_class}"><div class="placeholder">{_e(placeholder)}'
                f'</div><figcaption>{_e(caption)}</figcaption></figure>')
    return (f'<figure data-image="{_e(kind)}"><img src="{png_uri}" alt="{_e(caption)}">{extra}'
            f'<figcaption>{_e(caption)}</figcaption></figure>')


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
        if kind == "initial" and _finite(init.get("psnr")):
            caption += f" ({init['psnr']:.2f} dB)"
        if kind == "initial" and init.get("method") == "zeros":
            figures.append(_figure(kind, caption, placeholder="all zeros", css_class="zeros"))
        else:
            figures.append(_figure(kind, caption, _file_uri(run.image_path(kind))))
    for b in run.baselines():
        psnr = b.get("psnr")
        caption = f"baseline {b['name']}" + (f" ({psnr:.2f} dB)" if _finite(psnr) else "")
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
        parts.append(f'<section class="images" data-images="{_e(run.name)}"><h3>{_e(labels[run.name])} '
                     f'<span class="status-{_e(run.status)}">[{_e(run.status)}]</span></h3>'
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
    meta_lines.append("generated " + datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                      + f"; plots by plotly.js {_e(plotly_version)}, inline: hover a point for its value, drag to "
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
                   else f'<p class="note" data-note="{p}">{_e(notes[p])}</p>' for p in PLOTS)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>" + "".join(f'<p class="meta">{line}</p>' for line in _meta_lines(
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
