"""summary.csv and dashboard.html from synthetic run directories (made here, in a temporary directory):
values against the numbers put into result.json, the plots' markers and contents, embedded images."""

import base64
import csv
import os
import re
import unittest
import xml.etree.ElementTree as ET

from runner_support import DASHBOARD, TempDirTest, mean, synthetic_run

from pnpdist_runner.dashboard import PLOTS, write_dashboard
from pnpdist_runner.results import collect, write_summary
from pnpdist_runner import svg

SVG_NS = "{http://www.w3.org/2000/svg}"
ROW1 = {"slurm_gres": "cpu", "slurm_ntasks_per_node": 1, "slurm_nodes": 1, "distribute_physics": False,
        "distribute_denoiser": False, "patch_size": 0, "overlap": 0, "max_batch_size": 0}
ROW2 = dict(ROW1, slurm_ntasks_per_node=2, distribute_physics=True, distribute_denoiser=True, patch_size=[16, 16],
            overlap=4)


class SyntheticRuns(TempDirTest):
    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.tmp, "out")
        self.results = {
            "run_001": synthetic_run(self.out, "run_001", 1, 1, ROW1, psnr_final=28.0, iterations=5),
            "run_002": synthetic_run(self.out, "run_002", 2, 2, ROW2, psnr_final=27.5, iterations=4),
        }
        synthetic_run(self.out, "run_003", 3, 2, ROW2, psnr_final=0, exit_code=137, with_result=False)
        self.runs = collect(self.out)

    def summary(self):
        write_summary(self.out, self.runs)
        with open(os.path.join(self.out, "summary.csv"), newline="") as f:
            return list(csv.DictReader(f))

    def test_summary_has_one_row_per_run_with_the_configuration(self):
        rows = self.summary()
        self.assertEqual([r["run"] for r in rows], ["run_001", "run_002", "run_003"])
        self.assertEqual([r["status"] for r in rows], ["ok", "ok", "failed"])
        self.assertEqual(rows[1]["ranks"], "2")
        self.assertEqual(rows[1]["patch_size"], "16,16")
        self.assertEqual(rows[1]["distribute_physics"], "true")
        self.assertEqual(rows[0]["init_method"], "zeros")

    def test_summary_numbers_match_the_records(self):
        rows = {r["run"]: r for r in self.summary()}
        for name, result in self.results.items():
            row = rows[name]
            rank0 = result["records"][0]
            self.assertAlmostEqual(float(row["final_psnr"]), result["final"]["psnr"], places=4)
            self.assertEqual(int(row["iterations"]), len(rank0))
            self.assertAlmostEqual(float(row["total_seconds"]), result["final"]["total_seconds"], places=4)
            self.assertAlmostEqual(float(row["mean_gradient_seconds"]), mean(r["gradient_seconds"] for r in rank0),
                                   places=5)
            self.assertAlmostEqual(float(row["mean_denoiser_seconds"]), mean(r["denoiser_seconds"] for r in rank0),
                                   places=5)
            self.assertAlmostEqual(float(row["mean_iteration_seconds"]), 0.2, places=6)
            everything = [r for rank in result["records"] for r in rank]
            self.assertEqual(int(row["peak_rss_gradient_bytes"]), max(r["peak_rss_gradient_bytes"] for r in everything))
            self.assertEqual(int(row["peak_rss_denoiser_bytes"]), max(r["peak_rss_denoiser_bytes"] for r in everything))
            self.assertEqual(int(row["peak_rss_bytes"]), result["final"]["peak_rss_bytes"])
        # rank 1's gradient phase is the larger one: the maximum is over ranks, not rank 0 only
        self.assertEqual(int(rows["run_002"]["peak_rss_gradient_bytes"]), (50 + 7 + 4) * 2 ** 20)

    def test_failed_run_keeps_its_exit_code_and_stderr_tail(self):
        row = self.summary()[2]
        self.assertEqual(row["exit_code"], "137")
        self.assertEqual(row["final_psnr"], "")
        self.assertIn("exit code 137", row["error"])
        self.assertIn("out of memory in the denoiser", row["error"])

    def test_bad_result_json_fails_the_run(self):
        with open(os.path.join(self.out, "runs", "run_001", "result.json"), "w") as f:
            f.write('{"schema": "other/2"}')
        run = collect(self.out)[0]
        self.assertEqual(run.status, "failed")
        self.assertIn("schema 'other/2'", run.error)

    def dashboard(self) -> str:
        path = write_dashboard(self.out, self.runs)
        with open(path, encoding="utf-8") as f:
            return f.read()

    def plot(self, page: str, name: str) -> ET.Element:
        match = re.search(rf'<svg [^>]*data-plot="{name}".*?</svg>', page, re.S)
        self.assertIsNotNone(match, f"no plot {name}")
        return ET.fromstring(match.group(0))

    def test_dashboard_is_self_contained(self):
        page = self.dashboard()
        self.assertNotIn("<script", page)
        self.assertNotIn("<link", page)
        self.assertIsNone(re.search(r'(src|href)="(?!data:|#)', page))
        self.assertNotIn("http://", page.replace('xmlns="http://www.w3.org/2000/svg"', ""))
        self.assertNotIn("https://", page)

    def test_every_plot_has_its_marker_title_axes_and_legend(self):
        page = self.dashboard()
        for name in PLOTS:
            root = self.plot(page, name)
            self.assertEqual(root.get("data-plot"), name)
            texts = root.findall(f".//{SVG_NS}text")
            self.assertTrue(any(t.get("class") == "title" and t.text for t in texts), name)
            self.assertTrue(any(t.get("class") == "axis-title" and t.text for t in texts), name)
            self.assertGreater(len(root.findall(f".//{SVG_NS}g[@class='legend-item']")), 0, name)

    def test_psnr_plots_draw_each_successful_run_through_its_values(self):
        page = self.dashboard()
        for name, x_key in (("psnr-vs-iteration", "iteration"), ("psnr-vs-time", "wall_seconds")):
            root = self.plot(page, name)
            series = root.findall(f".//{SVG_NS}g[@class='series']")
            self.assertEqual(len(series), 2, name)  # the failed run has no line
            for group, run in zip(series, ("run_001", "run_002")):
                rank0 = self.results[run]["records"][0]
                circles = group.findall(f"{SVG_NS}circle")
                self.assertEqual(len(circles), len(rank0) + 1)  # the initial iterate, then every iteration
                tips = [c.find(f"{SVG_NS}title").text for c in circles]
                self.assertIn(f"PSNR (dB) {rank0[-1]['psnr']:.2f} dB", tips[-1])
                self.assertIn("PSNR (dB) 9.50 dB", tips[0])
                ys = [float(c.get("cy")) for c in circles]
                self.assertEqual(ys, sorted(ys, reverse=True))  # PSNR grows: points climb
                xs = [float(c.get("cx")) for c in circles]
                self.assertEqual(xs, sorted(xs))

    def test_time_breakdown_stacks_gradient_and_denoiser_means(self):
        root = self.plot(self.dashboard(), "time-breakdown")
        bars = root.findall(f".//{SVG_NS}rect[@class='bar']")
        gradient = [b for b in bars if b.get("data-series") == "gradient"]
        self.assertEqual(len(gradient), 2)
        expected = mean(r["gradient_seconds"] for r in self.results["run_001"]["records"][0])
        self.assertIn(f"gradient {expected:.4g} s", gradient[0].find(f"{SVG_NS}title").text)
        denoiser = [b for b in bars if b.get("data-series") == "denoiser"]
        # stacked: the denoiser bar sits on top of the gradient bar
        self.assertAlmostEqual(float(denoiser[0].get("y")) + float(denoiser[0].get("height")),
                               float(gradient[0].get("y")), places=0)

    def test_memory_plot_has_both_phases_for_each_run(self):
        root = self.plot(self.dashboard(), "memory-per-phase")
        bars = root.findall(f".//{SVG_NS}rect[@class='bar']")
        self.assertEqual(sorted({b.get("data-series") for b in bars}),
                         ["RSS, denoiser", "RSS, gradient", "tracked, denoiser", "tracked, gradient"])
        self.assertEqual(len(bars), 8)
        rss = [b.find(f"{SVG_NS}title").text for b in bars if b.get("data-series") == "RSS, denoiser"]
        self.assertEqual(rss, ["run_001: RSS, denoiser 80 MiB", "run_002: RSS, denoiser 81 MiB"])

    def test_images_are_embedded_per_run(self):
        page = self.dashboard()
        for run in ("run_001", "run_002"):
            section = re.search(rf'<section class="images" data-images="{run}">.*?</section>', page, re.S).group(0)
            for kind in ("truth", "measurement", "initial", "reconstruction"):
                uri = re.search(rf'<figure data-image="{kind}"><img src="data:image/png;base64,([^"]+)"',
                                section).group(1)
                with open(os.path.join(self.out, "runs", run, f"{kind}.png"), "rb") as f:
                    self.assertEqual(base64.b64decode(uri), f.read())
        failed = re.search(r'<section class="images" data-images="run_003">.*?</section>', page, re.S).group(0)
        self.assertEqual(failed.count('class="missing"'), 4)

    def test_table_lists_every_run_and_the_failure(self):
        page = self.dashboard()
        table = re.search(r'<table data-table="runs">.*?</table>', page, re.S).group(0)
        self.assertEqual(table.count("<tr data-run="), 3)
        self.assertIn("out of memory in the denoiser", table)
        self.assertIn("28.00 dB", table)

    def test_summary_without_baselines_leaves_the_best_baseline_empty(self):
        row = self.summary()[0]
        self.assertEqual(row["best_baseline"], "")
        self.assertEqual(row["best_baseline_psnr"], "")

    def test_psnr_plots_without_baselines_have_no_reference_lines(self):
        page = self.dashboard()
        for name in ("psnr-vs-iteration", "psnr-vs-time"):
            self.assertEqual(self.plot(page, name).findall(f".//{SVG_NS}g[@class='reference']"), [])

    def test_dashboard_command_line(self):
        done = self.run_tool(DASHBOARD, self.out)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(os.path.isfile(os.path.join(self.out, "dashboard.html")))
        self.assertTrue(os.path.isfile(os.path.join(self.out, "summary.csv")))
        empty = self.run_tool(DASHBOARD, os.path.join(self.tmp, "empty"))
        self.assertEqual(empty.returncode, 2)
        self.assertIn("no run directories", empty.stderr)


class Charts(unittest.TestCase):
    def test_ticks_cover_the_range_with_round_steps(self):
        self.assertEqual(svg.nice_ticks(0, 10), [0, 2, 4, 6, 8, 10])
        ticks = svg.nice_ticks(9.5, 28.3)
        self.assertLessEqual(ticks[0], 9.5)
        self.assertGreaterEqual(ticks[-1], 28.3)
        self.assertEqual(len({round(b - a, 9) for a, b in zip(ticks, ticks[1:])}), 1)
        single = svg.nice_ticks(3, 3)  # a single value still gets an axis around it
        self.assertTrue(single[0] < 3 < single[-1], single)

    def test_tick_labels_have_the_decimals_of_the_step(self):
        self.assertEqual([svg.tick_label(t, svg.nice_ticks(12.32, 12.87)) for t in svg.nice_ticks(12.32, 12.87)],
                         ["12.2", "12.4", "12.6", "12.8", "13.0"])
        self.assertEqual(svg.tick_label(12.3, [12.3, 12.3 + 0.1]), "12.3")  # 0.1 - rounding error
        ticks = svg.nice_ticks(0, 1.1)
        self.assertEqual(svg.tick_label(ticks[1], ticks), "0.25")
        self.assertEqual(svg.tick_label(0, [0, 20, 40]), "0")

    def test_empty_chart_says_no_data(self):
        chart = svg.line_chart("p", "t", "x", "y", [("a", "#000", [])])
        self.assertIn("no data", chart)
        self.assertIn('data-plot="p"', chart)

BASELINES = {"fbp_hann": 3.0, "sirt": 26.5, "cgls": 26.0}


class SyntheticRunsWithBaselines(SyntheticRuns):
    """The same runs, the first two with classical baselines (one far below every PSNR of the runs) and a zero
    initial iterate."""

    def setUp(self):
        TempDirTest.setUp(self)
        self.out = os.path.join(self.tmp, "out")
        self.results = {
            "run_001": synthetic_run(self.out, "run_001", 1, 1, ROW1, psnr_final=28.0, iterations=5,
                                     baselines=BASELINES, init_zeros=True),
            "run_002": synthetic_run(self.out, "run_002", 2, 2, ROW2, psnr_final=27.5, iterations=4,
                                     baselines={"fbp_hann": 3.1, "sirt": 26.4, "cgls": 26.1}, init_zeros=True),
        }
        synthetic_run(self.out, "run_003", 3, 2, ROW2, psnr_final=0, exit_code=137, with_result=False)
        self.runs = collect(self.out)

    # The base class's checks of the images and of runs without baselines do not apply as they are.
    def test_images_are_embedded_per_run(self):
        page = self.dashboard()
        for run in ("run_001", "run_002"):
            section = re.search(rf'<section class="images" data-images="{run}">.*?</section>', page, re.S).group(0)
            # a zero initial iterate: a labelled placeholder, not a black image
            self.assertRegex(section, r'<figure data-image="initial" class="zeros"><div class="placeholder">all zeros')
            for name in BASELINES:
                uri = re.search(rf'<figure data-image="baseline_{name}"><img src="data:image/png;base64,([^"]+)"',
                                section).group(1)
                with open(os.path.join(self.out, "runs", run, f"baseline_{name}.png"), "rb") as f:
                    self.assertEqual(base64.b64decode(uri), f.read())
            psnr = self.results[run]["baselines"][1]["psnr"]
            self.assertIn(f"baseline sirt ({psnr:.2f} dB)", section)

    def test_summary_without_baselines_leaves_the_best_baseline_empty(self):
        row = self.summary()[2]  # the failed run
        self.assertEqual(row["best_baseline"], "")

    def test_psnr_plots_without_baselines_have_no_reference_lines(self):
        pass

    def test_summary_names_the_best_baseline(self):
        rows = {r["run"]: r for r in self.summary()}
        self.assertEqual(rows["run_001"]["best_baseline"], "sirt")
        self.assertAlmostEqual(float(rows["run_001"]["best_baseline_psnr"]), 26.5)
        self.assertEqual(rows["run_002"]["best_baseline"], "sirt")
        self.assertAlmostEqual(float(rows["run_002"]["best_baseline_psnr"]), 26.4)
        with open(os.path.join(self.out, "summary.csv"), newline="") as f:
            header = next(csv.reader(f))
        self.assertEqual(header.index("best_baseline"), header.index("init_psnr") + 1)

    def test_psnr_plots_draw_the_baselines_as_labelled_horizontal_lines_at_their_values(self):
        page = self.dashboard()
        for name in ("psnr-vs-iteration", "psnr-vs-time"):
            root = self.plot(page, name)
            refs = root.findall(f".//{SVG_NS}g[@class='reference']")
            self.assertEqual([r.get("data-reference") for r in refs],
                             ["sirt 26.50 dB", "cgls 26.00 dB", "fbp_hann 3.00 dB"])  # the first run's, top down
            ys = {}
            for ref in refs:
                line = ref.find(f"{SVG_NS}line")
                self.assertEqual(line.get("y1"), line.get("y2"))  # horizontal
                self.assertEqual(line.get("stroke-dasharray"), "6 4")  # dashed
                self.assertLess(float(line.get("x1")), float(line.get("x2")))
                self.assertEqual(ref.find(f"{SVG_NS}text").text, ref.get("data-reference"))
                self.assertIn("SSIM 0.500", ref.find(f"{SVG_NS}title").text)
                ys[ref.get("data-reference").split()[0]] = float(line.get("y1"))
            self.assertLess(ys["sirt"], ys["cgls"])
            self.assertLess(ys["cgls"], ys["fbp_hann"])
            # the y axis covers the baseline far below the runs: its line lies on the plot, at or above the axis
            x_axis = [float(l.get("y1")) for l in root.findall(f".//{SVG_NS}g[@class='axis x-axis']/{SVG_NS}line")
                      if l.get("y1") == l.get("y2")]
            self.assertLessEqual(ys["fbp_hann"], max(x_axis))
            tick_values = [float(t.text) for t in root.findall(f".//{SVG_NS}g[@class='axis y-axis']/{SVG_NS}text")
                           if t.get("class") != "axis-title"]
            self.assertLessEqual(min(tick_values), 3.0)
            # the run curves are still drawn through their values: the last point of run_001 lies above sirt
            series = root.findall(f".//{SVG_NS}g[@class='series']")
            last = float(series[0].findall(f"{SVG_NS}circle")[-1].get("cy"))
            self.assertLess(last, ys["sirt"])
            # labels of close values are moved apart
            labels = sorted(float(r.find(f"{SVG_NS}text").get("y")) for r in refs)
            self.assertTrue(all(b - a >= svg.REFERENCE_LABEL_GAP - 1e-6 for a, b in zip(labels, labels[1:])))

    def test_table_names_the_best_baseline(self):
        page = self.dashboard()
        table = re.search(r'<table data-table="runs">.*?</table>', page, re.S).group(0)
        self.assertIn("sirt (26.50 dB)", table)


if __name__ == "__main__":
    unittest.main(verbosity=2)
