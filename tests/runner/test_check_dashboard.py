"""tools/check_dashboard.py in headless Chromium: a generated dashboard passes; pages with a missing plot, plots
plotly.js did not draw, a script error, a console error, a broken embedded image, an external resource or a
request to elsewhere fail, naming the problem.
Exits 77 (skipped) when Chromium is not installed."""

import os
import shutil
import sys
import unittest

from runner_support import CHECK, TempDirTest, synthetic_run
from test_summary_dashboard import ROW1, ROW2

from pnpdist_runner.dashboard import write_dashboard
from pnpdist_runner.results import collect


class CheckDashboard(TempDirTest):
    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.tmp, "out")
        synthetic_run(self.out, "run_001", 1, 1, ROW1, psnr_final=28.0)
        synthetic_run(self.out, "run_002", 2, 2, ROW2, psnr_final=27.0)
        with open(write_dashboard(self.out, collect(self.out)), encoding="utf-8") as f:
            self.page = f.read()

    def check(self, page: str, *args: str):
        path = self.write("page.html", page)
        return self.run_tool(CHECK, path, *args, timeout=180)

    def test_generated_dashboard_passes(self):
        done = self.run_tool(CHECK, self.out, "--runs", "2", timeout=180)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("check_dashboard: OK", done.stdout)
        self.assertIn("14 images decoded", done.stdout)  # per run: 4 images, the error map, 2 crops
        self.assertIn("scaling (not applicable)", done.stdout)

    def test_wrong_run_count_fails(self):
        done = self.run_tool(CHECK, self.out, "--runs", "3", timeout=180)
        self.assertEqual(done.returncode, 1)
        self.assertIn("runs table: 2 rows, expected 3", done.stderr)

    def test_missing_plot_fails(self):
        done = self.check(self.page.replace('data-plot="time-breakdown"', 'data-plot="something-else"'))
        self.assertEqual(done.returncode, 1)
        self.assertIn('plot missing: no <div data-plot="time-breakdown">', done.stderr)
        noted = self.check(self.page.replace('data-note="scaling"', 'data-note="other"'))
        self.assertEqual(noted.returncode, 1)
        self.assertIn('plot missing: no <div data-plot="scaling"> in the rendered page (nor a <p data-note="scaling">)',
                      noted.stderr)

    def test_plots_not_drawn_by_plotly_fail(self):
        start = self.page.index("<script>")
        page = self.page[:start] + self.page[self.page.index("</script>", start) + len("</script>"):]
        done = self.check(page)  # plotly.js left out
        self.assertEqual(done.returncode, 1)
        self.assertIn("plot psnr-vs-iteration: not drawn by plotly.js (no .plot-container with svg.main-svg)",
                      done.stderr)
        self.assertIn("Plotly is not defined", done.stderr)

    def test_a_request_to_elsewhere_fails(self):
        done = self.check(self.page.replace("</body>", "<script>fetch('http://192.0.2.1/x').catch(() => 0);</script>"
                                                       "</body>"))
        self.assertEqual(done.returncode, 1)
        self.assertIn("the page requested http://192.0.2.1/x", done.stderr)

    def test_script_error_and_console_error_fail(self):
        page = self.page.replace("</body>", "<script>console.error('bad thing'); notDefined();</script></body>")
        done = self.check(page)
        self.assertEqual(done.returncode, 1)
        self.assertIn("console.error: bad thing", done.stderr)
        self.assertIn("uncaught exception", done.stderr)
        self.assertIn("notDefined", done.stderr)

    def test_broken_image_and_external_resource_fail(self):
        page = self.page.replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1)
        page = page.replace("</body>", '<img src="elsewhere.png" alt="far"></body>')
        done = self.check(page)
        self.assertEqual(done.returncode, 1)
        self.assertIn("did not decode", done.stderr)
        self.assertIn("external resource: elsewhere.png", done.stderr)
        self.assertIn("Failed to load resource", done.stderr)

    def test_baselines_are_checked_when_expected(self):
        out = os.path.join(self.tmp, "with_baselines")
        synthetic_run(out, "run_001", 1, 1, ROW1, psnr_final=28.0, baselines={"fbp_hann": 20.0, "sirt": 25.0},
                      init_zeros=True)
        synthetic_run(out, "run_002", 2, 2, ROW2, psnr_final=27.0, baselines={"fbp_hann": 20.1, "sirt": 25.2})
        write_dashboard(out, collect(out))
        done = self.run_tool(CHECK, out, "--runs", "2", "--baselines", "2", timeout=180)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        wrong = self.run_tool(CHECK, out, "--baselines", "3", timeout=180)
        self.assertEqual(wrong.returncode, 1)
        self.assertIn("plot psnr-vs-iteration: 2 baseline lines, expected 3", wrong.stderr)
        self.assertIn("image section 1: 2 decoded baseline images, expected 3", wrong.stderr)
        # the plain dashboard has none
        none = self.run_tool(CHECK, self.out, "--baselines", "2", timeout=180)
        self.assertEqual(none.returncode, 1)
        self.assertIn("plot psnr-vs-time: 0 baseline lines, expected 2", none.stderr)

    def test_plots_without_data_fail_unless_allowed(self):
        empty = os.path.join(self.tmp, "empty")
        synthetic_run(empty, "run_001", 1, 1, ROW1, psnr_final=0, exit_code=1, with_result=False)
        write_dashboard(empty, collect(empty))
        done = self.run_tool(CHECK, empty, timeout=180)
        self.assertEqual(done.returncode, 1)
        self.assertIn("plot psnr-vs-iteration: no data drawn", done.stderr)
        allowed = self.run_tool(CHECK, empty, "--allow-empty", timeout=180)
        self.assertEqual(allowed.returncode, 0, allowed.stderr)


if __name__ == "__main__":
    if shutil.which("chromium") is None:
        print("chromium is not installed (Debian: apt-get install chromium): skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
