#!/usr/bin/env python3
"""tomography_2d --method lpd (examples/lpd_method.hpp, docs/learned.md):

- at the shipped weights' training geometry (128 x 128 unit pixels, 30 views, 183 bins) on an ellipse test
  phantom with 5% relative noise, LPD's PSNR beats the FBP (Ram-Lak) baseline of the same data by 8 dB or more
  with the default weights (lpd_ellipses_fbp.safetensors: FBP start, geometry in the metadata) and by 3 dB or
  more with the first shipped ones (lpd_ellipses.safetensors: zero start, no metadata, the model card's
  geometry), and result.json has the PnP run's keys, method "lpd" and its "lpd" section;
- a geometry other than the training geometry is refused with exit status 2 and a message naming both, and
  accepted with --accept-geometry-mismatch 1 (a warning line, recorded in result.json);
- a noise level other than the training level (the weights' metadata, or the model card's 5%) runs with a
  warning line naming both, recorded in result.json;
- weights written by train_learned_primal_dual carry their training geometry and initial primal (a tiny network
  with the FBP start): the example runs them at that geometry, refuses another;
- --lpd-self-ensemble 1 (the mean over the 8 symmetries of the square) gains over the network alone on the test
  phantom, is recorded in result.json, and is refused (exit 2) on a geometry without the symmetries and with
  --method pnp;
- PnP-only options with --method lpd are refused (exit 2), and so is a run on 2 MPI ranks without
  --distribute-physics 1; with it (when an mpiexec is given), 2 ranks projecting their own view blocks give the
  one-process result to round-off, with and without the self-ensemble.

  test_lpd_method.py <tomography_2d> <train_learned_primal_dual> <work directory> [<mpiexec>]
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

T2D = TRAIN = WORK = MPIEXEC = ""
FIRST_WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "weights",
                             "lpd_ellipses.safetensors")
TRAINING = ["--geometry", "ellipse", "--size", "128", "--angles", "30", "--noise", "0.05", "--relative-noise", "1"]
TOP = ["schema", "example", "method", "options", "ranks", "threads_per_rank", "setup_seconds", "init", "records",
       "final", "images", "baselines", "problem", "denoiser", "lpd"]


def run(name: str, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    out = os.path.join(WORK, name)
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run([T2D, "--method", "lpd", "--threads", "2", "--quiet", *args, "--output-dir", out],
                          capture_output=True, text=True, timeout=600)
    return done, out


def result(out: str) -> dict:
    with open(os.path.join(out, "result.json"), encoding="utf-8") as f:
        return json.load(f)


class LpdMethod(unittest.TestCase):
    def test_lpd_beats_fbp_by_3_db_at_the_training_geometry(self):
        done, out = run("training", *TRAINING, "--phantom", "ellipses", "--phantom-index", "0",
                        "--baseline-tv-iterations", "0")
        self.assertEqual(done.returncode, 0, done.stderr)
        doc = result(out)
        self.assertEqual(list(doc), TOP)
        self.assertEqual(doc["method"], "lpd")
        self.assertEqual(doc["records"], [[]])
        self.assertEqual(doc["final"]["iterations"], 0)
        self.assertEqual(doc["denoiser"]["kind"], "lpd")
        lpd = doc["lpd"]
        self.assertTrue(lpd["geometry_matches"])
        self.assertFalse(lpd["geometry_mismatch_accepted"])
        self.assertEqual(lpd["training_geometry"], lpd["geometry"])
        self.assertEqual(lpd["training_geometry_source"], "metadata")
        self.assertEqual((lpd["iterations"], lpd["parameters"], lpd["initial_primal"]), (10, 253220, "fbp"))
        self.assertEqual((lpd["training_noise"], lpd["training_noise_source"]), (0.05, "metadata"))
        self.assertEqual((lpd["noise"], lpd["noise_matches"]), (0.05, True))
        self.assertNotIn("warning", done.stderr)
        for image in doc["images"].values():
            self.assertTrue(os.path.isfile(os.path.join(out, image)), image)
        fbp = next(b for b in doc["baselines"] if b["name"] == "fbp_ram_lak")
        psnr = doc["final"]["psnr"]
        print(f"LPD PSNR {psnr:.2f} dB, FBP (Ram-Lak) {fbp['psnr']:.2f} dB")  # measured: 39.85 and 27.97 dB
        self.assertGreaterEqual(psnr, fbp["psnr"] + 8.0)
        self.assertLess(lpd["final_data_fidelity"], doc["init"]["data_fidelity"])  # closer to the data than zeros

    def test_the_first_shipped_weights_without_metadata_take_the_model_cards_geometry(self):
        done, out = run("zero_start", *TRAINING, "--phantom", "ellipses", "--phantom-index", "0",
                        "--baseline-tv-iterations", "0", "--weights", FIRST_WEIGHTS)
        self.assertEqual(done.returncode, 0, done.stderr)
        doc = result(out)
        lpd = doc["lpd"]
        self.assertTrue(lpd["geometry_matches"])
        self.assertEqual(lpd["training_geometry_source"], "model card")
        self.assertEqual((lpd["iterations"], lpd["parameters"], lpd["initial_primal"]), (10, 253220, "zero"))
        fbp = next(b for b in doc["baselines"] if b["name"] == "fbp_ram_lak")
        print(f"zero-start LPD PSNR {doc['final']['psnr']:.2f} dB, FBP {fbp['psnr']:.2f} dB")  # measured: 34.70, 27.97
        self.assertGreaterEqual(doc["final"]["psnr"], fbp["psnr"] + 3.0)

    def test_another_geometry_is_refused_naming_both_and_accepted_with_the_flag(self):
        done, _ = run("mismatch", "--size", "128", "--angles", "30", "--baselines", "0")
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("trained for parallel beam, 128 x 128 pixels of 1, 30 views at 0 .. 174 degrees, 183 detector "
                      "columns of 1", done.stderr)
        self.assertIn("this run's geometry is parallel beam, 128 x 128 pixels of 0.0078125, 30 views at 0 .. 174 "
                      "degrees, 128 detector columns of 0.0078125", done.stderr)
        self.assertIn("--accept-geometry-mismatch 1", done.stderr)
        done, out = run("accepted", "--size", "128", "--angles", "30", "--baselines", "0",
                        "--accept-geometry-mismatch", "1", "--noise", "0.05", "--relative-noise", "1")
        self.assertEqual(done.returncode, 0, done.stderr)
        warnings = [line for line in done.stderr.splitlines() if "warning" in line]
        self.assertEqual(len(warnings), 1, done.stderr)
        lpd = result(out)["lpd"]
        self.assertFalse(lpd["geometry_matches"])
        self.assertTrue(lpd["geometry_mismatch_accepted"])
        self.assertNotEqual(lpd["training_geometry"], lpd["geometry"])

    def test_another_noise_level_is_run_with_a_warning_recorded_in_result_json(self):
        # The default weights were trained at 5% relative noise; 2% relative, and an absolute level, are other
        # levels: the network runs, one warning line names both, result.json records them.
        done, out = run("low_noise", *TRAINING[:6], "--noise", "0.02", "--relative-noise", "1", "--phantom",
                        "ellipses", "--baselines", "0")
        self.assertEqual(done.returncode, 0, done.stderr)
        warnings = [line for line in done.stderr.splitlines() if "warning" in line]
        self.assertEqual(len(warnings), 1, done.stderr)
        self.assertIn("trained at noise 0.05 of the mean absolute data; this run's noise is 0.02 of it", warnings[0])
        lpd = result(out)["lpd"]
        self.assertEqual((lpd["training_noise"], lpd["noise"], lpd["noise_matches"]), (0.05, 0.02, False))
        done, out = run("absolute_noise", *TRAINING[:6], "--noise", "0.5", "--phantom", "ellipses", "--baselines", "0")
        self.assertEqual(done.returncode, 0, done.stderr)
        lpd = result(out)["lpd"]
        self.assertFalse(lpd["noise_matches"])
        self.assertGreater(lpd["noise"], 0)
        self.assertIn(f"this run's noise is {lpd['noise']:.6g} of it", done.stderr)
        # The first shipped weights have no metadata: the model card's 5%.
        done, out = run("zero_start_noise", *TRAINING, "--phantom", "ellipses", "--baselines", "0", "--weights",
                        FIRST_WEIGHTS)
        self.assertEqual(done.returncode, 0, done.stderr)
        lpd = result(out)["lpd"]
        self.assertEqual((lpd["training_noise"], lpd["training_noise_source"], lpd["noise_matches"]),
                         (0.05, "model card", True))

    def test_trained_weights_carry_their_geometry_and_initial_primal(self):
        weights = os.path.join(WORK, "tiny_fbp.safetensors")
        done = subprocess.run([TRAIN, "--size", "16", "--angles", "6", "--iterations", "2", "--width", "4", "--steps",
                               "2", "--validate-every", "2", "--validation", "1", "--threads", "1",
                               "--initial-primal", "fbp", "--output", weights],
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("initial primal fbp", done.stdout)
        schema = json.loads(subprocess.run([TRAIN, "--options-json"], capture_output=True, text=True,
                                           timeout=60).stdout)
        option = next(o for o in schema["options"] if o["flag"] == "--initial-primal")
        self.assertEqual((option["choices"], option["default"]), (["zero", "fbp"], "zero"))
        done, out = run("tiny", "--weights", weights, "--geometry", "ellipse", "--size", "16", "--angles", "6",
                        "--operators", "2", "--baseline-tv-iterations", "0")
        self.assertEqual(done.returncode, 0, done.stderr)
        doc = result(out)
        self.assertEqual(doc["init"]["method"], "fbp")
        # The network's start FBP(s y / s) is the Ram-Lak FBP baseline of the same sinogram y.
        fbp = next(b for b in doc["baselines"] if b["name"] == "fbp_ram_lak")
        self.assertAlmostEqual(doc["init"]["psnr"], fbp["psnr"], delta=1e-3)
        self.assertEqual(doc["lpd"]["training_geometry_source"], "metadata")
        self.assertEqual((doc["lpd"]["iterations"], doc["lpd"]["initial_primal"]), (2, "fbp"))
        self.assertTrue(doc["lpd"]["geometry_matches"])
        done, _ = run("tiny_other", "--weights", weights, "--geometry", "ellipse", "--size", "16", "--angles", "8",
                      "--operators", "2", "--baselines", "0")
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("6 views", done.stderr)
        self.assertIn("8 views", done.stderr)

    def test_the_self_ensemble_improves_on_the_network_and_needs_the_symmetries(self):
        runs = {}
        for ensemble in ("0", "1"):
            done, out = run(f"ensemble_{ensemble}", *TRAINING, "--phantom", "ellipses", "--phantom-index", "0",
                            "--baseline-tv-iterations", "0", "--lpd-self-ensemble", ensemble)
            self.assertEqual(done.returncode, 0, done.stderr)
            runs[ensemble] = result(out)
        self.assertEqual((runs["0"]["lpd"]["self_ensemble"], runs["1"]["lpd"]["self_ensemble"]), (False, True))
        self.assertIn("self-ensemble over the 8 symmetries of the square", runs["1"]["denoiser"]["config"])
        gain = runs["1"]["final"]["psnr"] - runs["0"]["final"]["psnr"]
        print(f"self-ensemble: {gain:+.2f} dB on test phantom 0")  # measured: +0.28 dB
        self.assertGreater(gain, 0.1)
        done, _ = run("ensemble_29_views", "--geometry", "ellipse", "--size", "128", "--angles", "29",
                      "--accept-geometry-mismatch", "1", "--lpd-self-ensemble", "1")
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("self-ensemble: the geometry is not symmetric under rotate90 of the image", done.stderr)
        done = subprocess.run([T2D, "--lpd-self-ensemble", "1", "--quiet", "--output-dir",
                               os.path.join(WORK, "ensemble_pnp")], capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("--lpd-self-ensemble applies to --method lpd only", done.stderr)

    def test_pnp_options_are_refused(self):
        for args in (["--algorithm", "pgd"], ["--iterations", "3"], ["--init", "pseudo_inverse"],
                     ["--distribute-denoiser", "1"], ["--patch-size", "64"]):
            with self.subTest(args=args):
                done, _ = run("refused", *TRAINING, *args)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertIn("--method", done.stderr)
        done = subprocess.run([T2D, "--options-json"], capture_output=True, text=True, timeout=60)
        flags = {o["flag"] for o in json.loads(done.stdout)["options"]} if done.returncode == 0 else set()
        if MPIEXEC:
            done = subprocess.run([MPIEXEC, "-np", "2", "--oversubscribe", T2D, "--method", "lpd", "--threads", "1",
                                   "--quiet", *TRAINING, "--output-dir", os.path.join(WORK, "mpi")],
                                  capture_output=True, text=True, timeout=300)
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertIn("--method lpd on 2 ranks needs --distribute-physics 1", done.stderr)
        self.assertTrue({"--method", "--geometry", "--phantom", "--phantom-index", "--relative-noise",
                         "--accept-geometry-mismatch"} <= flags, done.stdout[:400])

    def test_two_ranks_with_the_view_blocks_dealt_give_the_one_process_result(self):
        if not MPIEXEC:
            self.skipTest("no mpiexec given")
        for ensemble in ("0", "1"):  # the self-ensemble's symmetries are found through the dealt blocks
            with self.subTest(self_ensemble=ensemble):
                args = [*TRAINING, "--phantom", "ellipses", "--phantom-index", "1", "--baselines", "0",
                        "--lpd-self-ensemble", ensemble]
                one, one_out = run(f"one_rank_{ensemble}", *args)
                self.assertEqual(one.returncode, 0, one.stderr)
                out = os.path.join(WORK, f"two_ranks_{ensemble}")
                shutil.rmtree(out, ignore_errors=True)
                two = subprocess.run([MPIEXEC, "-np", "2", "--oversubscribe", T2D, "--method", "lpd", "--threads",
                                      "1", "--quiet", *args, "--distribute-physics", "1", "--output-dir", out],
                                     capture_output=True, text=True, timeout=300)
                self.assertEqual(two.returncode, 0, two.stderr)
                a, b = result(one_out), result(out)
                self.assertEqual((a["ranks"], b["ranks"]), (1, 2))
                self.assertEqual((a["lpd"]["self_ensemble"], b["lpd"]["self_ensemble"]), (ensemble == "1",) * 2)
                # The projections are the one-process ones bit for bit, the back-projections a sum over the ranks'
                # blocks (float round-off): measured 1e-6 dB apart.
                self.assertAlmostEqual(b["final"]["psnr"], a["final"]["psnr"], delta=1e-3)
                self.assertAlmostEqual(b["init"]["psnr"], a["init"]["psnr"], delta=1e-3)
                self.assertAlmostEqual(b["lpd"]["final_data_fidelity"] / a["lpd"]["final_data_fidelity"], 1.0,
                                       delta=1e-4)
                self.assertEqual(b["lpd"]["scale"], a["lpd"]["scale"])


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: test_lpd_method.py <tomography_2d> <train_learned_primal_dual> <work directory> [<mpiexec>]")
    T2D, TRAIN, WORK = sys.argv[1:4]
    MPIEXEC = sys.argv[4] if len(sys.argv) == 5 else ""
    os.makedirs(WORK, exist_ok=True)
    unittest.main(argv=sys.argv[:1], verbosity=2)
