#!/usr/bin/env python3
"""scalelab-cli train/eval end to end:
1. a run killed with SIGKILL after its first epoch leaves valid files, and --resume finishes it
   with the same metrics as an uninterrupted run (CPU, same threads);
2. Ctrl-C (SIGINT) stops a run within a batch: exit 130, status "cancelled ...";
3. weights.pt of a trained EfficientNet-B0 (1 channel, 32 px) loads strictly into torchvision's
   efficientnet_b0 with the same stem change, and gives the accuracy `eval` reports
   (skipped visibly without torchvision)."""
import csv
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile

cli = sys.argv[1]
if not os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") and \
        not os.environ.get("SCALELAB_DATA"):
    print("SKIPPED: Fashion-MNIST is not installed")
    sys.exit(77)

failures = []
SMALL = ["--model", "resnet-cifar-8", "--base-resolution", "28", "--epochs", "3",
         "--subset", "1500", "--val-fraction", "0.01", "--test-subset", "500",
         "--threads", "2", "--batch-size", "64", "--lr", "0.05", "--seed", "5", "--hflip",
         "--crop-padding", "2"]


def metrics_without_times(run):
    with open(os.path.join(run, "metrics.csv")) as f:
        return [row[:6] for row in csv.reader(f)]


with tempfile.TemporaryDirectory() as tmp:
    whole, killed = os.path.join(tmp, "whole"), os.path.join(tmp, "killed")
    out = subprocess.run([cli, "train", *SMALL, "--out", whole, "--jsonl"], capture_output=True,
                         text=True, timeout=600)
    if out.returncode != 0:
        failures.append(f"uninterrupted run failed: {out.stderr[-500:]}")

    # Kill -9 as soon as epoch 1 has been recorded (the process is then inside epoch 2).
    p = subprocess.Popen([cli, "train", *SMALL, "--out", killed, "--jsonl"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in p.stdout:
        event = json.loads(line)
        if event["event"] == "epoch" and event["epoch"] == 1:
            p.send_signal(signal.SIGKILL)
            break
    p.wait(timeout=60)
    summary = json.load(open(os.path.join(killed, "summary.json")))
    rows = metrics_without_times(killed)
    print(f"killed run: status '{summary['status']}', {len(rows) - 1} epoch row(s) on disk")
    if summary["epochs_done"] != len(rows) - 1 or len(rows) < 2:
        failures.append(f"after SIGKILL: summary says {summary['epochs_done']} epochs, metrics.csv has {len(rows) - 1}")
    out = subprocess.run([cli, "train", "--resume", killed, "--jsonl"], capture_output=True,
                         text=True, timeout=600)
    if out.returncode != 0:
        failures.append(f"resume failed ({out.returncode}): {out.stderr[-500:]}")
    a, b = metrics_without_times(whole), metrics_without_times(killed)
    if a != b:
        failures.append(f"resumed metrics differ:\n  whole   {a}\n  resumed {b}")
    else:
        print(f"resumed run equals the uninterrupted one: {len(a) - 1} epochs, final val acc {a[-1][4]}")
    sa = json.load(open(os.path.join(whole, "summary.json")))
    sb = json.load(open(os.path.join(killed, "summary.json")))
    if sa["test_acc"] != sb["test_acc"] or sb["status"] != "completed":
        failures.append(f"test accuracy {sa['test_acc']} vs resumed {sb['test_acc']} ({sb['status']})")

    # Ctrl-C after the first batch event.
    ctrlc = os.path.join(tmp, "ctrlc")
    p = subprocess.Popen([cli, "train", *SMALL, "--progress-every", "1", "--out", ctrlc, "--jsonl"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    batches = 0
    for line in p.stdout:
        event = json.loads(line)
        if event["event"] == "batch":
            batches += 1
            if batches == 1:
                p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=60)
    status = json.load(open(os.path.join(ctrlc, "summary.json")))["status"]
    print(f"Ctrl-C: exit {rc}, status '{status}', batch events {batches}")
    if rc != 130 or not status.startswith("cancelled at epoch 1, batch"):
        failures.append(f"SIGINT: exit {rc}, status {status!r}")
    if batches > 2:
        failures.append(f"SIGINT: {batches} batches ran after the signal (at most 1 allowed)")

    # weights.pt into torchvision.
    try:
        import numpy as np
        import torch
        import torchvision
    except ImportError as e:
        print(f"SKIPPED (part 3): torchvision not available ({e})")
        torch = None
    if torch is not None:
        b0 = os.path.join(tmp, "b0")
        out = subprocess.run([cli, "train", "--model", "efficientnet-b0", "--epochs", "2",
                              "--subset", "2048", "--val-fraction", "0.01", "--test-subset", "500",
                              "--optimizer", "adamw", "--lr", "0.003", "--threads", "2",
                              "--out", b0, "--jsonl"],
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            failures.append(f"B0 run failed: {out.stderr[-400:]}")
        ours = json.loads(subprocess.run([cli, "eval", "--run", b0, "--json"], capture_output=True,
                                         text=True, timeout=300).stdout)
        state = torch.load(os.path.join(b0, "weights.pt"))
        model = torchvision.models.efficientnet_b0(num_classes=10)
        model.features[0][0] = torch.nn.Conv2d(1, 32, 3, 2, 1, bias=False)
        result = model.load_state_dict(state, strict=True)
        model.eval()
        cfg = json.load(open(os.path.join(b0, "config.json")))
        mean, std = cfg["normalization"]["mean"][0], cfg["normalization"]["std"][0]
        with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
            images = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 1, 28, 28)[:500]
        with gzip.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz") as f:
            labels = torch.from_numpy(np.frombuffer(f.read()[8:], dtype=np.uint8)[:500].astype(np.int64))
        x = torch.from_numpy(images.astype(np.float32))
        x = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
        x = (x.round().clamp(0, 255) / 255.0 - mean) / std  # as ScaleLab's resize-once cache does
        with torch.no_grad():
            logits = model(x)
        pred = logits.argmax(1)
        loss = torch.nn.functional.cross_entropy(logits, labels).item()
        acc = (pred == labels).float().mean().item()
        confusion = torch.zeros(10, 10, dtype=torch.int64)
        confusion.index_put_((labels, pred), torch.ones(500, dtype=torch.int64), accumulate=True)
        cells = (confusion - torch.tensor(ours["confusion"])).abs().sum().item()
        print(f"weights.pt in torchvision: {len(state)} tensors load strictly; accuracy "
              f"{acc:.4f} vs ScaleLab's eval {ours['accuracy']:.4f} on {ours['count']} images; "
              f"{(confusion.sum(0) > 0).sum().item()} classes predicted; confusion matrices differ "
              f"by {cells} counts; mean loss {loss:.6f} vs {ours['loss']:.6f}")
        if abs(acc - ours["accuracy"]) > 0.004 or cells > 4 or abs(loss - ours["loss"]) > 1e-3 * loss:
            failures.append(f"torchvision accuracy {acc} / confusion differ from eval {ours['accuracy']}")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("ok")
