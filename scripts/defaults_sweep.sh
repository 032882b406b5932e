#!/usr/bin/env bash
# The measured sweep behind each family's default optimizer, learning rate, warm-up and weight
# decay (issue 11): every candidate trains 2 epochs on a 3000-image Fashion-MNIST train subset
# at 32 px (1 channel, 10 classes) and is tested on 2000 test images. Prints one Markdown row per
# run (epoch-1 training loss against chance = ln 10 = 2.30, test accuracy, wall time).
#
#   scripts/defaults_sweep.sh [--models "efficientnet-b0 resnet-cifar-20 mobilenet-v2"]
#                             [--candidates FILE]   (lines: optimizer lr weight_decay warmup)
#
# Not part of CI: about 30 s per run on the 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
models="efficientnet-b0 resnet-cifar-20 mobilenet-v2 resnet-18"
candidates=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --models) models=$2; shift 2 ;;
        --candidates) candidates=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
cli=${SCALELAB_CLI:-build/bin/scalelab-cli}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -z $candidates ]]; then
    candidates=$work/candidates
    cat >"$candidates" <<'LIST'
sgd 0.1 5e-4 0
sgd 0.05 5e-4 0
sgd 0.05 5e-4 0.5
sgd 0.02 5e-4 0.5
adamw 0.003 0.05 0.5
adamw 0.001 0.05 0.5
LIST
fi
echo "| model | optimizer | lr | weight decay | warm-up (epochs) | epoch-1 train loss | epoch-2 train loss | test acc | state | wall |"
echo "|---|---|---|---|---|---|---|---|---|---|"
n=0
for model in $models; do
    while read -r opt lr wd warm; do
        [[ -z $opt ]] && continue
        n=$((n + 1))
        out=$work/run-$n
        "$cli" train --model "$model" --base-resolution 32 --dataset fashion-mnist --epochs 2 \
            --subset 3000 --test-subset 2000 --val-fraction 0 --batch-size 128 \
            --optimizer "$opt" --lr "$lr" --weight-decay "$wd" --warmup-epochs "$warm" \
            --threads "${SCALELAB_THREADS:-2}" --out "$out" >/dev/null 2>"$work/err" || true
        /usr/bin/python3 - "$out" "$model" "$opt" "$lr" "$wd" "$warm" <<'PY'
import csv, json, os, sys
out, model, opt, lr, wd, warm = sys.argv[1:]
try:
    s = json.load(open(os.path.join(out, "summary.json")))
except Exception as e:
    print(f"| {model} | {opt} | {lr} | {wd} | {warm} | - | - | - | no summary | - |")
    sys.exit(0)
rows = list(csv.DictReader(open(os.path.join(out, "metrics.csv"))))
loss = [f"{float(r['train_loss']):.3f}" for r in rows] + ["-", "-"]
acc = "-" if s.get("test_acc") is None else f"{100 * s['test_acc']:.2f} %"
print(f"| {model} | {opt} | {lr} | {wd} | {warm} | {loss[0]} | {loss[1]} | {acc} | {s['state']} | {s['wall_seconds']:.0f} s |")
PY
    done <"$candidates"
done
