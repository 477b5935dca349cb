#!/usr/bin/env bash
# Installs the Debian packages pnpdist builds and tests with (idempotent; needs root or sudo).
# libcli11-dev: the examples' command lines (header-only; examples/example_options.hpp).
# libyaml-cpp-dev: YAML geometry descriptions (the optional pnpdist::yaml component).
# python3-yaml: the benchmark runner (tools/pnpdist_run.py); python3-plotly, python3-pil: its dashboard (the
# plotly.js it inlines, /usr/share/python3-plotly/plotly.js; error maps and crops); chromium: the dashboard check
# and tests (headless);
# lomiri-wallpapers-16.04: the default photograph of the deblurring example (CC-BY-SA, see docs/examples.md).
# ccache: the compiler cache of .ci/run (unused by the builds otherwise).
# clang-16, libclang-rt-16-dev: the fuzz preset (libFuzzer; Debian's default clang 14 lacks std::source_location).
# python3-dev, python3-numpy, python3-pip, python3-pytest, python3-torch: the Python package (python/) and its
# tests (tests/python; the torch tests are skipped without python3-torch). python3-mpi4py: the tests of
# pnpdist.mpi.from_mpi4py (tests/python/test_mpi4py.py, skipped without it; built against Debian's OpenMPI, the
# MPI pnpdist links). nanobind, which builds the package, is not packaged by Debian 12: it is installed from
# PyPI into /usr/local for /usr/bin/python3 (below).
# The CUDA toolkit is not a Debian package here: it is expected under /usr/local/cuda, and CUDA checks
# are skipped with a message when it is absent.
set -euo pipefail

packages=(
  build-essential cmake git pkg-config doxygen ccache
  catch2 libbenchmark-dev
  libopenmpi-dev openmpi-bin
  libfftw3-dev libdnnl-dev libeigen3-dev nlohmann-json3-dev libcli11-dev
  libpng-dev libjpeg-dev libtiff-dev libhdf5-dev libyaml-cpp-dev
  python3 python3-yaml python3-plotly python3-pil chromium
  python3-dev python3-numpy python3-pip python3-pytest python3-torch python3-mpi4py
  clang-16 libclang-rt-16-dev
  lomiri-wallpapers-16.04
)

nanobind_version=3.1.0
scikit_build_core_version=1.1.2

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install_dependencies: all ${#packages[@]} packages present"
else
  echo "install_dependencies: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

if ! /usr/bin/python3 -c "import nanobind, sys; sys.exit(nanobind.__version__ != '$nanobind_version')" 2>/dev/null; then
  echo "install_dependencies: installing nanobind $nanobind_version from PyPI for /usr/bin/python3"
  $sudo /usr/bin/python3 -m pip install -q --break-system-packages --root-user-action=ignore "nanobind==$nanobind_version"
fi
# The build backend of `pip install .`, for the offline install test (tests/python/check_pip_install.sh builds with
# --no-build-isolation); a user's `pip install .` fetches its own into pip's isolated build environment.
if ! /usr/bin/python3 -c "import scikit_build_core, sys; sys.exit(scikit_build_core.__version__ != '$scikit_build_core_version')" 2>/dev/null; then
  echo "install_dependencies: installing scikit-build-core $scikit_build_core_version from PyPI for /usr/bin/python3"
  $sudo /usr/bin/python3 -m pip install -q --break-system-packages --root-user-action=ignore \
    "scikit-build-core==$scikit_build_core_version"
fi
