"""The runner end to end with the fake example (fake_example.py) as the example program: local runs with 1
and 2 ranks (through mpirun when it is installed, else through a stand-in launcher), a failing run that the
others outlive, a timeout, and a generated Slurm script executed with a stand-in srun."""

import csv
import json
import os
import shutil
import signal
import stat
import subprocess
import time
import unittest

from runner_support import PYTHON, RUN, TOMOGRAPHY_2D, TempDirTest, load_config

from pnpdist_runner import launch
from pnpdist_runner.results import collect

# Starts N copies of the program with OpenMPI's rank variables, like `mpirun -np N --oversubscribe ...`.
FAKE_MPIRUN = """#!/usr/bin/env python3
import os, subprocess, sys
args = sys.argv[1:]
n = int(args[args.index("-np") + 1])
program = [a for a in args if not a.startswith("--") and a != "-np" and a != "none" and not a.isdigit()][0]
rest = args[args.index(program):]
procs = [subprocess.Popen(rest, env=dict(os.environ, OMPI_COMM_WORLD_RANK=str(r), OMPI_COMM_WORLD_SIZE=str(n)))
         for r in range(n)]
sys.exit(max(p.wait() for p in procs))
"""


class LocalRuns(TempDirTest):
    def mpirun(self) -> str:
        real = shutil.which("mpirun")
        if real:
            return real
        path = os.path.join(self.tmp, "fake_mpirun")
        with open(path, "w") as f:
            f.write(FAKE_MPIRUN)
        os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
        return path

    def run_config(self, text: str, *extra: str):
        config = self.write("configs/t2d.yaml", text)
        out = os.path.join(self.tmp, "out")
        done = self.run_tool(RUN, config, "--build-dir", self.fake_build(), "--out", out, "--cores", "2",
                             "--mpirun", self.mpirun(), *extra)
        return done, out

    def result(self, out: str, run: str) -> dict:
        with open(os.path.join(out, "runs", run, "result.json")) as f:
            return json.load(f)

    def test_one_and_two_ranks(self):
        done, out = self.run_config(TOMOGRAPHY_2D)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("2 of 2 runs succeeded", done.stderr)
        # The runs' output lines are echoed as they come, labelled with the grid position and the run.
        self.assertIn("    [1/2 run_001] iteration 6/6  PSNR 18.00 dB", done.stderr)
        self.assertIn("    [2/2 run_002] iteration 1/6", done.stderr)
        one, two = self.result(out, "run_001"), self.result(out, "run_002")
        self.assertEqual((one["fake"]["world_size"], two["fake"]["world_size"]), (1, 2))
        self.assertEqual((one["options"]["threads"], two["options"]["threads"]), ("2", "1"))
        self.assertEqual((one["fake"]["env"]["OMP_NUM_THREADS"], two["fake"]["env"]["OMP_NUM_THREADS"]), ("2", "1"))
        if os.geteuid() == 0:
            self.assertEqual(two["fake"]["env"]["OMPI_ALLOW_RUN_AS_ROOT"], "1")
        self.assertEqual(two["options"]["distribute_physics"], "1")
        self.assertEqual(two["options"]["output_dir"], os.path.join(out, "runs", "run_002"))
        self.assertEqual(len(two["records"]), 2)
        with open(os.path.join(out, "summary.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([(r["run"], r["ranks"], r["status"], r["exit_code"]) for r in rows],
                         [("run_001", "1", "ok", "0"), ("run_002", "2", "ok", "0")])
        self.assertAlmostEqual(float(rows[1]["final_psnr"]), two["final"]["psnr"], places=4)
        for row in rows:  # measured by the runner (wait4): a Python process holds more than 4 MiB
            self.assertGreater(int(row["process_peak_rss_bytes"]), 4 << 20)
        with open(os.path.join(out, "dashboard.html")) as f:
            page = f.read()
        for name in ("psnr-vs-iteration", "psnr-vs-time", "ssim-vs-iteration", "ssim-vs-time", "relative-change",
                     "time-breakdown", "memory-per-phase"):
            self.assertIn(f'data-plot="{name}"', page)
        self.assertIn('data-note="scaling">No speed-up plot: the runs differ in more than ranks', page)

    def test_a_failed_run_is_recorded_and_the_others_continue(self):
        # Seed 666 makes the fake example fail on every rank: both runs fail, both are recorded.
        text = TOMOGRAPHY_2D.replace("noise_level: 0.01", "noise_level: 0.01\n      seed: 666")
        done, out = self.run_config(text)
        self.assertEqual(done.returncode, 1)
        self.assertIn("0 of 2 runs succeeded", done.stderr)
        self.assertIn("simulated failure", done.stderr)
        with open(os.path.join(out, "summary.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([r["status"] for r in rows], ["failed", "failed"])
        self.assertEqual(rows[0]["exit_code"], "3")
        self.assertIn("second line of the error", rows[0]["error"])
        # Mixed: one good run, one failing run, both recorded, exit code 1.
        build = self.fake_build()
        self.write_example(build, "tomography_2d",
                           f'if [ "${{OMPI_COMM_WORLD_SIZE:-1}}" = 2 ]; then echo "rank failure" >&2; exit 5; fi\n'
                           f'exec {PYTHON} {os.path.join(os.path.dirname(__file__), "fake_example.py")} "$@"')
        config = self.write("configs/mixed.yaml", TOMOGRAPHY_2D)
        mixed_out = os.path.join(self.tmp, "mixed")
        done = self.run_tool(RUN, config, "--build-dir", build, "--out", mixed_out, "--cores", "2",
                             "--mpirun", self.mpirun())
        self.assertEqual(done.returncode, 1, done.stderr)
        statuses = [r.status for r in collect(mixed_out)]
        self.assertEqual(statuses, ["ok", "failed"])
        self.assertIn("rank failure", collect(mixed_out)[1].error)
        self.assertTrue(os.path.isfile(os.path.join(mixed_out, "dashboard.html")))

    def test_timeout_ends_the_run(self):
        build = self.fake_build()
        self.write_example(build, "tomography_2d", "sleep 30")
        config = self.write("configs/slow.yaml", TOMOGRAPHY_2D)
        out = os.path.join(self.tmp, "out")
        done = self.run_tool(RUN, config, "--build-dir", build, "--out", out, "--only", "1", "--timeout", "0.5",
                             timeout=25)
        self.assertEqual(done.returncode, 1, done.stderr)
        run = collect(out)[0]
        self.assertEqual(run.status, "timeout")
        self.assertLess(run.status_file["wall_seconds"], 10)

    def test_interrupt_ends_the_running_example(self):
        build = self.fake_build()
        pid_file = os.path.join(self.tmp, "example.pid")
        self.write_example(build, "tomography_2d", f"echo $$ > {pid_file}.tmp && mv {pid_file}.tmp {pid_file}\nexec sleep 60")
        config = self.write("configs/slow.yaml", TOMOGRAPHY_2D)
        out = os.path.join(self.tmp, "out")
        runner = subprocess.Popen([PYTHON, RUN, config, "--build-dir", build, "--out", out, "--only", "1"],
                                  cwd=self.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while not os.path.exists(pid_file) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(pid_file), "the example did not start")
        with open(pid_file) as f:
            example = int(f.read())
        runner.send_signal(signal.SIGINT)
        _, stderr = runner.communicate(timeout=30)
        self.assertEqual(runner.returncode, 130, stderr)
        self.assertFalse(_alive(example), "the example outlived the interrupted runner")
        self.assertEqual(collect(out)[0].status, "interrupted")

    def test_checkpoint_kept_for_an_interrupted_run_and_dropped_for_a_finished_one(self):
        config = load_config(self.write("configs/c.yaml", TOMOGRAPHY_2D))
        run = config.expand()[0][0]
        out = os.path.join(self.tmp, "out")
        directory = launch.run_dir(out, run)
        os.makedirs(directory)
        for exit_code, kept in ((1, True), (0, False)):
            for name in ("checkpoint.bin", "checkpoint.bin.rank1", "status.json", "result.json"):
                with open(os.path.join(directory, name), "w") as f:
                    f.write(json.dumps({"exit_code": exit_code}))
            launch.prepare_run_dir(out, run)
            left = sorted(os.listdir(directory))
            self.assertEqual(left, ["checkpoint.bin", "checkpoint.bin.rank1"] if kept else [], exit_code)

    def test_max_runs_and_only(self):
        text = TOMOGRAPHY_2D.replace('["zeros"]', '["zeros", "adjoint"]')
        done, out = self.run_config(text, "--max-runs", "3")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("running the first 3 of the 4 runs", done.stderr)
        self.assertEqual(sorted(os.listdir(os.path.join(out, "runs"))), ["run_001", "run_002", "run_003"])
        self.assertEqual(self.result(out, "run_002")["options"]["init"], "adjoint")


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for a parent that never reaps counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class SlurmScriptExecution(TempDirTest):
    def test_generated_script_runs_and_leaves_status(self):
        if shutil.which("bash") is None:
            self.skipTest("bash not installed")
        build = self.fake_build()
        config = load_config(self.write("configs/t2d.yaml", TOMOGRAPHY_2D.replace('["zeros"]', '["zeros", "adjoint"]')))
        runs, _ = config.expand(only_row=1)
        out = os.path.join(self.tmp, "out")
        script = self.write("row.sbatch", launch.slurm_script(config, runs, os.path.join(build, "examples",
                                                                                         "tomography_2d"), out, 4))
        bin_dir = os.path.join(self.tmp, "bin")
        os.makedirs(bin_dir)
        srun = os.path.join(bin_dir, "srun")
        with open(srun, "w") as f:  # drops srun's own options, runs the program once (one task)
            f.write('#!/bin/sh\nwhile [ "${1#--}" != "$1" ]; do shift; done\nexec "$@"\n')
        os.chmod(srun, 0o755)
        env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"], SLURM_CPUS_PER_TASK="3",
                   SLURM_JOB_ID="99")
        done = subprocess.run(["bash", script], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        for run in runs:
            with open(os.path.join(out, "runs", run.name, "status.json")) as f:
                status = json.load(f)
            self.assertEqual(status["exit_code"], 0)
            self.assertEqual(status["slurm_job_id"], "99")
            self.assertGreaterEqual(status["wall_seconds"], 0)
            with open(os.path.join(out, "runs", run.name, "result.json")) as f:
                result = json.load(f)
            self.assertEqual(result["options"]["threads"], "3")
            self.assertEqual(result["fake"]["env"]["OMP_NUM_THREADS"], "3")
            self.assertEqual(result["options"]["init"], run.init_method)


if __name__ == "__main__":
    unittest.main(verbosity=2)
