#!/usr/bin/env bash
# Installs the release build into a temporary prefix and builds and runs a consumer project against it with
# find_package(pnpdist COMPONENTS ...). Also checks that asking for a component that was not installed fails.
# Usage: scripts/check_install.sh [build-dir]   (default build/release, configured by scripts/run_tests.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix/install" >/dev/null
components=$(grep -oP '(?<=_pnpdist_installed_components ")[^"]*' "$prefix/install/lib/cmake/pnpdist/pnpdistConfig.cmake" | tr ';' ' ')
echo "check_install: installed components: ${components:-none}"

cmake -S tests/install/consumer -B "$prefix/consumer" -DCMAKE_PREFIX_PATH="$prefix/install" \
      -DPNPDIST_REQUESTED_COMPONENTS="${components// /;}" >/dev/null
cmake --build "$prefix/consumer" --parallel "$(nproc)" >/dev/null
"$prefix/consumer/pnpdist_consumer"

# A component the installation lacks must make a REQUIRED find_package fail with a clear message.
if cmake -S tests/install/consumer -B "$prefix/consumer-bad" -DCMAKE_PREFIX_PATH="$prefix/install" \
         -DPNPDIST_REQUESTED_COMPONENTS="no_such_component" >"$prefix/bad.log" 2>&1; then
  echo "check_install: FAILED: find_package accepted a component that does not exist" >&2
  exit 1
fi
grep -q "without component 'no_such_component'" "$prefix/bad.log" || {
  echo "check_install: FAILED: unclear message for a missing component:" >&2
  cat "$prefix/bad.log" >&2
  exit 1
}
echo "check_install: OK (consumer built and ran; a missing component is reported)"
