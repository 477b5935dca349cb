#!/usr/bin/env bash
# Clean-prefix acceptance: a user who never sees the source tree installs pnpdist, runs the main job and the 3D
# example from the installation and opens the dashboards. A clean container, emulated on this machine:
#
#   1. the committed source (git archive HEAD) is exported into a fresh temporary directory, configured with
#      the release preset's settings (tests, benchmarks, Python package and header check off), its three
#      benchmark programs built and the whole installed into a prefix there (cmake --install);
#   2. the exported source and its build tree are deleted;
#   3. from an empty directory, in an environment holding only HOME (an empty directory) and
#      PATH=<prefix>/bin:/usr/bin:/bin (env -i), the installed runner (bin/pnpdist-run) runs the main job
#      (share/pnpdist/configs/tomography_2d_cpu.yaml) and the 3D example (tomography_3d_cpu.yaml; --quick:
#      bin/pnpdist-tomography_3d alone at 32^3 and 4 iterations) with the installed programs and weights;
#   4. checks: each run exits with 0; the main job's summary.csv and dashboard.html are written, and the
#      3D example's result.json (and its dashboard without --quick); no file written, no log and no installed file
#      (the programs included) holds a path into the deleted source or build tree; the dashboards load nothing:
#      every src/href attribute is a data: URI or an in-page anchor (plotly.js and the images are inline); with
#      Chromium, tools/check_dashboard.py (copied out before the source is deleted, run with the installed
#      runner's package) renders the main job's dashboard headless: every plot drawn, no console error, no
#      request.
#
# Usage: scripts/acceptance_clean_prefix.sh [--jobs N] [--quick] [--keep]
#   --jobs N   build jobs (default: the cores available)
#   --quick    the 3D example as one small program run instead of the CPU config's grid
#   --keep     keep the temporary directory (the prefix, the outputs and logs) and print its path
# Needs: what the release preset builds with (scripts/install_dependencies.sh), git, python3 with PyYAML, and
# chromium for the rendering (skipped with a message without it). Prints the time of each step. Measured on 2
# shared cores with --jobs 1: 19 minutes (build and install 10, main job 1, the 3D grid 7.6; --quick runs the
# 3D example in under a minute). Not run in CI (docs/developing.md, "Clean-prefix acceptance").
# Exit status 0: accepted; 1: a check failed (the message says which).
set -euo pipefail
cd "$(dirname "$0")/.."
source_tree=$(pwd)

jobs=$(nproc)
quick=0
keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --jobs) jobs=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --keep) keep=1; shift ;;
    *) echo "acceptance_clean_prefix.sh: unknown argument '$1' (--jobs N, --quick, --keep)" >&2; exit 1 ;;
  esac
done

root=$(realpath "$(mktemp -d "${TMPDIR:-/tmp}/pnpdist-acceptance-XXXXXXXX")")
if [[ $keep -eq 0 ]]; then
  trap 'rm -rf "$root"' EXIT
fi
src="$root/src"
build="$root/build"
prefix="$root/prefix"
run="$root/run"
home="$root/home"
checker="$root/checker"
mkdir -p "$src" "$run" "$home" "$checker"

started=$SECONDS
step_start=$SECONDS
step() {
  echo "acceptance: $1 ($((SECONDS - step_start)) s)"
  step_start=$SECONDS
}
fail() {
  echo "acceptance: FAILED: $*" >&2
  exit 1
}

# 1. Export, configure, build, install.
git -C "$source_tree" archive HEAD | tar -x -C "$src"
cp "$src/tools/check_dashboard.py" "$checker/"
(cd "$src" && cmake --preset release -B "$build" -DPNPDIST_BUILD_TESTS=OFF -DPNPDIST_BUILD_BENCHMARKS=OFF \
      -DPNPDIST_BUILD_PYTHON=OFF -DPNPDIST_HEADER_CHECK=OFF) >"$root/configure.log" 2>&1 ||
  fail "configure (log: $root/configure.log)"
cmake --build "$build" --parallel "$jobs" --target tomography_2d tomography_3d highres_deblur \
      >"$root/build.log" 2>&1 || fail "build (log: $root/build.log)"
cmake --install "$build" --prefix "$prefix" >"$root/install.log" 2>&1 || fail "install (log: $root/install.log)"
step "exported, built and installed into $prefix"

# 2. No source or build tree any more.
rm -rf "$src" "$build"
step "deleted the exported source and its build tree"

# 3. The main job and the 3D example from the prefix, in an empty directory with a bare environment.
in_prefix() {
  local name=$1
  shift
  if ! (cd "$run" && env -i HOME="$home" PATH="$prefix/bin:/usr/bin:/bin" "$@") >"$root/$name.log" 2>&1; then
    tail -n 30 "$root/$name.log" >&2
    fail "$name exited with an error (log: $root/$name.log)"
  fi
}
in_prefix main-job pnpdist-run "$prefix/share/pnpdist/configs/tomography_2d_cpu.yaml" --out main
for file in summary.csv dashboard.html; do
  [[ -s $run/main/$file ]] || fail "the main job wrote no $file"
done
step "main job (tomography_2d_cpu.yaml: $(($(wc -l <"$run/main/summary.csv") - 1)) runs)"
if [[ $quick -eq 1 ]]; then
  in_prefix tomography-3d pnpdist-tomography_3d --size 32 --projections 20 --iterations 4 --threads 2 --quiet \
    --output-dir tomography_3d
  [[ -s $run/tomography_3d/result.json ]] || fail "pnpdist-tomography_3d wrote no result.json"
  step "3D example (pnpdist-tomography_3d, 32^3)"
else
  in_prefix tomography-3d pnpdist-run "$prefix/share/pnpdist/configs/tomography_3d_cpu.yaml" --out tomography_3d
  for file in summary.csv dashboard.html; do
    [[ -s $run/tomography_3d/$file ]] || fail "the 3D example wrote no $file"
  done
  step "3D example (tomography_3d_cpu.yaml: $(($(wc -l <"$run/tomography_3d/summary.csv") - 1)) runs)"
fi
for result in "$run"/main/runs/*/result.json; do
  grep -qF "\"weights\": \"$prefix/share/pnpdist/weights/drunet_gray.safetensors\"" "$result" ||
    fail "$result: not the installed DRUNet weights"
done

# 4. No path into the deleted trees anywhere; the dashboards self-contained, then rendered.
for tree in "$src" "$build"; do
  set +e
  found=$(grep -rlaF -- "$tree/" "$run" "$prefix" "$root/main-job.log" "$root/tomography-3d.log")
  status=$?
  set -e
  [[ $status -le 1 ]] || fail "grep for paths into $tree exited with $status"
  [[ -z $found ]] || fail "paths into $tree in:"$'\n'"$found"
done
for dashboard in "$run"/*/dashboard.html; do
  /usr/bin/env python3 - "$dashboard" <<'EOF' || fail "$dashboard refers to something outside itself"
import sys
from html.parser import HTMLParser

class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.outside = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith(("data:", "#")):
                self.outside.append(f"<{tag} {name}={value[:120]}>")

links = Links()
with open(sys.argv[1], encoding="utf-8") as f:
    links.feed(f.read())
for link in links.outside:
    print(f"{sys.argv[1]}: {link}", file=sys.stderr)
sys.exit(1 if links.outside else 0)
EOF
done
step "no path into the deleted trees; the dashboards hold everything they show"

set +e
(cd "$run" && env -i HOME="$home" PATH="$prefix/bin:/usr/bin:/bin" PYTHONPATH="$prefix/share/pnpdist/tools" \
  PYTHONDONTWRITEBYTECODE=1 python3 "$checker/check_dashboard.py" main --runs 2 --baselines 5) >"$root/check-dashboard.log" 2>&1
status=$?
set -e
case $status in
  0) step "the main job's dashboard rendered in headless Chromium: $(tail -n 1 "$root/check-dashboard.log")" ;;
  2) step "the dashboard was not rendered (no usable Chromium): $(tail -n 1 "$root/check-dashboard.log")" ;;
  *) cat "$root/check-dashboard.log" >&2; fail "the main job's dashboard failed tools/check_dashboard.py" ;;
esac

echo "acceptance: OK in $((SECONDS - started)) s: installed, source and build deleted, the main job and the 3D" \
     "example ran from $prefix, no source-tree path anywhere"
if [[ $keep -eq 1 ]]; then
  echo "acceptance: kept $root"
fi
