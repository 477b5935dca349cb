#!/usr/bin/env python3
"""result.json (schema pnpdist.run/1, docs/examples.md) as the examples write it: strict JSON (no NaN or
Infinity tokens: non-finite figures are null), every documented key in the documented order with its type.

Small runs: tomography_2d with the CT baselines; tomography_3d on measured projections without ground truth
(its PSNR and SSIM are null everywhere); highres_deblur with the deblurring baselines (when the default
photograph is installed).

  test_result_json.py <tomography_2d> <tomography_3d> <highres_deblur> <work directory>
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

import test_non_finite_data as projections  # a .npy of projections matching a simulated geometry.txt

T2D = T3D = DEBLUR = WORK = ""
QUICK = ["--iterations", "2", "--threads", "2", "--quiet", "--denoiser", "tv", "--baseline-tv-iterations", "2"]

NUMBER = (int, float)
NULLABLE = (int, float, type(None))
TOP = ["schema", "example", "method", "options", "ranks", "threads_per_rank", "setup_seconds", "init", "records",
       "final", "images", "baselines", "problem", "denoiser"]
INIT = {"method": str, "psnr": NULLABLE, "ssim": NULLABLE, "data_fidelity": NULLABLE}
RECORD_COUNTS = ["iteration", "peak_rss_gradient_bytes", "peak_rss_denoiser_bytes", "peak_tracked_gradient_bytes",
                 "peak_tracked_denoiser_bytes", "data_step_iterations"]
RECORD = ["iteration", "wall_seconds", "iteration_seconds", "gradient_seconds", "denoiser_seconds", "data_fidelity",
          "psnr", "ssim", "relative_change", "peak_rss_gradient_bytes", "peak_rss_denoiser_bytes",
          "peak_tracked_gradient_bytes", "peak_tracked_denoiser_bytes", "relative_residual_change",
          "denoiser_sigma", "data_step_iterations"]
FINAL = {"psnr": NULLABLE, "ssim": NULLABLE, "iterations": int, "total_seconds": NUMBER, "peak_rss_bytes": int,
         "step": NULLABLE, "squared_norm": NULLABLE, "resumed_from": int}
BASELINE = {"name": str, "psnr": NULLABLE, "ssim": NULLABLE, "seconds": NUMBER, "image": str, "parameters": dict}
DENOISER = {"kind": str, "weights": str, "config": str, "executor": str}


def strict_constant(token: str):
    raise ValueError(f"non-standard JSON token {token}")


def run(example: str, name: str, *args: str) -> dict:
    out = os.path.join(WORK, name)
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run([example, *QUICK, *args, "--output-dir", out], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    with open(os.path.join(out, "result.json"), encoding="utf-8") as f:
        return json.load(f, parse_constant=strict_constant)


class ResultJson(unittest.TestCase):
    def check_members(self, where: str, value: dict, types: dict) -> None:
        self.assertEqual(list(value)[:len(types)], list(types), where)
        for key, kind in types.items():
            is_bool = isinstance(value[key], bool)
            self.assertTrue(isinstance(value[key], kind) and not is_bool, f"{where}.{key}: {value[key]!r}")

    def check_document(self, doc: dict, example: str, baselines: bool) -> None:
        self.assertEqual(list(doc), [k for k in TOP if baselines or k != "baselines"])
        self.assertEqual(doc["schema"], "pnpdist.run/1")
        self.assertEqual(doc["example"], example)
        self.assertEqual(doc["method"], "pnp")
        for key in ("ranks", "threads_per_rank"):
            self.assertIsInstance(doc[key], int, key)
        self.assertIsInstance(doc["setup_seconds"], NUMBER)
        options = doc["options"]
        self.assertIsInstance(options["iterations"], int)
        self.assertIsInstance(options["noise"], NUMBER)
        self.assertIsInstance(options["quiet"], bool)
        self.assertIsInstance(options["denoiser"], str)
        self.check_members("init", doc["init"], INIT)
        self.assertEqual(len(doc["records"]), doc["ranks"])
        for record in doc["records"][0]:
            self.assertEqual(list(record), RECORD)
            for key in RECORD:
                kind = int if key in RECORD_COUNTS else NULLABLE
                self.assertIsInstance(record[key], kind, key)
        self.assertEqual([r["iteration"] for r in doc["records"][0]], [1, 2])
        self.check_members("final", doc["final"], FINAL)
        self.assertEqual(doc["final"]["iterations"], 2)
        for name, file in doc["images"].items():
            self.assertEqual(file, name + ".png")
        for baseline in doc.get("baselines", []):
            self.check_members("baseline", baseline, BASELINE)
        self.assertIsInstance(doc["problem"]["description"], str)
        self.assertIsInstance(doc["problem"]["data_range"], NUMBER)
        self.check_members("denoiser", doc["denoiser"], DENOISER)

    def test_tomography_2d(self):
        doc = run(T2D, "tomography_2d", "--size", "32", "--baseline-max-iterations", "5")
        self.check_document(doc, "tomography_2d", baselines=True)
        first = doc["records"][0][0]
        self.assertIsNone(first["relative_change"])  # the first iterate's change from zeros is NaN
        self.assertIsInstance(first["psnr"], float)
        self.assertIsNone(doc["final"]["step"])  # hqs: no gradient step
        self.assertEqual(list(doc["images"]), ["truth", "measurement", "reconstruction", "initial"])
        self.assertEqual([b["name"] for b in doc["baselines"]], ["fbp_ram_lak", "fbp_hann", "sirt", "cgls", "pnp_tv"])
        self.assertEqual(doc["baselines"][0]["parameters"], {"filter": "ram_lak"})
        sirt = doc["baselines"][2]["parameters"]
        self.assertEqual(list(sirt), ["rule", "tau", "noise", "threshold", "residual", "iterations", "max_iterations",
                                      "stopped_by"])
        self.assertIsInstance(sirt["iterations"], int)
        self.assertEqual(sirt["max_iterations"], 5)
        self.assertEqual(doc["problem"]["shape"], [32, 32])
        self.assertEqual(doc["problem"]["sinogram_shape"], [doc["options"]["angles"], 32])

    def test_tomography_3d_without_ground_truth_writes_null_quality(self):
        simulated = run(T3D, "tomography_3d_simulated", "--size", "8", "--projections", str(projections.VIEWS),
                        "--baselines", "0")
        self.assertEqual(simulated["problem"]["shape"], [8, 8, 8])
        file = os.path.join(WORK, "projections.npy")
        projections.write_projections(file)
        vectors = os.path.join(WORK, "tomography_3d_simulated", "geometry.txt")
        doc = run(T3D, "tomography_3d", "--size", "8", "--projections-file", file, "--vectors-file", vectors,
                  "--baseline-max-iterations", "3", "--patch-size", "0", "--overlap", "0")
        self.check_document(doc, "tomography_3d", baselines=True)
        self.assertIsNone(doc["init"]["psnr"])
        self.assertIsNone(doc["final"]["psnr"])
        self.assertIsNone(doc["final"]["ssim"])
        self.assertTrue(all(r["psnr"] is None and r["ssim"] is None for r in doc["records"][0]))
        self.assertTrue(all(b["psnr"] is None for b in doc["baselines"]))
        self.assertNotIn("truth", doc["images"])
        self.assertEqual(doc["problem"]["projection_shape"],
                         [projections.VIEWS, projections.ROWS, projections.COLS])
        self.assertEqual(doc["problem"]["geometry"], "geometry.txt")

    def test_highres_deblur(self):
        if not os.path.exists("/usr/share/backgrounds/Dragonfly_by_Bolly.jpg"):
            self.skipTest("the default photograph is not installed")
        doc = run(DEBLUR, "highres_deblur", "--size", "32", "--operators", "2")
        self.check_document(doc, "highres_deblur", baselines=True)
        tikhonov = doc["baselines"][0]
        self.assertEqual(tikhonov["name"], "tikhonov")
        self.assertEqual(list(tikhonov["parameters"]),
                         ["rule", "tau", "noise", "target", "mu", "residual", "gcv", "trace", "solves"])
        self.assertIsInstance(tikhonov["parameters"]["solves"], int)
        self.assertIn("nu", doc["baselines"][1]["parameters"])
        problem = doc["problem"]
        self.assertEqual(list(problem), ["description", "data_range", "image", "shape", "kernel_size", "data_model"])
        self.assertEqual(problem["shape"][:2], [1, 3])
        self.assertIsInstance(problem["kernel_size"], int)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: test_result_json.py <tomography_2d> <tomography_3d> <highres_deblur> <work directory>")
    T2D, T3D, DEBLUR, WORK = sys.argv[1:5]
    os.makedirs(WORK, exist_ok=True)
    projections.WORK = WORK
    unittest.main(argv=sys.argv[:1], verbosity=2)
