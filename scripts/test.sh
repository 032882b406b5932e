#!/usr/bin/env bash
# Command 2 of the README: install what is missing, build, and run the whole test suite.
# Extra arguments go to CMake (e.g. -DSCALELAB_BUILD_GUI=OFF with scripts/setup.sh --core-only).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " == *" -DSCALELAB_BUILD_GUI=OFF "* ]]; then
    scripts/setup.sh --core-only
else
    scripts/setup.sh
fi
scripts/build.sh "$@"
ctest --test-dir "${SCALELAB_BUILD_DIR:-build}" --output-on-failure --timeout 900 -j "${SCALELAB_TEST_JOBS:-2}"
