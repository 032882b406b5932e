#!/usr/bin/env bash
# Command 1 of the README: install what is missing, build, and open ScaleLab on Fashion-MNIST.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
    echo "run: no display (DISPLAY is not set). On a headless machine use:" >&2
    echo "     xvfb-run -a build/bin/scalelab --screenshot scalelab.png" >&2
    exit 1
fi
exec build/bin/scalelab --dataset fashion-mnist "$@"
