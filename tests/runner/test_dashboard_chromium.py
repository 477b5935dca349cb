"""The dashboard in headless Chromium, opened from its file as a reader opens it: built from generated run folders
(runs with classical baselines and a zero initial iterate that differ only in ranks, so every plot is drawn,
the speed-up plot too), the DOM after loading holds a plotly.js plot (.plot-container with svg.main-svg) in every
plot div, the console shows nothing (no error, no uncaught exception: Chromium's --enable-logging=stderr prints
every console message), the screenshot is not blank, and tools/check_dashboard.py (DevTools protocol: console
levels, requests, layout, baseline lines) passes. Exits 77 (skipped) when Chromium is not installed."""

import os
import re
import shutil
import subprocess
import sys
import unittest

import numpy as np
from PIL import Image

from runner_support import CHECK, TempDirTest, synthetic_run
from test_summary_dashboard import ROW1

from pnpdist_runner.dashboard import PLOTS, write_dashboard
from pnpdist_runner.results import collect

CHROMIUM = shutil.which("chromium")


class DashboardInChromium(TempDirTest):
    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.tmp, "out")
        for index, ranks in enumerate((1, 2), start=1):
            synthetic_run(self.out, f"run_{index:03d}", index, ranks, dict(ROW1, slurm_ntasks_per_node=ranks),
                          psnr_final=28.0 - index, baselines={"fbp_hann": 20.0 + index, "sirt": 25.0},
                          init_zeros=True)
        self.page = write_dashboard(self.out, collect(self.out))

    def chromium(self, *args: str) -> subprocess.CompletedProcess:
        profile = os.path.join(self.tmp, "profile")
        return subprocess.run(
            [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
             "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", "--virtual-time-budget=10000", *args,
             "file://" + self.page], capture_output=True, text=True, timeout=180)

    def test_every_plot_is_drawn_by_plotly_and_the_console_is_silent(self):
        done = self.chromium("--dump-dom")
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        dom = done.stdout
        starts = [(m.group(1), m.start()) for m in re.finditer(r'<div class="[^"]*" data-plot="([a-z-]+)"', dom)]
        self.assertEqual([name for name, _ in starts], list(PLOTS))
        ends = [start for _, start in starts[1:]] + [dom.index("<h2>Runs</h2>")]
        for (name, start), end in zip(starts, ends):
            plot = dom[start:end]
            self.assertIn('class="plot-container plotly"', plot, name)
            self.assertIn('class="main-svg"', plot, name)
            self.assertRegex(plot, r'class="gtitle"[^>]*>[^<]+<', name)
        self.assertIn("baseline sirt 25.00 dB", dom)
        console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
        self.assertEqual(console, [], "the page wrote to the console")

    def test_the_screenshot_is_not_blank(self):
        shot = os.path.join(self.tmp, "dashboard.png")
        done = self.chromium("--window-size=1400,2000", f"--screenshot={shot}")
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        with Image.open(shot) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=int)
        self.assertEqual(pixels.shape[:2], (2000, 1400))
        ink = (pixels < 235).any(axis=2)
        self.assertGreater(ink.mean(), 0.03)  # text, axes, lines, bars, images
        colours = {tuple(p) for p in pixels[::4, ::4].reshape(-1, 3)}
        self.assertGreater(len(colours), 100)  # the runs' colours, antialiasing: more than text on white
        # the plots' area (below the header) holds the runs' line colours: blue and orange
        plots = pixels[300:1400]
        for colour in ((0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e)):
            self.assertGreater(int((np.abs(plots - colour).sum(axis=2) < 30).sum()), 200, colour)

    def test_check_dashboard_passes(self):
        done = subprocess.run([sys.executable, CHECK, self.out, "--runs", "2", "--baselines", "2"],
                              capture_output=True, text=True, timeout=180)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("scaling (3 data elements)", done.stdout)


if __name__ == "__main__":
    if CHROMIUM is None:
        print("chromium is not installed (Debian: apt-get install chromium): skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
