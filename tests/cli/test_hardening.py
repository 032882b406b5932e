#!/usr/bin/env python3
"""Issue 10, tried as an attacker would: every case below failed (crash, wrong exit, blow-up or
silent overwrite) before the hardening. Each must now end with a clear message, the right exit
code, bounded memory (peak RSS of the process, measured) and no file overwritten.
Uses generated IDX data only (no Fashion-MNIST needed)."""
import gzip
import hashlib
import json
import math
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

cli = sys.argv[1]
failures = []
GiB = 1 << 30
worst_rss = [0, ""]


def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def idx_set(folder, n=130, m=40, side=8, classes=10, gz=True):
    rnd = random.Random(1)
    for prefix, count in (("train", n), ("t10k", m)):
        labels = [i % classes for i in range(count)]
        pixels = [min(255, 20 * labels[i // (side * side)] + rnd.randrange(40))
                  for i in range(count * side * side)]
        for stem, data in ((f"{prefix}-images-idx3-ubyte", idx([count, side, side], pixels)),
                           (f"{prefix}-labels-idx1-ubyte", idx([count], labels))):
            write(os.path.join(folder, stem + (".gz" if gz else "")),
                  gzip.compress(data) if gz else data)


def run(args, timeout=120):
    """Runs scalelab-cli; returns (exit code, stdout, stderr)."""
    out = subprocess.run([cli, *args], capture_output=True, text=True, timeout=timeout)
    return out.returncode, out.stdout, out.stderr


def first_error(msg):
    for line in msg.splitlines():
        if line.startswith("error") or line.startswith("scalelab-cli "):
            return line
    return msg.splitlines()[-1] if msg else ""


def expect(name, args, code, fragments, forbidden=("Exception raised from", "json.exception",
                                                     "frame #", "(unexpected)"), timeout=120):
    p = subprocess.Popen([cli, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        failures.append(f"{name}: hung")
        return ""
    msg = (err + out).strip()
    if p.returncode != code:
        failures.append(f"{name}: exit {p.returncode}, expected {code}: {msg[-300:]}")
    for f in fragments:
        if f not in msg:
            failures.append(f"{name}: message lacks {f!r}: {msg[-300:]}")
    for f in forbidden:
        if f in msg:
            failures.append(f"{name}: message leaks {f!r}: {msg[-300:]}")
    print(f"{name:38s} exit {p.returncode}: {first_error(msg)[:110]}")
    return msg


def peak_rss(args):
    """Runs scalelab-cli; returns (exit code, output, peak RSS of exactly this process)."""
    p = subprocess.Popen([cli, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    err = p.stderr.read().decode() + p.stdout.read().decode()
    return os.waitstatus_to_exitcode(status), err, usage.ru_maxrss * 1024


# What the process takes before it reads anything (LibTorch loaded; larger under ASan).
BASELINE = peak_rss(["info", "--model", "resnet-18"])[2]
print(f"baseline peak RSS (info --model resnet-18): {BASELINE / 2**20:.0f} MiB")


def expect_bounded(name, args, code, fragments, extra=GiB):
    """expect() plus the peak RSS of this very process: at most `extra` above the baseline and
    never above 1 GiB of its own data."""
    rc, err, rss = peak_rss(args)
    limit = min(BASELINE + extra, BASELINE + GiB)
    if rc != code:
        failures.append(f"{name}: exit {rc}, expected {code}: {err[-300:]}")
    for f in fragments:
        if f not in err:
            failures.append(f"{name}: message lacks {f!r}: {err[-300:]}")
    if rss > limit:
        failures.append(f"{name}: peak RSS {rss / 2**20:.0f} MiB > {limit / 2**20:.0f} MiB "
                        f"(baseline {BASELINE / 2**20:.0f} MiB)")
    if rss > worst_rss[0]:
        worst_rss[:] = [rss, name]
    print(f"{name:38s} exit {rc}, peak RSS {rss / 2**20:4.0f} MiB: {first_error(err)[:90]}")


def digest(folder):
    return {n: hashlib.sha256(open(os.path.join(folder, n), "rb").read()).hexdigest()
            for n in sorted(os.listdir(folder)) if os.path.isfile(os.path.join(folder, n))}


with tempfile.TemporaryDirectory() as tmp:
    def case(name):
        path = os.path.join(tmp, name)
        os.makedirs(path)
        return path

    # --- bounded memory on damaged data -------------------------------------------------------
    full = idx([60000, 28, 28], bytes(60000 * 28 * 28))
    d = case("truncated_download")  # an interrupted download of a real-size file
    idx_set(d)
    blob = gzip.compress(full, compresslevel=1)
    write(os.path.join(d, "train-images-idx3-ubyte.gz"), blob[: len(blob) // 3])
    expect_bounded("truncated real-size .gz", ["dataset-info", "--dataset", "mnist:" + d], 1,
                   ["train-images-idx3-ubyte.gz", "truncated gzip"], 256 << 20)

    d = case("trailing_bytes")  # ISIZE (last 4 bytes) now claims 4 GiB - 1
    idx_set(d)
    write(os.path.join(d, "train-images-idx3-ubyte.gz"),
          gzip.compress(idx([130, 8, 8], bytes(130 * 64))) + b"\xff\xff\xff\xff")
    expect_bounded("gzip with trailing bytes", ["dataset-info", "--dataset", "mnist:" + d], 1,
                   ["train-images-idx3-ubyte.gz", "corrupt gzip"], 96 << 20)

    d = case("bomb")  # 5 MB of gzip that inflates to ~5 GB, header within the cap
    idx_set(d)
    header = idx([60000, 28, 28], b"")
    zeros = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    write(os.path.join(d, "train-images-idx3-ubyte.gz"), gzip.compress(header) + zeros * 80)
    expect_bounded("gzip bomb", ["dataset-info", "--dataset", "mnist:" + d], 1,
                   ["unexpected bytes after the 47040000 bytes its header declares"], 384 << 20)

    d = case("huge_header")
    idx_set(d)
    write(os.path.join(d, "train-images-idx3-ubyte.gz"),
          gzip.compress(idx([4000000, 64, 64], bytes(100))))
    expect_bounded("header declaring 16 GB", ["dataset-info", "--dataset", "mnist:" + d], 1,
                   ["declares more than 1024 MiB"], 96 << 20)

    d = case("zero_pixels")
    idx_set(d)
    write(os.path.join(d, "train-images-idx3-ubyte.gz"), gzip.compress(idx([130, 0, 0], b"")))
    expect_bounded("IDX of 0x0-pixel images", ["dataset-info", "--dataset", "mnist:" + d], 1,
                   ["images of 0 pixels"], 96 << 20)

    d = case("cifar_sparse")  # a 5 GiB sparse batch of the wrong size
    for n in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        with open(os.path.join(d, n), "wb") as f:
            f.truncate(5 * GiB if n == "data_batch_1.bin" else 3073 * 10)
    expect_bounded("5 GiB sparse CIFAR batch", ["dataset-info", "--dataset", "cifar10:" + d], 1,
                   ["data_batch_1.bin", "more than the"], 96 << 20)

    strips = case("strips")  # 1 x 5000 px strips of two classes
    for i in range(30):
        write(os.path.join(strips, f"c{i % 2}", f"{i}.pgm"),
              b"P5\n5000 1\n255\n" + bytes([i * 8 % 256]) * 5000)
    expect_bounded("30 image strips of 1x5000 px", ["dataset-info", "--dataset", "folder:" + strips],
                   0, ["64x64"], 96 << 20)
    expect("--image-size 4096", ["dataset-info", "--dataset", "folder:" + tmp, "--image-size",
                                 "4096"], 2, ["--image-size: Value 4096 not in range 0 to 1024"])
    expect_bounded("bench at batch 60000 (B7)", ["bench", "--model", "efficientnet-b7",
                                                  "--batch-size", "60000", "--steps", "1"], 1,
                   ["needs about", "GiB are available", "--allow-memory"], 96 << 20)

    # --- numbers parse strictly ---------------------------------------------------------------
    data = case("data")
    idx_set(data)
    base = ["train", "--dataset", "mnist:" + data, "--model", "resnet-cifar-8",
            "--base-resolution", "16", "--val-fraction", "0", "--threads", "2", "--lr", "0.05"]
    for opt, value, allowed in (("--num-classes", "4294967297", "not in range 1 to 100000"),
                                ("--batch-size", "4294967424", "not in range 1 to 65536"),
                                ("--epochs", "4294967297", "not in range 1 to 100000"),
                                ("--subset", "4294967296", "not in range 0 to 100000000"),
                                ("--threads", "100000", "not in range 0 to"),
                                ("--epochs", "3x", "expects a whole number")):
        expect(f"{opt} {value}", base + [opt, value, "--out", os.path.join(tmp, "never")], 2,
               [opt, allowed])
    expect("info --batch-size -1", ["info", "--model", "resnet-18", "--batch-size", "-1"], 2,
           ["--batch-size: Value -1 not in range 1 to 65536"])
    if os.path.exists(os.path.join(tmp, "never")):
        failures.append("a refused train created its --out folder")

    # --- a real run to attack -------------------------------------------------------------------
    good = os.path.join(tmp, "good")
    expect("train a small run", base + ["--epochs", "2", "--batch-size", "64",
                                              "--out", good], 0, [])
    files = digest(good)
    for f in ("weights.pt", "checkpoint.pt", "checksums.json"):
        if f not in files:
            failures.append(f"the run lacks {f}")

    # Resume never rewrites a completed run.
    expect("resume a completed run", ["train", "--resume", good], 1, ["is a completed run"])
    if digest(good) != files:
        failures.append("resuming a completed run changed its files")

    # Damaged weights: 64 flipped bytes are caught by the checksum; nothing is written.
    bad = os.path.join(tmp, "flipped")
    shutil.copytree(good, bad)
    with open(os.path.join(bad, "weights.pt"), "r+b") as f:
        f.seek(os.path.getsize(os.path.join(bad, "weights.pt")) // 2)
        chunk = f.read(64)
        f.seek(-64, 1)
        f.write(bytes(b ^ 0x5A for b in chunk))
    before = digest(bad)
    expect("eval with 64 flipped bytes", ["eval", "--run", bad], 1,
           ["weights.pt", "checksum mismatch"])
    if digest(bad) != before:
        failures.append("eval of damaged weights changed files")

    # A damaged checkpoint: resume of an unfinished run refuses before writing anything.
    cut = os.path.join(tmp, "damaged_ckpt")
    shutil.copytree(good, cut)
    summary = json.load(open(os.path.join(cut, "summary.json")))
    summary.update(state="cancelled", status="cancelled at epoch 2, batch 1", completed=False)
    write(os.path.join(cut, "summary.json"), json.dumps(summary).encode())
    with open(os.path.join(cut, "checkpoint.pt"), "r+b") as f:
        f.truncate(1000)
    before = digest(cut)
    expect("resume with a damaged checkpoint", ["train", "--resume", cut], 1,
           ["checkpoint.pt", "checksum mismatch"])
    if digest(cut) != before:
        failures.append("resume with a damaged checkpoint changed files")

    # Edited config.json fields are range-checked like the CLI's options.
    for field, value, fragment in (("threads", 100000, "threads = 100000 is out of range"),
                                   ("batch_size", 0, "batch size = 0 must be 1..65536")):
        edited = os.path.join(tmp, f"edited_{field}")
        shutil.copytree(good, edited)
        cfg = json.load(open(os.path.join(edited, "config.json")))
        cfg[field] = value
        write(os.path.join(edited, "config.json"), json.dumps(cfg).encode())
        expect(f"config.json {field} = {value}", ["eval", "--run", edited], 1,
               ["config.json", fragment], timeout=60)
    edited = os.path.join(tmp, "edited_norm")
    shutil.copytree(good, edited)
    cfg = json.load(open(os.path.join(edited, "config.json")))
    cfg["normalization"]["std"] = [0.0]
    write(os.path.join(edited, "config.json"), json.dumps(cfg).encode())
    expect("config.json normalization std 0", ["eval", "--run", edited], 1,
           ["normalization", "std must be a finite number > 0"])
    edited = os.path.join(tmp, "edited_type")
    shutil.copytree(good, edited)
    cfg = json.load(open(os.path.join(edited, "config.json")))
    cfg["epochs"] = "many"
    write(os.path.join(edited, "config.json"), json.dumps(cfg).encode())
    expect("config.json epochs = \"many\"", ["eval", "--run", edited], 1, ["config.json"])

    # --- no silent overwrite --------------------------------------------------------------------
    partial = case("run_files_no_config")
    for n in ("weights.pt", "metrics.csv", "summary.json"):
        shutil.copy(os.path.join(good, n), partial)
    before = digest(partial)
    expect("--out onto run files without config", base + ["--epochs", "1", "--out", partial], 1,
           ["already holds run files", "weights.pt"])
    if digest(partial) != before:
        failures.append("train overwrote a folder of run files")
    before = digest(good)
    expect("parity-case --out RUN", ["parity-case", "--model", "resnet-cifar-8", "--out", good],
           1, ["already holds run files"])
    expect("prune --out RUN/config.json", ["prune", "--run", good, "--method", "l1-structured",
                                           "--levels", "0.5", "--out",
                                           os.path.join(good, "config.json")], 1,
           ["is a run folder's own file"])
    if digest(good) != before:
        failures.append("parity-case/prune overwrote a run's files")

    # Two writers: the second is refused with the first one's PID.
    racing = os.path.join(tmp, "racing")
    first = subprocess.Popen([cli, *base, "--epochs", "200", "--batch-size", "64", "--out",
                              racing], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(os.path.join(racing, "config.json")):
            break
        time.sleep(0.05)
    expect("second training into a busy folder", base + ["--epochs", "1", "--out", racing], 1,
           ["already holds run files"])
    expect("resume while another trains", ["train", "--resume", racing], 1,
           ["is in use by process", str(first.pid)])
    first.send_signal(signal.SIGINT)
    first.wait(timeout=60)

    # Stale temporary files of a killed writer are removed at the next start.
    write(os.path.join(racing, "weights.pt.tmp-999999"), b"partial")
    subprocess.run([cli, "train", "--resume", racing], capture_output=True, timeout=120)
    if os.path.exists(os.path.join(racing, "weights.pt.tmp-999999")):
        failures.append("a stale .tmp-PID file survived the next start")

    # A full disk mid-run: the failure is reported with the file, summary.json says "failed".
    small = os.path.join(tmp, "small_disk")
    os.makedirs(small)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", small],
                      capture_output=True).returncode == 0:
        try:
            run_dir = os.path.join(small, "run")
            expect("a full disk during training",
                   base + ["--model", "resnet-cifar-32", "--epochs", "2", "--batch-size", "64",
                           "--out", run_dir], 1, ["No space left on device"])
            state = json.load(open(os.path.join(run_dir, "summary.json"))).get("state")
            if state != "failed":
                failures.append(f"full disk: summary.json state is {state!r}, not 'failed'")
            leftovers = [n for n in os.listdir(run_dir) if ".tmp-" in n]
            if leftovers:
                failures.append(f"full disk left temporary files: {leftovers}")
        finally:
            subprocess.run(["umount", small], capture_output=True)
    else:
        print("a full disk during training          skipped (no permission to mount a tmpfs)")

    # --- no crash -------------------------------------------------------------------------------
    eff = ["--model", "efficientnet", "--width", "0.25", "--depth", "0.25", "--base-resolution",
           "32"]
    expect("EfficientNet at batch size 1", base[:3] + eff + ["--val-fraction", "0", "--epochs",
                                                            "1", "--batch-size", "1", "--out",
                                                            os.path.join(tmp, "b1")], 1,
           ["batch size 1 cannot train", "use a batch size of 2 or more"])
    expect("last batch of one image (129 = 2x64+1)",
           base[:3] + eff + ["--val-fraction", "0", "--subset", "129", "--epochs", "1",
                             "--batch-size", "64", "--threads", "2", "--out",
                             os.path.join(tmp, "odd")], 0, ["completed"])

    # --- no silent nonsense ---------------------------------------------------------------------
    single = case("single_folder")
    write(os.path.join(single, "only", "a.pgm"), b"P5\n4 4\n255\n" + bytes(16))
    write(os.path.join(single, "only", "b.pgm"), b"P5\n4 4\n255\n" + bytes([9] * 16))
    expect("a single-class folder", ["train", "--dataset", "folder:" + single, "--model",
                                     "resnet-cifar-8", "--base-resolution", "8", "--epochs", "1",
                                     "--out", os.path.join(tmp, "single_run")], 1,
           ["needs at least 2"])

    # Issue 13: the test images resized to a resolution that cannot fit are refused before
    # allocating, naming the part and the way out (the resolution is chosen from this machine's
    # available memory: 1.5x of it as uint8 images).
    with open("/proc/meminfo") as f:
        avail = next(int(l.split()[1]) * 1024 for l in f if l.startswith("MemAvailable:"))
    side = math.ceil(math.sqrt(1.5 * avail / 10000))
    if side <= 2048:
        expect_bounded("10,000 test images that cannot fit",
                       ["train", "--model", "resnet-cifar-8", "--base-resolution", str(side),
                        "--batch-size", "2", "--subset", "4", "--epochs", "1",
                        "--out", os.path.join(tmp, "huge_resize")], 1,
                       ["resizing the 10000 test images", "--test-subset"])
    else:
        print(f"(skipped the resize refusal: {side} px would be needed, above the 2048 px limit)")

    # --- --help everywhere ----------------------------------------------------------------------
    for cmd in ("info", "train", "eval", "prune", "features", "bench", "bench-ops", "parity-case",
                "datasets", "dataset-info"):
        code, out, err = run([cmd, "--help"])
        if code != 0 or "usage:" not in out:
            failures.append(f"{cmd} --help: exit {code}")

print(f"worst peak RSS: {worst_rss[0] / 2**20:.0f} MiB ({worst_rss[1]})")
if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("ok")
