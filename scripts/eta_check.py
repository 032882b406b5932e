#!/usr/bin/env python3
"""How honest the run's ETA is (issue 11, point 6), measured on a real training run.

Trains one model with the CLI (--jsonl, a progress event per batch) and reports:
  - the preparing phase: its events and how long it took before the first batch;
  - the predicted end of the run (elapsed + ETA) after the first epoch: min, max, max/min, and
    against the run's true end;
  - the same for the estimate ScaleLab used before (elapsed / batches done x batches left, the
    validation time not counted), computed from the same events.

  scripts/eta_check.py [--cli build/bin/scalelab-cli] [--model resnet-cifar-20] [--epochs 4]
                       [--subset 3000] [--resolution 32]
Not part of CI (about two minutes on the 2-core machine).
"""
import argparse
import json
import subprocess
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/bin/scalelab-cli")
    ap.add_argument("--model", default="resnet-cifar-20")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--subset", type=int, default=3000)
    ap.add_argument("--resolution", type=int, default=32)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [a.cli, "train", "--model", a.model, "--epochs", str(a.epochs), "--subset",
               str(a.subset), "--test-subset", "2000", "--base-resolution", str(a.resolution),
               "--progress-every", "1", "--jsonl", "--out", tmp + "/run"]
        start = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        events = []
        for line in p.stdout:
            e = json.loads(line)
            e["_t"] = time.monotonic() - start
            events.append(e)
        p.wait()
    prep = [e for e in events if e["event"] == "preparing"]
    batches = [e for e in events if e["event"] == "batch"]
    first_batch_t = batches[0]["_t"] if batches else float("nan")
    end = events[-1]
    true_end = end["elapsed_s"]
    per_epoch = batches[0]["batches_per_epoch"]
    total = per_epoch * a.epochs
    new, old = [], []
    for e in batches:
        if e["epoch"] < 2:
            continue
        done = (e["epoch"] - 1) * per_epoch + e["batch"]
        new.append(e["elapsed_s"] + e["eta_s"])
        old.append(e["elapsed_s"] + e["elapsed_s"] / done * (total - done))
    phases = []
    for e in prep:
        if not phases or phases[-1] != e["phase"]:
            phases.append(e["phase"])
    print(f"model {a.model}, {a.epochs} epochs x {per_epoch} batches, {a.subset} images, "
          f"{a.resolution} px; exit {p.returncode}")
    print(f"preparing: {len(prep)} events, phases: {'; '.join(phases)}; first batch after "
          f"{first_batch_t:.1f} s of the process")
    print(f"run took {true_end:.1f} s of training time")
    for name, ends in (("moving average (now)", new), ("elapsed/batches (before)", old)):
        if ends:
            print(f"{name}: predicted end after epoch 1 in [{min(ends):.1f}, {max(ends):.1f}] s, "
                  f"max/min {max(ends) / min(ends):.2f}, worst error vs true end "
                  f"{max(abs(x - true_end) for x in ends) / true_end * 100:.0f} %")


if __name__ == "__main__":
    main()
