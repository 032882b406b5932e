#!/usr/bin/env python3
"""Driver of scripts/bench_vs_pytorch.sh. Each configuration runs in its own process, ours and
PyTorch's alternately, so neither inherits the other's warm caches."""
import argparse
import json
import os
import subprocess
import sys

p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=10)
p.add_argument("--threads", type=int, default=os.cpu_count())
p.add_argument("--batch-size", type=int, default=128)
p.add_argument("--resolution", type=int, default=32)
p.add_argument("--models", default="efficientnet-b0 resnet-18")
a = p.parse_args()
cli = "build/bin/scalelab-cli"
peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_pytorch_peer.py")
common = ["--resolution", str(a.resolution), "--batch-size", str(a.batch_size),
          "--steps", str(a.steps), "--in-channels", "1", "--num-classes", "10"]
TUNED = {"GLIBC_TUNABLES": "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647"}


def ours(model, *extra):
    out = subprocess.run([cli, "bench", "--model", model, "--threads", str(a.threads), "--json",
                          *common, *extra], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def theirs(model, env=None, *extra):
    out = subprocess.run(["/usr/bin/python3", peer, "--model", model, "--threads", str(a.threads),
                          *common, *extra], check=True, capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    return json.loads(out.stdout)


peak = subprocess.run([cli, "bench-ops", "--reps", "5"], check=True, capture_output=True,
                      text=True).stdout.splitlines()[0]
print(f"threads {a.threads}, batch {a.batch_size}, {a.resolution} px, 1 channel, 10 classes, "
      f"{a.steps} timed steps after 2 warm-up; {peak}\n")
print("| model | variant | train img/s | inference img/s | train ratio (ours / PyTorch) | inference ratio |")
print("|---|---|---|---|---|---|")
for model in a.models.split():
    py = theirs(model)
    py_tuned = theirs(model, TUNED)
    ours_default = ours(model)
    rows = [("PyTorch (torchvision, Debian)", py, None),
            ("PyTorch, same allocator setting as ours", py_tuned, None),
            ("ScaleLab (default)", ours_default, py)]
    if model.startswith("efficientnet"):
        rows.append(("ScaleLab, LibTorch's depthwise conv", ours(model, "--torch-depthwise"), py))
    rows.append(("ScaleLab, NCHW (no channels-last)", ours(model, "--no-channels-last"), py))
    for name, r, ref in rows:
        ratio = f"{r['train_images_per_s'] / ref['train_images_per_s']:.2f}x" if ref else ""
        iratio = f"{r['infer_images_per_s'] / ref['infer_images_per_s']:.2f}x" if ref else ""
        print(f"| {model} | {name} | {r['train_images_per_s']:.1f} | {r['infer_images_per_s']:.1f} "
              f"| {ratio} | {iratio} |")
    gf = ours_default.get("train_gflops")
    if gf:
        print(f"| {model} | achieved by ScaleLab (default) | {gf:.1f} GFLOP/s training "
              f"| {ours_default['infer_gflops']:.1f} GFLOP/s inference | | |")
    sys.stdout.flush()
