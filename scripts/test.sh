#!/usr/bin/env bash
# Command 2 of the README: install what is missing, build, and run the whole test suite.
# Extra arguments go to CMake (e.g. -DSCALELAB_BUILD_GUI=OFF with scripts/setup.sh --core-only).
#   scripts/test.sh --sanitize   core, CLI and their tests built with clang, AddressSanitizer and
#                                UndefinedBehaviorSanitizer (build-san/), plus the fuzz targets
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--sanitize" ]]; then
    shift
    scripts/setup.sh --sanitize
    export SCALELAB_BUILD_DIR=${SCALELAB_BUILD_DIR:-build-san}
    CXX=clang++ scripts/build.sh -DSCALELAB_BUILD_GUI=OFF -DSCALELAB_SANITIZE=ON \
        -DSCALELAB_FUZZ=ON "$@"
    # LibTorch keeps process-lifetime allocations: leak reports at exit are not ours.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    exec ctest --test-dir "$SCALELAB_BUILD_DIR" --output-on-failure --timeout 1800 \
        -j "${SCALELAB_TEST_JOBS:-1}" -LE "style|parity"
fi
if [[ " $* " == *" -DSCALELAB_BUILD_GUI=OFF "* ]]; then
    scripts/setup.sh --core-only
else
    scripts/setup.sh
fi
scripts/build.sh "$@"
ctest --test-dir "${SCALELAB_BUILD_DIR:-build}" --output-on-failure --timeout 900 -j "${SCALELAB_TEST_JOBS:-2}"
