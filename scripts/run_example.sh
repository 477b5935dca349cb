#!/usr/bin/env bash
# The main job: installs dependencies, builds the release preset's benchmark examples and runs the 2D
# tomography benchmark at a CPU size (configs/tomography_2d_cpu.yaml: Shepp-Logan 256 x 256, 100 angles in
# 8 Joseph operators, PnP-HQS with the shipped grayscale DRUNet, 8 iterations, beside the classical
# baselines) on its execution grid: 1 rank, then 2 ranks with the angle blocks and the denoiser's tiles
# distributed. Writes, under out/tomography_2d_cpu/:
#   dashboard.html   offline dashboard (PSNR vs iteration and time with the baselines, phase times, memory, images)
#   summary.csv      one line per run
#   runs/run_XXX/    result.json (every rank's per-iteration records) and the images of each run
# Arguments go to tools/pnpdist_run.py (e.g. a different config: scripts/run_example.sh configs/x.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_dependencies.sh
cmake --preset release >/dev/null
cmake --build --preset release --parallel "$(nproc)" --target highres_deblur tomography_2d tomography_3d

config=configs/tomography_2d_cpu.yaml
if [[ $# -gt 0 && $1 == *.yaml ]]; then
  config=$1
  shift
fi
out="out/$(basename "$config" .yaml)"
python3 tools/pnpdist_run.py "$config" --build-dir build/release --out "$out" "$@"
echo
echo "main job: dashboard $out/dashboard.html, summary $out/summary.csv, runs in $out/runs/"
