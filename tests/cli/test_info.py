#!/usr/bin/env python3
"""scalelab-cli info: JSON fields, the per-layer text table, compound readout and clear errors for
impossible specs (non-zero exit, message naming the coefficient)."""
import json
import subprocess
import sys

cli = sys.argv[1]
failures = []


def run(*args):
    return subprocess.run([cli, "info", *args], capture_output=True, text=True, timeout=60)


out = run("--model", "efficientnet-b0", "--json")
info = json.loads(out.stdout)
for key in ("params", "macs", "flops", "resolution", "stages", "layers"):
    if key not in info:
        failures.append(f"--json lacks '{key}'")
if info["params"] != 5288548 or info["macs"] != 385814752 or info["flops"] != 2 * 385814752:
    failures.append(f"B0 numbers wrong: {info['params']} {info['macs']} {info['flops']}")
stages = [s for s in info["stages"] if s["name"].startswith("stage")]
if [s["out_channels"] for s in stages] != [16, 24, 40, 80, 112, 192, 320] or \
        [s["repeats"] for s in stages] != [1, 2, 2, 3, 3, 4, 1]:
    failures.append(f"B0 stages wrong: {stages}")

out = run("--model", "resnet-cifar-20", "--in-channels", "1")
if out.returncode != 0 or "layer3.2.conv2" not in out.stdout or "params         269,434" not in out.stdout:
    failures.append("resnet-cifar-20 text table: " + out.stdout[-400:] + out.stderr)

out = run("--model", "efficientnet", "--phi", "2", "--alpha", "1.2", "--json")
c = json.loads(out.stdout).get("compound", {})
if abs(c.get("alpha_beta2_gamma2", 0) - 1.2 * 1.1 ** 2 * 1.15 ** 2) > 1e-9 or \
        abs(c.get("predicted_macs_growth", 0) - (1.2 * 1.1 ** 2 * 1.15 ** 2) ** 2) > 1e-9:
    failures.append(f"compound readout wrong: {c}")

for args, fragment in ((["--model", "efficientnet", "--depth", "0"], "depth coefficient = 0.000 must be positive"),
                       (["--model", "efficientnet", "--width", "nan"], "--width expects a finite number"),
                       (["--model", "efficientnet", "--phi", "-1"], "phi = -1.000 must be"),
                       (["--model", "efficientnet-b0", "--base-resolution", "16"], "too small"),
                       (["--model", "resnet", "--blocks", "2,0,2"], "stage 2 has 0 blocks"),
                       (["--model", "resnet-cifar-21"], "not 6n+2"),
                       (["--model", "alexnet"], "unknown model 'alexnet'")):
    out = run(*args)
    if out.returncode == 0 or fragment not in out.stderr:
        failures.append(f"{args}: exit {out.returncode}, stderr {out.stderr.strip()!r}, wanted {fragment!r}")
    else:
        print(f"{' '.join(args):48s} -> {out.stderr.strip().splitlines()[0]}")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("ok")
