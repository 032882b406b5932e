#!/usr/bin/env bash
# Re-renders resources/icons/scalelab-N.png from resources/icons/scalelab.svg with Qt's SVG
# renderer (the build target render-icons), after the SVG was edited. Needs a configured GUI build
# (scripts/build.sh); commit the PNGs it writes.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${SCALELAB_BUILD_DIR:-build}
[[ -f "$build_dir/CMakeCache.txt" ]] || { echo "render_icons: configure first (scripts/build.sh)" >&2; exit 1; }
cmake --build "$build_dir" --target render-icons --parallel "${SCALELAB_JOBS:-$(nproc)}"
