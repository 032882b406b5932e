#!/usr/bin/env bash
# Regenerates the README's screenshots under Xvfb (docs/screenshots/*.png).
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/screenshots
mkdir -p "$out"
export XDG_CONFIG_HOME=$(mktemp -d)   # no saved window geometry from a previous session
trap 'rm -rf "$XDG_CONFIG_HOME"' EXIT
xvfb-run -a -s "-screen 0 1400x900x24" \
    build/bin/scalelab --dataset fashion-mnist --size 1300x820 --screenshot "$out/main-window.png"
