#!/usr/bin/env bash
# `pip install .` of the repository into fresh venvs, as docs/python.md tells users to install, then the Python
# tests against the installed package: no PYTHONPATH, run from outside the source tree, so that only the
# installed files can be imported.
#   1. Without the MPI component (PNPDIST_WITH_MPI=OFF, what a machine without MPI builds): the package installs
#      without pnpdist._pnpdist_mpi, `import pnpdist.mpi` raises ImportError saying why, and every test but
#      those of pnpdist.mpi passes.
#   2. With it (only when the argument mpi is ON): pnpdist.mpi imports, and its tests pass on one process.
# Offline: --no-build-isolation --no-index, with the build requirements (scikit-build-core, nanobind) and the
# test dependencies seen from the system Python (venv --system-site-packages; scripts/install_dependencies.sh
# installs them). The pip build directories stay in the work directory, so a rerun is incremental and a
# compiler cache (CMAKE_CXX_COMPILER_LAUNCHER in the environment) is reused.
# Usage: check_pip_install.sh SOURCE_DIR WORK_DIR PYTHON MPI(ON|OFF)
set -euo pipefail
if (($# != 4)); then
  echo "usage: $0 SOURCE_DIR WORK_DIR PYTHON MPI(ON|OFF)" >&2
  exit 2
fi
source_dir=$(cd "$1" && pwd)
mkdir -p "$2"
work_dir=$(cd "$2" && pwd)
python=$3
with_mpi=$4
tests="$source_dir/tests/python"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
export OMP_WAIT_POLICY=passive PYTHONDONTWRITEBYTECODE=1
unset PYTHONPATH

# install VARIANT MPI_SETTING: a fresh venv work_dir/venv-VARIANT with the package built in work_dir/build-VARIANT.
install() {
  local venv="$work_dir/venv-$1"
  rm -rf "$venv"
  "$python" -m venv --system-site-packages "$venv"
  echo "== pip install . (PNPDIST_WITH_MPI=$2) into $venv"
  "$venv/bin/python" -m pip install --no-build-isolation --no-index --no-deps --quiet \
    --config-settings=build-dir="$work_dir/build-$1" \
    --config-settings=cmake.define.PNPDIST_WITH_MPI="$2" "$source_dir"
}

install no-mpi OFF
cd "$work_dir"
venv="$work_dir/venv-no-mpi"
"$venv/bin/python" - "$venv" <<'EOF'
import pathlib, sys
import pnpdist
package = pathlib.Path(pnpdist.__file__).resolve().parent
assert package.is_relative_to(pathlib.Path(sys.argv[1]).resolve()), f"pnpdist imported from {package}, not the venv"
for name in ("_pnpdist.pyi", "py.typed"):
    assert (package / name).is_file(), f"the installed package lacks {name}"
assert not list(package.glob("_pnpdist_mpi*")), "built without MPI, the package must not hold _pnpdist_mpi"
try:
    import pnpdist.mpi
except ImportError as error:
    assert "needs pnpdist built with its MPI component" in str(error), f"unexpected ImportError: {error}"
else:
    raise AssertionError("import pnpdist.mpi succeeded in a package built without MPI")
print(f"installed without MPI: {package}; import pnpdist.mpi raises ImportError as documented")
EOF
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$tests" \
  --ignore-glob="$tests/test_mpi*.py"

if [[ "$with_mpi" == ON ]]; then
  install mpi ON
  venv="$work_dir/venv-mpi"
  "$venv/bin/python" - "$venv" <<'EOF'
import pathlib, sys
import pnpdist.mpi
package = pathlib.Path(pnpdist.__file__).resolve().parent
assert package.is_relative_to(pathlib.Path(sys.argv[1]).resolve()), f"pnpdist imported from {package}, not the venv"
assert (package / "_pnpdist_mpi.pyi").is_file(), "the installed package lacks _pnpdist_mpi.pyi"
assert pnpdist.mpi.world().size == 1
print(f"installed with MPI: {package}; pnpdist.mpi.world() has 1 rank")
EOF
  # One process per file, as CTest runs them: test_mpi4py.py needs mpi4py to initialize MPI, before pnpdist.mpi.
  for file in "$tests"/test_mpi*.py; do
    "$venv/bin/python" -m pytest -q -p no:cacheprovider "$file"
  done
fi
echo "check_pip_install: passed"
