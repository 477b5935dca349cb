"""Config validation (every class of error names the key, and the row where there is one) and the grid's
expansion (rows x init_method, max-runs, --only)."""

import os
import textwrap
import unittest

from runner_support import EXAMPLES, GRID_KEY, ROOT, RUN, TOMOGRAPHY_2D, TempDirTest, load_config, schema_of

from pnpdist_runner import config as config_module
from pnpdist_runner.config import ConfigError

TOMOGRAPHY_3D = textwrap.dedent("""\
    dataset:
      - tomography_3d:
          img_size: 32
          num_operators: 2
          num_projections: 50
          geometry_type: conebeam
          use_dataset_sinogram: false
    solver:
      - PnP:
          denoiser: drunet
          init_method: ["pseudo_inverse"]
          max_iter: 4
    slurm_gres, slurm_ntasks_per_node, distribute_physics, distribute_denoiser, patch_size, overlap, max_batch_size, denoiser_sigma, denoiser_lambda_relaxation: [
      ["gpu:2", 2, true, true, [8,256,256], [2,16,16], 10, 0.03, 10.0],
      ["gpu:2", 2, true, true, [8,256,256], [2,16,16], 8, 0.05, 10.0],
      ["gpu:2", 2, true, true, [8,256,256], [2,16,16], 4, 0.03, 10.0],
    ]
    """)


class ConfigErrors(TempDirTest):
    def errors(self, text: str, name: str = "x.yaml") -> list[str]:
        path = self.write(os.path.join("configs", name), text)
        with self.assertRaises(ConfigError) as caught:
            load_config(path)
        return caught.exception.messages

    def assert_error(self, text: str, expected: str) -> None:
        messages = self.errors(text)
        self.assertTrue(any(expected in m for m in messages), f"{expected!r} not in {messages}")

    def test_patch_size_of_a_3d_row_names_file_row_key_and_value(self):
        bad = TOMOGRAPHY_3D.replace('8, 0.05, 10.0', '8, 0.05, 10.0').replace(
            '["gpu:2", 2, true, true, [8,256,256], [2,16,16], 8', '["gpu:2", 2, true, true, "abc", [2,16,16], 8')
        path = os.path.join(self.tmp, "configs", "x.yaml")
        self.assertIn(f"{path}: execution grid row 2: patch_size: expected an integer or a list of 3 integers, "
                      "got 'abc'", self.errors(bad))

    def test_patch_size_list_of_wrong_length(self):
        bad = TOMOGRAPHY_3D.replace("[8,256,256], [2,16,16], 4", "[8,256], [2,16,16], 4")
        self.assert_error(bad, "execution grid row 3: patch_size: expected an integer or a list of 3 integers, "
                               "got [8, 256]")

    def test_row_of_wrong_length(self):
        bad = TOMOGRAPHY_2D.replace('["cpu", 2, 1, true, true, 32, 8, 0]', '["cpu", 2, 1, true, true, 32, 8]')
        self.assert_error(bad, "execution grid row 2: expected 8 values (slurm_gres, slurm_ntasks_per_node, "
                               "slurm_nodes, distribute_physics, distribute_denoiser, patch_size, overlap, "
                               "max_batch_size), got 7")

    def test_ranks_must_equal_gpus(self):
        bad = TOMOGRAPHY_2D.replace('["cpu", 2, 1, true', '["gpu:4", 2, 1, true')
        self.assert_error(bad, "execution grid row 2: slurm_ntasks_per_node: 2 ranks per node but slurm_gres "
                               "'gpu:4' gives 4 GPUs per node")

    def test_bad_gres(self):
        self.assert_error(TOMOGRAPHY_2D.replace('["cpu", 1', '["gpu", 1'),
                          "execution grid row 1: slurm_gres: expected 'cpu', 'gpu:N' or 'gpu:TYPE:N'")

    def test_bool_is_not_an_integer_and_an_integer_is_not_a_bool(self):
        self.assert_error(TOMOGRAPHY_2D.replace('["cpu", 1, 1', '["cpu", true, 1'),
                          "execution grid row 1: slurm_ntasks_per_node: expected an integer >= 1, got true")
        self.assert_error(TOMOGRAPHY_2D.replace('1, 1, false, false', '1, 1, 2, false'),
                          "execution grid row 1: distribute_physics: expected true or false, got 2")

    def test_negative_batch_and_overlap_beyond_patch(self):
        self.assert_error(TOMOGRAPHY_2D.replace("32, 8, 0]", "32, 8, -1]"),
                          "execution grid row 2: max_batch_size: expected an integer >= 0, got -1")
        self.assert_error(TOMOGRAPHY_2D.replace("32, 8, 0]", "32, 40, 0]"),
                          "execution grid row 2: overlap: 40 exceeds patch_size 32")

    def test_distribution_needs_tiles_and_enough_operators(self):
        self.assert_error(TOMOGRAPHY_2D.replace("true, true, 32, 8, 0]", "true, true, 0, 0, 0]"),
                          "execution grid row 2: distribute_denoiser: true needs tiles: patch_size > 0, got 0")
        self.assert_error(TOMOGRAPHY_2D.replace("num_operators: 8", "num_operators: 1"),
                          "execution grid row 2: distribute_physics: 2 ranks but num_operators is 1")

    def test_scientific_notation_without_a_dot_is_a_number(self):
        text = TOMOGRAPHY_2D.replace("denoiser_sigma: 0.01", "denoiser_sigma: 1e-2")
        config = load_config(self.write("c.yaml", text))
        self.assertEqual(config.solver["denoiser_sigma"], 0.01)
        self.assert_error(TOMOGRAPHY_2D.replace("denoiser_sigma: 0.01", "denoiser_sigma: 1e-2x"),
                          "solver PnP: denoiser_sigma: expected a number >= 0, got '1e-2x'")

    def test_unknown_keys_everywhere(self):
        self.assert_error(TOMOGRAPHY_2D + "objectiv: psnr\n", "objectiv: unknown key")
        self.assert_error(TOMOGRAPHY_2D.replace("num_angles:", "num_angels:"),
                          "dataset tomography_2d: num_angels: unknown key (known: img_size")
        self.assert_error(TOMOGRAPHY_2D.replace("max_iter:", "max_iters:"), "solver PnP: max_iters: unknown key")
        self.assert_error(TOMOGRAPHY_2D.replace(GRID_KEY, GRID_KEY + ", patch_sizes")
                          .replace("8, 0]", "8, 0, 1]").replace("0, 0, 0]", "0, 0, 0, 1]"),
                          "execution grid: patch_sizes: unknown column")

    def test_unknown_dataset_and_solver(self):
        self.assert_error(TOMOGRAPHY_2D.replace("- tomography_2d:", "- tomography_4d:"),
                          "dataset: tomography_4d: unknown dataset (known: highres_color_image, tomography_2d, "
                          "tomography_3d)")
        self.assert_error(TOMOGRAPHY_2D.replace("- PnP:", "- ADMM:"), "solver: ADMM: unknown solver (known: PnP)")

    def test_bad_values_of_dataset_and_solver_keys(self):
        self.assert_error(TOMOGRAPHY_2D.replace("img_size: 64", "img_size: big"),
                          "dataset tomography_2d: img_size: expected an integer >= 8, got 'big'")
        self.assert_error(TOMOGRAPHY_2D.replace("step_size: auto", "step_size: fast"),
                          "solver PnP: step_size: expected a number > 0 or 'auto', got 'fast'")
        self.assert_error(TOMOGRAPHY_2D.replace('["zeros"]', '["zeros", "fbp"]'),
                          "solver PnP: init_method: expected a non-empty list of zeros, adjoint, pseudo_inverse")
        self.assert_error(TOMOGRAPHY_2D.replace("denoiser: tv", "denoiser: bm3d"),
                          "solver PnP: denoiser: expected one of drunet, tv, got 'bm3d'")
        self.assert_error(TOMOGRAPHY_2D.replace("max_iter: 6", "max_iter: 6\n      weights: nowhere.safetensors"),
                          "solver PnP: weights: file not found:")
        self.assert_error(TOMOGRAPHY_2D.replace("max-runs: 10", "max-runs: 0"), "max-runs: expected an integer >= 1")

    def test_missing_sections_and_columns(self):
        self.assert_error(TOMOGRAPHY_2D.replace("solver:", "solvers:"), "solver: missing")
        self.assert_error(TOMOGRAPHY_2D.replace("overlap, ", "").replace("8, 0]", "0]").replace("0, 0, 0]", "0, 0]"),
                          "execution grid: overlap: missing column")
        no_grid = TOMOGRAPHY_2D.split(GRID_KEY)[0] + "max-runs: 3\n"
        self.assert_error(no_grid, "the execution grid is missing")

    def test_repeated_yaml_key_and_invalid_yaml(self):
        self.assert_error(TOMOGRAPHY_2D.replace("max_iter: 6", "max_iter: 6\n      max_iter: 7"),
                          "repeated key 'max_iter'")
        self.assert_error("dataset: [unclosed\n", "not valid YAML")

    def test_3d_real_data_needs_its_files(self):
        self.assert_error(TOMOGRAPHY_3D.replace("use_dataset_sinogram: false", "use_dataset_sinogram: true"),
                          "dataset tomography_3d: projections_file: missing (use_dataset_sinogram is true)")

    def test_3d_scan_directory_must_exist_and_excludes_the_sinogram_files(self):
        self.assert_error(TOMOGRAPHY_3D.replace("use_dataset_sinogram: false", "scan_directory: no/such/dir"),
                          "dataset tomography_3d: scan_directory: directory not found:")
        scan = os.path.join(self.tmp, "scan")
        os.makedirs(scan)
        self.assert_error(TOMOGRAPHY_3D.replace("use_dataset_sinogram: false",
                                                f"use_dataset_sinogram: true\n      scan_directory: {scan}"),
                          "dataset tomography_3d: scan_directory: given together with use_dataset_sinogram")
        self.assert_error(TOMOGRAPHY_3D.replace("use_dataset_sinogram: false", "scan_binning: 2"),
                          "dataset tomography_3d: scan_binning: given without scan_directory")

    def test_slice_axes_take_the_letters_d_h_w_once_each(self):
        for bad in ("dd", "x", "''", "[d]"):
            self.assert_error(TOMOGRAPHY_3D.replace("use_dataset_sinogram: false",
                                                    f"use_dataset_sinogram: false\n      slice_axes: {bad}"),
                              "dataset tomography_3d: slice_axes:")

    def test_every_problem_is_reported(self):
        bad = (TOMOGRAPHY_2D.replace("img_size: 64", "img_size: -3").replace("max_iter: 6", "max_iter: many")
               .replace('["cpu", 1, 1', '["cpu", 0, 1'))
        messages = self.errors(bad)
        self.assertEqual(len(messages), 3, messages)

    def test_control_characters_in_values_and_keys_are_rejected(self):
        base = TOMOGRAPHY_2D + "slurm_partition: gpu\n"
        for value, shown in (('"gpu\\nrm -rf ~"', "'\\n'"), ('"gpu\\r"', "'\\r'"), ('"a\\tb"', "'\\t'"),
                             ('"x\\x1b[2J"', "'\\x1b'"), ('"x\\x7f"', "'\\x7f'"), ('"x\\u2028y"', "'\\u2028'")):
            with self.subTest(value=value):
                messages = self.errors(base.replace("slurm_partition: gpu", f"slurm_partition: {value}"))
                self.assertEqual(len(messages), 1, messages)
                self.assertIn("slurm_partition: ", messages[0])
                self.assertIn(f"contains the control character {shown}", messages[0])
        # In a nested dataset key, a grid cell and a key.
        self.assert_error(TOMOGRAPHY_2D.replace("denoiser: tv", 'denoiser: "tv\\n"'),
                          "solver: PnP: denoiser: 'tv\\n' contains the control character")
        self.assert_error(TOMOGRAPHY_2D.replace('["cpu", 1, 1', '["cpu\\n", 1, 1'), "'cpu\\n' contains the control")
        self.assert_error(TOMOGRAPHY_2D + '"slurm_\\naccount": x\n', "key 'slurm_\\naccount' contains the control")

    def test_command_line_reports_errors_with_exit_code_2(self):
        path = self.write("configs/bad.yaml", TOMOGRAPHY_2D.replace("num_angles:", "num_angels:"))
        done = self.run_tool(RUN, path, "--dry-run", "--build-dir", os.path.dirname(EXAMPLES))
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("num_angels: unknown key", done.stderr)
        self.assertEqual(done.stdout, "")

    def test_without_the_example_program_the_config_cannot_be_checked(self):
        path = self.write("configs/c.yaml", TOMOGRAPHY_2D)
        done = self.run_tool(RUN, path, "--dry-run", "--build-dir", os.path.join(self.tmp, "no-build"))
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("dataset tomography_2d: the options of tomography_2d: example program not found:", done.stderr)


class ValuesCheckedByTheExamplesOptions(TempDirTest):
    """Bounds, choices and flags come from the examples' --options-json, not from the runner."""

    def errors(self, text: str, schema_of=schema_of) -> list[str]:
        with self.assertRaises(ConfigError) as caught:
            config_module.load_config(self.write("configs/x.yaml", text), schema_of)
        return caught.exception.messages

    def test_bounds_and_choices_are_the_examples(self):
        size = next(o for o in schema_of("tomography_2d").values() if o["flag"] == "--size")
        below = size["minimum"] - 1
        self.assertIn(f"expected an integer >= {size['minimum']}, got {below}",
                      " ".join(self.errors(TOMOGRAPHY_2D.replace("img_size: 64", f"img_size: {below}"))))
        algorithms = schema_of("tomography_2d")["--algorithm"]["choices"]
        self.assertIn("solver PnP: algorithm: expected one of " + ", ".join(algorithms) + ", got 'sgd'",
                      " ".join(self.errors(TOMOGRAPHY_2D.replace("algorithm: pgd", "algorithm: sgd"))))

    def test_a_flag_the_example_does_not_have_is_reported(self):
        def without_angles(example):
            return {flag: o for flag, o in schema_of(example).items() if flag != "--angles"}

        messages = " ".join(self.errors(TOMOGRAPHY_2D, without_angles))
        self.assertIn("dataset tomography_2d: num_angles: the example has no option --angles", messages)

    def test_a_changed_declaration_changes_the_check(self):
        def stricter(example):
            schema = {flag: dict(o) for flag, o in schema_of(example).items()}
            schema["--iterations"]["maximum"] = 5
            return schema

        self.assertIn("solver PnP: max_iter: expected an integer in [0, 5], got 6",
                      " ".join(self.errors(TOMOGRAPHY_2D, stricter)))


class RepositoryConfigs(unittest.TestCase):
    def test_every_config_of_the_repository_validates_and_expands(self):
        directory = os.path.join(ROOT, "configs")
        names = sorted(n for n in os.listdir(directory) if n.endswith((".yaml", ".yml"))) \
            if os.path.isdir(directory) else []
        if not names:
            self.skipTest("no configs/ in the repository")
        cwd = os.getcwd()
        os.chdir(ROOT)  # relative paths in configs (weights, images) are taken from the repository root
        try:
            for name in names:
                with self.subTest(config=name):
                    config = load_config(os.path.join("configs", name))
                    runs, _ = config.expand()
                    self.assertGreater(len(runs), 0)
        finally:
            os.chdir(cwd)


class Expansion(TempDirTest):
    def test_rows_times_init_methods_in_order(self):
        text = TOMOGRAPHY_2D.replace('["zeros"]', '["zeros", "adjoint", "pseudo_inverse"]')
        config = load_config(self.write("c.yaml", text))
        runs, total = config.expand()
        self.assertEqual(total, 6)
        self.assertEqual([(r.name, r.row.number, r.init_method) for r in runs],
                         [("run_001", 1, "zeros"), ("run_002", 1, "adjoint"), ("run_003", 1, "pseudo_inverse"),
                          ("run_004", 2, "zeros"), ("run_005", 2, "adjoint"), ("run_006", 2, "pseudo_inverse")])

    def test_max_runs_caps_and_the_option_overrides_the_config(self):
        text = TOMOGRAPHY_2D.replace('["zeros"]', '["zeros", "adjoint"]').replace("max-runs: 10", "max-runs: 3")
        config = load_config(self.write("c.yaml", text))
        runs, total = config.expand()
        self.assertEqual((len(runs), total), (3, 4))
        self.assertEqual([r.name for r in config.expand(max_runs=1)[0]], ["run_001"])
        self.assertEqual(len(config.expand(max_runs=100)[0]), 4)

    def test_only_keeps_one_row_with_stable_names(self):
        text = TOMOGRAPHY_2D.replace('["zeros"]', '["zeros", "adjoint"]')
        config = load_config(self.write("c.yaml", text))
        runs, _ = config.expand(only_row=2)
        self.assertEqual([r.name for r in runs], ["run_003", "run_004"])
        runs, total = config.expand(only_row=2, max_runs=1)  # the cap counts the row's runs
        self.assertEqual(([r.name for r in runs], total), (["run_003"], 2))
        with self.assertRaises(ConfigError) as caught:
            config.expand(only_row=3)
        self.assertIn("--only 3: the execution grid has rows 1 to 2", str(caught.exception))

    def test_ranks_and_default_nodes(self):
        config = load_config(self.write("c.yaml", TOMOGRAPHY_3D))
        runs, _ = config.expand()
        self.assertEqual([r.row.ranks for r in runs], [2, 2, 2])
        self.assertEqual(runs[0].row.nodes, 1)
        self.assertEqual(runs[0].row.gres, "gpu:2")
        two_nodes = TOMOGRAPHY_2D.replace('["cpu", 2, 1, true', '["cpu", 2, 3, true')
        self.assertEqual(load_config(self.write("d.yaml", two_nodes)).rows[1].ranks, 6)

    def test_flags_follow_the_contract_and_grid_columns_override_the_solver(self):
        config = load_config(self.write("c.yaml", TOMOGRAPHY_3D))
        runs, _ = config.expand()
        flags = runs[1].flags
        pairs = dict(zip(flags[::2], flags[1::2]))
        self.assertEqual(len(flags), 2 * len(pairs))
        self.assertEqual(pairs, {
            "--size": "32", "--operators": "2", "--projections": "50", "--denoiser": "drunet",
            "--init": "pseudo_inverse", "--iterations": "4", "--sigma": "0.05", "--relaxation": "10.0",
            "--distribute-physics": "1", "--distribute-denoiser": "1", "--patch-size": "8,256,256",
            "--overlap": "2,16,16", "--max-batch-size": "8"})
        self.assertEqual(dict(zip(runs[0].flags[::2], runs[0].flags[1::2]))["--sigma"], "0.03")

    def test_scan_directory_becomes_the_dataset_flags(self):
        scan = os.path.join(self.tmp, "scan")
        os.makedirs(scan)
        text = TOMOGRAPHY_3D.replace("use_dataset_sinogram: false", f"scan_directory: {scan}\n      scan_binning: 2\n"
                                     "      centre_of_rotation: auto")
        runs, _ = load_config(self.write("c.yaml", text)).expand()
        pairs = dict(zip(runs[0].flags[::2], runs[0].flags[1::2]))
        self.assertEqual((pairs["--dataset"], pairs["--dataset-binning"], pairs["--centre-of-rotation"]),
                         (scan, "2", "auto"))

    def test_slice_axes_become_the_volume_prior_flag(self):
        text = TOMOGRAPHY_3D.replace("use_dataset_sinogram: false", "use_dataset_sinogram: false\n      slice_axes: dhw")
        runs, _ = load_config(self.write("c.yaml", text)).expand()
        self.assertEqual(dict(zip(runs[0].flags[::2], runs[0].flags[1::2]))["--slice-axes"], "dhw")

    def test_progress_timeout_becomes_the_example_flag(self):
        text = TOMOGRAPHY_3D.replace("max_iter: 4", "max_iter: 4\n      progress_timeout: 600")
        runs, _ = load_config(self.write("c.yaml", text)).expand()
        self.assertEqual(dict(zip(runs[0].flags[::2], runs[0].flags[1::2]))["--progress-timeout"], "600.0")
        negative = TOMOGRAPHY_3D.replace("max_iter: 4", "max_iter: 4\n      progress_timeout: -1")
        with self.assertRaises(ConfigError) as refused:
            load_config(self.write("d.yaml", negative))
        self.assertTrue(any("progress_timeout" in m for m in refused.exception.messages), refused.exception.messages)

    def test_method_and_the_lpd_training_setup_become_the_example_flags(self):
        text = TOMOGRAPHY_2D.replace("denoiser: tv", "denoiser: tv\n      method: lpd")
        runs, _ = load_config(self.write("c.yaml", text)).expand()
        self.assertEqual(dict(zip(runs[0].flags[::2], runs[0].flags[1::2]))["--method"], "lpd")
        setup = TOMOGRAPHY_2D.replace("num_angles: 100", "num_angles: 30\n      geometry: ellipse\n      phantom: ellipses\n"
                                      "      phantom_index: 3\n      relative_noise: true")
        pairs = dict(zip(*[iter(load_config(self.write("s.yaml", setup)).expand()[0][0].flags)] * 2))
        self.assertEqual((pairs["--geometry"], pairs["--phantom"], pairs["--phantom-index"], pairs["--relative-noise"]),
                         ("ellipse", "ellipses", "3", "1"))
        with self.assertRaises(ConfigError) as refused:
            load_config(self.write("d.yaml", TOMOGRAPHY_2D.replace("denoiser: tv", "denoiser: tv\n      method: sirt")))
        self.assertTrue(any("method: expected one of pnp, lpd, got 'sirt'" in m for m in refused.exception.messages),
                        refused.exception.messages)

    def test_data_model_of_the_deblurring_dataset_becomes_the_example_flag(self):
        highres = (TOMOGRAPHY_2D.replace("- tomography_2d:", "- highres_color_image:")
                   .replace("      num_angles: 100\n", "      data_model: gaussian\n"))
        runs, _ = load_config(self.write("h.yaml", highres)).expand()
        self.assertEqual(dict(zip(runs[0].flags[::2], runs[0].flags[1::2]))["--data-model"], "gaussian")
        with self.assertRaises(ConfigError) as refused:
            load_config(self.write("i.yaml", highres.replace("data_model: gaussian", "data_model: poisson")))
        self.assertTrue(any("data_model" in m for m in refused.exception.messages), refused.exception.messages)
        with self.assertRaises(ConfigError):  # a key of the deblurring dataset only
            load_config(self.write("t.yaml", TOMOGRAPHY_2D.replace("num_angles: 100", "num_angles: 100\n      data_model: gaussian")))

    def test_benchmark_shaped_configs_of_the_three_datasets_load(self):
        highres = (TOMOGRAPHY_2D.replace("- tomography_2d:", "- highres_color_image:")
                   .replace("img_size: 64", "image_size: 2048").replace("      num_angles: 100\n", "")
                   .replace('["cpu", 1, 1', '["gpu:1", 1, 1').replace('["cpu", 2, 1', '["gpu:2", 2, 1'))
        config = load_config(self.write("h.yaml", highres))
        self.assertEqual(config.example, "highres_deblur")
        self.assertEqual(config.dataset["image_size"], 2048)
        self.assertEqual(load_config(self.write("t.yaml", TOMOGRAPHY_3D)).example, "tomography_3d")


if __name__ == "__main__":
    unittest.main(verbosity=2)
