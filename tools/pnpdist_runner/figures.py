"""The dashboard's figures as plotly JSON (traces and layout), one per data-plot name of dashboard.py, and the
run labels and configuration values they share with the page."""

from __future__ import annotations

import html
import json
import math
from typing import Any

from .results import RunData


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


# The runs' colours (the same run has the same colour in every plot) and the baselines' (darker).
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]
BASELINE_COLOURS = ["#444444", "#7b4173", "#637939", "#843c39", "#3182bd", "#8c6d31", "#636363", "#393b79"]



def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def uses_slurm(runs: list[RunData]) -> bool:
    return any(run.meta.get("mode") == "slurm" for run in runs)


def shown_column(column: str, slurm: bool) -> bool:
    """The slurm_* columns only when a run went through Slurm."""
    return slurm or not column.startswith("slurm_")


def config_value(run: RunData, key: str) -> Any:
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
    slurm = uses_slurm(runs)
    keys = [k for k in _LABEL_KEYS if shown_column(k, slurm)]
    for run in runs:
        for column in run.meta.get("grid_columns") or []:
            if column not in keys and column not in ("slurm_ntasks_per_node", "slurm_nodes") \
                    and shown_column(column, slurm):
                keys.append(column)
    return [k for k in keys if len({repr(config_value(r, k)) for r in runs}) > 1]


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
        parts = [_short(k, config_value(run, k)) for k in keys]
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
        if not finite(value):
            continue
        psnr, ssim, seconds = b.get("psnr"), b.get("ssim"), b.get("seconds")
        hover = (f"baseline {b['name']} ({source.name})"
                 + (f"<br>PSNR {psnr:.2f} dB" if finite(psnr) else "")
                 + (f"<br>SSIM {ssim:.3f}" if finite(ssim) else "")
                 + (f"<br>{seconds:.3g} s" if finite(seconds) else "")
                 + (f"<br>{escape(_parameters_text(b.get('parameters')))}" if b.get("parameters") else ""))
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
    return ["<br>".join([r.name] + [_short(k, config_value(r, k)) for k in keys] + ([r.status] if r.status != "ok" else []))
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
                       if finite(rec.get("iteration")) and finite(rec.get("relative_change"))
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
