#!/usr/bin/env bash
# Installs the Debian packages pnpdist builds and tests with (idempotent; needs root or sudo).
# python3-yaml: the benchmark runner (tools/pnpdist_run.py); chromium: the dashboard check (headless);
# lomiri-wallpapers-16.04: the default photograph of the deblurring example (CC-BY-SA, see docs/examples.md).
# clang-16, libclang-rt-16-dev: the fuzz preset (libFuzzer; Debian's default clang 14 lacks std::source_location).
# The CUDA toolkit is not a Debian package here: it is expected under /usr/local/cuda, and CUDA checks
# are skipped with a message when it is absent.
set -euo pipefail

packages=(
  build-essential cmake git pkg-config
  catch2 libbenchmark-dev
  libopenmpi-dev openmpi-bin
  libfftw3-dev libdnnl-dev libeigen3-dev nlohmann-json3-dev
  libpng-dev libjpeg-dev libtiff-dev
  python3 python3-yaml chromium
  clang-16 libclang-rt-16-dev
  lomiri-wallpapers-16.04
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install_dependencies: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install_dependencies: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
