#!/usr/bin/env python3
"""scalelab-cli dataset-info on the real Fashion-MNIST: sizes, classes and a mean checked against
the true pixel mean computed here, independently, from the gzipped IDX file."""
import gzip
import json
import os
import subprocess
import sys

cli = sys.argv[1]
folder = None
for candidate in ([os.environ["SCALELAB_DATA"], os.path.join(os.environ["SCALELAB_DATA"], "fashion-mnist")]
                  if os.environ.get("SCALELAB_DATA") else []) + ["/usr/share/datasets/fashion-mnist"]:
    if os.path.exists(os.path.join(candidate, "train-images-idx3-ubyte.gz")):
        folder = candidate
        break
if folder is None:
    print("SKIPPED: Fashion-MNIST is not installed (apt install dataset-fashion-mnist)")
    sys.exit(77)

out = subprocess.run([cli, "dataset-info", "--dataset", "fashion-mnist", "--json"],
                     capture_output=True, text=True, timeout=120)
assert out.returncode == 0, out.stderr
info = json.loads(out.stdout)
assert info["train"] == 60000, info["train"]
assert info["test"] == 10000, info["test"]
assert info["num_classes"] == 10 and len(info["classes"]) == 10, info["classes"]
assert info["channels"] == 1 and info["height"] == 28 and info["width"] == 28, info

with gzip.open(os.path.join(folder, "train-images-idx3-ubyte.gz"), "rb") as f:
    data = f.read()
pixels = data[16:]
assert len(pixels) == 60000 * 28 * 28
true_mean = sum(pixels) / len(pixels) / 255.0
assert abs(info["mean"][0] - true_mean) < 1e-3, (info["mean"], true_mean)
assert abs(info["mean"][0] - true_mean) < 1e-9, "integer sums should make it exact"
print(f"mean {info['mean'][0]:.6f} vs true {true_mean:.6f}; std {info['std'][0]:.6f}")

text = subprocess.run([cli, "dataset-info"], capture_output=True, text=True, timeout=120)
assert text.returncode == 0, text.stderr
assert "60000 images" in text.stdout and "Ankle boot" in text.stdout, text.stdout

listing = subprocess.run([cli, "datasets"], capture_output=True, text=True, timeout=60)
assert listing.returncode == 0 and "Fashion-MNIST" in listing.stdout and "found" in listing.stdout
print("ok")
