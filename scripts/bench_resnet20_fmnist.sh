#!/usr/bin/env bash
# Accuracy benchmark: CIFAR-style ResNet-20 (1 channel, 32 px) trained on the full
# Fashion-MNIST train split, evaluated on the 10,000 test images. docs/BENCHMARKS.md records
# the result. Takes ~30 min on 2 cores.
#
#   scripts/bench_resnet20_fmnist.sh [OUT_DIR] [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/scalelab-bench-resnet20}
epochs=${2:-30}
[[ -x build/bin/scalelab-cli ]] || { echo "build first: scripts/build.sh" >&2; exit 1; }
rm -rf "$out"
build/bin/scalelab-cli train --model resnet-cifar-20 --dataset fashion-mnist \
    --epochs "$epochs" --batch-size 128 --lr 0.1 --momentum 0.9 --weight-decay 5e-4 \
    --schedule cosine --warmup-epochs 1 --crop-padding 2 --hflip --val-fraction 0.1 \
    --seed 42 --out "$out"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
print(f"\nResNet-20 on Fashion-MNIST: test accuracy {100 * s['test_acc']:.2f}% "
      f"(best val {100 * s['best_val_acc']:.2f}% at epoch {s['best_epoch']}), "
      f"{s['epochs_done']} epochs in {s['wall_seconds'] / 60:.1f} min, "
      f"{s['images_per_s']:.0f} images/s, status {s['status']}")
PY
