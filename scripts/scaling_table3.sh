#!/usr/bin/env bash
# The EfficientNet paper's Table 3 experiment, on ScaleLab's registry: scale MobileNetV2 and
# ResNet-50 (224 px, 1000 classes) by depth only (d = 4), width only (w = 2), resolution only
# (r = 2) and compound (d = 1.4, w = 1.2, r = 1.3), and print exact params and MACs as a
# Markdown table (for docs/BENCHMARKS.md). Usage: scripts/scaling_table3.sh [scalelab-cli]
set -euo pipefail
cli=${1:-build/bin/scalelab-cli}
echo "| model | scaling | params | MACs | MACs growth |"
echo "|---|---|---|---|---|"
for model in mobilenet-v2 resnet-50 efficientnet-b0; do
    base=""
    while IFS='|' read -r label args; do
        json=$("$cli" info --model "$model" $args --json)
        read -r params macs < <(/usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["params"], j["macs"])' <<<"$json")
        [[ -z "$base" ]] && base=$macs
        growth=$(/usr/bin/python3 -c "print(f'{$macs / $base:.2f}x')")
        /usr/bin/python3 -c "print(f'| $model | $label | {$params:,} | {$macs:,} | $growth |')"
    done <<'ROWS'
baseline|
depth d=4|--depth 4
width w=2|--width 2
resolution r=2|--resolution 2
compound d=1.4 w=1.2 r=1.3|--depth 1.4 --width 1.2 --resolution 1.3
ROWS
done
