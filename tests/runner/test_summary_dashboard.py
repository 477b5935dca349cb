"""summary.csv and dashboard.html from synthetic run directories (made here, in a temporary directory):
values against the numbers put into result.json, the plots' markers and plotly figures, embedded images, error
maps and crops, the scaling plot's conditions, where plotly.js comes from."""

import base64
import csv
import io
import json
import os
import re
import unittest
from unittest import mock

import numpy as np
from PIL import Image

from runner_support import DASHBOARD, RUN, TOMOGRAPHY_2D, TempDirTest, mean, synthetic_run

from pnpdist_runner import dashboard, imaging, plotly_js
from pnpdist_runner.dashboard import PLOTS, write_dashboard
from pnpdist_runner.results import collect, write_summary
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

    def figures(self, page: str) -> dict:
        match = re.search(r'<script type="application/json" id="figures">(.*?)</script>', page, re.S)
        self.assertIsNotNone(match, "no figures")
        return json.loads(match.group(1))

    def plot(self, page: str, name: str) -> dict:
        self.assertIn(f'<div class="plot" data-plot="{name}"></div>', page)
        return self.figures(page)[name]

    def runs_of(self, figure: dict) -> list:
        return [t for t in figure["data"] if "baseline" not in t.get("meta", {})]

    def references_of(self, figure: dict) -> list:
        return [t for t in figure["data"] if "baseline" in t.get("meta", {})]

    def test_dashboard_is_self_contained(self):
        page = self.dashboard()
        with open(plotly_js.find(), encoding="utf-8") as f:
            self.assertIn(f.read()[:5000], page)  # plotly.js inline, as the package installed it
        html_only = re.sub(r"<script>.*?</script>", "", page, flags=re.S)  # plotly.js's source names URLs
        self.assertEqual(page.count("<script"), html_only.count("<script") + 2)  # plotly.js, the drawing
        self.assertNotIn("<script src", html_only)
        self.assertNotIn("<link", html_only)
        self.assertIsNone(re.search(r'(src|href)="(?!data:|#)', html_only))
        self.assertNotIn("http://", html_only)
        self.assertNotIn("https://", html_only)

    def test_every_plot_has_its_marker_title_axes_and_legend(self):
        page = self.dashboard()
        for name in PLOTS:
            if name == "scaling":  # these runs differ in more than ranks: a note says so
                self.assertRegex(page, r'<p class="note" data-note="scaling">No speed-up plot: the runs differ in '
                                       r'more than ranks and threads \(distribute_denoiser, distribute_physics, '
                                       r'overlap, patch_size\)')
                continue
            figure = self.plot(page, name)
            layout = figure["layout"]
            self.assertTrue(layout["title"]["text"], name)
            self.assertTrue(layout["yaxis"]["title"]["text"], name)
            self.assertTrue(all(t["name"] for t in figure["data"]), name)
            self.assertGreater(len(self.runs_of(figure)), 0, name)

    def test_psnr_and_ssim_plots_draw_each_successful_run_through_its_values(self):
        page = self.dashboard()
        for name, metric, x_key in (("psnr-vs-iteration", "psnr", "iteration"),
                                    ("psnr-vs-time", "psnr", "wall_seconds"),
                                    ("ssim-vs-iteration", "ssim", "iteration"),
                                    ("ssim-vs-time", "ssim", "wall_seconds")):
            traces = self.runs_of(self.plot(page, name))
            if metric == "ssim":  # the synthetic records have no SSIM: the initial iterate's only
                self.assertEqual([t["y"] for t in traces], [[0.1], [0.1]])
                continue
            self.assertEqual(len(traces), 2, name)  # the failed run has no line
            for trace, run in zip(traces, ("run_001", "run_002")):
                rank0 = self.results[run]["records"][0]
                self.assertTrue(trace["name"].startswith(run))
                self.assertEqual(trace["x"], [0.0] + [float(r[x_key]) for r in rank0])  # the initial iterate first
                self.assertEqual(trace["y"], [9.5] + [r["psnr"] for r in rank0])
                self.assertIn("dB", trace["hovertemplate"])

    def test_relative_change_is_on_a_log_scale(self):
        figure = self.plot(self.dashboard(), "relative-change")
        self.assertEqual(figure["layout"]["yaxis"]["type"], "log")
        traces = self.runs_of(figure)
        self.assertEqual([len(t["y"]) for t in traces], [5, 4])
        self.assertEqual(set(traces[0]["y"]), {0.1})

    def test_time_breakdown_stacks_gradient_and_denoiser_means(self):
        figure = self.plot(self.dashboard(), "time-breakdown")
        self.assertEqual(figure["layout"]["barmode"], "stack")
        series = {t["name"]: t["y"] for t in figure["data"]}
        self.assertEqual(list(series), ["gradient", "denoiser", "other (update, metrics)"])
        for index, run in enumerate(("run_001", "run_002")):
            rank0 = self.results[run]["records"][0]
            self.assertAlmostEqual(series["gradient"][index], mean(r["gradient_seconds"] for r in rank0))
            self.assertAlmostEqual(series["denoiser"][index], mean(r["denoiser_seconds"] for r in rank0))
            self.assertAlmostEqual(sum(series[k][index] for k in series), 0.2)  # the whole iteration
        self.assertEqual(series["gradient"][2], None)  # the failed run: no bar
        self.assertTrue(figure["data"][0]["x"][2].endswith("<br>failed"))

    def test_memory_plot_has_both_phases_for_each_run(self):
        figure = self.plot(self.dashboard(), "memory-per-phase")
        self.assertEqual(figure["layout"]["barmode"], "group")
        series = {t["name"]: t["y"] for t in figure["data"]}
        self.assertEqual(sorted(series), ["RSS, denoiser", "RSS, gradient", "tracked, denoiser", "tracked, gradient"])
        self.assertEqual(series["RSS, denoiser"], [80, 81, None])
        self.assertEqual(series["RSS, gradient"], [55, 61, None])  # the maximum over ranks
        self.assertEqual(figure["layout"]["yaxis"]["title"]["text"], "peak memory (MiB)")

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
        for name in ("psnr-vs-iteration", "psnr-vs-time", "ssim-vs-iteration", "ssim-vs-time"):
            self.assertEqual(self.references_of(self.plot(page, name)), [])

    def image(self, section: str, kind: str):
        uri = re.search(rf'<figure data-image="{kind}"><img src="data:image/png;base64,([^"]+)"', section).group(1)
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri))))

    def test_error_maps_and_crops(self):
        page = self.dashboard()
        for run in ("run_001", "run_002"):
            section = re.search(rf'<section class="images" data-images="{run}">.*?</section>', page, re.S).group(0)
            error = self.image(section, "error")
            truth = np.asarray(Image.open(os.path.join(self.out, "runs", run, "truth.png")), dtype=int)
            reconstruction = np.asarray(Image.open(os.path.join(self.out, "runs", run, "reconstruction.png")),
                                        dtype=int)
            expected = np.abs(reconstruction - truth) / 255.0
            top = float(re.search(r'data-scale-top="([0-9.e-]+)"', section).group(1))
            self.assertAlmostEqual(top, np.percentile(expected, imaging.ERROR_PERCENTILE), places=5)
            self.assertEqual(error.shape, truth.shape + (3,))
            brightest = np.unravel_index(np.argmax(expected), expected.shape)
            self.assertEqual(tuple(error[brightest]), (0xfc, 0xff, 0xa4))  # the top of the colour scale
            darkest = np.unravel_index(np.argmin(expected), expected.shape)
            self.assertLess(int(error[darkest].sum()), int(error[brightest].sum()))
            self.assertIn("|reconstruction - truth| (max", section)
            for kind, source in (("crop_truth", truth), ("crop_reconstruction", reconstruction)):
                crop = self.image(section, kind)
                side = min(imaging.CROP_SIDE, min(truth.shape) // 2)
                self.assertEqual(crop.shape[:2], (side * imaging.ZOOM, side * imaging.ZOOM))
                top_left = ((truth.shape[0] - side) // 2, (truth.shape[1] - side) // 2)
                for y, x in ((0, 0), (side - 1, side - 1), (1, 2)):
                    self.assertEqual(crop[imaging.ZOOM * y + 3, imaging.ZOOM * x], source[top_left[0] + y,
                                                                                         top_left[1] + x])
        self.assertIn('data-note="derived-images">The error maps', page)
        failed = re.search(r'<section class="images" data-images="run_003">.*?</section>', page, re.S).group(0)
        self.assertNotIn('data-image="error"', failed)

    def test_slurm_columns_only_for_runs_through_slurm(self):
        table = re.search(r'<table data-table="runs">.*?</table>', self.dashboard(), re.S).group(0)
        self.assertNotIn("slurm_", table)
        self.assertIn("<th>patch_size</th>", table)
        for run in self.runs:
            run.meta["mode"] = "slurm"
        table = re.search(r'<table data-table="runs">.*?</table>', self.dashboard(), re.S).group(0)
        self.assertIn("<th>slurm_ntasks_per_node</th>", table)

    def test_dashboard_command_line(self):
        done = self.run_tool(DASHBOARD, self.out)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(os.path.isfile(os.path.join(self.out, "dashboard.html")))
        self.assertTrue(os.path.isfile(os.path.join(self.out, "summary.csv")))
        empty = self.run_tool(DASHBOARD, os.path.join(self.tmp, "empty"))
        self.assertEqual(empty.returncode, 2)
        self.assertIn("no run directories", empty.stderr)


class Scaling(TempDirTest):
    """The speed-up plot: drawn when the runs differ only in ranks and threads, else a note says why."""

    def runs(self, *parallel, **changes):
        out = os.path.join(self.tmp, f"scaling_{len(os.listdir(self.tmp))}")
        for index, (ranks, threads) in enumerate(parallel, start=1):
            synthetic_run(out, f"run_{index:03d}", index, ranks, dict(ROW1, slurm_ntasks_per_node=ranks, **(
                changes if index == len(parallel) else {})), psnr_final=28.0)
            path = os.path.join(out, "runs", f"run_{index:03d}", "result.json")
            with open(path) as f:
                result = json.load(f)
            result["threads_per_rank"] = threads
            result["final"]["total_seconds"] = 8.0 / (ranks * threads) ** 0.5
            with open(path, "w") as f:
                json.dump(result, f)
        return collect(out)

    def test_speed_up_and_efficiency_against_ranks_times_threads(self):
        runs = self.runs((1, 1), (2, 1), (2, 2))
        figures, notes = dashboard.figures(runs)
        self.assertEqual(notes, {})
        speed_up, ideal, efficiency = figures["scaling"]["data"]
        self.assertEqual(speed_up["x"], [1, 2, 4])
        for got, want in zip(speed_up["y"], [1.0, 2 ** 0.5, 2.0]):
            self.assertAlmostEqual(got, want)
        self.assertEqual(ideal["y"], [1.0, 4.0])
        for got, want in zip(efficiency["y"], [1.0, 2 ** -0.5, 0.5]):
            self.assertAlmostEqual(got, want)
        self.assertEqual(efficiency["yaxis"], "y2")
        self.assertIn("run_003: 2 ranks x 2 threads", speed_up["text"][2])

    def test_other_differences_are_named_instead(self):
        _, notes = dashboard.figures(self.runs((1, 1), (2, 1), patch_size=32))
        self.assertEqual(notes["scaling"], "No speed-up plot: the runs differ in more than ranks and threads "
                                           "(patch_size); a scaling study varies only ranks (slurm_ntasks_per_node, "
                                           "slurm_nodes) or threads.")
        _, notes = dashboard.figures(self.runs((2, 1)))
        self.assertIn("at least two different numbers of ranks x threads", notes["scaling"])


class PlotlyJs(TempDirTest):
    """plotly.js comes from an installed package; without one the dashboard is not written and the error names
    the package."""

    def test_an_explicit_file_is_used(self):
        path = self.write("plotly.js", "/** plotly.js v9.9.9 */ window.Plotly = {newPlot() {}}; '</script>';")
        with mock.patch.dict(os.environ, {plotly_js.ENVIRONMENT: path}):
            self.assertEqual(plotly_js.find(), path)
            self.assertNotIn("</script>", plotly_js.script())
            out = os.path.join(self.tmp, "out")
            synthetic_run(out, "run_001", 1, 1, ROW1, psnr_final=28.0)
            with open(write_dashboard(out, collect(out)), encoding="utf-8") as f:
                self.assertIn("plots by plotly.js 9.9.9, inline", f.read())
        with mock.patch.dict(os.environ, {plotly_js.ENVIRONMENT: path + ".missing"}):
            with self.assertRaisesRegex(plotly_js.PlotlyNotFound, "PNPDIST_PLOTLY_JS=.*: no such file"):
                plotly_js.find()

    def test_no_plotly_is_an_error_naming_the_package(self):
        out = os.path.join(self.tmp, "out")
        synthetic_run(out, "run_001", 1, 1, ROW1, psnr_final=28.0)
        environment = {k: v for k, v in os.environ.items() if k != plotly_js.ENVIRONMENT}
        with mock.patch.dict(os.environ, environment, clear=True), \
                mock.patch.object(plotly_js, "DEBIAN", os.path.join(self.tmp, "none.js")), \
                mock.patch.object(plotly_js, "_pypi", lambda: None):
            with self.assertRaisesRegex(dashboard.DashboardError, "plotly.js not found.*apt-get install python3-plotly"):
                write_dashboard(out, collect(out))
            with self.assertRaises(dashboard.DashboardError):
                dashboard.check_requirements()
        self.assertFalse(os.path.exists(os.path.join(out, "dashboard.html")))

    def test_the_command_lines_refuse_without_plotly(self):
        missing = {plotly_js.ENVIRONMENT: os.path.join(self.tmp, "none.js")}
        out = os.path.join(self.tmp, "out")
        synthetic_run(out, "run_001", 1, 1, ROW1, psnr_final=28.0)
        done = self.run_tool(DASHBOARD, out, env=missing)
        self.assertEqual(done.returncode, 2)
        self.assertIn("error: no dashboard: PNPDIST_PLOTLY_JS=", done.stderr)
        self.assertTrue(os.path.isfile(os.path.join(out, "summary.csv")))
        # the runner says so before it starts a run
        config = self.write("tomography_2d.yaml", TOMOGRAPHY_2D)
        fresh = os.path.join(self.tmp, "fresh")
        done = self.run_tool(RUN, config, "--build-dir", self.fake_build(), "--out", fresh, env=missing)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("(or pass --no-dashboard)", done.stderr)
        self.assertFalse(os.path.exists(fresh))


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
        for name, metric in (("psnr-vs-iteration", "psnr"), ("psnr-vs-time", "psnr"), ("ssim-vs-iteration", "ssim"),
                             ("ssim-vs-time", "ssim")):
            figure = self.plot(page, name)
            references = self.references_of(figure)
            labels = [r["meta"]["baseline"] for r in references]
            if metric == "psnr":  # the first run's baselines, in result.json's order
                self.assertEqual(labels, ["fbp_hann 3.00 dB", "sirt 26.50 dB", "cgls 26.00 dB"])
            else:
                self.assertEqual(labels, ["fbp_hann 0.500", "sirt 0.500", "cgls 0.500"])
            runs = self.runs_of(figure)
            xs = [x for trace in runs for x in trace["x"]]
            for ref, (baseline, value) in zip(references, BASELINES.items()):
                self.assertEqual(ref["y"], [value, value] if metric == "psnr" else [0.5, 0.5])  # horizontal
                # across the runs' range (a single x, the SSIM of the initial iterate only: one unit from it)
                self.assertEqual(ref["x"], [min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1])
                self.assertEqual(ref["line"]["dash"], "dash")
                self.assertEqual(ref["name"], "baseline " + ref["meta"]["baseline"])
                self.assertIn(ref["meta"]["baseline"], ref["text"])  # drawn at one end of the line
                self.assertIn("SSIM 0.500", ref["hovertemplate"])
                self.assertIn("iterations 7", references[0]["hovertemplate"])
            self.assertNotIn("range", figure["layout"]["yaxis"])  # autoscaled over runs and baselines alike
            self.assertEqual(len(runs), 2)

    def test_table_names_the_best_baseline(self):
        page = self.dashboard()
        table = re.search(r'<table data-table="runs">.*?</table>', page, re.S).group(0)
        self.assertIn("sirt (26.50 dB)", table)


if __name__ == "__main__":
    unittest.main(verbosity=2)
