#!/usr/bin/env bash
# Side-by-side training/inference speed: scalelab-cli bench against Debian's PyTorch running
# torchvision's model the same way (same batch, resolution, threads, stem change). Prints a
# Markdown table with the ratios; docs/BENCHMARKS.md records its output.
#
#   scripts/bench_vs_pytorch.sh [--steps N] [--threads T] [--models "efficientnet-b0 resnet-18"]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/bin/scalelab-cli ]] || { echo "build first: scripts/build.sh" >&2; exit 1; }
exec /usr/bin/python3 scripts/bench_vs_pytorch.py "$@"
