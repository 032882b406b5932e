#!/usr/bin/env bash
# Regenerates the README's screenshots under Xvfb (docs/screenshots/*.png): the first window,
# then a scripted tour that trains three small variants (about 2 minutes on 2 cores), at the
# 1280x800 screen size the lab is made to fit.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/screenshots
mkdir -p "$out"
export XDG_CONFIG_HOME=$(mktemp -d)   # no saved window geometry or options from a previous session
trap 'rm -rf "$XDG_CONFIG_HOME"' EXIT
run() { xvfb-run -a -s "-screen 0 1280x800x24" build/bin/scalelab --size 1280x800 "$@"; }
run --dataset fashion-mnist --screenshot "$out/main-window.png"
run --dataset fashion-mnist --tour "$out"
