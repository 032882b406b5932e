#!/usr/bin/env python3
"""scalelab-cli bench: the layout and depthwise kernel are measured at first use, cached, shown,
fixed by flags; --no-train times inference only. Tiny models: this checks behaviour, not speed."""
import json
import os
import subprocess
import sys
import tempfile

cli = sys.argv[1]
failures = []
tmp = tempfile.mkdtemp(prefix="scalelab-bench-")
cache = os.path.join(tmp, "kernels.json")
tiny = ["--resolution", "32", "--batch-size", "8", "--steps", "1", "--warmup", "0",
        "--in-channels", "1", "--num-classes", "10", "--threads", "1", "--kernel-cache", cache]


def bench(model, *extra, json_out=True):
    out = subprocess.run([cli, "bench", "--model", model, *tiny, *extra] +
                         (["--json"] if json_out else []),
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        failures.append(f"bench {model} {extra}: exit {out.returncode}: {out.stderr[-400:]}")
        return None
    return json.loads(out.stdout) if json_out else out.stdout


dw = ["--width", "0.25", "--depth", "0.25"]
first = bench("efficientnet-b0", *dw)
if first:
    for mode in ("train_kernels", "infer_kernels"):
        k = first[mode]
        if k["source"] != "measured" or len(k["timings"]) != 4:
            failures.append(f"first bench should measure 4 candidates for {mode}: {k}")
        best = min(k["timings"], key=lambda t: t["ms_per_step"])
        if (best["channels_last"], best["fast_depthwise"]) != (k["channels_last"],
                                                               k["fast_depthwise"]):
            failures.append(f"{mode}: the choice is not the fastest timing: {k}")
second = bench("efficientnet-b0", *dw)
if second and (second["train_kernels"]["source"] != "cache" or
               second["infer_kernels"]["source"] != "cache" or
               second["train_kernels"]["channels_last"] != first["train_kernels"]["channels_last"]):
    failures.append(f"second bench should read the cache: {second['train_kernels']}")

fixed = bench("efficientnet-b0", *dw, "--layout", "nchw", "--depthwise", "libtorch")
if fixed and (fixed["train_kernels"]["source"] != "flags" or
              fixed["train_kernels"]["channels_last"] or
              fixed["train_kernels"]["fast_depthwise"]):
    failures.append(f"flags should fix the choice: {fixed['train_kernels']}")

# Training recomputes BatchNorm + activation unless --no-recompute; both report the process's
# peak memory after the training steps (issue 13).
if fixed and (fixed["recompute"] is not True or not fixed["train_peak_rss_bytes"] > 0):
    failures.append(f"bench should train on the training path and report its memory: {fixed}")
plain = bench("efficientnet-b0", *dw, "--layout", "nchw", "--depthwise", "libtorch",
              "--no-recompute")
if plain and (plain["recompute"] is not False or not plain["train_images_per_s"] > 0 or
              not plain["train_peak_rss_bytes"] > 0):
    failures.append(f"--no-recompute should train on the modules' forward: {plain}")

# No depthwise layers: two layouts, and fast_depthwise is null (nothing to choose).
r = bench("resnet-cifar-8", "--no-train")
if r:
    if r["train_images_per_s"] is not None or r["train_kernels"] is not None:
        failures.append(f"--no-train still trained: {r}")
    if r["infer_kernels"]["fast_depthwise"] is not None or len(r["infer_kernels"]["timings"]) != 2:
        failures.append(f"resnet-cifar-8 has no depthwise choice: {r['infer_kernels']}")
    if not r["infer_images_per_s"] > 0:
        failures.append(f"no inference throughput: {r}")

text = bench("efficientnet-b0", *dw, json_out=False)
if text and ("kernels, training:  " not in text or "(cache:" not in text or
             "kernels, inference: " not in text):
    failures.append("the text output does not show the kernel choice:\n" + text)

# A damaged cache is measured again, said once, and rewritten.
with open(cache, "w") as f:
    f.write("{\"version\": 1, \"entries\": [")
text = bench("efficientnet-b0", *dw, json_out=False)
if text and ("unreadable" not in text or "measured again" not in text):
    failures.append("a damaged cache should be reported:\n" + text)
with open(cache) as f:
    json.load(f)

out = subprocess.run([cli, "bench", "--model", "resnet-cifar-8", "--layout", "nhwc"],
                     capture_output=True, text=True, timeout=60)
if out.returncode == 0 or "--layout" not in out.stderr or "channels-last" not in out.stderr:
    failures.append("--layout nhwc should be refused, naming the choices: " + out.stderr)

# --layers: every dense shape, three kernels, against a measured peak; bounded like bench.
out = subprocess.run([cli, "bench", "--model", "resnet-cifar-8", "--resolution", "16",
                      "--batch-size", "4", "--steps", "1", "--threads", "1", "--in-channels", "1",
                      "--num-classes", "10", "--layers", "--json"],
                     capture_output=True, text=True, timeout=300)
if out.returncode != 0:
    failures.append("bench --layers failed: " + out.stderr[-400:])
else:
    j = json.loads(out.stdout)
    if not (j["peak_gflops"] >= max(j["matmul_gflops"], j["conv_gemm_gflops"]) > 0):
        failures.append(f"--layers peak: {j}")
    for mode in ("inference", "training"):
        types = {t["type"]: t for t in j[mode]["types"]}
        if "conv 3x3/1" not in types or types["conv 3x3/1"]["winograd_gflops"] is None or \
                types["linear"]["im2col_gflops"] is not None:
            failures.append(f"--layers {mode} types: {j[mode]['types']}")
        if abs(sum(t["macs_share"] for t in j[mode]["types"]) - 1) > 1e-9:
            failures.append(f"--layers {mode}: MAC shares do not add up to 1")
out = subprocess.run([cli, "bench", "--model", "efficientnet-b7", "--batch-size", "60000",
                      "--layers"], capture_output=True, text=True, timeout=60)
if out.returncode == 0 or "--allow-memory" not in out.stderr:
    failures.append("bench --layers at batch 60000 (B7) should be refused before allocating: " +
                    out.stderr[-300:])

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
