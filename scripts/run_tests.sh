#!/usr/bin/env bash
# The test command: installs dependencies, builds the release preset (library checks, tests, benchmarks,
# examples) and runs the whole CTest suite. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_dependencies.sh
cmake --preset release
cmake --build --preset release --parallel "$(nproc)"
ctest --preset release --parallel "$(nproc)" "$@"
