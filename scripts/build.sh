#!/usr/bin/env bash
# Configures and builds ScaleLab into build/ (binaries in build/bin/). Extra arguments go to
# CMake, e.g. scripts/build.sh -DSCALELAB_BUILD_GUI=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${SCALELAB_BUILD_DIR:-build}
jobs=${SCALELAB_JOBS:-$(nproc)}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
generator=()
if command -v ninja >/dev/null && [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    generator=(-G Ninja)
fi
cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
start=$(date +%s)
cmake --build "$build_dir" --parallel "$jobs"
echo "build: finished in $(( $(date +%s) - start )) s ($build_dir/bin)"
