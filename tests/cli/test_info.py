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

# Scaling works for every family (issue 9): the paper's Table 3 scales ResNet and MobileNet too.
for model in ("resnet-50", "mobilenet-v2", "resnext50_32x4d"):
    base = json.loads(run("--model", model, "--json").stdout)
    one = json.loads(run("--model", model, "--phi", "1", "--json").stdout)
    c = one.get("compound", {})
    growth = one["macs"] / base["macs"]
    if one["resolution"] != 258 or abs(c.get("exact_macs_growth", 0) - growth) > 1e-9 or \
            not 1.5 < growth < 3.0:
        failures.append(f"{model} --phi 1: resolution {one['resolution']}, growth {growth}, {c}")
    wide = json.loads(run("--model", model, "--width", "2", "--json").stdout)
    if wide["macs"] <= 3 * base["macs"] or wide.get("scaling", {}).get("width") != 2:
        failures.append(f"{model} --width 2: {wide['macs']} vs {base['macs']}")
    print(f"{model:18s} phi=1: {growth:.3f}x MACs, width 2: {wide['macs'] / base['macs']:.3f}x")

# Why exact and predicted growth differ (issue 11): the split's parts multiply to exact /
# predicted, and at a 32 px base map-size rounding is the jump (33 px: the last maps are 2x2).
split = json.loads(run("--model", "efficientnet-b0", "--base-resolution", "32", "--phi", "0.2",
                       "--json").stdout).get("compound", {})
g = split.get("gap", {})
parts = g.get("channels", 0) * g.get("repeats", 0) * g.get("map_size", 0) * g.get("structure", 0)
ratio = split.get("exact_macs_growth", 0) / split.get("predicted_macs_growth", 1)
if abs(parts - ratio) > 1e-9 * ratio or abs(g.get("exact_over_predicted", 0) - ratio) > 1e-9 * ratio \
        or g.get("map_size", 0) < 2:
    failures.append(f"gap split at 32 px, phi 0.2: {split}")
out = run("--model", "efficientnet-b0", "--base-resolution", "32", "--phi", "0.2", "--stages-only")
if "gap            exact / predicted = " not in out.stdout or "map size" not in out.stdout:
    failures.append("gap split line missing: " + out.stdout[-400:])

# --resolution-multiple N rounds the scaled side (phi 1 at 224: 258 px, 256 in multiples of 32).
one = json.loads(run("--model", "efficientnet", "--phi", "1", "--resolution-multiple", "32",
                     "--json").stdout)
if one["resolution"] != 256 or one.get("compound", {}).get("resolution_multiple") != 32:
    failures.append(f"--resolution-multiple 32: {one['resolution']} px, {one.get('compound')}")
for args, fragment in ((["--resolution-multiple", "8"], "needs --phi or --width"),
                       (["--phi", "1", "--resolution-multiple", "-8"], "--resolution-multiple")):
    out = run("--model", "efficientnet", *args)
    if out.returncode != 2 or fragment not in out.stderr:
        failures.append(f"{args}: exit {out.returncode}, {out.stderr.strip()!r}")

# Bad input: exit 1 with the parameter and its allowed range named, before any allocation.
for args, fragment in ((["--model", "efficientnet", "--depth", "0"], "depth coefficient = 0.000 must be positive"),
                       (["--model", "efficientnet", "--width", "nan"], "width coefficient is NaN"),
                       (["--model", "resnet-50", "--depth", "inf"], "depth coefficient is infinite"),
                       (["--model", "efficientnet", "--phi", "-1"], "phi = -1.000 must be"),
                       (["--model", "efficientnet-b0", "--base-resolution", "16"], "too small"),
                       (["--model", "resnet", "--blocks", "2,0,2"],
                        "Blocks per stage (blocks): value 2 = 0 is out of range (allowed: 1..8"),
                       (["--model", "resnet", "--blocks", "2,x"], "'x' in '2,x' is not a number"),
                       (["--model", "resnext50_32x4d", "--groups", "0"],
                        "Groups (groups) = 0 is out of range (allowed: 1..256)"),
                       (["--model", "resnext50_32x4d", "--groups", "2.5"], "must be a whole number"),
                       (["--model", "resnet-18", "--groups", "32"], "need bottleneck blocks"),
                       (["--model", "resnext50_32x4d", "--width-per-group", "1", "--width", "0.1"],
                        "rounds to 0 channels"),
                       (["--model", "mobilenet-v2", "--dropout", "nan"], "Dropout (dropout) is NaN"),
                       (["--model", "resnet", "--stem", "huge"], "'huge' is not one of auto|imagenet|small"),
                       (["--model", "resnet-cifar-21"], "not 6n+2"),
                       (["--model", "alexnet"], "unknown model 'alexnet'")):
    out = run(*args)
    if out.returncode != 1 or fragment not in out.stderr:
        failures.append(f"{args}: exit {out.returncode}, stderr {out.stderr.strip()!r}, wanted {fragment!r}")
    else:
        print(f"{' '.join(args):48s} -> {out.stderr.strip().splitlines()[0]}")

# A parameter of another family is a usage mistake (exit 2) that lists the family's own.
out = run("--model", "mobilenet-v2", "--groups", "4")
if out.returncode != 2 or "--groups is not a parameter of mobilenet-v2" not in out.stderr:
    failures.append(f"--groups on mobilenet-v2: exit {out.returncode}, {out.stderr[:200]!r}")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("ok")
