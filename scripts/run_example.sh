#!/usr/bin/env bash
# The main job: installs dependencies, builds the release preset and runs the CT example (the 2D tomography
# benchmark's problem at a CPU size: Shepp-Logan phantom, 100 views in 8 operators, FBP, SIRT, CGLS).
# Extra arguments go to the example (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_dependencies.sh
cmake --preset release >/dev/null
cmake --build --preset release --parallel "$(nproc)" --target 02_ct_reconstruction
./build/release/examples/02_ct_reconstruction "$@"
