#!/usr/bin/env python3
"""Every bad-input case of issue 2 through the CLI: a non-zero exit, a message naming the file and
the problem, and no crash or hang (each call has a timeout)."""
import gzip
import os
import struct
import subprocess
import sys
import tempfile

cli = sys.argv[1]
failures = []


def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def idx_set(folder, n=20, m=10, gz=True):
    for prefix, count in (("train", n), ("t10k", m)):
        images = idx([count, 4, 4], [(i * 3) % 256 for i in range(count * 16)])
        labels = idx([count], [i % 10 for i in range(count)])
        for stem, data in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            write(os.path.join(folder, stem + (".gz" if gz else "")), gzip.compress(data) if gz else data)


def pgm(value=128):
    return b"P5\n4 4\n255\n" + bytes([value] * 16)


def check(name, spec, fragments, code=1):
    try:
        out = subprocess.run([cli, "dataset-info", "--dataset", spec], capture_output=True,
                             text=True, timeout=60)
    except subprocess.TimeoutExpired:
        failures.append(f"{name}: hung (no answer in 60 s)")
        return
    msg = out.stderr.strip()
    if out.returncode != code:
        failures.append(f"{name}: exit code {out.returncode}, expected {code}; stderr: {msg}")
    for frag in fragments:
        if frag not in msg:
            failures.append(f"{name}: message lacks '{frag}': {msg}")
    print(f"{name:28s} exit {out.returncode}: {msg.splitlines()[0] if msg else '(no message)'}")


with tempfile.TemporaryDirectory() as tmp:
    def case(name):
        path = os.path.join(tmp, name)
        os.makedirs(path)
        return path

    d = case("wrong_magic")
    idx_set(d)
    write(os.path.join(d, "train-images-idx3-ubyte.gz"), gzip.compress(b"PK\x03\x04" + bytes(100)))
    check("wrong IDX magic", "mnist:" + d, ["train-images-idx3-ubyte.gz", "wrong IDX magic"])

    d = case("truncated_gzip")
    idx_set(d)
    blob = gzip.compress(idx([20, 4, 4], [i % 256 for i in range(20 * 16)]))
    write(os.path.join(d, "train-images-idx3-ubyte.gz"), blob[: len(blob) // 2])
    check("truncated gzip", "mnist:" + d, ["train-images-idx3-ubyte.gz", "truncated gzip"])

    d = case("corrupt_gzip")
    idx_set(d)
    blob = bytearray(gzip.compress(bytes((i * 7) % 256 for i in range(20000))))
    for i in range(12, len(blob) - 8, 3):
        blob[i] ^= 0x5A
    write(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), bytes(blob))
    check("corrupt gzip", "fashion-mnist:" + d, ["t10k-labels-idx1-ubyte.gz", "corrupt gzip"])

    d = case("count_mismatch")
    idx_set(d, gz=False)
    write(os.path.join(d, "train-labels-idx1-ubyte"), idx([19], [1] * 19))
    check("images/labels mismatch", "mnist:" + d,
          ["count mismatch", "train-images-idx3-ubyte", "20 images", "19 labels"])

    d = case("label_range")
    idx_set(d, gz=False)
    write(os.path.join(d, "t10k-labels-idx1-ubyte"), idx([10], [3, 4, 5, 200, 1, 1, 1, 1, 1, 1]))
    check("label out of range", "mnist:" + d, ["t10k-labels-idx1-ubyte", "label 200 at index 3", "out of range"])

    d = case("empty")
    check("empty folder (IDX)", "mnist:" + d, [d, "not found"])
    check("empty folder (images)", "folder:" + d, [d, "no class subfolders"])
    check("missing folder", "folder:" + os.path.join(tmp, "nope"), [os.path.join(tmp, "nope"), "not found"])

    d = case("unreadable_image")
    write(os.path.join(d, "boots", "a.pgm"), pgm())
    write(os.path.join(d, "boots", "b.png"), b"\x89PNG not really")
    check("unreadable image", "folder:" + d, [os.path.join(d, "boots", "b.png"), "unreadable image"])

    d = case("class_without_images")
    write(os.path.join(d, "boots", "a.pgm"), pgm())
    write(os.path.join(d, "bags", "notes.txt"), b"no images here")
    check("class folder with no images", "folder:" + d, ["class folder 'bags'", "holds no images"])

    d = case("cifar_truncated")
    record = bytes([3]) + bytes(3072)
    for i in range(1, 6):
        write(os.path.join(d, f"data_batch_{i}.bin"), record * 2)
    write(os.path.join(d, "test_batch.bin"), (record * 2)[:-5])
    check("truncated CIFAR-10 batch", "cifar10:" + d, ["test_batch.bin", "3073-byte records"])

    check("unknown dataset kind", "imagenet:/x", ["unknown kind 'imagenet'"])

    out = subprocess.run([cli, "dataset-info", "--bogus"], capture_output=True, text=True, timeout=60)
    if out.returncode != 2 or "not expected: --bogus" not in out.stderr:
        failures.append(f"unknown option: exit {out.returncode}, stderr {out.stderr!r}")

if failures:
    print("\nFAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("ok")
