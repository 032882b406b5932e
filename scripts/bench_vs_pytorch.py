#!/usr/bin/env python3
"""Driver of scripts/bench_vs_pytorch.sh. Each configuration runs in its own process, ours and
PyTorch's alternately, so neither inherits the other's warm caches.

A configuration is MODEL@PX (training and inference) or MODEL@PX:infer (inference only: training
at that size would take too long here). The default covers every registered family at 32 px and
at its native 224 px."""
import argparse
import json
import os
import subprocess
import sys

DEFAULT = ("efficientnet-b0@32 resnet-18@32 resnet-50@32 mobilenet-v2@32 "
           "efficientnet-b0@224:infer resnet-50@224:infer mobilenet-v2@224:infer")

p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=10)
p.add_argument("--threads", type=int, default=os.cpu_count())
p.add_argument("--batch-size", type=int, default=128, help="images per step at 32 px")
p.add_argument("--native-batch-size", type=int, default=32, help="images per step above 64 px")
p.add_argument("--configs", default=DEFAULT, help="MODEL@PX or MODEL@PX:infer, space-separated")
p.add_argument("--models", help="shorthand: these models at --resolution (training too)")
p.add_argument("--resolution", type=int, default=32)
p.add_argument("--variants", action="store_true",
               help="also time every fixed layout/depthwise kernel, not just the measured choice")
a = p.parse_args()
if a.models:
    a.configs = " ".join(f"{m}@{a.resolution}" for m in a.models.split())
cli = "build/bin/scalelab-cli"
peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_pytorch_peer.py")
TUNED = {"GLIBC_TUNABLES": "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647"}


def common(px, batch, infer_only):
    args = ["--resolution", str(px), "--batch-size", str(batch), "--steps", str(a.steps),
            "--in-channels", "1", "--num-classes", "10"]
    return args + (["--no-train"] if infer_only else [])


def ours(model, args, *extra):
    out = subprocess.run([cli, "bench", "--model", model, "--threads", str(a.threads), "--json",
                          *args, *extra], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def theirs(model, args, env=None, *extra):
    out = subprocess.run(["/usr/bin/python3", peer, "--model", model, "--threads", str(a.threads),
                          *args, *extra], check=True, capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    return json.loads(out.stdout)


def kernels_text(k, has_dw):
    if not k:
        return ""
    text = "oneDNN Winograd" if k.get("winograd") else \
        "oneDNN blocked" if k.get("blocked") else \
        "channels-last" if k["channels_last"] else "NCHW"
    if has_dw:
        text += ", ours" if k["fast_depthwise"] else ", LibTorch dw"
    return f"{text} ({k['source']})"


def fmt(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}"


def ratio(mine, peer_value):
    return "" if mine is None or not peer_value else f"{mine / peer_value:.2f}x"


peak = "; ".join(subprocess.run([cli, "bench-ops", "--reps", "5"], check=True,
                               capture_output=True, text=True).stdout.splitlines()[:2])
print(f"threads {a.threads}, 1 channel, 10 classes, {a.steps} timed steps after 2 warm-up "
      f"(median); batch {a.batch_size} up to 64 px, {a.native_batch_size} above; {peak}\n")
print("| model | px | variant | train img/s | inference img/s | train ratio (ours / PyTorch) "
      "| inference ratio | kernels (train / inference) |")
print("|---|---|---|---|---|---|---|---|")
for config in a.configs.split():
    name, _, mode = config.partition(":")
    model, _, px = name.partition("@")
    px = int(px)
    infer_only = mode == "infer"
    batch = a.batch_size if px <= 64 else a.native_batch_size
    args = common(px, batch, infer_only)
    py = theirs(model, args)
    py_tuned = theirs(model, args, TUNED)
    mine = ours(model, args)
    has_dw = mine["infer_kernels"]["fast_depthwise"] is not None
    rows = [("PyTorch (torchvision, Debian)", py, None),
            ("PyTorch, same allocator setting as ours", py_tuned, None),
            ("ScaleLab (measured choice)", mine, py)]
    if a.variants:
        rows.append(("ScaleLab, NCHW", ours(model, args, "--layout", "nchw"), py))
        rows.append(("ScaleLab, channels-last", ours(model, args, "--layout", "channels-last"),
                     py))
        if has_dw:
            rows.append(("ScaleLab, LibTorch's depthwise",
                         ours(model, args, "--depthwise", "libtorch"), py))
    for label, r, ref in rows:
        k = ""
        if "infer_kernels" in r:
            k = (kernels_text(r.get("train_kernels"), has_dw) + " / " if not infer_only else "") \
                + kernels_text(r["infer_kernels"], has_dw)
        print(f"| {model} | {px} | {label} | {fmt(r['train_images_per_s'])} "
              f"| {fmt(r['infer_images_per_s'])} "
              f"| {ratio(r['train_images_per_s'], ref and ref['train_images_per_s'])} "
              f"| {ratio(r['infer_images_per_s'], ref and ref['infer_images_per_s'])} | {k} |")
    print(f"| {model} | {px} | achieved by ScaleLab | {fmt(mine['train_gflops'])} GFLOP/s "
          f"training | {fmt(mine['infer_gflops'])} GFLOP/s inference | | | |")
    sys.stdout.flush()
