#!/usr/bin/env bash
# Pruning benchmark: a trained Fashion-MNIST ResNet-20 (scripts/bench_resnet20_fmnist.sh), both
# methods at 0-90 %, with and without one fine-tuning epoch on the full train split; the CSV
# includes the inference speed of each model (the structured ones are smaller and faster).
#
#   scripts/bench_pruning.sh [RUN_DIR] [OUT_CSV]
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-/tmp/scalelab-bench-resnet20}
out=${2:-/tmp/scalelab-bench-pruning.csv}
[[ -f "$run/weights.pt" ]] || { echo "train first: scripts/bench_resnet20_fmnist.sh $run" >&2; exit 1; }
build/bin/scalelab-cli prune --run "$run" --method magnitude-global,l1-structured \
    --levels 0,0.25,0.5,0.75,0.9 --finetune-epochs 1 --out "$out"
echo "rows in $out"
