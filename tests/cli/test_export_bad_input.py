#!/usr/bin/env python3
"""`scalelab-cli export --onnx` on bad input (issue 12): a folder that does not exist, a folder
that is not a run, a run without weights.pt, a target that cannot be written (a missing folder,
/proc, an existing folder) and a target that is the run's own weights.pt. Each must exit 1 with
one message naming the thing, and leave no file behind (neither the target nor a temporary
file next to it); the run's weights stay as they were.
The run is a ScaleLab 0.1 record from tests/data (no training needed); exporting it works and
warns that it records no class names, and a 0.1 pruned model (plan.json's block_widths) exports
too. A build without ONNX must say so and write nothing."""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

cli = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
legacy = os.path.join(here, "..", "data", "legacy-runs", "resnet-basic")
failures = []


def export(run_dir, target):
    return subprocess.run([cli, "export", "--run", run_dir, "--onnx", target],
                          capture_output=True, text=True, timeout=300)


def expect_error(what, run_dir, target, *words):
    out = export(run_dir, target)
    msg = out.stderr.strip()
    if out.returncode != 1:
        failures.append(f"{what}: exit {out.returncode}, expected 1 ({msg[-300:]})")
    missing = [w for w in words if w not in msg]
    if missing:
        failures.append(f"{what}: the message does not name {missing}: {msg!r}")
    if len(msg.splitlines()) > 1 or "Traceback" in msg or "Exception raised" in msg:
        failures.append(f"{what}: not one clear line: {msg!r}")
    folder, name = os.path.split(target)
    if os.path.isdir(folder) and not os.path.isdir(target):
        left = [n for n in os.listdir(folder) if n.startswith(name) and n != name]
        if left or (name != "weights.pt" and os.path.exists(target)):
            failures.append(f"{what}: left {left or [name]} behind")
    print(f"{what}: exit {out.returncode}: {msg}")


with tempfile.TemporaryDirectory() as tmp:
    run_dir = os.path.join(tmp, "run")
    shutil.copytree(legacy, run_dir)
    target = os.path.join(tmp, "out", "model.onnx")
    os.makedirs(os.path.dirname(target))

    probe = export(run_dir, target)
    if "not built" in probe.stderr:
        # -DSCALELAB_WITH_ONNX=OFF or no libonnx-dev: a clear message and nothing written.
        if probe.returncode != 1 or os.listdir(os.path.dirname(target)):
            failures.append(f"without ONNX: exit {probe.returncode}, files "
                            f"{os.listdir(os.path.dirname(target))}")
        print(f"built without ONNX: {probe.stderr.strip()}")
    else:
        if probe.returncode != 0 or not os.path.isfile(target):
            failures.append(f"export of a ScaleLab 0.1 run failed: {probe.stderr[-500:]}")
        elif "class names" not in probe.stderr:
            failures.append(f"no warning about the missing class names: {probe.stderr!r}")
        else:
            print(f"ScaleLab 0.1 run exported ({os.path.getsize(target)} bytes), "
                  f"{probe.stderr.strip()}")
        if os.path.exists(target):
            os.remove(target)
        # A ScaleLab 0.1 pruned model (plan.json with block_widths) exports too.
        pruned = export(os.path.join(legacy, "..", "efficientnet-tiny-pruned"), target)
        if pruned.returncode != 0 or not os.path.isfile(target):
            failures.append(f"export of a ScaleLab 0.1 pruned model failed: {pruned.stderr[-500:]}")
        else:
            print(f"ScaleLab 0.1 pruned model exported ({os.path.getsize(target)} bytes)")
            os.remove(target)

        expect_error("no such folder", os.path.join(tmp, "nowhere"), target, "nowhere",
                     "no such folder")
        empty = os.path.join(tmp, "empty")
        os.makedirs(empty)
        expect_error("not a run", empty, target, empty, "not a run folder", "config.json")
        no_weights = os.path.join(tmp, "no-weights")
        shutil.copytree(legacy, no_weights)
        os.remove(os.path.join(no_weights, "weights.pt"))
        expect_error("run without weights.pt", no_weights, target, no_weights, "weights.pt")
        missing_dir = os.path.join(tmp, "missing", "model.onnx")
        expect_error("target folder missing", run_dir, missing_dir, missing_dir, "does not exist")
        # /proc refuses new files even to root (chmod would not stop root).
        expect_error("unwritable target", run_dir, "/proc/scalelab-test.onnx",
                     "/proc/scalelab-test.onnx", "cannot write")
        expect_error("target is a folder", run_dir, os.path.join(tmp, "out"), "is a folder")
        weights = os.path.join(run_dir, "weights.pt")
        before = hashlib.sha256(open(weights, "rb").read()).hexdigest()
        expect_error("target is the run's weights.pt", run_dir, weights, "weights.pt",
                     "nothing was overwritten")
        if hashlib.sha256(open(weights, "rb").read()).hexdigest() != before:
            failures.append("export over weights.pt changed the run's weights")
        if os.listdir(os.path.dirname(target)):
            failures.append(f"files left in the target folder: {os.listdir(os.path.dirname(target))}")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("ok")
