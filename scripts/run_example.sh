#!/usr/bin/env bash
# The main job: installs dependencies, builds the release preset and runs the example program on its
# built-in problem. Extra arguments go to the example (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_dependencies.sh
cmake --preset release >/dev/null
cmake --build --preset release --parallel "$(nproc)" --target 01_linear_operators
./build/release/examples/01_linear_operators "$@"
