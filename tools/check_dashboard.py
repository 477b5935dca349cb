#!/usr/bin/env python3
"""Renders a pnpdist dashboard in headless Chromium and checks it:

  - every plot (<div data-plot="...">, names in pnpdist_runner.dashboard.PLOTS) was drawn by plotly.js: it holds
    a .plot-container with svg.main-svg, laid out with a non-zero size, with a title, axis titles and a legend,
    and (unless --allow-empty) data (lines or bars); a plot that may not apply (scaling) may instead be a
    <p data-note="..."> saying why;
  - the runs table is there with one row per run, and every <img> decoded (a broken data URI shows here);
  - with --baselines N: the PSNR and SSIM plots draw N labelled baseline lines (traces with meta.baseline whose
    label is drawn and whose value lies inside the y axis) and every run's image section shows N decoded
    baseline images;
  - the console logged no error, no exception was thrown, no resource failed to load and nothing was
    requested from elsewhere (the page is self-contained: plotly.js is inline).

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: commands on fd 3, replies
on fd 4), so console messages come with their level. Runs as root in a container (--no-sandbox).
Exit status: 0 passed, 1 a check failed, 2 Chromium missing or unusable.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pnpdist_runner.dashboard import NOTED_PLOTS, PLOTS  # noqa: E402

CONVERGENCE_PLOTS = ("psnr-vs-iteration", "psnr-vs-time", "ssim-vs-iteration", "ssim-vs-time")

# Evaluated in the page once it has loaded: what the checks need from the rendered DOM, as JSON.
_INSPECT = r"""
(() => {
  const plots = {};
  for (const div of document.querySelectorAll('div[data-plot]')) {
    const box = div.getBoundingClientRect();
    const drawn = path => (path.getAttribute('d') || '').length > 1;
    const yaxis = (div._fullLayout || {}).yaxis || {};
    plots[div.getAttribute('data-plot')] = {
      width: box.width, height: box.height,
      containers: div.querySelectorAll('.plot-container').length,
      main_svgs: div.querySelectorAll('svg.main-svg').length,
      title: (div.querySelector('.gtitle') || {}).textContent || '',
      axis_titles: Array.from(div.querySelectorAll('.xtitle, .ytitle, .y2title')).map(t => t.textContent)
          .filter(t => t),
      legend: div.querySelectorAll('.legend .traces').length,
      lines: Array.from(div.querySelectorAll('.scatterlayer .trace path.js-line')).filter(drawn).length,
      markers: div.querySelectorAll('.scatterlayer .trace .points path').length,
      bars: Array.from(div.querySelectorAll('.barlayer .point path')).filter(drawn).length,
      texts: Array.from(div.querySelectorAll('.scatterlayer .textpoint text')).map(t => t.textContent),
      references: (div.data || []).filter(t => t.meta && t.meta.baseline)
          .map(t => ({label: t.meta.baseline, value: t.y[0]})),
      y_range: yaxis.type === 'linear' ? yaxis.range : null,
    };
  }
  const notes = {};
  for (const note of document.querySelectorAll('[data-note]')) notes[note.getAttribute('data-note')] = note.textContent;
  const images = Array.from(document.images).map(img => ({
    alt: img.alt, complete: img.complete, width: img.naturalWidth,
    external: !img.src.startsWith('data:')}));
  const external = Array.from(document.querySelectorAll('[src],[href]'))
      .map(e => e.getAttribute('src') || e.getAttribute('href'))
      .filter(u => u && !u.startsWith('data:') && !u.startsWith('#'));
  const table = document.querySelector('table[data-table="runs"]');
  return JSON.stringify({
    plots, notes, images, external,
    table_rows: table ? table.querySelectorAll('tbody tr').length : -1,
    image_sections: document.querySelectorAll('section[data-images]').length,
    baseline_images: Array.from(document.querySelectorAll('section[data-images]')).map(section =>
        Array.from(section.querySelectorAll('figure[data-image^="baseline_"] img'))
            .filter(img => img.complete && img.naturalWidth > 0).length),
  });
})()
"""


class CheckError(Exception):
    pass


def find_chromium(explicit: str | None) -> str | None:
    if explicit:
        return explicit if shutil.which(explicit) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class DevTools:
    """A Chromium child process and its DevTools pipe."""

    def __init__(self, chromium: str, timeout: float):
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._buffer = b""
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        self._profile = tempfile.mkdtemp(prefix="pnpdist-check-")
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                f"--user-data-dir={self._profile}", "--remote-debugging-pipe", "about:blank"]
        # The shell puts the pipe ends on fds 3 and 4, where Chromium expects them.
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", f'exec "$@" 3<&{to_chrome_r} 4>&{from_chrome_w}', "sh"] + args,
            pass_fds=(to_chrome_r, from_chrome_w), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply is None:
                raise CheckError(f"Chromium did not answer {method} within {self.timeout:g} s")
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CheckError(f"Chromium refused {method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            if any(e.get("method") == method for e in self.events):
                return True
            reply = self._read(deadline)
            if reply is None:
                return False
            if "method" in reply:
                self.events.append(reply)

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (reply := self._read(deadline)) is not None:
            if "method" in reply:
                self.events.append(reply)

    def _read(self, deadline: float) -> dict[str, Any] | None:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if not ready:
                return None
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise CheckError("Chromium closed the DevTools pipe (crashed or refused to start):\n"
                                 + self.log_tail())
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def log_tail(self, lines: int = 20) -> str:
        self._log.seek(0)
        return "\n".join(self._log.read().decode(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        try:
            os.write(self._to_chrome, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()
        shutil.rmtree(self._profile, ignore_errors=True)


def render(chromium: str, html_path: str, timeout: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Loads the page; returns what _INSPECT found and the DevTools events (console, exceptions, log)."""
    tools = DevTools(chromium, timeout)
    try:
        target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.send(f"{domain}.enable", session=session)
        tools.events.clear()
        url = "file://" + os.path.abspath(html_path)
        navigation = tools.send("Page.navigate", {"url": url}, session=session)
        if navigation.get("errorText"):
            raise CheckError(f"Chromium could not open {url}: {navigation['errorText']}")
        if not tools.wait_event("Page.loadEventFired", timeout):
            raise CheckError(f"{html_path}: the page did not finish loading within {timeout:g} s")
        tools.drain(0.3)  # late console messages
        found = tools.send("Runtime.evaluate", {"expression": _INSPECT, "returnByValue": True}, session=session)
        if "exceptionDetails" in found:
            raise CheckError(f"inspecting the page failed: {found['exceptionDetails'].get('text')}")
        return dict(json.loads(found["result"]["value"]), url=url), tools.events
    finally:
        tools.close()


def problems_in_events(events: list[dict[str, Any]], page_url: str = "") -> tuple[list[str], list[str]]:
    """(errors, warnings) among the console, exception, log and network events."""
    errors, warnings = [], []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if not url.startswith("data:") and url != page_url:
                errors.append(f"the page requested {url[:120]}")
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            kind = params.get("type")
            if kind in ("error", "assert"):
                errors.append(f"console.{kind}: {text}")
            elif kind == "warning":
                warnings.append(f"console.warn: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            description = (details.get("exception") or {}).get("description") or details.get("text", "")
            errors.append(f"uncaught exception (line {details.get('lineNumber')}): {description}")
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            line = f"{entry.get('source')}: {entry.get('text')}" + (f" ({entry['url']})" if entry.get("url") else "")
            if entry.get("level") == "error":
                errors.append(f"console error: {line}")
            elif entry.get("level") == "warning":
                warnings.append(f"console warning: {line}")
    return errors, warnings


def _check_plot(name: str, plot: dict[str, Any], allow_empty: bool) -> list[str]:
    failures = []
    if plot["containers"] == 0 or plot["main_svgs"] == 0:
        failures.append(f"plot {name}: not drawn by plotly.js (no .plot-container with svg.main-svg)")
        return failures
    if plot["width"] <= 0 or plot["height"] <= 0:
        failures.append(f"plot {name}: rendered with size {plot['width']}x{plot['height']}")
    if not plot["title"]:
        failures.append(f"plot {name}: no title")
    if not plot["axis_titles"]:
        failures.append(f"plot {name}: no axis titles")
    if plot["lines"] - len(plot["references"]) + plot["markers"] + plot["bars"] <= 0:
        if not allow_empty:
            failures.append(f"plot {name}: no data drawn (no lines, no points, no bars); --allow-empty accepts that")
    elif plot["legend"] == 0:
        failures.append(f"plot {name}: no legend")
    return failures


def _check_references(name: str, plot: dict[str, Any], baselines: int) -> list[str]:
    references = plot.get("references", [])
    failures = []
    if len(references) != baselines:
        failures.append(f"plot {name}: {len(references)} baseline lines, expected {baselines}")
    low, high = sorted(plot["y_range"]) if plot.get("y_range") else (float("-inf"), float("inf"))
    for ref in references:
        if not ref["label"] or ref["label"] not in plot["texts"] or not low <= ref["value"] <= high:
            failures.append(f"plot {name}: baseline line {ref['label']!r} unlabelled or outside the y axis")
    return failures


def check(found: dict[str, Any], events: list[dict[str, Any]], allow_empty: bool,
          runs: int | None, baselines: int | None = None) -> tuple[list[str], list[str]]:
    failures, warnings = problems_in_events(events, found.get("url", ""))
    plots, notes = found.get("plots", {}), found.get("notes", {})
    for name in PLOTS:
        plot = plots.get(name)
        if plot is not None:
            failures += _check_plot(name, plot, allow_empty)
        elif name in NOTED_PLOTS and notes.get(name, "").strip():
            continue
        else:
            failures.append(f'plot missing: no <div data-plot="{name}"> in the rendered page'
                            + (f' (nor a <p data-note="{name}">)' if name in NOTED_PLOTS else ""))
    for image in found.get("images", []):
        if image["external"]:
            failures.append(f"image {image['alt']!r} is not embedded (src is not a data: URI)")
        elif not image["complete"] or image["width"] == 0:
            failures.append(f"image {image['alt']!r} did not decode (broken PNG data URI)")
    for url in found.get("external", []):
        failures.append(f"the page references an external resource: {url[:120]}")
    if baselines is not None:
        for name in CONVERGENCE_PLOTS:
            if name in plots:
                failures += _check_references(name, plots[name], baselines)
        for section, count in enumerate(found.get("baseline_images", [])):
            if count != baselines:
                failures.append(f"image section {section + 1}: {count} decoded baseline images, expected {baselines}")
    if found.get("table_rows", -1) < 0:
        failures.append('runs table missing: no <table data-table="runs">')
    elif runs is not None and found["table_rows"] != runs:
        failures.append(f"runs table: {found['table_rows']} rows, expected {runs}")
    return failures, warnings


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="check_dashboard.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dashboard", help="dashboard.html, or the runner's output directory holding it")
    p.add_argument("--chromium", help="the browser executable (default: chromium on PATH)")
    p.add_argument("--runs", type=int, help="expect this many rows in the runs table")
    p.add_argument("--baselines", type=int,
                   help="expect this many baseline lines on the PSNR plots and baseline images per run")
    p.add_argument("--allow-empty", action="store_true", help="accept plots without data (every run failed)")
    p.add_argument("--timeout", type=float, default=60, help="seconds to wait for Chromium (default: %(default)s)")
    args = p.parse_args(argv)
    path = os.path.join(args.dashboard, "dashboard.html") if os.path.isdir(args.dashboard) else args.dashboard
    if not os.path.isfile(path):
        print(f"check_dashboard: FAIL: {path}: no such file", file=sys.stderr)
        return 1
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("check_dashboard: Chromium not found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    try:
        found, events = render(chromium, path, args.timeout)
    except CheckError as e:
        print(f"check_dashboard: cannot render {path}: {e}", file=sys.stderr)
        return 2
    failures, warnings = check(found, events, args.allow_empty, args.runs, args.baselines)
    for warning in warnings:
        print(f"check_dashboard: warning: {warning}", file=sys.stderr)
    if failures:
        for failure in failures:
            print(f"check_dashboard: FAIL: {failure}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{n} ({found['plots'][n]['lines'] + found['plots'][n]['bars']} data elements)" if n in found["plots"]
                       else f"{n} (not applicable)" for n in PLOTS)
    print(f"check_dashboard: OK: {path}: plots {counts}; {found['table_rows']} runs in the table; "
          f"{len(found['images'])} images decoded; no console errors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
