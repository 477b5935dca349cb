"""Local command lines (mpirun, thread split, environment) and Slurm scripts, through the functions and the
command line's --dry-run; submission through a stand-in sbatch."""

import json
import os
import shlex
import stat
import subprocess
import sys
import unittest

from runner_support import RUN, TOMOGRAPHY_2D, TempDirTest, load_config

from pnpdist_runner import launch

GPU_3D = """\
dataset:
  - tomography_3d:
      img_size: 32
      num_operators: 4
solver:
  - PnP:
      denoiser: tv
      init_method: ["zeros", "adjoint"]
      max_iter: 3
      checkpoint_every: 2
slurm_gres, slurm_ntasks_per_node, slurm_nodes, distribute_physics, distribute_denoiser, patch_size, overlap, max_batch_size: [
  ["gpu:1", 1, 1, false, false, 0, 0, 0],
  ["gpu:a100:2", 2, 2, true, true, [8,16,16], [2,4,4], 4] ]
slurm_time: "02:30:00"
slurm_partition: gpu
"""


class ThreadSplit(unittest.TestCase):
    def test_cores_are_shared_between_ranks(self):
        self.assertEqual(launch.threads_per_rank(16, 1), 16)
        self.assertEqual(launch.threads_per_rank(16, 4), 4)
        self.assertEqual(launch.threads_per_rank(16, 3), 5)
        self.assertEqual(launch.threads_per_rank(2, 4), 1)  # oversubscribed: never 0 threads


class LocalCommands(TempDirTest):
    def setUp(self):
        super().setUp()
        self.config = load_config(self.write("configs/t2d.yaml", TOMOGRAPHY_2D))
        self.runs, _ = self.config.expand()

    def test_one_rank_runs_the_example_directly(self):
        argv, threads = launch.local_command(self.runs[0], "/b/examples/tomography_2d", "/o/runs/run_001", 8)
        self.assertEqual(threads, 8)
        self.assertEqual(argv[0], "/b/examples/tomography_2d")
        self.assertEqual(argv[-4:], ["--threads", "8", "--output-dir", "/o/runs/run_001"])
        self.assertNotIn("mpirun", argv)

    def test_two_ranks_go_through_mpirun_with_half_the_cores_each(self):
        argv, threads = launch.local_command(self.runs[1], "/b/examples/tomography_2d", "/o/runs/run_002", 8,
                                             mpirun="/usr/bin/mpirun")
        self.assertEqual(threads, 4)
        self.assertEqual(argv[:7], ["/usr/bin/mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none",
                                    "/b/examples/tomography_2d"])
        pairs = dict(zip(argv[7::2], argv[8::2]))
        self.assertEqual(pairs["--threads"], "4")
        self.assertEqual(pairs["--distribute-physics"], "1")
        self.assertEqual(pairs["--patch-size"], "32")
        self.assertEqual(pairs["--output-dir"], "/o/runs/run_002")

    def test_environment_allows_root_only_for_root(self):
        root = launch.local_environment(3, is_root=True)
        self.assertEqual(root["OMP_NUM_THREADS"], "3")
        self.assertEqual((root["OMPI_ALLOW_RUN_AS_ROOT"], root["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"]), ("1", "1"))
        user = launch.local_environment(3, is_root=False)
        self.assertNotIn("OMPI_ALLOW_RUN_AS_ROOT", user)

    def test_dry_run_prints_every_command_and_runs_nothing(self):
        build = self.fake_build()
        out = os.path.join(self.tmp, "out")
        done = self.run_tool(RUN, "configs/t2d.yaml", "--build-dir", build, "--out", out, "--cores", "6", "--dry-run")
        self.assertEqual(done.returncode, 0, done.stderr)
        commands = [line for line in done.stdout.splitlines() if not line.startswith("#")]
        self.assertEqual(len(commands), 2)
        first, second = (shlex.split(c) for c in commands)
        self.assertIn("OMP_NUM_THREADS=6", first)
        self.assertIn("OMP_NUM_THREADS=3", second)
        exe = os.path.join(build, "examples", "tomography_2d")
        self.assertEqual(second[second.index("mpirun"):second.index("mpirun") + 7],
                         ["mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", exe])
        self.assertIn(os.path.join(out, "runs", "run_002"), second)
        self.assertFalse(os.path.exists(out))

    def test_missing_example_program_is_reported(self):
        done = self.run_tool(RUN, "configs/t2d.yaml", "--build-dir", os.path.join(self.tmp, "nothing"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("example program not found", done.stderr)
        self.assertIn("examples/tomography_2d", done.stderr)


class SlurmScripts(TempDirTest):
    def setUp(self):
        super().setUp()
        self.config = load_config(self.write("configs/gpu3d.yaml", GPU_3D))
        self.runs, _ = self.config.expand()

    def test_script_of_a_row_holds_its_resources_and_runs(self):
        row2 = [r for r in self.runs if r.row.number == 2]
        script = launch.slurm_script(self.config, row2, "/b/examples/tomography_3d", "/o", cores=32)
        lines = script.splitlines()
        self.assertEqual(lines[0], "#!/bin/bash")
        directives = [line for line in lines if line.startswith("#SBATCH")]
        self.assertEqual(directives, [
            "#SBATCH --job-name=pnpdist-gpu3d-row02",
            "#SBATCH --nodes=2",
            "#SBATCH --ntasks-per-node=2",
            "#SBATCH --gres=gpu:a100:2",
            "#SBATCH --cpus-per-task=16",
            "#SBATCH --time=02:30:00",
            "#SBATCH --output=/o/slurm/row_02_%j.out",
            "#SBATCH --partition=gpu",
        ])
        srun = [line for line in lines if line.startswith("srun ")]
        self.assertEqual(len(srun), 2)  # init zeros and adjoint, one after the other
        for line, run in zip(srun, row2):
            self.assertIn("/b/examples/tomography_3d", line)
            self.assertIn(f"--init {run.init_method}", line)
            self.assertIn('--threads "${SLURM_CPUS_PER_TASK}"', line)
            self.assertTrue(line.startswith('srun --cpus-per-task="${SLURM_CPUS_PER_TASK}" '), line)
            self.assertIn(f"--output-dir /o/runs/{run.name}", line)
            self.assertIn("--patch-size 8,16,16 --overlap 2,4,4 --max-batch-size 4", line)
            self.assertIn(f"--checkpoint /o/runs/{run.name}/checkpoint.bin --checkpoint-every 2", line)
            self.assertIn(f"> /o/runs/{run.name}/stdout.log 2> /o/runs/{run.name}/stderr.log", line)
        self.assertEqual(sum("status.json" in line for line in lines), 2)
        self.assertEqual(lines[-1] if lines[-1] else lines[-2], "exit $status")

    def test_values_are_quoted_and_never_expanded_by_the_shell(self):
        # A weights file whose name holds shell syntax, and Slurm values with spaces and $(...).
        weights = self.write("w $(touch PWNED1) `touch PWNED2` ';x'.safetensors", "")
        text = (GPU_3D.replace("denoiser: tv", f"denoiser: drunet\n      weights: {json.dumps(weights)}")
                .replace("slurm_partition: gpu", 'slurm_partition: "gpu $(touch PWNED3)"')
                + 'slurm_account: "a;b c"\n')
        config = load_config(self.write("configs/inject.yaml", text))
        runs, _ = config.expand()
        out = os.path.join(self.tmp, "out dir")
        script = launch.slurm_script(config, runs[:1], os.path.join(self.tmp, "bin", "srun args"), out, cores=4)
        self.assertIn("#SBATCH --partition='gpu $(touch PWNED3)'", script)
        self.assertIn("#SBATCH --account='a;b c'", script)
        self.assertIn('export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK}"', script)
        # Run the script with a stand-in srun that records its arguments.
        bin_dir = os.path.join(self.tmp, "bin")
        os.makedirs(bin_dir, exist_ok=True)
        record = os.path.join(self.tmp, "argv.json")
        with open(os.path.join(bin_dir, "srun"), "w") as f:
            f.write(f"#!{sys.executable}\nimport json, sys\njson.dump(sys.argv[1:], open({record!r}, 'w'))\n")
        os.chmod(os.path.join(bin_dir, "srun"), 0o755)
        path = self.write("row.sbatch", script)
        env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"], SLURM_CPUS_PER_TASK="3")
        done = subprocess.run(["bash", path], cwd=self.tmp, env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        for marker in ("PWNED1", "PWNED2", "PWNED3"):
            self.assertFalse(os.path.exists(os.path.join(self.tmp, marker)), marker)
        with open(record) as f:
            argv = json.load(f)
        self.assertEqual(argv[:2], ["--cpus-per-task=3", os.path.join(self.tmp, "bin", "srun args")])
        pairs = dict(zip(argv[2::2], argv[3::2]))
        self.assertEqual(pairs["--weights"], weights)
        self.assertEqual(pairs["--threads"], "3")
        self.assertEqual(pairs["--output-dir"], os.path.join(out, "runs", runs[0].name))
        with open(os.path.join(out, "runs", runs[0].name, "status.json")) as f:
            self.assertEqual(json.load(f)["exit_code"], 0)

    def test_cpu_row_has_no_gres_and_config_cpus_win(self):
        text = GPU_3D.replace('"gpu:1", 1', '"cpu", 1') + "slurm_cpus_per_task: 7\n"
        config = load_config(self.write("configs/cpu.yaml", text))
        runs, _ = config.expand()
        script = launch.slurm_script(config, runs[:2], "/b/x", "/o", cores=64)
        self.assertNotIn("--gres", script)
        self.assertIn("#SBATCH --cpus-per-task=7\n", script)

    def test_dry_run_prints_one_script_per_row_and_writes_nothing(self):
        out = os.path.join(self.tmp, "out")
        done = self.run_tool(RUN, "configs/gpu3d.yaml", "--slurm", "--dry-run", "--out", out, "--cores", "8",
                             "--build-dir", self.fake_build())
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.count("#!/bin/bash"), 2)
        self.assertIn(f"# {os.path.join(out, 'slurm', 'row_01.sbatch')}", done.stdout)
        self.assertIn("#SBATCH --gres=gpu:1", done.stdout)
        self.assertIn("#SBATCH --cpus-per-task=8", done.stdout)  # 1 task per node
        self.assertIn("#SBATCH --cpus-per-task=4", done.stdout)  # 2 tasks per node
        self.assertFalse(os.path.exists(out))

    def test_submission_writes_scripts_and_run_metadata(self):
        bin_dir = os.path.join(self.tmp, "bin")
        os.makedirs(bin_dir)
        log = os.path.join(self.tmp, "sbatch.log")
        sbatch = os.path.join(bin_dir, "sbatch")
        with open(sbatch, "w") as f:
            f.write(f'#!/bin/sh\necho "$1" >> {log}\necho "Submitted batch job 4242"\n')
        os.chmod(sbatch, os.stat(sbatch).st_mode | stat.S_IEXEC)
        build = self.fake_build()
        out = os.path.join(self.tmp, "out")
        done = self.run_tool(RUN, "configs/gpu3d.yaml", "--slurm", "--out", out, "--build-dir", build,
                             "--sbatch", sbatch)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Submitted batch job 4242", done.stderr)
        with open(log) as f:
            submitted = f.read().split()
        self.assertEqual(submitted, [os.path.join(out, "slurm", "row_01.sbatch"),
                                     os.path.join(out, "slurm", "row_02.sbatch")])
        for path in submitted:
            self.assertTrue(os.path.isfile(path))
        self.assertEqual(sorted(os.listdir(os.path.join(out, "runs"))), ["run_001", "run_002", "run_003", "run_004"])
        with open(os.path.join(out, "summary.csv")) as f:
            self.assertEqual(f.read().count(",pending,"), 4)

    def test_failed_submission_gives_exit_code_1(self):
        out = os.path.join(self.tmp, "out")
        done = self.run_tool(RUN, "configs/gpu3d.yaml", "--slurm", "--out", out, "--build-dir", self.fake_build(),
                             "--sbatch", "/bin/false", "--only", "1")
        self.assertEqual(done.returncode, 1)
        self.assertIn("row 1: sbatch failed (exit code 1)", done.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)


class FollowerTest(unittest.TestCase):
    def test_complete_lines_are_echoed_with_the_label_and_a_partial_line_waits(self):
        import contextlib
        import io
        import tempfile
        from pnpdist_runner.launch import LogFollower
        with tempfile.TemporaryDirectory() as tmp:
            a, b = os.path.join(tmp, "stdout.log"), os.path.join(tmp, "stderr.log")
            follower = LogFollower([a, b], "[1/3 run_001]")
            captured = io.StringIO()
            with contextlib.redirect_stderr(captured):
                follower.poll()  # neither file exists yet
                with open(b, "w") as f:
                    f.write("iteration 1/100  PSNR 20.00 dB\niteration 2/1")
                follower.poll()
                with open(b, "a") as f:
                    f.write("00\n")
                with open(a, "w") as f:
                    f.write("baseline sirt\n\nno newline at the end")
                follower.poll(final=True)
            self.assertEqual(captured.getvalue().splitlines(),
                             ["[1/3 run_001] iteration 1/100  PSNR 20.00 dB", "[1/3 run_001] baseline sirt",
                              "[1/3 run_001] no newline at the end", "[1/3 run_001] iteration 2/100"])
